/* bench.c - the driver of the measurements (bench.h): bench_PROGRAM NAME N,
 * or bench_PROGRAM trace. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "kheap.h"

/* ---- the trace -------------------------------------------------------------- */

static uint64_t state = 0x2545F4914F6CDD1Dull;
static size_t allocations;

static uint64_t next_random(void) /* xorshift64 */
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

void trace_restart(void)
{
    state = 0x2545F4914F6CDD1Dull;
    allocations = 0;
}

/* Sizes as a kernel asks for them: mostly structures of any size (a
 * multiple of 8 up to 512 bytes), often power-of-two buffers (16 bytes to
 * 4 KiB), now and then something bigger (up to 16 KiB). */
static size_t trace_size(void)
{
    uint64_t r = next_random() % 100;
    if (r < 55)
        return 8 * (1 + next_random() % 64);
    if (r < 95)
        return (size_t)16 << (next_random() % 9);
    return 4096 + next_random() % (12 * 1024);
}

/* 60% allocations, 40% frees of a random live block, until TRACE_ALLOCATIONS
 * allocations are made; then everything left is freed. */
bool trace_next(struct trace_step *step, size_t live)
{
    if (allocations == TRACE_ALLOCATIONS) {
        if (live == 0)
            return false;
        *step = (struct trace_step){.allocate = false, .victim = live - 1};
        return true;
    }
    if (live > 0 && next_random() % 100 < 40) {
        *step = (struct trace_step){.allocate = false, .victim = next_random() % live};
        return true;
    }
    allocations++;
    *step = (struct trace_step){.allocate = true, .size = trace_size()};
    return true;
}

void run_trace(const char *prefix)
{
    static struct {
        void *block;
        size_t size;
    } live[TRACE_ALLOCATIONS];
    size_t count = 0, live_bytes = 0, requested = 0, failures = 0;
    size_t peak_used = 0, requested_at_peak = 0, peak_pages = 0, requested_at_peak_pages = 0;
    struct trace_step step;
    trace_restart();
    while (trace_next(&step, count)) {
        if (step.allocate) {
            void *block = kmalloc(step.size);
            if (block == NULL) {
                failures++;
                continue;
            }
            live[count].block = block;
            live[count++].size = step.size;
            live_bytes += step.size;
            requested += step.size;
        } else {
            kfree(live[step.victim].block);
            live_bytes -= live[step.victim].size;
            live[step.victim] = live[--count];
        }
        struct kheap_stats s;
        kheap_get_stats(&s);
        if (s.used > peak_used) {
            peak_used = s.used;
            requested_at_peak = live_bytes;
        }
        if (s.pages_mapped > peak_pages) {
            peak_pages = s.pages_mapped;
            requested_at_peak_pages = live_bytes;
        }
    }
    printf("%s_trace_requested_bytes %zu\n", prefix, requested);
    printf("%s_trace_failures %zu\n", prefix, failures);
    printf("%s_peak_used_bytes %zu\n", prefix, peak_used);
    printf("%s_live_bytes_at_peak %zu\n", prefix, requested_at_peak);
    printf("%s_efficiency %.4f\n", prefix, (double)requested_at_peak / (double)peak_used);
    printf("%s_peak_pages %zu\n", prefix, peak_pages);
    printf("%s_page_efficiency %.4f\n", prefix,
           (double)requested_at_peak_pages / (double)(peak_pages * PAGE_SIZE));
}

/* ---- the driver ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "list") == 0) {
        for (const struct measurement *m = measurements; m->name != NULL; m++)
            printf("%s\n", m->name);
        return 0;
    }
    if (argc == 3) {
        for (const struct measurement *m = measurements; m->name != NULL; m++) {
            if (strcmp(m->name, argv[1]) == 0) {
                host_boot();
                m->run(strtoull(argv[2], NULL, 10));
                return 0;
            }
        }
    }
    fprintf(stderr, "usage: %s list | NAME N\n", argv[0]);
    return 2;
}
