/* tests.c - lesson 15's in-kernel tests for the bump heap (kheap.c): the
 * practice (kheap_init, kmalloc, kcalloc, mapping the window) and the
 * homework (kfree, kmalloc_aligned, the counters). Each exists because a
 * plausible wrong heap fails it; the name says what is being proved. Every
 * test starts from a fresh heap and leaves a fresh heap behind, even if it
 * crashes (ktest_defer). */
#include "exception.h"
#include "kheap.h"
#include "ktest.h"
#include "paging.h"
#include "pmm.h"
#include "string.h"
#include "tests_support.h"

enum {
    SAMPLE_BLOCKS = 64,
    WINDOW_BLOCKS_OF_16 = KHEAP_SIZE / 16, /* 131072 */
    MAX_ALIGN_SHIFT = 16,                  /* kmalloc_aligned is tried up to 64 KiB */
};

/* ---- helpers ------------------------------------------------------------ */

/* Pages of the window the page tables map, counted independently of the heap. */
static size_t pages_mapped_in_window(void)
{
    size_t count = 0;
    for (uintptr_t page = KHEAP_START; page < KHEAP_END; page += PAGE_SIZE) {
        phys_addr_t phys;
        if (paging_translate(paging_kernel_pml4(), page, &phys) == PAGING_OK)
            count++;
    }
    return count;
}

static void fill(void *block, size_t size, uint8_t byte)
{
    memset(block, byte, size);
}

/* ---- practice: kmalloc ----------------------------------------------------- */

KTEST_PRACTICE(kmalloc_results_are_16_byte_aligned, 2)
{
    /* Odd sizes first: each would leave the next block misaligned unless rounded. */
    static const size_t sizes[] = {1, 3, 7, 9, 15, 17, 20, 31, 33, 100, 255, 4095, 4097, 1, 8, 16};
    fresh_heap();
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        ktest_note("kmalloc(%zu), call %zu", sizes[i], i + 1);
        char *block = kmalloc(sizes[i]);
        KASSERT_NOT_NULL(block);
        KEXPECT_EQ((uintptr_t)block % KHEAP_MIN_ALIGN, 0);
        /* The invariant itself: heap_curr stays a multiple of 16, so the
         * block took its size rounded up, not only what the next call pads. */
        size_t heap_curr_past_a_multiple_of_16 = stats_now().used % KHEAP_MIN_ALIGN;
        KEXPECT_EQ(heap_curr_past_a_multiple_of_16, 0);
    }
}

KTEST_PRACTICE(kmalloc_blocks_are_distinct_and_do_not_overlap, 3)
{
    uint8_t *blocks[SAMPLE_BLOCKS];
    size_t sizes[SAMPLE_BLOCKS];
    fresh_heap();
    for (size_t i = 0; i < SAMPLE_BLOCKS; i++) {
        sizes[i] = (i * 37) % 90 + 1;
        ktest_note("block %zu: kmalloc(%zu)", i, sizes[i]);
        blocks[i] = kmalloc(sizes[i]);
        KASSERT_NOT_NULL(blocks[i]);
        KEXPECT_TRUE((uintptr_t)blocks[i] >= KHEAP_START &&
                     (uintptr_t)blocks[i] + sizes[i] <= KHEAP_END);
        fill(blocks[i], sizes[i], (uint8_t)i);
    }
    ktest_note_clear();
    size_t overlaps = 0, overwritten = 0;
    for (size_t i = 0; i < SAMPLE_BLOCKS; i++) {
        overwritten += bytes_not(blocks[i], sizes[i], (uint8_t)i) != 0;
        for (size_t j = 0; j < i; j++)
            overlaps += blocks[i] < blocks[j] + sizes[j] && blocks[j] < blocks[i] + sizes[i];
    }
    KEXPECT_EQ(overlaps, 0);
    KEXPECT_EQ(overwritten, 0);
}

