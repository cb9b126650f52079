/* bench.h - the measurements of `make bench` (tools/bench/host.py runs them).
 *
 * A measurement is a function that makes `n` calls of one allocator
 * function after a warm-up that is the same whatever n is. The script runs
 * it under callgrind, collecting only inside that allocator function
 * (--toggle-collect), once with n calls and once with none: the difference
 * divided by n is the cost of one call, the callee's instructions from its
 * first to its `ret`, callees included, warm-up and loop excluded.
 *
 * The trace is a fixed sequence of allocations and frees of mixed sizes
 * (bench.c), the same for both heaps, for their efficiency. */
#ifndef BENCH_H
#define BENCH_H

#include "host.h"

struct measurement {
    const char *name;
    void (*run)(size_t n);
};

/* Each program's table, ending with {NULL, NULL}. */
extern const struct measurement measurements[];

/* ---- the trace -------------------------------------------------------------- */

enum { TRACE_ALLOCATIONS = 1500 }; /* all of them fit in the bump heap's window */

struct trace_step {
    bool allocate;
    size_t size;   /* allocate: bytes asked for */
    size_t victim; /* free: which live block (an index into the live ones) */
};

/* The next step of the trace; false at its end. */
bool trace_next(struct trace_step *step, size_t live);
void trace_restart(void);

/* Runs the trace on the heap that is linked in and prints its figures as
 * "key value" lines, the keys starting with `prefix`. */
void run_trace(const char *prefix);

#endif
