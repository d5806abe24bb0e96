#!/bin/bash
# Makes a local Debian 12 (bookworm) base image with no registry: a debootstrap minbase rootfs,
# stripped of apt caches as the official images are, then `docker import`ed.
# Usage: scripts/docker-base.sh [IMAGE_NAME] [CACHE_DIR]
#   IMAGE_NAME defaults to local/debian:12; CACHE_DIR (default test/.cache) keeps the rootfs tar,
#   so a second run (or CI re-run) only imports. Needs root, debootstrap and a Debian mirror:
#   the one apt already uses on this machine.
set -euo pipefail
name=${1:-local/debian:12}
cache=${2:-"$(cd "$(dirname "$0")/.." && pwd)/test/.cache"}
tarball="$cache/debian-bookworm-minbase.tar"

if docker image inspect "$name" >/dev/null 2>&1; then echo "$name already exists"; exit 0; fi

if [ ! -s "$tarball" ]; then
  command -v debootstrap >/dev/null || { echo "debootstrap is not installed: apt-get install debootstrap" >&2; exit 1; }
  mkdir -p "$cache"
  # The mirror apt uses here (deb822 URIs: or a one-line deb entry), else debootstrap's default.
  mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -1 || true)
  [ -n "$mirror" ] || mirror=$(awk '$1=="deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  root=$(mktemp -d "${TMPDIR:-/var/tmp}/imgc-rootfs.XXXXXX")
  trap 'rm -rf "$root" "$tarball.part"' EXIT
  chmod 0755 "$root"   # it becomes the image's "/": mktemp's 0700 would lock out every non-root user
  debootstrap --variant=minbase bookworm "$root" ${mirror:+"$mirror"} >"$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
  chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log \
         "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old
  tar -C "$root" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf "$tarball.part" .
  mv "$tarball.part" "$tarball"
fi

docker import \
  --change 'CMD ["/bin/bash"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  "$tarball" "$name" >/dev/null
# A non-root user must be able to run a program (catches a rootfs with a 0700 "/").
docker run --rm --network none --user nobody "$name" /bin/true \
  || { echo "$name is broken: a non-root user cannot run /bin/true; delete $tarball and rerun" >&2; docker rmi "$name" >/dev/null; exit 1; }
echo "$name imported from $tarball"
