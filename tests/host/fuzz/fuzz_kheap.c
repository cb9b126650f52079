/* fuzz_kheap.c - the bump heap (solutions/15-kheap/kheap.c) against a model.
 *
 * The model is the bump heap as kheap.h and the handout describe it: one
 * pointer `curr`, a block at the first multiple of its alignment at or
 * after it, sizes rounded to 16, a page mapped (one PMM frame, and a page
 * table for the first) the first time a block reaches it, every counter
 * exact. Operations: kmalloc, kcalloc, kmalloc_aligned with any size and
 * alignment (the handout's wrapping sizes and bad alignments included),
 * kfree of blocks and of other pointers (with the report the model
 * expects), taking frames away from the PMM so that mapping fails
 * half-way, kheap_init. After every operation: the result is exactly the
 * model's, the counters and the PMM's free count match, and the pages
 * around heap_curr are accessible exactly when they should be. */
#include <string.h>

#include "kheap.h"
#include "model.h"
#include "paging.h"
#include "pmm.h"

enum { MAX_PIECES = 2 * MAX_BLOCKS };

struct piece {
    uintptr_t start, end;
    bool padding;
};

static struct blocks live;
static struct piece pieces[MAX_PIECES]; /* in address order: the heap is a bump */
static size_t piece_count;
static uintptr_t curr;
static struct kheap_stats expected;
static struct frame_hoard hoard; /* frames taken to starve the heap */
static uint8_t next_tag;

static void reset_model(void)
{
    live.count = 0;
    piece_count = 0;
    curr = KHEAP_START;
    expected = (struct kheap_stats){.capacity = KHEAP_SIZE};
}

static bool window_has_page_table(void)
{
    return paging_walk(paging_kernel_pml4(), KHEAP_START, false) != NULL;
}

static uintptr_t mapped_end(void)
{
    return ALIGN_UP(curr, PAGE_SIZE);
}

static void check_state(void)
{
    struct kheap_stats s;
    kheap_get_stats(&s);
    FUZZ_CHECK_EQ(s.capacity, expected.capacity);
    FUZZ_CHECK_EQ(s.used, expected.used);
    FUZZ_CHECK_EQ(s.requested, expected.requested);
    FUZZ_CHECK_EQ(s.allocations, expected.allocations);
    FUZZ_CHECK_EQ(s.frees, expected.frees);
    FUZZ_CHECK_EQ(s.failures, expected.failures);
    FUZZ_CHECK_EQ(s.peak, expected.peak);
    FUZZ_CHECK_EQ(s.pages_mapped, (mapped_end() - KHEAP_START) / PAGE_SIZE);
    FUZZ_CHECK_EQ(s.bad_frees, expected.bad_frees);
    FUZZ_CHECK_EQ(s.double_frees + s.redzone_errors + s.poison_errors, 0);
    /* The mapped part ends at ALIGN_UP(heap_curr): the page below is there,
     * the page at it faults. */
    if (curr > KHEAP_START)
        FUZZ_CHECK(!host_write_faults(mapped_end() - 1));
    if (mapped_end() < KHEAP_END)
        FUZZ_CHECK(host_read_faults(mapped_end()));
}

/* ---- allocation ---------------------------------------------------------------- */

static size_t take_alignment(struct input *in)
{
    switch (take_u8(in) % 8) {
    case 0: /* not a power of two */
        switch (take_u8(in) % 4) {
        case 0:
            return 0;
        case 1:
            return 24;
        case 2:
            return SIZE_MAX;
        default:
            return ((size_t)1 << 63) + 1;
        }
    case 1:
        return (size_t)1 << (58 + take_u8(in) % 6); /* far beyond the window */
    default:
        return (size_t)1 << take_below(in, 22); /* 1 .. 2 MiB */
    }
}

