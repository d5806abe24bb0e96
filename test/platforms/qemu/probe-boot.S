# Source of the accelerator probe's boot sector (runtime/platforms/qemu/probe.ts BOOT_CODE).
# as --32 -o b.o probe-boot.S && ld -m elf_i386 -Ttext 0x7c00 --oformat binary -o b.bin b.o
.code16
.globl _start
_start:
  cli
  xor %ax, %ax
  mov %ax, %ds
  mov %ax, %ss
  mov $0x7c00, %sp
  sti
  mov 0x46c, %bx
  add $2, %bx
1: hlt
  mov 0x46c, %ax
  cmp %bx, %ax
  jb 1b
  cli
  lgdt gdtr
  mov %cr0, %eax
  or $1, %eax
  mov %eax, %cr0
  ljmp $0x08, $pm
.code32
pm:
  mov $0x10, %ax
  mov %ax, %ds
  mov %ax, %es
  mov %ax, %ss
  mov $0x402, %dx
  mov $msg, %esi
2: lodsb
  test %al, %al
  jz 3f
  outb %al, %dx
  jmp 2b
3: hlt
  jmp 3b
.p2align 3
gdt:
  .quad 0
  .quad 0x00cf9a000000ffff
  .quad 0x00cf92000000ffff
gdtr:
  .word 23
  .long gdt
msg: .asciz "IMGC-ACCEL-OK\n"
.org 510
.byte 0x55, 0xaa
