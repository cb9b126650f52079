; boot.asm - from GRUB's 32-bit hand-off to C in the higher half.
;
; GRUB loads this image at physical 1 MiB (Multiboot2) and jumps to _start in
; 32-bit protected mode with paging off. We check that the CPU can run 64-bit
; code, build just enough page tables to turn long mode on, and jump to
; kernel_main, which is linked at 0xFFFFFFFF80100000.
;
; The boot page tables map three things with 2 MiB pages:
;   identity      0 .. 4 GiB  -> 0 .. 4 GiB   (only so this code survives the
;                                              switch; paging_init drops it)
;   direct map    0xFFFF800000000000 + p -> p, for p below 4 GiB (kept: the
;                                              kernel reaches physical memory there)
;   kernel image  0xFFFFFFFF80000000 + p -> p, for p below 2 MiB (paging_init
;                                              replaces it with 4 KiB W^X pages)

MB2_MAGIC        equ 0xE85250D6
MB2_ARCH_I386    equ 0
MB2_BOOT_MAGIC   equ 0x36D76289          ; what GRUB leaves in eax

KERNEL_VMA       equ 0xFFFFFFFF80000000
PAGE_PRESENT     equ 1 << 0
PAGE_WRITABLE    equ 1 << 1
PAGE_HUGE        equ 1 << 7              ; a 2 MiB page in a page directory
HUGE_PAGE_SIZE   equ 0x200000
DIRECT_MAP_GIB   equ 4                   ; page directories of the direct map
PML4_DIRECT_MAP  equ 256                 ; 0xFFFF800000000000
PML4_KERNEL      equ 511                 ; 0xFFFFFF8000000000
PDPT_KERNEL      equ 510                 ; 0xFFFFFFFF80000000

CR0_PE           equ 1 << 0
CR0_WP           equ 1 << 16             ; ring 0 obeys read-only pages too
CR0_PG           equ 1 << 31
CR4_PAE          equ 1 << 5
MSR_EFER         equ 0xC0000080
EFER_LME         equ 1 << 8
EFER_NXE         equ 1 << 11
CPUID_EXT_LM     equ 1 << 29             ; 0x80000001 edx: long mode
CPUID_EXT_NX     equ 1 << 20             ; 0x80000001 edx: no-execute pages
EFLAGS_ID        equ 1 << 21
VGA_TEXT         equ 0xB8000
VGA_WHITE_ON_RED equ 0x4F

