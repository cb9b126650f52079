/* model.c - see model.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "pmm.h"

bool input_left(const struct input *in)
{
    return in->at < in->size;
}

uint8_t take_u8(struct input *in)
{
    return in->at < in->size ? in->data[in->at++] : 0;
}

uint16_t take_u16(struct input *in)
{
    return (uint16_t)(take_u8(in) | take_u8(in) << 8);
}

uint32_t take_u32(struct input *in)
{
    return take_u16(in) | (uint32_t)take_u16(in) << 16;
}

uint64_t take_u64(struct input *in)
{
    return take_u32(in) | (uint64_t)take_u32(in) << 32;
}

size_t take_below(struct input *in, size_t limit)
{
    return limit <= 256 ? take_u8(in) % limit : take_u32(in) % limit;
}

size_t take_size(struct input *in, size_t window)
{
    uint8_t kind = take_u8(in);
    switch (kind % 16) {
    case 0:
        return 0;
    case 1: /* the edge cases of the handouts */
        switch (take_u8(in) % 8) {
        case 0:
            return SIZE_MAX;
        case 1:
            return SIZE_MAX - 14; /* ALIGN_UP to 16 wraps to 0 */
        case 2:
            return window;
        case 3:
            return window + 1;
        case 4:
            return window - 16;
        case 5:
            return (size_t)1 << 63;
        case 6:
            return (size_t)UINT32_MAX + 1;
        default:
            return 0 - (size_t)KHEAP_START; /* KHEAP_START + size wraps to 0 */
        }
    case 2:
    case 3: /* a page or a few */
        return 1 + take_below(in, 5 * PAGE_SIZE);
    case 4:
        return (size_t)take_u8(in) * PAGE_SIZE;
    default: /* small */
        return 1 + take_u8(in) % (kind & 1 ? 64 : 256) * (kind & 2 ? 1 : 8);
    }
}

size_t take_count(struct input *in, size_t size)
{
    switch (take_u8(in) % 4) {
    case 0: /* the smallest count that overflows, or a little more */
        return size == 0 ? SIZE_MAX : SIZE_MAX / size + 1 + take_u8(in) % 4;
    case 1:
        return take_size(in, KHEAP_END - KHEAP_START);
    default:
        return 1 + take_u8(in) % 8;
    }
}

_Noreturn void fuzz_fail(const char *file, int line, const char *what, uint64_t actual,
                         uint64_t expected, bool values)
{
    fprintf(stderr, "\n%s:%d: check failed: %s", file, line, what);
    if (values)
        fprintf(stderr, ": expected %llu (%#llx), got %llu (%#llx)", (unsigned long long)expected,
                (unsigned long long)expected, (unsigned long long)actual,
                (unsigned long long)actual);
    const char *console = host_console_text();
    size_t length = strlen(console);
    fprintf(stderr, "\nconsole (the end):\n%s\n", console + (length > 3000 ? length - 3000 : 0));
    abort();
}

static void panic_is_a_failure(const char *message)
{
    fuzz_fail(__FILE__, __LINE__, message, 0, 0, false);
}

void fuzz_boot(void)
{
    host_set_panic_hook(panic_is_a_failure);
    host_boot();
    host_console_clear();
}

static bool overlap(uintptr_t a, size_t a_size, uintptr_t b, size_t b_size)
{
    return a < b + MAX(b_size, (size_t)1) && b < a + MAX(a_size, (size_t)1);
}

void blocks_add(struct blocks *live, uintptr_t start, size_t size, uint8_t tag, bool fill)
{
    FUZZ_CHECK(live->count < MAX_BLOCKS);
    for (size_t i = 0; i < live->count; i++)
        FUZZ_CHECK(!overlap(start, size, live->items[i].start, live->items[i].size));
    live->items[live->count++] = (struct block){start, size, tag};
    if (fill)
        memset((void *)start, tag, size);
}

void blocks_remove(struct blocks *live, size_t index)
{
    live->items[index] = live->items[--live->count];
}

long blocks_find(const struct blocks *live, uintptr_t address)
{
    for (size_t i = 0; i < live->count; i++) {
        if (overlap(address, 1, live->items[i].start, live->items[i].size))
            return (long)i;
    }
    return -1;
}

void blocks_check(const struct blocks *live, size_t index)
{
    const struct block *b = &live->items[index];
    const uint8_t *bytes = (const uint8_t *)b->start;
    for (size_t i = 0; i < b->size; i++) {
        if (bytes[i] != b->tag)
            fuzz_fail(__FILE__, __LINE__, "a live block's contents changed", bytes[i], b->tag,
                      true);
    }
}

/* ---- starving the PMM ----------------------------------------------------- */

void hoard_release(struct frame_hoard *hoard)
{
    while (hoard->run_count > 0) {
        hoard->run_count--;
        FUZZ_CHECK_EQ(pmm_free_frames(hoard->runs[hoard->run_count].first,
                                      hoard->runs[hoard->run_count].count),
                      PMM_OK);
    }
    hoard->frames = 0;
}

void hoard_take(struct frame_hoard *hoard, size_t leave)
{
    size_t want = SIZE_MAX;
    while (pmm_free_count() > leave && hoard->run_count < MAX_HOARD_RUNS) {
        want = MIN(want, pmm_free_count() - leave);
        phys_addr_t first = pmm_alloc_frames(want);
        if (first == PMM_NO_FRAME) {
            want = (want + 1) / 2; /* no run that long: try half */
            continue;
        }
        hoard->runs[hoard->run_count].first = first;
        hoard->runs[hoard->run_count++].count = want;
        hoard->frames += want;
    }
}

void hoard_step(struct frame_hoard *hoard, struct input *in, size_t leave_limit)
{
    if (take_u8(in) % 2 == 0)
        hoard_release(hoard);
    else
        hoard_take(hoard, take_below(in, leave_limit));
}
