/* fuzz_freelist.c - the free-list heap (solutions/15-kheap/kheap_freelist.c)
 * against a model, with and without its debug checks.
 *
 * The model is the list of live blocks and the counters. Operations:
 * allocate (kmalloc, kcalloc, kmalloc_aligned, any size and alignment),
 * free a live block, and, to see the debug checks answer, the mistakes the
 * handout lists: a pointer into a block or outside the heap, a double free,
 * a write past a block (redzone), a write after free (poison), all with the
 * report the heap must give. Also: taking frames away from the PMM,
 * kheap_init, switching debug mode. After every operation: no two live
 * blocks overlap, their contents are intact, every counter matches, and
 * the PMM's frames are exactly the heap's mapped pages plus its page table. */
#include <string.h>

#include "kheap.h"
#include "model.h"
#include "paging.h"
#include "pmm.h"

enum { RECENT = 8, POISON_INUSE = 0x5a };

static struct blocks live;
static bool debug;
static struct kheap_stats expected;
static uintptr_t recently_freed[RECENT]; /* for double frees; 0: none */
static size_t baseline;                  /* PMM frames free before the heap took any */
static struct frame_hoard hoard;         /* frames taken to starve the heap */
static uint8_t next_tag;

static void reset_model(void)
{
    live.count = 0;
    memset(recently_freed, 0, sizeof(recently_freed));
    expected = (struct kheap_stats){.capacity = KHEAP_SIZE};
}

static bool window_has_page_table(void)
{
    return paging_walk(paging_kernel_pml4(), KHEAP_START, false) != NULL;
}

/* What a block may cost at most: its slot (at most twice what it needs,
 * debug extras and alignment included) or its pages. */
static size_t cost_bound(size_t size, size_t align)
{
    size_t small = 2 * MAX(ALIGN_UP(MAX(size, (size_t)1), 16) + 32, align);
    return MAX(small, ALIGN_UP(MAX(size, (size_t)1), PAGE_SIZE));
}

static struct {
    size_t align[MAX_BLOCKS];
} live_extra; /* per live block, in step with `live` */

static void check_state(void)
{
    struct kheap_stats s;
    kheap_get_stats(&s);
    FUZZ_CHECK_EQ(s.capacity, KHEAP_SIZE);
    FUZZ_CHECK_EQ(s.requested, expected.requested);
    FUZZ_CHECK_EQ(s.allocations, expected.allocations);
    FUZZ_CHECK_EQ(s.frees, expected.frees);
    FUZZ_CHECK_EQ(s.failures, expected.failures);
    FUZZ_CHECK_EQ(s.bad_frees, expected.bad_frees);
    FUZZ_CHECK_EQ(s.double_frees, expected.double_frees);
    FUZZ_CHECK_EQ(s.redzone_errors, expected.redzone_errors);
    FUZZ_CHECK_EQ(s.poison_errors, expected.poison_errors);
    size_t least = 0, most = 0;
    for (size_t i = 0; i < live.count; i++) {
        least += live.items[i].size;
        most += cost_bound(live.items[i].size, live_extra.align[i]);
    }
    FUZZ_CHECK(s.used >= least);
    FUZZ_CHECK(s.used <= most);
    FUZZ_CHECK(s.peak >= s.used);
    FUZZ_CHECK(s.peak >= expected.peak);
    expected.peak = s.peak;
    FUZZ_CHECK(s.pages_mapped <= KHEAP_PAGES);
    /* Every frame the heap holds is a mapped page or its page table. */
    FUZZ_CHECK_EQ(pmm_free_count() + hoard.frames + s.pages_mapped + window_has_page_table(),
                  baseline);
}

/* ---- allocation ------------------------------------------------------------------ */

static size_t take_alignment(struct input *in)
{
    switch (take_u8(in) % 8) {
    case 0:
        return take_u8(in) % 2 ? 0 : 48;
    case 1:
        return (size_t)1 << (22 + take_below(in, 42)); /* beyond the window */
    default:
        return (size_t)1 << take_below(in, 16);
    }
}

