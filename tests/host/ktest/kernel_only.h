/* kernel_only.h - the lessons' tests the host build does not run, and why. */
#ifndef KERNEL_ONLY_H
#define KERNEL_ONLY_H

/* Why the test `name` needs the real machine, or NULL if the host gives it
 * the same meaning as the kernel (kernel_only.c). */
const char *kernel_only_reason(const char *name);

#endif
