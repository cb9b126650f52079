/* exception.h - CPU exceptions: the IDT, readable crash reports, and hooks
 * for code that wants to handle a fault itself (a page-fault handler, the
 * test harness catching an expected fault). */
#ifndef EXCEPTION_H
#define EXCEPTION_H

#include "kernel.h"

enum {
    VECTOR_DIVIDE_ERROR = 0,
    VECTOR_BREAKPOINT = 3,
    VECTOR_INVALID_OPCODE = 6,
    VECTOR_DOUBLE_FAULT = 8,
    VECTOR_GENERAL_PROTECTION = 13,
    VECTOR_PAGE_FAULT = 14,
    EXCEPTION_VECTORS = 32,
};

/* Page-fault error code bits (Intel SDM vol. 3, 4.7). */
#define PF_PRESENT      (1u << 0) /* 1: protection violation; 0: page not present */
#define PF_WRITE        (1u << 1) /* the access was a write */
#define PF_USER         (1u << 2) /* the access came from ring 3 */
#define PF_RESERVED_BIT (1u << 3)
#define PF_FETCH        (1u << 4) /* an instruction fetch (no-execute page) */

/* What isr.asm saves, lowest address first. */
struct interrupt_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

/* A handler returns true if it dealt with the exception (execution resumes
 * at frame->rip) and false to let the default report and crash happen. */
typedef bool (*exception_handler_t)(struct interrupt_frame *frame);

void idt_init(void);
/* Called by isr.asm for every exception. */
void exception_dispatch(struct interrupt_frame *frame);
void exception_set_handler(unsigned vector, exception_handler_t handler);
const char *exception_name(unsigned vector);

/* For a handler that returns false: one line on what this exception most
 * likely means in the lab's terms ("... is in the heap window but that page
 * is not mapped"). The crash report's first line carries it after the
 * faulting address and access, and so does the grader's one-line reason.
 * Copied; it holds for the exception being handled only. */
void exception_set_diagnosis(const char *text);

/* Prints one line per return address on the frame-pointer chain starting at
 * `rbp`; stops at a zero or implausible frame. */
void print_backtrace(uint64_t rbp);

/* Set by the test harness (ktest.c). expected_fault_hook runs before any
 * report and does not return if a test was waiting for this fault;
 * crash_hook runs after the report and does not return if a running test can
 * take the blame. */
extern void (*expected_fault_hook)(const struct interrupt_frame *frame);
extern void (*crash_hook)(const char *reason);

#endif