static void allocate(struct input *in)
{
    if (live.count == MAX_BLOCKS)
        return;
    size_t size = take_size(in, KHEAP_SIZE), align = KHEAP_MIN_ALIGN, bytes = size, n = 1;
    uint8_t kind = take_u8(in) % 4; /* 0, 1: kmalloc; 2: kcalloc; 3: kmalloc_aligned */
    if (kind == 2) {
        n = take_count(in, size);
        if (__builtin_mul_overflow(n, size, &bytes))
            bytes = SIZE_MAX;
    } else if (kind == 3) {
        align = take_alignment(in);
    }

    /* What the model says: where, and how many frames it takes. */
    size_t step = MAX(align, (size_t)KHEAP_MIN_ALIGN), room = KHEAP_END - curr;
    size_t padding = (step - curr % step) % step, block = MAX(bytes, (size_t)1);
    bool fits = IS_POWER_OF_TWO(align) && padding <= room && block <= room - padding;
    uintptr_t start = curr + padding, end = 0;
    size_t free = pmm_free_count(), frames = 0, kept = 0;
    if (fits) {
        end = start + ALIGN_UP(block, KHEAP_MIN_ALIGN);
        size_t pages = (ALIGN_UP(end, PAGE_SIZE) - mapped_end()) / PAGE_SIZE;
        bool new_table = pages > 0 && !window_has_page_table();
        frames = pages + new_table;
        fits = frames <= free;
        /* Out of frames half-way: the pages go back, but a page table made
         * on the way stays, as paging_unmap keeps tables (paging.h). */
        kept = !fits && new_table && free >= 2;
    }

    void *result = kind == 2   ? kcalloc(n, size)
                   : kind == 3 ? kmalloc_aligned(size, align)
                               : kmalloc(size);
    if (!fits) {
        FUZZ_CHECK(result == NULL);
        FUZZ_CHECK_EQ(pmm_free_count(), free - kept);
        expected.failures++;
        return;
    }
    FUZZ_CHECK_EQ((uintptr_t)result, start);
    FUZZ_CHECK_EQ(pmm_free_count(), free - frames);
    if (kind == 2) {
        for (size_t i = 0; i < bytes; i++)
            FUZZ_CHECK_EQ(((const uint8_t *)result)[i], 0);
    }
    if (padding != 0)
        pieces[piece_count++] = (struct piece){curr, start, true};
    pieces[piece_count++] = (struct piece){start, end, false};
    blocks_add(&live, start, bytes, ++next_tag, true);
    curr = end;
    expected.allocations++;
    expected.requested += bytes;
    expected.used = curr - KHEAP_START;
    expected.peak = MAX(expected.peak, expected.used);
}

/* ---- kfree -------------------------------------------------------------------- */

static uintptr_t take_bad_pointer(struct input *in)
{
    uintptr_t base = live.count ? live.items[take_below(in, live.count)].start : KHEAP_START;
    switch (take_u8(in) % 8) {
    case 0:
        return base + 1 + take_u8(in);
    case 1:
        return base + 16 * (1 + take_u8(in) % 16);
    case 2:
        return curr + take_u16(in); /* free space, or past the window */
    case 3:
        return KHEAP_START - 1 - take_u8(in);
    case 4:
        return take_u64(in);
    case 5:
        return piece_count ? pieces[take_below(in, piece_count)].start : KHEAP_END;
    default:
        return base - 1 - take_u8(in);
    }
}

/* kfree(address) as kheap.c describes it: a multiple of 16 in
 * [KHEAP_START, curr) is taken for a block's start (a bump heap keeps no
 * record that could tell a start from a place inside a block), anything
 * else is a counted warning. */
static void free_pointer(uintptr_t address)
{
    struct kheap_report before = {0}, after = {0};
    bool had_report = kheap_last_report(&before);
    kfree((void *)address);
    if (address == 0)
        return;
    expected.frees++;
    if (address >= KHEAP_START && address < curr && address % KHEAP_MIN_ALIGN == 0) {
        FUZZ_CHECK_EQ(kheap_last_report(&after), had_report); /* a good kfree: no report */
        FUZZ_CHECK(memcmp(&before, &after, sizeof(after)) == 0);
        return;
    }
    expected.bad_frees++;
    FUZZ_CHECK(kheap_last_report(&after));
    FUZZ_CHECK_EQ(after.problem, KHEAP_BAD_FREE);
    FUZZ_CHECK_EQ(after.address, address);
}

/* ---- one input, operation by operation ------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size, 0};
    fuzz_boot();
    kheap_init();
    reset_model();
    hoard = (struct frame_hoard){0};
    size_t baseline = pmm_free_count();
    while (input_left(&in)) {
        switch (take_u8(&in) % 16) {
        default:
            allocate(&in);
            break;
        case 8:
        case 9:
            if (live.count > 0) {
                size_t i = take_below(&in, live.count);
                blocks_check(&live, i);
                free_pointer(live.items[i].start); /* a bump heap keeps the block */
            }
            break;
        case 10:
        case 11:
            free_pointer(take_bad_pointer(&in));
            break;
        case 12:
            hoard_step(&hoard, &in, 8);
            break;
        case 13:
            if (take_u8(&in) % 8 == 0) { /* a fresh heap; every page goes back */
                size_t free = pmm_free_count(), pages = (mapped_end() - KHEAP_START) / PAGE_SIZE;
                kheap_init();
                reset_model();
                FUZZ_CHECK_EQ(pmm_free_count(), free + pages);
            }
            break;
        case 14:
            kfree(NULL);
            break;
        case 15:
            if (live.count > 0)
                blocks_check(&live, take_below(&in, live.count));
            break;
        }
        check_state();
    }
    for (size_t i = 0; i < live.count; i++)
        blocks_check(&live, i);
    hoard_release(&hoard);
    kheap_init();
    FUZZ_CHECK_EQ(pmm_free_count(), baseline - window_has_page_table());
    return 0;
}