static void add_block(uintptr_t start, size_t size, size_t align, bool zeroed)
{
    const uint8_t *bytes = (const uint8_t *)start;
    for (size_t i = 0; i < size && (zeroed || debug); i++)
        FUZZ_CHECK_EQ(bytes[i], zeroed ? 0 : POISON_INUSE); /* kcalloc zeroes; debug poisons */
    live_extra.align[live.count] = align;
    blocks_add(&live, start, size, ++next_tag, true);
    for (size_t i = 0; i < RECENT; i++) {
        if (recently_freed[i] >= start && recently_freed[i] < start + MAX(size, (size_t)1))
            recently_freed[i] = 0; /* handed out again: not free any more */
    }
}

static void allocate(struct input *in)
{
    if (live.count == MAX_BLOCKS)
        return;
    size_t size = take_size(in, KHEAP_SIZE), align = KHEAP_MIN_ALIGN, bytes = size, n = 1;
    uint8_t kind = take_u8(in) % 4;
    if (kind == 2) {
        n = take_count(in, size);
        if (__builtin_mul_overflow(n, size, &bytes))
            bytes = SIZE_MAX;
    } else if (kind == 3) {
        align = take_alignment(in);
    }
    size_t free = pmm_free_count();
    void *result = kind == 2   ? kcalloc(n, size)
                   : kind == 3 ? kmalloc_aligned(size, align)
                               : kmalloc(size);
    bool impossible = bytes > KHEAP_SIZE || !IS_POWER_OF_TWO(align) || align > KHEAP_SIZE;
    if (result == NULL) {
        expected.failures++;
        if (impossible)
            FUZZ_CHECK_EQ(pmm_free_count(), free);
        return;
    }
    FUZZ_CHECK(!impossible);
    uintptr_t start = (uintptr_t)result;
    FUZZ_CHECK_EQ(start % MAX(align, (size_t)KHEAP_MIN_ALIGN), 0);
    FUZZ_CHECK(start >= KHEAP_START && start + MAX(bytes, (size_t)1) <= KHEAP_END);
    add_block(start, bytes, align, kind == 2);
    expected.allocations++;
    expected.requested += bytes;
}

/* ---- freeing ---------------------------------------------------------------------- */

static struct kheap_report report_now(void)
{
    struct kheap_report r = {0};
    kheap_last_report(&r);
    return r;
}

static void remember_freed(uintptr_t start)
{
    memmove(recently_freed + 1, recently_freed, (RECENT - 1) * sizeof(recently_freed[0]));
    recently_freed[0] = start;
}

/* Frees live block i; `problem` is the report the heap must give (none, or
 * a redzone the operation wrote into). */
static void free_block(size_t i, enum kheap_problem problem, uintptr_t address)
{
    struct block b = live.items[i];
    struct kheap_report before = report_now();
    blocks_remove(&live, i);
    live_extra.align[i] = live_extra.align[live.count];
    kfree((void *)b.start);
    expected.frees++;
    struct kheap_report after = report_now();
    if (problem == KHEAP_NO_PROBLEM) {
        FUZZ_CHECK(memcmp(&before, &after, sizeof(after)) == 0);
    } else {
        FUZZ_CHECK_EQ(after.problem, problem);
        FUZZ_CHECK_EQ(after.block, b.start);
        FUZZ_CHECK_EQ(after.address, address);
        expected.redzone_errors++;
    }
    remember_freed(b.start);
}

static void free_good(struct input *in)
{
    if (live.count == 0)
        return;
    size_t i = take_below(in, live.count);
    blocks_check(&live, i);
    free_block(i, KHEAP_NO_PROBLEM, 0);
}

/* A pointer that is no block's start: inside a live block, or outside the heap. */
static void free_bad(struct input *in)
{
    uintptr_t address;
    uint8_t kind = take_u8(in) % 4;
    if (kind < 2 && live.count > 0) {
        const struct block *b = &live.items[take_below(in, live.count)];
        if (b->size < 2)
            return;
        address = b->start + 1 + take_below(in, b->size - 1);
    } else if (kind == 2) {
        address = KHEAP_END + take_u16(in);
    } else {
        address = KHEAP_START - 1 - take_u16(in);
    }
    kfree((void *)address);
    expected.frees++;
    expected.bad_frees++;
    struct kheap_report r = report_now();
    FUZZ_CHECK_EQ(r.problem, KHEAP_BAD_FREE);
    FUZZ_CHECK_EQ(r.address, address);
}

