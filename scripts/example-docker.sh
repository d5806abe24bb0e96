#!/bin/bash
# Builds examples/docker on a fresh machine of the project's kind (Debian 12, root, no Docker Hub):
# starts dockerd when none answers, makes the local Debian base image once, then runs
# `imgc apply examples/docker/images.ts` (extra arguments are passed on, e.g. --var release=2.0.0).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! docker version >/dev/null 2>&1; then
  command -v dockerd >/dev/null || { echo "dockerd is not installed: apt-get install docker.io" >&2; exit 1; }
  echo "starting dockerd (log: ${TMPDIR:-/tmp}/imgc-dockerd.log)"
  # The flags this kind of machine needs: vfs storage, no iptables, no default bridge.
  nohup dockerd --storage-driver=vfs --iptables=false --bridge=none >"${TMPDIR:-/tmp}/imgc-dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do docker version >/dev/null 2>&1 && break; sleep 1; done
  docker version >/dev/null 2>&1 || { echo "dockerd did not answer within 60 s; see ${TMPDIR:-/tmp}/imgc-dockerd.log" >&2; exit 1; }
fi

case " $* " in
  *" --var source_image="*|*" --var=source_image="*) ;;                 # the user brings the source image
  *) scripts/docker-base.sh local/debian:12 ;;                         # the local Debian base, made once
esac

[ -f dist/cli/main.js ] || npm run build:js
exec node bin/imgc.js apply examples/docker/images.ts "$@"