KTEST_PRACTICE(kmalloc_zero_returns_distinct_pointers, 1)
{
    fresh_heap();
    char *a = kmalloc(0), *b = kmalloc(0), *c = kmalloc(1);
    KASSERT_NOT_NULL(a);
    KASSERT_NOT_NULL(b);
    KEXPECT_NE(a, b);
    KEXPECT_NE(b, c);
    KEXPECT_EQ((uintptr_t)b % KHEAP_MIN_ALIGN, 0);
}

KTEST_PRACTICE(every_returned_byte_is_writable, 2)
{
    static const size_t sizes[] = {4000, 200, 3 * PAGE_SIZE + 5, 1, 2 * PAGE_SIZE};
    fresh_heap();
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        ktest_note("kmalloc(%zu)", sizes[i]);
        uint8_t *block = kmalloc(sizes[i]);
        KASSERT_NOT_NULL(block);
        fill(block, sizes[i], 0xC3);
        KEXPECT_EQ(bytes_not(block, sizes[i], 0xC3), 0);
    }
}

KTEST_PRACTICE(heap_pages_are_mapped_only_as_needed, 3)
{
    fresh_heap();
    KEXPECT_EQ(pages_mapped_in_window(), 0);

    KASSERT_NOT_NULL(kmalloc(16)); /* the first page (and its page table, once) */
    size_t free_frames = pmm_free_count();
    KEXPECT_EQ(pages_mapped_in_window(), 1);
    KEXPECT_NOT_NULL(kmalloc(PAGE_SIZE - 32)); /* fills page 0 up to its last 16 bytes */
    KEXPECT_NOT_NULL(kmalloc(16));             /* exactly to the end of page 0 */
    KEXPECT_EQ(pages_mapped_in_window(), 1);
    KEXPECT_NOT_NULL(kmalloc(1)); /* page 1 */
    KEXPECT_EQ(pages_mapped_in_window(), 2);
    KEXPECT_NOT_NULL(kmalloc(2 * PAGE_SIZE)); /* ends 16 bytes into page 3 */
    KEXPECT_EQ(pages_mapped_in_window(), 4);
    KEXPECT_EQ(pmm_free_count(), free_frames - 3);

    /* Each page has a frame of its own. */
    phys_addr_t frames[4];
    for (size_t i = 0; i < 4; i++) {
        ktest_note("page %zu", i);
        KASSERT_EQ(paging_translate(paging_kernel_pml4(), KHEAP_START + i * PAGE_SIZE, &frames[i]),
                   PAGING_OK);
        for (size_t j = 0; j < i; j++)
            KEXPECT_NE(frames[i], frames[j]);
    }
}

KTEST_PRACTICE(write_past_the_mapped_part_faults, 2)
{
    fresh_heap();
    char *block = kmalloc(16);
    KASSERT_NOT_NULL(block);
    struct ktest_fault fault;
    KEXPECT_FALSE(ktest_catch_fault(write_byte, block + PAGE_SIZE - 1, &fault));
    ktest_note("a write to the first page past the mapped part went through: mapped ahead, or "
               "a page an earlier heap unmapped still in the TLB");
    bool faulted = ktest_catch_fault(write_byte, block + PAGE_SIZE, &fault);
    KASSERT_TRUE(faulted);
    ktest_note_clear();
    KEXPECT_EQ(fault.vector, VECTOR_PAGE_FAULT);
    KEXPECT_EQ(fault.address, KHEAP_START + PAGE_SIZE);
    KEXPECT_EQ(fault.error_code & (PF_WRITE | PF_PRESENT), PF_WRITE); /* a write, not mapped */
    KASSERT_TRUE(ktest_catch_fault(write_byte, (void *)(KHEAP_END - 1), &fault));
    KEXPECT_EQ(fault.address, KHEAP_END - 1);
}