; ---------------------------------------------------------------------------
section .multiboot2 alloc noexec nowrite progbits
align 8
mb2_header:
    dd MB2_MAGIC
    dd MB2_ARCH_I386
    dd mb2_header_end - mb2_header
    dd 0x100000000 - (MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    dw 0, 0                              ; end tag
    dd 8
mb2_header_end:

; ---------------------------------------------------------------------------
section .boot.text alloc exec nowrite progbits
bits 32
global _start
_start:
    cli
    mov esp, boot_stack_top
    cmp eax, MB2_BOOT_MAGIC
    jne .not_multiboot2
    mov edi, eax                         ; the SysV arguments of kernel_main
    mov esi, ebx

    call cpu_has_long_mode
    jc .no_long_mode
    call build_boot_page_tables

    mov eax, boot_pml4
    mov cr3, eax
    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME | EFER_NXE
    wrmsr
    mov eax, cr0
    or eax, CR0_PG | CR0_PE | CR0_WP
    mov cr0, eax

    lgdt [boot_gdt_pointer]
    jmp BOOT_CODE_SELECTOR:long_mode_entry

.not_multiboot2:
    mov esi, msg_not_multiboot2
    jmp boot_fail
.no_long_mode:
    mov esi, msg_no_long_mode
    jmp boot_fail

; Sets CF when CPUID, long mode or NX is missing.
cpu_has_long_mode:
    pushfd                               ; CPUID exists if EFLAGS.ID can be flipped
    pop eax
    mov ecx, eax
    xor eax, EFLAGS_ID
    push eax
    popfd
    pushfd
    pop eax
    push ecx
    popfd
    cmp eax, ecx
    je .missing
    push esi                             ; cpuid clobbers ebx; esi/edi hold our arguments
    push edi
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .missing_pop
    mov eax, 0x80000001
    cpuid
    and edx, CPUID_EXT_LM | CPUID_EXT_NX
    cmp edx, CPUID_EXT_LM | CPUID_EXT_NX
    jne .missing_pop
    pop edi
    pop esi
    clc
    ret
.missing_pop:
    pop edi
    pop esi
.missing:
    stc
    ret

build_boot_page_tables:
    push edi                             ; edi/esi hold kernel_main's arguments
    mov edi, boot_tables_start           ; zero every boot table first
    mov ecx, (boot_tables_end - boot_tables_start) / 4
    xor eax, eax
    rep stosd
    pop edi

    mov dword [boot_pml4], boot_pdpt_low + PAGE_PRESENT + PAGE_WRITABLE
    mov dword [boot_pml4 + PML4_DIRECT_MAP * 8], boot_pdpt_low + PAGE_PRESENT + PAGE_WRITABLE
    mov dword [boot_pml4 + PML4_KERNEL * 8], boot_pdpt_kernel + PAGE_PRESENT + PAGE_WRITABLE
    mov dword [boot_pdpt_kernel + PDPT_KERNEL * 8], boot_pd_kernel + PAGE_PRESENT + PAGE_WRITABLE
    mov dword [boot_pd_kernel], 0 + PAGE_PRESENT + PAGE_WRITABLE + PAGE_HUGE

    xor ecx, ecx                         ; pdpt_low[i] -> pd_low[i]
.next_pdpt_entry:
    mov eax, ecx
    shl eax, 12
    add eax, boot_pd_low + PAGE_PRESENT + PAGE_WRITABLE
    mov [boot_pdpt_low + ecx * 8], eax
    inc ecx
    cmp ecx, DIRECT_MAP_GIB
    jne .next_pdpt_entry

    xor ecx, ecx                         ; pd_low[i] -> 2 MiB page i
.next_pd_entry:
    mov eax, ecx
    shl eax, 21
    or eax, PAGE_PRESENT + PAGE_WRITABLE + PAGE_HUGE
    mov [boot_pd_low + ecx * 8], eax
    inc ecx
    cmp ecx, DIRECT_MAP_GIB * 512
    jne .next_pd_entry
    ret

; Prints the zero-terminated string at esi in white on red and halts. Paging
; is still off, so the VGA text buffer is at its physical address.
boot_fail:
    mov edi, VGA_TEXT
.next_char:
    lodsb
    test al, al
    jz .halt
    mov ah, VGA_WHITE_ON_RED
    stosw
    jmp .next_char
.halt:
    cli
    hlt
    jmp .halt

bits 64
long_mode_entry:
    mov ax, BOOT_DATA_SELECTOR
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rax, higher_half_entry
    jmp rax

; ---------------------------------------------------------------------------
section .boot.data alloc noexec write progbits
align 16
boot_gdt:
    dq 0
BOOT_CODE_SELECTOR equ $ - boot_gdt
    dq 0x00209A0000000000                ; 64-bit ring-0 code
BOOT_DATA_SELECTOR equ $ - boot_gdt
    dq 0x0000920000000000                ; ring-0 data
boot_gdt_pointer:
    dw $ - boot_gdt - 1
    dq boot_gdt

msg_not_multiboot2:
    db "Boot failed: not loaded by a Multiboot2 boot loader (use GRUB 2).", 0
msg_no_long_mode:
    db "Boot failed: this kernel needs a 64-bit x86_64 CPU (long mode and NX).", 0

; ---------------------------------------------------------------------------
section .boot.bss alloc noexec write nobits
align 4096
global boot_pml4, boot_pd_kernel
boot_tables_start:
boot_pml4:        resb 4096
boot_pdpt_low:    resb 4096
boot_pd_low:      resb 4096 * DIRECT_MAP_GIB
boot_pdpt_kernel: resb 4096
boot_pd_kernel:   resb 4096
boot_tables_end:
boot_stack:       resb 4096
boot_stack_top:

; ---------------------------------------------------------------------------
section .text
extern kernel_main
higher_half_entry:
    mov rsp, kernel_stack_top
    xor ebp, ebp                         ; backtraces stop at a zero frame pointer
    mov edi, edi                         ; magic and info pointer: the upper
    mov esi, esi                         ; halves are undefined after the switch
    push 0                               ; a zero return address ends GDB's unwinding
    jmp kernel_main

; The kernel stack, with one unmapped guard page below it (paging_init leaves
; it out) so that an overflow faults at once instead of corrupting .bss.
KERNEL_STACK_SIZE equ 32768
section .bss nobits alloc noexec write
align 4096
global kernel_stack_guard, kernel_stack_bottom, kernel_stack_top
kernel_stack_guard:  resb 4096
kernel_stack_bottom: resb KERNEL_STACK_SIZE
kernel_stack_top:

section .note.GNU-stack noalloc noexec nowrite progbits
