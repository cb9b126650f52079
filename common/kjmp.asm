; kjmp.asm - save and restore the callee-saved registers, stack and return
; address of a kjmp_set call (the System V ABI's view of "where we were").
bits 64
section .text

global kjmp_set
kjmp_set:                       ; int kjmp_set(struct kjmp_buf *rdi)
    mov [rdi + 0], rbx
    mov [rdi + 8], rbp
    mov [rdi + 16], r12
    mov [rdi + 24], r13
    mov [rdi + 32], r14
    mov [rdi + 40], r15
    lea rdx, [rsp + 8]          ; the caller's rsp after we return
    mov [rdi + 48], rdx
    mov rdx, [rsp]              ; our return address
    mov [rdi + 56], rdx
    xor eax, eax
    ret

global kjmp_jump
kjmp_jump:                      ; void kjmp_jump(struct kjmp_buf *rdi, int esi)
    mov rbx, [rdi + 0]
    mov rbp, [rdi + 8]
    mov r12, [rdi + 16]
    mov r13, [rdi + 24]
    mov r14, [rdi + 32]
    mov r15, [rdi + 40]
    mov rsp, [rdi + 48]
    mov eax, esi
    test eax, eax               ; kjmp_set must never seem to return 0 twice
    jnz .go
    inc eax
.go:
    jmp [rdi + 56]

section .note.GNU-stack noalloc noexec nowrite progbits
