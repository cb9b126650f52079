/* ktrace.h - what the lessons' trace wrappers share (TRACE=1 kernels only:
 * make trace-lessonN, tools/trace).
 *
 * A lesson declares its trace points in its own folder: lesson.mk lists the
 * functions to wrap (TRACED_NN, for `ld --wrap`) and the file that wraps them
 * (TRACE_NN: lessons/NN-name/trace.c). The link redirects every call from
 * another file, `ld --wrap=kmalloc` turning main.c's and the tests'
 * `kmalloc` into the lesson's __wrap_kmalloc, which calls the student's own
 * (__real_kmalloc) and reports what happened, one event a line on the serial
 * port:
 *
 *   ktrace: call kmalloc size=20 caller=ffffffff8010d913
 *   ktrace: map virt=ffffffff80200000 phys=3f5000 status=0 caller=...
 *   ktrace: ret kmalloc result=ffffffff80200000 tail=cc:28 used=64 ...
 *
 * A lesson's public calls are the events; the page and frame calls made
 * during one (ktrace_inside) are what it asked of the layers below. Only
 * what the public API shows is reported. A call that never returns (a
 * crash) leaves its `call` line unanswered. */
#ifndef KTRACE_H
#define KTRACE_H

#include "kernel.h"

/* The address a wrapper was called from. */
#define KTRACE_CALLER ((uintptr_t)__builtin_return_address(0))

/* Writes one event line ("ktrace: " + the format) on the serial port only;
 * after too many events, one line that says the trace was cut short. */
void ktrace_emit(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Between a traced call's start and its return, the page and frame calls
 * it makes are traced as its own (ktrace_note_page, frame-alloc ...). */
void ktrace_enter(void);
void ktrace_leave(void);
bool ktrace_inside(void);

/* A page mapped or unmapped inside a traced call; `caller` is the code that
 * asked. */
void ktrace_note_page(const char *what, uintptr_t virt, phys_addr_t phys, int status,
                      uintptr_t caller);

#endif
