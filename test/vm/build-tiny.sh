#!/usr/bin/env bash
# build-tiny.sh — the tiny test VM, made from Debian packages only (no image from the internet).
#
# INTERFACE (stable: other tests and helpers rely on it)
#   test/vm/build-tiny.sh [OUT_DIR]        default OUT_DIR: test/.cache/vm/tiny
#   Prints OUT_DIR on stdout when done. Rebuilds only when this script or the kernel changed
#   (OUT_DIR/stamp holds their digest), so calling it again is cheap. Must run as root? No:
#   everything is made without mounts or loop devices; only reading /boot/vmlinuz-* needs
#   whatever permission the host gives it (root on Debian).
#   From TypeScript use `tinyVm()` in test/vm/paths.ts.
#
#   OUT_DIR/vmlinuz        Debian's kernel (linux-image-amd64), copied
#   OUT_DIR/initrd.img     small busybox initramfs: loads the storage/network modules, then
#                          switch_root to the ext4 filesystem labelled `imgcroot`
#                          (any disk interface: virtio, scsi or ide)
#   OUT_DIR/disk.qcow2     the root disk: ext4 (label imgcroot, 256 MiB virtual), no partition
#                          table, busybox-static + dropbear + OpenSSH's sftp-server
#   OUT_DIR/disk-grub.qcow2  the same system on a disk that boots on its own: MBR partition
#                          table, ext4 partition labelled imgcroot holding /boot/{vmlinuz,initrd.img},
#                          GRUB (BIOS) in the MBR and the gap (test/vm/grub-disk.sh); no kernel option
#   OUT_DIR/id_ed25519     private key authorised for root (OUT_DIR/id_ed25519.pub)
#   OUT_DIR/cmdline        kernel command line to use: `console=ttyS0 root=LABEL=imgcroot rw quiet`
#   OUT_DIR/vm.json        all of the above as JSON: {kernel, initrd, disk, diskFormat,
#                          bootableDisk, append, username, password, privateKeyFile, publicKey}
#
# THE GUEST
#   - user root, password `imgc`, or the key above; dropbear on port 22 (host keys baked in so
#     the first boot does not spend seconds generating them under TCG)
#   - network: eth0 static 10.0.2.15/24, gateway 10.0.2.2 (QEMU user-mode networking)
#   - prints `IMGC-TINY-READY` on the serial console (ttyS0) once sshd is listening
#   - a root shell on tty1 (the VGA console, fed by the keyboard): text typed there with QMP
#     send-key runs, e.g. `echo hi >/dev/ttyS0` shows up in the serial log
#   - clean shutdown: `poweroff` (or the ACPI power button, handled by busybox acpid) kills
#     every process and remounts / read-only before powering off
#   - sr_mod/isofs/e1000 etc. are loaded in the background after boot (seed ISOs, cd files)
#
# Debian packages used: busybox-static, dropbear-bin, openssh-sftp-server, linux-image-amd64,
# kmod (depmod), e2fsprogs (mkfs.ext4 -d), qemu-utils (qemu-img), cpio, gzip, openssh-client
# (ssh-keygen), and for the bootable disk fdisk (sfdisk), grub-common and grub-pc-bin.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../.cache/vm/tiny}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
# One build at a time per OUT_DIR (test files run in parallel workers).
exec 9>"$out/.lock"
flock 9

# The newest installed kernel that has its modules.
kver=""
for k in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's|/boot/vmlinuz-||' | sort -V); do
  [ -d "/lib/modules/$k" ] && kver="$k"
done
[ -n "$kver" ] || { echo "build-tiny.sh: no /boot/vmlinuz-* with /lib/modules (apt-get install linux-image-amd64)" >&2; exit 1; }
for bin in /bin/busybox /usr/sbin/dropbear /usr/bin/dropbearkey /usr/lib/openssh/sftp-server mkfs.ext4 qemu-img cpio depmod ssh-keygen; do
  command -v "$bin" >/dev/null || [ -x "$bin" ] || { echo "build-tiny.sh: missing $bin" >&2; exit 1; }
done
busybox_bin=/bin/busybox
file "$busybox_bin" 2>/dev/null | grep -q 'statically linked' || true

stamp="$( (cat "$0" "$here/grub-disk.sh"; echo "$kver"; sha256sum "/boot/vmlinuz-$kver") | sha256sum | cut -c1-64)"
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] && [ -f "$out/vm.json" ]; then
  echo "$out"
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/imgc-tiny.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Modules: the root disk and network at boot (initramfs), the rest later (rootfs).
boot_modules="crc16 crc32c_generic mbcache jbd2 ext4 virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk failover net_failover virtio_net virtio_scsi sd_mod button evdev"
late_modules="ata_piix ata_generic sr_mod cdrom isofs e1000 e1000e floppy vfat nls_cp437 nls_ascii virtio_console virtio_rng"

