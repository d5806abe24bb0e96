#!/usr/bin/env bash
# build-debian.sh — a realistic Debian 12 test VM (systemd, OpenSSH), from Debian's archive only.
#
# INTERFACE
#   test/vm/build-debian.sh [OUT_DIR]      default OUT_DIR: test/.cache/vm/debian
#   Prints OUT_DIR when done; rebuilds only when this script or the tiny VM changed (stamp).
#   Needs root (debootstrap) and the Debian archive (DEBIAN_MIRROR, default: the first Debian
#   `URIs:`/`deb` line of this host's apt sources). Takes a few minutes; the result is cached.
#   From TypeScript use `debianVm()` in test/vm/paths.ts.
#
#   OUT_DIR/disk.qcow2     4 GiB virtual, boots on its own: MBR partition table, one ext4
#                          partition (label imgcroot) holding `debootstrap --variant=minbase
#                          bookworm` + systemd, udev, dbus, openssh-server (network by
#                          systemd-networkd, 10.0.2.15/24), GRUB (BIOS) in the MBR and the gap
#                          (test/vm/grub-disk.sh: no mount, no loop device)
#   OUT_DIR/vmlinuz, OUT_DIR/initrd.img   the same kernel and initramfs as the disk's /boot
#                          (the tiny VM's: Debian's kernel, an initramfs that loads virtio/ext4
#                          and switch_roots to LABEL=imgcroot), for direct kernel boot
#   OUT_DIR/id_ed25519     private key authorised for root (password `imgc` works too)
#   OUT_DIR/vm.json        {kernel, initrd, disk, diskFormat, bootableDisk (= disk), append, username, password,
#                          privateKeyFile, publicKey}
#
# Debian packages used on the host: debootstrap, e2fsprogs, qemu-utils, openssh-client, and
# what build-tiny.sh (and grub-disk.sh) use.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../.cache/vm/debian}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
# One build at a time per OUT_DIR (test files run in parallel workers).
exec 9>"$out/.lock"
flock 9
tiny="$("$here/build-tiny.sh")"

stamp="$( (cat "$0" "$here/grub-disk.sh"; cat "$tiny/stamp") | sha256sum | cut -c1-64)"
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] && [ -f "$out/vm.json" ]; then
  echo "$out"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "build-debian.sh: debootstrap needs root" >&2; exit 1; }

mirror="${DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/{print $2}' | grep -v security | head -1 || true)"
fi
if [ -z "$mirror" ]; then
  mirror="$(awk '/^deb /{print $2}' /etc/apt/sources.list 2>/dev/null | grep -v security | head -1 || true)"
fi
[ -n "$mirror" ] || { echo "build-debian.sh: set DEBIAN_MIRROR (no Debian mirror in the apt sources)" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/var/tmp}/imgc-debian.XXXXXX")"
trap 'rm -rf "$work"' EXIT
rf="$work/rootfs"

debootstrap --variant=minbase \
  --include=systemd-sysv,udev,dbus,openssh-server,kmod,iproute2,procps,ca-certificates \
  bookworm "$rf" "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -30 "$work/debootstrap.log" >&2; exit 1; }

kver="$(sed -n 's/.*"kernelVersion": "\(.*\)".*/\1/p' "$tiny/vm.json")"
# Only the modules a VM needs (udev loads them on demand): with the whole tree, udev spends
# a minute under TCG loading wireless, KVM and sound drivers for nothing.
modules="crc16 crc32c_generic mbcache jbd2 ext4 virtio_ring virtio virtio_pci virtio_blk virtio_net virtio_scsi sd_mod sr_mod cdrom isofs ata_piix ata_generic e1000 e1000e button evdev virtio_console virtio_rng vfat nls_cp437 nls_ascii floppy"
for m in $modules; do
  modprobe -S "$kver" --show-depends "$m" 2>/dev/null | awk '$1=="insmod"{print $2}' | while read -r f; do
    mkdir -p "$rf$(dirname "$f")"
    cp -n "$f" "$rf$f"
  done || true
done
cp /lib/modules/"$kver"/modules.builtin* /lib/modules/"$kver"/modules.order "$rf/lib/modules/$kver/" 2>/dev/null || true
depmod -b "$rf" "$kver" 2>/dev/null || true

echo imgc-debian >"$rf/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 imgc-debian\n' >"$rf/etc/hosts"
echo 'LABEL=imgcroot / ext4 defaults,errors=remount-ro 0 1' >"$rf/etc/fstab"
mkdir -p "$rf/etc/systemd/network"
cat >"$rf/etc/systemd/network/10-qemu.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
Address=10.0.2.15/24
Gateway=10.0.2.2
DNS=10.0.2.3
EOF
rm -f "$rf/etc/resolv.conf"
echo "nameserver 10.0.2.3" >"$rf/etc/resolv.conf"
chroot "$rf" systemctl enable systemd-networkd.service >/dev/null 2>&1
# Nothing that slows boot or wakes up during a build.
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer systemd-networkd-wait-online.service; do
  chroot "$rf" systemctl mask "$unit" >/dev/null 2>&1 || true
done
echo "root:imgc" | chroot "$rf" chpasswd
mkdir -p "$rf/root/.ssh"
chmod 700 "$rf/root/.ssh"
rm -f "$work/id_ed25519" "$work/id_ed25519.pub"
ssh-keygen -q -t ed25519 -N "" -C "imgc-debian-test" -f "$work/id_ed25519"
cp "$work/id_ed25519.pub" "$rf/root/.ssh/authorized_keys"
chmod 600 "$rf/root/.ssh/authorized_keys"
printf 'PermitRootLogin yes\nUseDNS no\n' >"$rf/etc/ssh/sshd_config.d/imgc-test.conf"
chroot "$rf" apt-get clean >/dev/null 2>&1 || true
rm -rf "$rf/var/lib/apt/lists/"* "$rf/var/cache/apt/"*.bin

append="console=ttyS0 root=LABEL=imgcroot rw quiet"
# A disk that boots on its own, like a cloud image: GRUB loads the kernel and initramfs from
# /boot (the tiny VM's pair, which finds the root by its label).
mkdir -p "$rf/boot"
cp "$tiny/vmlinuz" "$rf/boot/vmlinuz"
cp "$tiny/initrd.img" "$rf/boot/initrd.img"
"$here/grub-disk.sh" "$rf" "$work/disk.raw" 4096 "$append"
qemu-img convert -q -f raw -O qcow2 "$work/disk.raw" "$work/disk.qcow2"
rm -f "$work/disk.raw"

pub="$(cat "$work/id_ed25519.pub")"
cat >"$work/vm.json" <<EOF
{
  "kernel": "$out/vmlinuz",
  "initrd": "$out/initrd.img",
  "disk": "$out/disk.qcow2",
  "diskFormat": "qcow2",
  "bootableDisk": "$out/disk.qcow2",
  "append": "$append",
  "username": "root",
  "password": "imgc",
  "privateKeyFile": "$out/id_ed25519",
  "publicKey": "$pub",
  "kernelVersion": "$kver"
}
EOF
cp "$tiny/vmlinuz" "$tiny/initrd.img" "$work/"
for f in vmlinuz initrd.img disk.qcow2 id_ed25519 id_ed25519.pub vm.json; do
  mv -f "$work/$f" "$out/$f"
done
chmod 600 "$out/id_ed25519"
echo "$stamp" >"$out/stamp"
echo "$out"
