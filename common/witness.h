/* witness.h - the points where the grader's witness watches the kernel
 * (witness.asm): each is a function that does nothing, and the emulator
 * stops on it. */
#ifndef WITNESS_H
#define WITNESS_H

/* Runs a test: the only place a test is called from. */
void ktest_call(void (*test)(void));
/* A check of the running test failed. */
void witness_check_failed(void);
/* A crash report (CPU exception or panic) begins. */
void witness_crash_report(void);

#endif
