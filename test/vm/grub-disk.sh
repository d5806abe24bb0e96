#!/usr/bin/env bash
# grub-disk.sh — a disk that boots on its own (BIOS, GRUB), made from a root filesystem tree
# without mounts or loop devices, so it runs wherever the test VMs are built.
#
# INTERFACE
#   test/vm/grub-disk.sh ROOTFS OUT_RAW SIZE_MIB CMDLINE
#   ROOTFS    a root filesystem tree holding boot/vmlinuz and boot/initrd.img; this script adds
#             boot/grub (grub.cfg and GRUB's i386-pc modules) to it
#   OUT_RAW   the raw disk written: an MBR partition table (sfdisk) with one bootable Linux
#             partition from 1 MiB to the end, holding ROOTFS as ext4 labelled `imgcroot`
#             (mkfs.ext4 -d at an offset into the file); GRUB's boot.img in the MBR and its
#             core.img in the gap before the partition, as grub-install would put them
#   SIZE_MIB  the disk's size
#   CMDLINE   the kernel command line of the single menu entry (booted at once, no menu wait)
#
# Debian packages used: fdisk (sfdisk), e2fsprogs, grub-common (grub-mkimage), grub-pc-bin
# (the i386-pc images and modules).
set -euo pipefail

[ $# -eq 4 ] || { echo "usage: grub-disk.sh ROOTFS OUT_RAW SIZE_MIB CMDLINE" >&2; exit 2; }
rf="$1" out="$2" size_mib="$3" cmdline="$4"
grub=/usr/lib/grub/i386-pc
for need in sfdisk mkfs.ext4 grub-mkimage; do
  command -v "$need" >/dev/null || { echo "grub-disk.sh: missing $need (apt-get install fdisk e2fsprogs grub-common grub-pc-bin)" >&2; exit 1; }
done
[ -f "$grub/boot.img" ] || { echo "grub-disk.sh: missing $grub (apt-get install grub-pc-bin)" >&2; exit 1; }
[ -f "$rf/boot/vmlinuz" ] && [ -f "$rf/boot/initrd.img" ] || { echo "grub-disk.sh: $rf/boot needs vmlinuz and initrd.img" >&2; exit 1; }

mkdir -p "$rf/boot/grub/i386-pc"
cp "$grub"/*.mod "$grub"/*.lst "$rf/boot/grub/i386-pc/"
cat >"$rf/boot/grub/grub.cfg" <<CFG
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
menuentry "imgc test VM" {
  linux /boot/vmlinuz $cmdline
  initrd /boot/initrd.img
}
CFG

start_sector=2048 # 1 MiB: the usual alignment, and room for core.img before the partition
rm -f "$out"
truncate -s "${size_mib}M" "$out"
echo "start=$start_sector, type=83, bootable" | sfdisk -q "$out"
mkfs.ext4 -q -F -L imgcroot -E offset=$((start_sector * 512)) -d "$rf" "$out" "$(( size_mib * 1024 - start_sector / 2 ))k" >/dev/null

# core.img: the modules to read the partition and load the config; the rest load from
# /boot/grub/i386-pc. Its first sector (diskboot.img) holds a block list saying where the rest
# of core.img lies: it starts at sector 2 (the default); its length in sectors is ours to set.
core="$(mktemp)"
trap 'rm -f "$core"' EXIT
grub-mkimage -O i386-pc -p '(hd0,msdos1)/boot/grub' -o "$core" biosdisk part_msdos ext2 normal linux configfile serial terminal
sectors=$(( ($(stat -c %s "$core") + 511) / 512 ))
[ "$sectors" -lt "$start_sector" ] || { echo "grub-disk.sh: core.img ($sectors sectors) does not fit before the partition" >&2; exit 1; }
# boot.img's code only (440 bytes): the partition table after it stays. It loads sector 1.
dd if="$grub/boot.img" of="$out" bs=440 count=1 conv=notrunc status=none
dd if="$core" of="$out" bs=512 seek=1 conv=notrunc status=none
# The block list's length field: 2 bytes, little-endian, at offset 0x1fc of core.img's first sector.
len=$(( sectors - 1 ))
printf "$(printf '\\x%02x\\x%02x' $(( len & 255 )) $(( len >> 8 )))" | dd of="$out" bs=1 seek=$(( 512 + 0x1fc )) conv=notrunc status=none