KTEST_PRACTICE(kmalloc_fills_the_window_exactly, 3)
{
    fresh_heap();
    size_t got = 0, misplaced = 0;
    for (size_t i = 0; i < WINDOW_BLOCKS_OF_16; i++) {
        char *block = kmalloc(16);
        if (block == NULL)
            break;
        got++;
        misplaced += (uintptr_t)block != KHEAP_START + i * 16;
    }
    KEXPECT_EQ(got, WINDOW_BLOCKS_OF_16);
    KEXPECT_EQ(misplaced, 0);
    KEXPECT_NULL(kmalloc(16));
    KEXPECT_NULL(kmalloc(1));
    KEXPECT_NULL(kmalloc(0));
    KEXPECT_EQ(pages_mapped_in_window(), KHEAP_PAGES);
    write_byte((void *)(KHEAP_END - 1)); /* the last block is real memory */
}

KTEST_PRACTICE(huge_sizes_return_null_without_wrapping, 3)
{
    fresh_heap();
    char *first = kmalloc(16);
    KASSERT_NOT_NULL(first);
    uintptr_t curr = (uintptr_t)first + 16;
    size_t sizes[] = {
        SIZE_MAX,
        SIZE_MAX - 14, /* rounding up to 16 wraps to 0 */
        SIZE_MAX - 15,
        (size_t)0 - curr,      /* curr + size wraps to exactly 0 */
        (size_t)0 - curr + 64, /* curr + size wraps to 64 */
        KHEAP_SIZE,            /* 16 bytes too many */
        KHEAP_SIZE - 15,       /* rounds up to 16 bytes too many */
        (size_t)1 << 63,
    };
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        ktest_note("kmalloc(%#zx)", sizes[i]);
        KEXPECT_NULL(kmalloc(sizes[i]));
    }
    ktest_note_clear();
    /* Nothing was consumed: exactly the room left still fits. */
    KEXPECT_EQ(kmalloc(KHEAP_SIZE - 16), curr);
}

/* ---- practice: kcalloc ----------------------------------------------------- */

KTEST_PRACTICE(kcalloc_zeroes_dirty_memory, 2)
{
    fresh_heap();
    uint8_t *first = kmalloc(64);
    KASSERT_NOT_NULL(first);
    /* The rest of the page is mapped but free: dirty it, as an earlier user
     * of the frame could have. */
    fill(first + 64, PAGE_SIZE - 64, 0xA5);
    int *ints = kcalloc(10, sizeof(int));
    KASSERT_EQ(ints, first + 64);
    KEXPECT_EQ(bytes_not(ints, 10 * sizeof(int), 0), 0);
    uint64_t *words = kcalloc(300, sizeof(uint64_t));
    KASSERT_NOT_NULL(words);
    KEXPECT_EQ(bytes_not(words, 300 * sizeof(uint64_t), 0), 0);
    KEXPECT_NOT_NULL(kcalloc(0, 8));
}

KTEST_PRACTICE(kcalloc_rejects_overflowing_products, 2)
{
    fresh_heap();
    char *first = kmalloc(16);
    KASSERT_NOT_NULL(first);
    KEXPECT_NULL(kcalloc(SIZE_MAX / 2 + 2, 2));              /* wraps to 2 */
    KEXPECT_NULL(kcalloc(2, SIZE_MAX / 2 + 2));              /* the same, the other way */
    KEXPECT_NULL(kcalloc((size_t)1 << 32, (size_t)1 << 32)); /* wraps to 0 */
    KEXPECT_NULL(kcalloc(SIZE_MAX, SIZE_MAX));               /* wraps to 1 */
    KEXPECT_NULL(kcalloc(SIZE_MAX / 3 + 1, 3));              /* wraps to 2 */
    KEXPECT_NULL(kcalloc(SIZE_MAX / 16 + 1, 16));            /* wraps to 0 */
    KEXPECT_NULL(kcalloc(KHEAP_SIZE, 2));                    /* no wrap, just too big */
    /* Nothing was consumed. */
    KEXPECT_EQ(kmalloc(16), first + 16);
}

/* ---- practice: mapping and a fresh heap ------------------------------------- */