copy_modules() { # dest_root module...
  local dest="$1"; shift
  local m f
  for m in "$@"; do
    # --show-depends lists the module and its dependencies, in load order, as `insmod <path>`.
    modprobe -S "$kver" --show-depends "$m" 2>/dev/null | awk '$1=="insmod"{print $2}' | while read -r f; do
      mkdir -p "$dest$(dirname "$f")"
      cp -n "$f" "$dest$f"
    done || true
  done
  cp /lib/modules/"$kver"/modules.builtin* /lib/modules/"$kver"/modules.order "$dest/lib/modules/$kver/" 2>/dev/null || true
  depmod -b "$dest" "$kver"
}

# --- initramfs ---------------------------------------------------------------------------------
ir="$work/initramfs"
mkdir -p "$ir"/{bin,dev,proc,sys,newroot,lib/modules}
cp "$busybox_bin" "$ir/bin/busybox"
ln -s busybox "$ir/bin/sh"
copy_modules "$ir" $boot_modules ata_piix ata_generic
echo "$boot_modules" >"$ir/modules.list"
cat >"$ir/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
modprobe -a $(cat /modules.list) 2>/dev/null
root=LABEL=imgcroot
for arg in $(cat /proc/cmdline); do
  case "$arg" in root=*) root="${arg#root=}" ;; esac
done
dev=""
i=0
while [ $i -lt 300 ]; do
  case "$root" in
    LABEL=*|UUID=*) dev="$(findfs "$root" 2>/dev/null)" ;;
    *) [ -b "$root" ] && dev="$root" ;;
  esac
  [ -n "$dev" ] && break
  # No root on virtio or SCSI after 1 s: try the IDE controller (loading ata_piix on every boot
  # would add its probe of the PIIX ports to boots that do not need it).
  [ $i -eq 20 ] && modprobe -a ata_piix ata_generic sd_mod 2>/dev/null
  sleep 0.05
  i=$((i+1))
done
if [ -z "$dev" ] || ! mount -t ext4 -o rw "$dev" /newroot; then
  echo "initramfs: cannot mount root $root" >/dev/console
  exec sh
