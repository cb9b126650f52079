/* kjmp.h - setjmp/longjmp for the kernel: how the test harness gets back
 * control after a test crashes (see ktest.c). */
#ifndef KJMP_H
#define KJMP_H

#include "kernel.h"

struct kjmp_buf {
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};

/* Returns 0 when called, and `value` (never 0) when kjmp_jump comes back to it. */
__attribute__((returns_twice)) int kjmp_set(struct kjmp_buf *buf);
_Noreturn void kjmp_jump(struct kjmp_buf *buf, int value);

#endif