KTEST_PRACTICE(failed_mapping_gives_frames_back, 2)
{
    fresh_heap();
    ktest_defer(release_hoard_and_reset_heap);
    char *first = kmalloc(16); /* page 0 and the window's page table exist now */
    KASSERT_NOT_NULL(first);
    hoard_all_frames_but(3);
    KEXPECT_EQ(pmm_free_count(), 3);
    KEXPECT_NULL(kmalloc(5 * PAGE_SIZE)); /* needs 5 new pages; 3 get mapped, then none */
    KEXPECT_EQ(pmm_free_count(), 3);
    KEXPECT_EQ(pages_mapped_in_window(), 1);
    KEXPECT_EQ(kmalloc(2 * PAGE_SIZE), first + 16); /* needs 2 new pages: fits */
    KEXPECT_EQ(pmm_free_count(), 1);
    KEXPECT_EQ(pages_mapped_in_window(), 3);
}

KTEST_PRACTICE(kheap_init_gives_every_frame_back, 1)
{
    fresh_heap();
    KASSERT_NOT_NULL(kmalloc(16)); /* makes sure the window's page table exists */
    kheap_init();
    size_t free_frames = pmm_free_count();
    KASSERT_NOT_NULL(kmalloc(3 * PAGE_SIZE));
    KEXPECT_EQ(pmm_free_count(), free_frames - 3);
    kheap_init();
    KEXPECT_EQ(pmm_free_count(), free_frames);
    KEXPECT_EQ(pages_mapped_in_window(), 0);
    KEXPECT_EQ(kmalloc(16), KHEAP_START);
}

/* ---- homework 1: kfree ----------------------------------------------------- */

KTEST_HOMEWORK(kfree_counts_frees_and_ignores_null, 2)
{
    fresh_heap();
    char *a = kmalloc(32), *b = kmalloc(32);
    KASSERT_NOT_NULL(b);
    struct kheap_stats before = stats_now();
    kfree(NULL);
    struct kheap_stats after = stats_now();
    KEXPECT_EQ(memcmp(&before, &after, sizeof(before)), 0);

    kfree(a);
    after = stats_now();
    KEXPECT_EQ(after.frees, before.frees + 1);
    KEXPECT_EQ(after.bad_frees, 0);
    KEXPECT_EQ(after.used, before.used); /* a bump heap reclaims nothing... */
    struct kheap_report report;
    KEXPECT_FALSE(kheap_last_report(&report));
    KEXPECT_EQ(kmalloc(32), b + 32); /* ...and never hands `a` out again */
}

KTEST_HOMEWORK(kfree_reports_foreign_pointers, 3)
{
    static int not_on_the_heap;
    int on_the_stack = 0;
    fresh_heap();
    char *block = kmalloc(32);
    KASSERT_NOT_NULL(block);
    void *foreign[] = {
        &on_the_stack,              /* the kernel stack */
        &not_on_the_heap,           /* the kernel's bss */
        (void *)(KHEAP_START - 16), /* just below the window */
        (void *)KHEAP_END,          /* just above it */
        block + 32,                 /* heap_curr: never handed out */
        (void *)(KHEAP_END - 16),   /* the window's free space */
    };
    for (size_t i = 0; i < ARRAY_SIZE(foreign); i++) {
        ktest_note("kfree(%p)", foreign[i]);
        kfree(foreign[i]);
        KEXPECT_EQ(stats_now().bad_frees, i + 1);
        struct kheap_report report;
        KEXPECT_TRUE(kheap_last_report(&report));
        KEXPECT_EQ(report.problem, KHEAP_BAD_FREE);
        KEXPECT_EQ(report.address, foreign[i]);
    }
    ktest_note_clear();
    KEXPECT_EQ(stats_now().frees, ARRAY_SIZE(foreign));
    KEXPECT_EQ(kmalloc(16), block + 32); /* the heap is unharmed */
}

/* A block starts on a multiple of 16: anything else is no block's start.
 * (A 16-byte multiple inside a block cannot be told from a start without a
 * record of where blocks start: the free-list heap's job, not this one's.) */