/* Debug mode: a block freed again is refused (double free, or a bad free
 * when its page has become part of another block since). */
static void free_twice(struct input *in)
{
    uintptr_t address = recently_freed[take_below(in, RECENT)];
    if (!debug || address == 0 || blocks_find(&live, address) >= 0)
        return;
    struct kheap_stats before;
    kheap_get_stats(&before);
    kfree((void *)address);
    expected.frees++;
    struct kheap_report r = report_now();
    FUZZ_CHECK(r.problem == KHEAP_DOUBLE_FREE || r.problem == KHEAP_BAD_FREE);
    FUZZ_CHECK_EQ(r.address, address);
    expected.double_frees += r.problem == KHEAP_DOUBLE_FREE;
    expected.bad_frees += r.problem == KHEAP_BAD_FREE;
}

/* Debug mode: one byte written just past a live block; kfree must say so. */
static void overrun(struct input *in)
{
    if (!debug || live.count == 0)
        return;
    size_t i = take_below(in, live.count);
    const struct block *b = &live.items[i];
    if (b->size % PAGE_SIZE == 0) /* a large block ending on a page: its guard follows */
        return;
    uintptr_t address = b->start + b->size;
    *(volatile uint8_t *)address = 0;
    free_block(i, KHEAP_REDZONE, address);
}

/* Debug mode: a byte written into a block after kfree. A small block is
 * poisoned and its slot is the first its class hands out again, which must
 * report it; a large block is unmapped, and the write must fault. */
static void write_after_free(struct input *in)
{
    if (!debug || live.count == 0)
        return;
    size_t i = take_below(in, live.count);
    struct block b = live.items[i];
    if (b.size == 0 || b.size > KHEAP_SIZE / 2)
        return;
    size_t align = live_extra.align[i];
    free_block(i, KHEAP_NO_PROBLEM, 0);
    uintptr_t address = b.start + take_below(in, b.size);
    if (host_write_faults(address))
        return; /* unmapped: the use after free faulted at once */
    *(volatile uint8_t *)address = 0x11;
    void *again = kmalloc_aligned(b.size, align);
    FUZZ_CHECK_EQ((uintptr_t)again, b.start);
    struct kheap_report r = report_now();
    FUZZ_CHECK_EQ(r.problem, KHEAP_USE_AFTER_FREE);
    FUZZ_CHECK_EQ(r.block, b.start);
    FUZZ_CHECK_EQ(r.address, address);
    expected.poison_errors++;
    expected.allocations++;
    expected.requested += b.size;
    add_block(b.start, b.size, align, false); /* poisoned again, as every new block */
}

/* ---- one input, operation by operation ------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size, 0};
    fuzz_boot();
    baseline = pmm_free_count();
    debug = take_u8(&in) % 2;
    kheap_set_debug(debug);
    reset_model();
    while (input_left(&in)) {
        switch (take_u8(&in) % 16) {
        default:
            allocate(&in);
            break;
        case 7:
        case 8:
        case 9:
            free_good(&in);
            break;
        case 10:
            free_bad(&in);
            break;
        case 11:
            free_twice(&in);
            break;
        case 12:
            overrun(&in);
            break;
        case 13:
            write_after_free(&in);
            break;
        case 14:
            hoard_step(&hoard, &in, 8);
            break;
        case 15:
            if (take_u8(&in) % 8 == 0) {
                debug = !debug;
                kheap_set_debug(debug); /* a fresh heap */
                reset_model();
            }
            break;
        }
        check_state();
    }
    while (live.count > 0) {
        blocks_check(&live, live.count - 1);
        free_block(live.count - 1, KHEAP_NO_PROBLEM, 0);
    }
    check_state();
    struct kheap_stats s;
    kheap_get_stats(&s);
    FUZZ_CHECK_EQ(s.used, 0);
    hoard_release(&hoard);
    kheap_init();
    FUZZ_CHECK_EQ(pmm_free_count(), baseline - window_has_page_table());
    return 0;
}