fi
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
EOF
chmod 755 "$ir/init"
(cd "$ir" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$work/initrd.img"

# --- root filesystem ---------------------------------------------------------------------------
rf="$work/rootfs"
mkdir -p "$rf"/{bin,sbin,usr/bin,usr/sbin,usr/lib,usr/libexec,etc/dropbear,etc/init.d,etc/acpi/PWRF,root/.ssh,proc,sys,dev,tmp,run,var/log,var/run,mnt,media/cdrom,home,lib64,lib/x86_64-linux-gnu}
chmod 1777 "$rf/tmp"
chmod 700 "$rf/root" "$rf/root/.ssh"
cp "$busybox_bin" "$rf/bin/busybox"
for applet in $("$busybox_bin" --list-full); do
  [ -e "$rf/$applet" ] || ln -s /bin/busybox "$rf/$applet"
done
copy_modules "$rf" $boot_modules $late_modules

# dropbear and sftp-server with the shared libraries they need (from the same Debian packages).
cp /usr/sbin/dropbear "$rf/usr/sbin/dropbear"
cp /usr/lib/openssh/sftp-server "$rf/usr/lib/sftp-server"
ln -s ../lib/sftp-server "$rf/usr/libexec/sftp-server"
for lib in $( (ldd /usr/sbin/dropbear; ldd /usr/lib/openssh/sftp-server) | awk '/=>/{print $3} /^\t\/lib64/{print $1}' | sort -u); do
  mkdir -p "$rf$(dirname "$lib")"
  cp -L "$lib" "$rf$lib"
done
[ -e "$rf/lib64/ld-linux-x86-64.so.2" ] || cp -L /lib64/ld-linux-x86-64.so.2 "$rf/lib64/"

dropbearkey -t ed25519 -f "$rf/etc/dropbear/dropbear_ed25519_host_key" >/dev/null 2>&1
dropbearkey -t ecdsa -s 256 -f "$rf/etc/dropbear/dropbear_ecdsa_host_key" >/dev/null 2>&1

rm -f "$work/id_ed25519" "$work/id_ed25519.pub"
ssh-keygen -q -t ed25519 -N "" -C "imgc-tiny-test" -f "$work/id_ed25519"
cp "$work/id_ed25519.pub" "$rf/root/.ssh/authorized_keys"
chmod 600 "$rf/root/.ssh/authorized_keys"

hash="$("$busybox_bin" mkpasswd -m sha512 imgc)"
cat >"$rf/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
echo "root:$hash:19000:0:99999:7:::" >"$rf/etc/shadow"
echo "nobody:*:19000:0:99999:7:::" >>"$rf/etc/shadow"
chmod 600 "$rf/etc/shadow"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rf/etc/group"
printf '/bin/sh\n/bin/ash\n' >"$rf/etc/shells"
echo imgc-tiny >"$rf/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 imgc-tiny\n' >"$rf/etc/hosts"
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n' >"$rf/etc/nsswitch.conf"
printf 'export PATH=/usr/sbin:/usr/bin:/sbin:/bin\n' >"$rf/etc/profile"

cat >"$rf/etc/inittab" <<'EOF'
::sysinit:/etc/init.d/rcS
tty1::respawn:-/bin/sh
::ctrlaltdel:/sbin/reboot
::shutdown:/etc/init.d/rcK
EOF

cat >"$rf/etc/init.d/rcS" <<'EOF'
#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
[ -e /dev/null ] || mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mkdir -p /run/lock /var/run
hostname -F /etc/hostname
ip link set lo up
ip addr add 127.0.0.1/8 dev lo 2>/dev/null
if ip link show eth0 >/dev/null 2>&1; then
  ip addr add 10.0.2.15/24 dev eth0
  ip link set eth0 up
  ip route add default via 10.0.2.2
fi
echo "nameserver 10.0.2.3" >/run/resolv.conf
ln -sf /run/resolv.conf /etc/resolv.conf 2>/dev/null
acpid -c /etc/acpi -l /run/acpid.log
dropbear -r /etc/dropbear/dropbear_ed25519_host_key -r /etc/dropbear/dropbear_ecdsa_host_key -P /run/dropbear.pid
echo "IMGC-TINY-READY" >/dev/ttyS0
# Modules only some tests need (cd-rom, floppy, other NICs), loaded off the critical path.
(modprobe -a ata_piix sr_mod isofs e1000 virtio_rng 2>/dev/null) &
EOF
chmod 755 "$rf/etc/init.d/rcS"

# busybox init runs this before it kills everything and powers off; / must be read-only first
# or the next boot finds a dirty filesystem and lost writes.
cat >"$rf/etc/init.d/rcK" <<'EOF'
#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
echo "IMGC-TINY-SHUTDOWN" >/dev/ttyS0
for pid in $(ls /proc | grep -E '^[0-9]+$'); do
  [ "$pid" = 1 ] || [ "$pid" = $$ ] || [ "$pid" = $PPID ] || kill -TERM "$pid" 2>/dev/null
done
sleep 0.3
for pid in $(ls /proc | grep -E '^[0-9]+$'); do
  [ "$pid" = 1 ] || [ "$pid" = $$ ] || [ "$pid" = $PPID ] || kill -KILL "$pid" 2>/dev/null
done
sync
umount /dev/pts /run 2>/dev/null
mount -o remount,ro / && echo "IMGC-TINY-ROOT-RO" >/dev/ttyS0
sync
EOF
chmod 755 "$rf/etc/init.d/rcK"

# ACPI power button (QMP system_powerdown) → clean poweroff.
cat >"$rf/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
/sbin/poweroff
EOF
chmod 755 "$rf/etc/acpi/PWRF/00000080"

rm -f "$work/disk.raw"
mkfs.ext4 -q -F -L imgcroot -d "$rf" "$work/disk.raw" 256M >/dev/null
qemu-img convert -q -f raw -O qcow2 "$work/disk.raw" "$work/disk.qcow2"
rm -f "$work/disk.raw"

cp "/boot/vmlinuz-$kver" "$work/vmlinuz"
append="console=ttyS0 root=LABEL=imgcroot rw quiet"

# The same system on a disk that boots on its own (partitioned, GRUB, BIOS): for images that
# carry their boot loader, as installer-made and cloud images do.
cp -a "$rf" "$work/rootfs-grub"
mkdir -p "$work/rootfs-grub/boot"
cp "$work/vmlinuz" "$work/initrd.img" "$work/rootfs-grub/boot/"
"$here/grub-disk.sh" "$work/rootfs-grub" "$work/disk-grub.raw" 256 "$append"
qemu-img convert -q -f raw -O qcow2 "$work/disk-grub.raw" "$work/disk-grub.qcow2"
rm -rf "$work/disk-grub.raw" "$work/rootfs-grub"
echo "$append" >"$work/cmdline"
pub="$(cat "$work/id_ed25519.pub")"
cat >"$work/vm.json" <<EOF
{
  "kernel": "$out/vmlinuz",
  "initrd": "$out/initrd.img",
  "disk": "$out/disk.qcow2",
  "diskFormat": "qcow2",
  "bootableDisk": "$out/disk-grub.qcow2",
  "append": "$append",
  "username": "root",
  "password": "imgc",
  "privateKeyFile": "$out/id_ed25519",
  "publicKey": "$pub",
  "kernelVersion": "$kver"
}
EOF

for f in vmlinuz initrd.img disk.qcow2 disk-grub.qcow2 id_ed25519 id_ed25519.pub cmdline vm.json; do
  mv -f "$work/$f" "$out/$f"
done
chmod 600 "$out/id_ed25519"
echo "$stamp" >"$out/stamp"
echo "$out"