KTEST_HOMEWORK(kfree_reports_misaligned_pointers, 2)
{
    static const size_t offsets[] = {1, 8, 15, 33};
    fresh_heap();
    char *a = kmalloc(64), *b = kmalloc(16);
    KASSERT_NOT_NULL(b);
    for (size_t i = 0; i < ARRAY_SIZE(offsets); i++) {
        ktest_note("kfree(a + %zu)", offsets[i]);
        kfree(a + offsets[i]);
        KEXPECT_EQ(stats_now().bad_frees, i + 1);
        struct kheap_report report;
        KEXPECT_TRUE(kheap_last_report(&report));
        KEXPECT_EQ(report.problem, KHEAP_BAD_FREE);
        KEXPECT_EQ(report.address, a + offsets[i]);
    }
    ktest_note_clear();
    kfree(b);
    kfree(a);
    KEXPECT_EQ(stats_now().bad_frees, ARRAY_SIZE(offsets));
    KEXPECT_EQ(stats_now().frees, ARRAY_SIZE(offsets) + 2);
    KEXPECT_EQ(kmalloc(16), b + 16); /* the heap is unharmed */
}

/* ---- homework 2: kmalloc_aligned ------------------------------------------- */

KTEST_HOMEWORK(kmalloc_aligned_honours_every_power_of_two, 4)
{
    fresh_heap();
    /* A bump pointer that is aligned already wastes nothing. */
    KEXPECT_EQ(kmalloc_aligned(16, PAGE_SIZE), KHEAP_START);
    for (unsigned shift = 0; shift <= MAX_ALIGN_SHIFT; shift++) {
        size_t align = (size_t)1 << shift;
        ktest_note("align = %zu", align);
        /* Misalign the bump pointer on purpose (for align > 16). */
        char *before = kmalloc(16);
        while (before != NULL && align > 16 && ((uintptr_t)before + 16) % align == 0)
            before = kmalloc(16);
        KASSERT_NOT_NULL(before);
        uintptr_t curr = (uintptr_t)before + 16;

        char *block = kmalloc_aligned(24, align);
        KASSERT_NOT_NULL(block);
        KEXPECT_EQ((uintptr_t)block % align, 0);
        KEXPECT_EQ((uintptr_t)block % KHEAP_MIN_ALIGN, 0);
        /* Less than `align` bytes wasted before the block... */
        KEXPECT_LT((uintptr_t)block - curr, MAX(align, (size_t)KHEAP_MIN_ALIGN));
        fill(block, 24, 0x77);
        KEXPECT_EQ(kmalloc(16), block + 32); /* ...and none after it */
    }
    ktest_note_clear();
    /* Larger than a page works too, while the window has room. */
    char *huge = kmalloc_aligned(16, 1 * MiB);
    KEXPECT_EQ(huge, KHEAP_START + 1 * MiB);
}

KTEST_HOMEWORK(kmalloc_aligned_rejects_bad_alignments, 2)
{
    static const size_t bad[] = {
        0, 3, 5, 6, 24, 48, 100, 4095, 4097, SIZE_MAX, ((size_t)1 << 63) + 1,
    };
    static const size_t impossible[] = {
        (size_t)1 << 63, (size_t)1 << 40, 2 * KHEAP_SIZE, KHEAP_SIZE, /* past the window */
    };
    fresh_heap();
    char *good = kmalloc_aligned(32, 64);
    KASSERT_NOT_NULL(good);
    KEXPECT_EQ(good, KHEAP_START);
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        ktest_note("align = %#zx", bad[i]);
        KEXPECT_NULL(kmalloc_aligned(16, bad[i]));
    }
    for (size_t i = 0; i < ARRAY_SIZE(impossible); i++) {
        ktest_note("align = %#zx", impossible[i]);
        KEXPECT_NULL(kmalloc_aligned(16, impossible[i]));
    }
    ktest_note_clear();
    KEXPECT_NULL(kmalloc_aligned(SIZE_MAX, 4096));
    KEXPECT_NULL(kmalloc_aligned(SIZE_MAX - 4000, 4096));
    KEXPECT_NULL(kmalloc_aligned(KHEAP_SIZE - 4096, 8192)); /* padding + size > room */
    /* Nothing was consumed. */
    KEXPECT_EQ(kmalloc(16), good + 32);
}

