; empty.asm - the smallest Multiboot2 kernel: GRUB loads it and it leaves QEMU
; at once. Booting it measures the floor every lesson's boot-to-result time
; stands on (BIOS + GRUB + emulator start-up).
bits 32
section .multiboot2 progbits alloc noexec nowrite align=8
header:
    dd 0xE85250D6                   ; Multiboot2 magic
    dd 0                            ; i386
    dd header_end - header
    dd 0x100000000 - (0xE85250D6 + (header_end - header))
    dw 0, 0                         ; end tag
    dd 8
header_end:

section .text progbits alloc exec nowrite
global _start
_start:
    mov al, 0x10                    ; isa-debug-exit: QEMU exits with 33
    out 0xF4, al
.halt:
    cli
    hlt
    jmp .halt

section .note.GNU-stack noalloc noexec nowrite progbits
