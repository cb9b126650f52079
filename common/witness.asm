; witness.asm - where the grader watches the kernel from outside. The grader
; holds emulator breakpoints on the `nop`s below (grader/gradelib/witness.py)
; and steps over each by moving RIP past it. Nothing in the guest can see or
; lift those breakpoints, and this code is compared with the ELF file after
; every test, so the grader sees every test start, every failed check, every
; crash report and every normal return, whatever the rest of the kernel does.
;
; This code has a page of its own (common/linker.ld): QEMU runs any code that
; shares a page with a breakpoint one instruction at a time, and a breakpoint
; beside kprintf or memset made every boot under the witness 2.5 times slower.
bits 64
section .witness progbits alloc exec nowrite align=16

global ktest_call, witness_test_entry, witness_test_return
global witness_check_failed, witness_crash_report

ktest_call:                     ; void ktest_call(void (*rdi)(void))
    push rbp                    ; a frame, so backtraces pass through here
    mov rbp, rsp
witness_test_entry:             ; rdi: the test about to run
    nop
    call rdi
witness_test_return:            ; rsp as at witness_test_entry: a normal return
    nop
    pop rbp
    ret

witness_check_failed:           ; void witness_check_failed(void)
    nop
    ret

witness_crash_report:           ; void witness_crash_report(void)
    nop
    ret

section .note.GNU-stack noalloc noexec nowrite progbits