/* ---- homework 3: counting ------------------------------------------------- */

KTEST_HOMEWORK(stats_count_bytes_and_calls_exactly, 3)
{
    fresh_heap();
    struct kheap_stats s = stats_now();
    KEXPECT_EQ(s.capacity, KHEAP_SIZE);
    KEXPECT_EQ(s.used + s.requested + s.allocations + s.frees + s.failures + s.peak, 0);

    KASSERT_NOT_NULL(kmalloc(20)); /* 32 bytes used: rounding counts at once */
    KEXPECT_EQ(stats_now().used, 32);
    KASSERT_NOT_NULL(kcalloc(10, 4));     /* 48 */
    KASSERT_NOT_NULL(kmalloc(0));         /* 16 */
    KASSERT_NOT_NULL(kmalloc(1));         /* 16 */
    KASSERT_NOT_NULL(kmalloc(PAGE_SIZE)); /* 4096: ends at 4208, on page 1 */
    s = stats_now();
    KEXPECT_EQ(s.used, 32 + 48 + 16 + 16 + 4096);
    KEXPECT_EQ(s.requested, 20 + 40 + 0 + 1 + 4096);
    KEXPECT_EQ(s.allocations, 5);
    KEXPECT_EQ(s.failures, 0);
    KEXPECT_EQ(s.frees, 0);
    KEXPECT_EQ(s.peak, s.used);
    KEXPECT_EQ(s.pages_mapped, 2);
    KEXPECT_EQ(s.capacity, KHEAP_SIZE);
}

/* The counters a failed call may change: `failures`, by one. */
static void expect_same_but_one_failure(const struct kheap_stats *before,
                                        const struct kheap_stats *after)
{
    struct kheap_stats expected = *before;
    expected.failures++;
    KEXPECT_EQ(after->failures, expected.failures);
    KEXPECT_EQ(memcmp(&expected, after, sizeof(expected)), 0);
}

KTEST_HOMEWORK(stats_count_failures_and_nothing_else, 2)
{
    fresh_heap();
    KASSERT_NOT_NULL(kmalloc(100)); /* 112 bytes */
    struct kheap_stats before = stats_now(), after;

    KEXPECT_NULL(kmalloc(SIZE_MAX));
    after = stats_now();
    expect_same_but_one_failure(&before, &after);
    before = after;
    KEXPECT_NULL(kcalloc(SIZE_MAX / 2 + 2, 2));
    after = stats_now();
    expect_same_but_one_failure(&before, &after);
    before = after;
    KEXPECT_NULL(kmalloc(KHEAP_SIZE - 96));
    after = stats_now();
    expect_same_but_one_failure(&before, &after);

    /* Exhaustion: fill the window to the last byte, then ask for more. */
    KASSERT_NOT_NULL(kmalloc(KHEAP_SIZE - 112));
    before = stats_now();
    KEXPECT_EQ(before.used, KHEAP_SIZE);
    KEXPECT_EQ(before.peak, KHEAP_SIZE);
    KEXPECT_EQ(before.allocations, 2);
    KEXPECT_EQ(before.failures, 3);
    KEXPECT_NULL(kmalloc(16));
    after = stats_now();
    expect_same_but_one_failure(&before, &after);
}

/* Needs homework 2 (kmalloc_aligned) as well. */
KTEST_HOMEWORK(stats_include_alignment_padding, 1)
{
    fresh_heap();
    KASSERT_NOT_NULL(kmalloc(16));
    KASSERT_NOT_NULL(kmalloc_aligned(16, 256)); /* 240 bytes of padding, then 16 */
    KEXPECT_NULL(kmalloc_aligned(16, 24));
    struct kheap_stats s = stats_now();
    KEXPECT_EQ(s.used, 16 + 240 + 16);
    KEXPECT_EQ(s.requested, 32);
    KEXPECT_EQ(s.allocations, 2);
    KEXPECT_EQ(s.failures, 1);
    KEXPECT_EQ(s.peak, s.used);
}
