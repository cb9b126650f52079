; isr.asm - one entry stub per CPU exception (vectors 0-31). Each stub makes
; the stack look the same (an error code, real or 0, then the vector), saves
; every general-purpose register as a struct interrupt_frame and calls
; exception_dispatch(frame). If that returns, the registers are restored and
; the interrupted code resumes.
bits 64
section .text
extern exception_dispatch

%macro EXCEPTION_WITHOUT_ERROR_CODE 1
isr_%1:
    push 0
    push %1
    jmp isr_common
%endmacro

%macro EXCEPTION_WITH_ERROR_CODE 1
isr_%1:
    push %1
    jmp isr_common
%endmacro

; The CPU pushes an error code for vectors 8, 10-14, 17, 21, 29 and 30.
%assign vector 0
%rep 32
  %if vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 || vector == 29 || vector == 30
    EXCEPTION_WITH_ERROR_CODE vector
  %else
    EXCEPTION_WITHOUT_ERROR_CODE vector
  %endif
  %assign vector vector + 1
%endrep

isr_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    mov rdi, rsp                ; struct interrupt_frame *
    mov rbp, rsp                ; rbp is callee-saved: it survives the call
    and rsp, -16                ; the ABI wants a 16-byte aligned stack at calls
    cld
    call exception_dispatch
    mov rsp, rbp
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16                 ; vector and error code
    iretq

section .rodata
global isr_table
isr_table:
%assign vector 0
%rep 32
    dq isr_ %+ vector
  %assign vector vector + 1
%endrep

section .note.GNU-stack noalloc noexec nowrite progbits
