#!/usr/bin/env bash
# build-installer.sh — an installer ISO for the tiny test VM, to test builds that start from an
# installer ISO and a blank disk the way Packer's are driven: the boot command types a kernel
# command line holding the build's HTTP address at the boot loader's prompt, the installer
# fetches what it installs from that HTTP server, writes the blank disk, and the installed
# system comes up with SSH. Made from Debian packages only, no mounts, no loop devices.
#
# INTERFACE
#   test/vm/build-installer.sh [OUT_DIR]   default OUT_DIR: test/.cache/vm/installer
#   Prints OUT_DIR when done; rebuilds only when this script or the tiny VM changed (stamp).
#
#   OUT_DIR/installer.iso  BIOS-bootable ISO (grub-mkrescue): GRUB waits at its menu forever
#                          (serial and VGA console, keyboard input), so the boot command is
#                          what starts the install; /boot/vmlinuz is the tiny VM's kernel and
#                          /boot/installer.img the installer initramfs
#   OUT_DIR/installer.iso.sha256   its sha256, hex
#   OUT_DIR/rootfs.tar     the tiny VM's root filesystem: what the installer installs (serve it
#                          from the build's HTTP directory)
#
# THE INSTALLER (kernel command line `imgc.rootfs=URL`, typed by the boot command):
#   loads the storage and network modules, configures eth0 as 10.0.2.15/24 (QEMU user
#   networking), makes an ext2 filesystem labelled `imgcroot` on the whole of /dev/vda, unpacks
#   the tarball fetched from URL into it, prints `IMGC-INSTALLED` on ttyS0 and switch_roots into
#   the installed system (the tiny VM: dropbear, root key as in the tiny VM's vm.json). Any
#   failure prints `IMGC-INSTALL-FAILED: why` on ttyS0 and powers off.
#   The installed disk boots like the tiny VM's (direct kernel boot, root=LABEL=imgcroot).
#
# Debian packages used: what build-tiny.sh uses, grub-common + grub-pc-bin (grub-mkrescue),
# xorriso, cpio, gzip, e2fsprogs (debugfs: reads the tiny disk without mounting it).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../.cache/vm/installer}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
exec 9>"$out/.lock"
flock 9
tiny="$("$here/build-tiny.sh")"

stamp="$( (cat "$0"; cat "$tiny/stamp") | sha256sum | cut -c1-64)"
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] && [ -f "$out/installer.iso" ]; then
  echo "$out"
  exit 0
fi
for need in grub-mkrescue xorriso debugfs cpio qemu-img; do
  command -v "$need" >/dev/null || { echo "build-installer.sh: missing $need (apt-get install grub-common grub-pc-bin xorriso e2fsprogs cpio qemu-utils)" >&2; exit 1; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/imgc-installer.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# What gets installed: the tiny VM's root tree, read out of its disk without mounting it.
qemu-img convert -q -O raw "$tiny/disk.qcow2" "$work/tiny.raw"
mkdir "$work/rootfs"
debugfs -R "rdump / $work/rootfs" "$work/tiny.raw" >/dev/null 2>&1
rm -f "$work/tiny.raw"
[ -x "$work/rootfs/sbin/init" ] || [ -L "$work/rootfs/sbin/init" ] || { echo "build-installer.sh: could not read the tiny VM's disk" >&2; exit 1; }
rm -rf "$work/rootfs/lost+found"
tar -C "$work/rootfs" -cf "$work/rootfs.tar" --numeric-owner .

# The installer initramfs: the tiny VM's (busybox and the same modules) with another /init.
mkdir "$work/ir"
(cd "$work/ir" && gzip -dc "$tiny/initrd.img" | cpio -id --quiet)
cat >"$work/ir/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
fail() {
  echo "IMGC-INSTALL-FAILED: $*" >/dev/ttyS0
  sync
  poweroff -f
}
modprobe -a $(cat /modules.list) 2>/dev/null
url=""
for arg in $(cat /proc/cmdline); do
  case "$arg" in imgc.rootfs=*) url="${arg#imgc.rootfs=}" ;; esac
done
[ -n "$url" ] || fail "no imgc.rootfs= on the kernel command line"
echo "IMGC-INSTALLER: installing $url" >/dev/ttyS0
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
[ -b /dev/vda ] || fail "no /dev/vda"
ip link set lo up
ip link set eth0 up || fail "no eth0"
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
mke2fs -q -L imgcroot /dev/vda || fail "mke2fs"
mkdir -p /newroot
mount -t ext4 /dev/vda /newroot || fail "mount"
wget -q -O - "$url" | tar -x -C /newroot || fail "download or unpack of $url"
[ -x /newroot/sbin/init ] || [ -L /newroot/sbin/init ] || fail "nothing installed"
sync
echo "IMGC-INSTALLED" >/dev/ttyS0
umount /proc /sys
exec switch_root /newroot /sbin/init
EOF
chmod 755 "$work/ir/init"
(cd "$work/ir" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$work/installer.img"

# The ISO: GRUB for BIOS (El Torito), waiting at its menu for the boot command.
mkdir -p "$work/iso/boot/grub"
cp "$tiny/vmlinuz" "$work/iso/boot/vmlinuz"
cp "$work/installer.img" "$work/iso/boot/installer.img"
cat >"$work/iso/boot/grub/grub.cfg" <<'EOF'
set timeout=-1
serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
menuentry "imgc test installer (type the command line: press c)" {
  echo "start the installer from the command line: linux /boot/vmlinuz imgc.rootfs=URL"
}
EOF
grub-mkrescue -d /usr/lib/grub/i386-pc -o "$work/installer.iso" "$work/iso" \
  --install-modules="linux normal configfile serial terminal echo iso9660 biosdisk" \
  --locales= --fonts= --themes= >"$work/mkrescue.log" 2>&1 || { cat "$work/mkrescue.log" >&2; exit 1; }
sha256sum "$work/installer.iso" | cut -c1-64 >"$work/installer.iso.sha256"

for f in installer.iso installer.iso.sha256 rootfs.tar; do
  mv -f "$work/$f" "$out/$f"
done
echo "$stamp" >"$out/stamp"
echo "$out"
