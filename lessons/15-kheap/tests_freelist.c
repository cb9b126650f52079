/* tests_freelist.c - the bonus tests, for the free-list heap
 * (kheap_freelist.c, built with KHEAP=freelist in place of tests.c). All of
 * them are bonus tests. The heap runs in debug mode unless a test turns it
 * off; every test starts from a fresh heap and leaves one behind. */
#include "exception.h"
#include "kheap.h"
#include "ktest.h"
#include "paging.h"
#include "pmm.h"
#include "string.h"
#include "tests_support.h"

enum {
    SAMPLE_BLOCKS = 48,
    REUSE_ROUNDS = 1000,
    /* kmalloc(16)s that must fit in the window: in debug mode with at most
     * 48 bytes of redzone and bookkeeping each; without it, with at most one
     * 16-byte slot per page lost to bookkeeping. */
    DEBUG_SLOTS_OF_16 = KHEAP_SIZE / 64,
    PLAIN_SLOTS_OF_16 = KHEAP_SIZE / 16 - KHEAP_PAGES,
    MAX_ALIGN_SHIFT = 16,
};

/* ---- helpers ------------------------------------------------------------ */

static void restore_debug_heap(void)
{
    kheap_set_debug(true);
}

/* A fresh heap without the debug checks; debug mode comes back afterwards. */
static void fresh_plain_heap(void)
{
    kheap_set_debug(false);
    ktest_defer(restore_debug_heap);
}

static struct kheap_report last_report(void)
{
    struct kheap_report report;
    kheap_last_report(&report);
    return report;
}

static void read_byte(void *address)
{
    (void)*(volatile uint8_t *)address;
}

/* ---- what every heap must do ------------------------------------------- */

KTEST_BONUS(fl_results_are_aligned_and_distinct, 3)
{
    uint8_t *blocks[SAMPLE_BLOCKS];
    size_t sizes[SAMPLE_BLOCKS];
    fresh_heap();
    for (size_t i = 0; i < SAMPLE_BLOCKS; i++) {
        sizes[i] = (i * 397) % 5000 + 1; /* small and large */
        blocks[i] = kmalloc(sizes[i]);
        KASSERT_NOT_NULL(blocks[i]);
        KEXPECT_EQ((uintptr_t)blocks[i] % KHEAP_MIN_ALIGN, 0);
        KEXPECT_TRUE((uintptr_t)blocks[i] >= KHEAP_START &&
                     (uintptr_t)blocks[i] + sizes[i] <= KHEAP_END);
        memset(blocks[i], (int)i, sizes[i]);
    }
    size_t overlaps = 0, overwritten = 0;
    for (size_t i = 0; i < SAMPLE_BLOCKS; i++) {
        overwritten += bytes_not(blocks[i], sizes[i], (uint8_t)i) != 0;
        for (size_t j = 0; j < i; j++)
            overlaps += blocks[i] < blocks[j] + sizes[j] && blocks[j] < blocks[i] + sizes[i];
    }
    KEXPECT_EQ(overlaps, 0);
    KEXPECT_EQ(overwritten, 0);
    for (size_t i = 0; i < SAMPLE_BLOCKS; i++)
        kfree(blocks[i]);
    struct kheap_stats s = stats_now();
    KEXPECT_EQ(s.redzone_errors + s.bad_frees + s.double_frees + s.poison_errors, 0);
}

KTEST_BONUS(fl_kmalloc_zero_returns_distinct_pointers, 1)
{
    fresh_heap();
    char *a = kmalloc(0), *b = kmalloc(0);
    KASSERT_NOT_NULL(a);
    KASSERT_NOT_NULL(b);
    KEXPECT_NE(a, b);
    kfree(a);
    kfree(b);
    KEXPECT_EQ(stats_now().bad_frees, 0);
}

KTEST_BONUS(fl_huge_sizes_and_overflowing_products_return_null, 2)
{
    fresh_heap();
    KASSERT_NOT_NULL(kmalloc(100));
    struct kheap_stats before = stats_now();
    KEXPECT_NULL(kmalloc(SIZE_MAX));
    KEXPECT_NULL(kmalloc(SIZE_MAX - 14));
    KEXPECT_NULL(kmalloc((size_t)1 << 63));
    KEXPECT_NULL(kmalloc(KHEAP_SIZE + 1));
    KEXPECT_NULL(kmalloc(KHEAP_SIZE)); /* no room for all of it: a slab page is used */
    KEXPECT_NULL(kcalloc(SIZE_MAX / 2 + 2, 2));
    KEXPECT_NULL(kcalloc((size_t)1 << 32, (size_t)1 << 32));
    KEXPECT_NULL(kcalloc(SIZE_MAX, SIZE_MAX));
    struct kheap_stats after = stats_now();
    KEXPECT_EQ(after.failures, before.failures + 8);
    KEXPECT_EQ(after.used, before.used);
    KEXPECT_EQ(after.pages_mapped, before.pages_mapped);
    KEXPECT_EQ(after.allocations, before.allocations);
}

KTEST_BONUS(fl_kcalloc_zeroes_a_reused_block, 2)
{
    fresh_heap();
    uint8_t *small = kmalloc(40);
    KASSERT_NOT_NULL(small);
    memset(small, 0xAA, 40);
    kfree(small);
    int *ints = kcalloc(10, sizeof(int)); /* the same 40 bytes: the same slot */
    KEXPECT_EQ(ints, small);
    KASSERT_NOT_NULL(ints);
    KEXPECT_EQ(bytes_not(ints, 10 * sizeof(int), 0), 0);

    uint8_t *large = kmalloc(3 * PAGE_SIZE);
    KASSERT_NOT_NULL(large);
    memset(large, 0xAA, 3 * PAGE_SIZE);
    kfree(large);
    uint8_t *zeroed = kcalloc(3, PAGE_SIZE);
    KASSERT_NOT_NULL(zeroed);
    KEXPECT_EQ(bytes_not(zeroed, 3 * PAGE_SIZE, 0), 0);
}

KTEST_BONUS(fl_kmalloc_aligned_honours_every_power_of_two, 2)
{
    fresh_heap();
    KASSERT_NOT_NULL(kmalloc(16));
    for (unsigned shift = 0; shift <= MAX_ALIGN_SHIFT; shift++) {
        size_t align = (size_t)1 << shift;
        uint8_t *block = kmalloc_aligned(24, align);
        KASSERT_NOT_NULL(block);
        KEXPECT_EQ((uintptr_t)block % MAX(align, (size_t)KHEAP_MIN_ALIGN), 0);
        memset(block, 0x77, 24);
        kfree(block);
    }
    KEXPECT_NULL(kmalloc_aligned(16, 0));
    KEXPECT_NULL(kmalloc_aligned(16, 24));
    KEXPECT_NULL(kmalloc_aligned(16, (size_t)1 << 63));
    struct kheap_stats s = stats_now();
    KEXPECT_EQ(s.redzone_errors + s.bad_frees + s.double_frees + s.poison_errors, 0);
}

KTEST_BONUS(fl_failed_mapping_gives_frames_back, 1)
{
    fresh_heap();
    ktest_defer(release_hoard_and_reset_heap);
    KASSERT_NOT_NULL(kmalloc(16)); /* the window's page table exists now */
    size_t pages = stats_now().pages_mapped;
    hoard_all_frames_but(2);
    KEXPECT_NULL(kmalloc(4 * PAGE_SIZE));
    KEXPECT_EQ(pmm_free_count(), 2);
    KEXPECT_EQ(stats_now().pages_mapped, pages);
    KEXPECT_NOT_NULL(kmalloc(2 * PAGE_SIZE)); /* two frames: fits */
}

/* ---- improvement 1: size classes with free lists -------------------------- */

KTEST_BONUS(fl_freed_block_is_reused, 3)
{
    static const size_t sizes[] = {1, 16, 100, 1000, 2000};
    fresh_heap();
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        void *block = kmalloc(sizes[i]);
        KASSERT_NOT_NULL(block);
        kfree(block);
        void *again = kmalloc(sizes[i]);
        KEXPECT_EQ(again, block);
        void *other = kmalloc(sizes[i]);
        KEXPECT_NE(other, block);
        kfree(other);
        kfree(again);
    }
    /* Many rounds of allocate and free take no more memory than one. */
    size_t pages = stats_now().pages_mapped;
    for (size_t round = 0; round < REUSE_ROUNDS; round++)
        kfree(kmalloc(sizes[round % ARRAY_SIZE(sizes)]));
    KEXPECT_EQ(stats_now().pages_mapped, pages);
}

KTEST_BONUS(fl_exhaustion_and_reuse, 2)
{
    fresh_heap();
    size_t count = 0;
    char *middle = NULL;
    for (char *block; (block = kmalloc(16)) != NULL; count++) {
        if (count == DEBUG_SLOTS_OF_16 / 2)
            middle = block;
    }
    KEXPECT_GE(count, DEBUG_SLOTS_OF_16);
    KASSERT_NOT_NULL(middle);
    KEXPECT_NULL(kmalloc(1));
    kfree(middle);
    KEXPECT_EQ(kmalloc(16), middle);
    KEXPECT_NULL(kmalloc(16));
}

KTEST_BONUS(fl_halfway_classes_fit_closely, 2)
{
    fresh_plain_heap();
    /* 40 bytes take a 48-byte slot, not a 64-byte one; the slots of a
     * fresh slab are handed out from the start of its page. */
    char *a = kmalloc(40), *b = kmalloc(40);
    KASSERT_NOT_NULL(a);
    KASSERT_NOT_NULL(b);
    KEXPECT_EQ((uintptr_t)a % PAGE_SIZE, 0);
    KEXPECT_EQ(b, a + 48);
    KEXPECT_EQ(stats_now().used, 2 * 48);
    kfree(b);
    KEXPECT_EQ(kmalloc(40), b); /* its own slot, found from its address */
    /* A pointer into a slot names that slot; the 4096 % 48 = 16 bytes after
     * the page's last slot belong to no block. */
    kfree(b + 20);
    KEXPECT_EQ(last_report().problem, KHEAP_BAD_FREE);
    KEXPECT_EQ(last_report().block, b);
    char *unused_end = a + PAGE_SIZE - PAGE_SIZE % 48;
    kfree(unused_end);
    KEXPECT_EQ(last_report().address, unused_end);
    KEXPECT_EQ(last_report().block, 0);
    KEXPECT_EQ(stats_now().bad_frees, 2);
    /* 96-byte slots are only 32-aligned: 80 bytes aligned to 64 need the
     * 128-byte class. */
    size_t misaligned = 0;
    for (size_t i = 0; i < SAMPLE_BLOCKS; i++) {
        void *block = kmalloc_aligned(80, 64);
        KASSERT_NOT_NULL(block);
        misaligned += (uintptr_t)block % 64 != 0;
    }
    KEXPECT_EQ(misaligned, 0);
}

/* ---- improvement 2: a page per large block --------------------------------- */

KTEST_BONUS(fl_large_blocks_return_frames_to_the_pmm, 3)
{
    fresh_heap();
    kfree(kmalloc(16)); /* the window's page table exists now */
    size_t free_frames = pmm_free_count(), pages = stats_now().pages_mapped;
    uint8_t *block = kmalloc(3 * PAGE_SIZE + 1); /* 4 pages */
    KASSERT_NOT_NULL(block);
    KEXPECT_EQ((uintptr_t)block % PAGE_SIZE, 0);
    memset(block, 0x11, 3 * PAGE_SIZE + 1);
    KEXPECT_EQ(pmm_free_count(), free_frames - 4);
    KEXPECT_EQ(stats_now().pages_mapped, pages + 4);
    kfree(block);
    KEXPECT_EQ(pmm_free_count(), free_frames);
    KEXPECT_EQ(stats_now().pages_mapped, pages);
    /* The pages are gone: a use after free faults at once. */
    struct ktest_fault fault;
    KASSERT_TRUE(ktest_catch_fault(read_byte, block + PAGE_SIZE, &fault));
    KEXPECT_EQ(fault.vector, VECTOR_PAGE_FAULT);
    KEXPECT_EQ(fault.address, block + PAGE_SIZE);
}

/* ---- improvement 3: the debug checks ---------------------------------------- */

KTEST_BONUS(fl_large_block_guard_page_faults, 1)
{
    fresh_heap();
    uint8_t *block = kmalloc(2 * PAGE_SIZE);
    KASSERT_NOT_NULL(block);
    KASSERT_NOT_NULL(kmalloc(2 * PAGE_SIZE)); /* a neighbour, after the guard */
    struct ktest_fault fault;
    KASSERT_TRUE(ktest_catch_fault(write_byte, block + 2 * PAGE_SIZE, &fault));
    KEXPECT_EQ(fault.address, block + 2 * PAGE_SIZE);
}

KTEST_BONUS(fl_redzone_overwrite_is_reported, 3)
{
    fresh_heap();
    char *small = kmalloc(20);
    KASSERT_NOT_NULL(small);
    small[20] = 'X'; /* one byte too far */
    kfree(small);
    struct kheap_report report = last_report();
    KEXPECT_EQ(stats_now().redzone_errors, 1);
    KEXPECT_EQ(report.problem, KHEAP_REDZONE);
    KEXPECT_EQ(report.block, small);
    KEXPECT_EQ(report.size, 20);
    KEXPECT_EQ(report.address, small + 20);

    char *large = kmalloc(5000);
    KASSERT_NOT_NULL(large);
    large[5003] = 'X';
    kfree(large);
    report = last_report();
    KEXPECT_EQ(stats_now().redzone_errors, 2);
    KEXPECT_EQ(report.block, large);
    KEXPECT_EQ(report.size, 5000);
    KEXPECT_EQ(report.address, large + 5003);

    char *clean = kmalloc(20);
    KASSERT_NOT_NULL(clean);
    clean[19] = 'X'; /* the last byte is fine */
    kfree(clean);
    KEXPECT_EQ(stats_now().redzone_errors, 2);
}

KTEST_BONUS(fl_write_after_free_is_reported, 3)
{
    fresh_heap();
    char *block = kmalloc(40);
    KASSERT_NOT_NULL(block);
    kfree(block);
    KEXPECT_EQ(stats_now().poison_errors, 0);
    block[8] = 'X'; /* a dangling pointer */
    char *again = kmalloc(40);
    KEXPECT_EQ(again, block);
    struct kheap_report report = last_report();
    KEXPECT_EQ(stats_now().poison_errors, 1);
    KEXPECT_EQ(report.problem, KHEAP_USE_AFTER_FREE);
    KEXPECT_EQ(report.block, block);
    KEXPECT_EQ(report.size, 40);
    KEXPECT_EQ(report.address, block + 8);
    /* A clean reuse reports nothing. */
    kfree(again);
    KEXPECT_EQ(kmalloc(40), block);
    KEXPECT_EQ(stats_now().poison_errors, 1);
}

KTEST_BONUS(fl_double_free_is_reported, 3)
{
    fresh_heap();
    char *block = kmalloc(64);
    KASSERT_NOT_NULL(block);
    kfree(block);
    kfree(block);
    struct kheap_report report = last_report();
    KEXPECT_EQ(stats_now().double_frees, 1);
    KEXPECT_EQ(report.problem, KHEAP_DOUBLE_FREE);
    KEXPECT_EQ(report.block, block);
    KEXPECT_EQ(report.size, 64);
    /* The block went on the free list once: it has one owner again. */
    char *a = kmalloc(64), *b = kmalloc(64);
    KEXPECT_EQ(a, block);
    KEXPECT_NE(b, block);

    char *large = kmalloc(10000);
    KASSERT_NOT_NULL(large);
    kfree(large);
    kfree(large);
    report = last_report();
    KEXPECT_EQ(stats_now().double_frees, 2);
    KEXPECT_EQ(report.block, large);
    KEXPECT_EQ(report.size, 10000);
}

KTEST_BONUS(fl_bad_frees_are_reported, 2)
{
    static int not_on_the_heap;
    fresh_heap();
    char *small = kmalloc(64), *large = kmalloc(10000);
    KASSERT_NOT_NULL(small);
    KASSERT_NOT_NULL(large);
    kfree(&not_on_the_heap);
    KEXPECT_EQ(last_report().address, &not_on_the_heap);
    kfree(small + 16);
    KEXPECT_EQ(last_report().block, small);
    KEXPECT_EQ(last_report().size, 64);
    kfree(large + PAGE_SIZE);
    KEXPECT_EQ(last_report().block, large);
    KEXPECT_EQ(last_report().size, 10000);
    kfree((void *)(KHEAP_END - PAGE_SIZE)); /* a page nothing was ever put on */
    KEXPECT_EQ(last_report().address, KHEAP_END - PAGE_SIZE);
    KEXPECT_EQ(last_report().problem, KHEAP_BAD_FREE);
    KEXPECT_EQ(stats_now().bad_frees, 4);
    kfree(small);
    kfree(large);
    KEXPECT_EQ(stats_now().bad_frees, 4);
    KEXPECT_EQ(stats_now().frees, 6);
}

KTEST_BONUS(fl_stats_after_a_scripted_sequence, 2)
{
    fresh_heap();
    char *small = kmalloc(20);
    char *large = kmalloc(5000); /* 2 pages */
    KASSERT_NOT_NULL(small);
    KASSERT_NOT_NULL(large);
    struct kheap_stats both = stats_now();
    KEXPECT_GE(both.used, 20 + 2 * PAGE_SIZE);
    KEXPECT_EQ(both.peak, both.used);
    kfree(small);
    KEXPECT_NULL(kmalloc(SIZE_MAX));
    kfree(NULL);
    struct kheap_stats s = stats_now();
    KEXPECT_EQ(s.capacity, KHEAP_SIZE);
    KEXPECT_EQ(s.used, 2 * PAGE_SIZE); /* the large block's whole pages */
    KEXPECT_EQ(s.peak, both.used);
    KEXPECT_EQ(s.requested, 5020);
    KEXPECT_EQ(s.allocations, 2);
    KEXPECT_EQ(s.frees, 1);
    KEXPECT_EQ(s.failures, 1);
    kfree(large);
    struct kheap_stats last = stats_now();
    KEXPECT_EQ(last.used, 0);
    KEXPECT_EQ(last.pages_mapped, s.pages_mapped - 2); /* its frames went back */
    KEXPECT_EQ(last.peak, both.used);
}

/* ---- without the debug checks ------------------------------------------------ */

KTEST_BONUS(fl_debug_off_packs_16_byte_blocks, 2)
{
    fresh_plain_heap();
    size_t count = 0, misaligned = 0;
    char *last = NULL;
    for (char *block; (block = kmalloc(16)) != NULL; count++) {
        misaligned += (uintptr_t)block % 16 != 0;
        last = block;
    }
    KEXPECT_GE(count, PLAIN_SLOTS_OF_16);
    KEXPECT_EQ(misaligned, 0);
    KASSERT_NOT_NULL(last);
    kfree(last);
    KEXPECT_EQ(kmalloc(16), last);
}

KTEST_BONUS(fl_debug_off_detects_an_overwritten_link, 1)
{
    fresh_plain_heap();
    uint64_t *a = kmalloc(32), *b = kmalloc(32);
    KASSERT_NOT_NULL(b);
    kfree(b);
    kfree(a);    /* the list: a, b, ... */
    a[0] = 0x41; /* a write after free lands on the link */
    KEXPECT_EQ(kmalloc(32), a);
    KEXPECT_EQ(stats_now().poison_errors, 1);
    KEXPECT_EQ(last_report().block, a);
    uint64_t *c = kmalloc(32); /* not 0x41: a fresh slot */
    KASSERT_NOT_NULL(c);
    KEXPECT_TRUE((uintptr_t)c >= KHEAP_START && (uintptr_t)c < KHEAP_END);
    *c = 1;
    kfree(c);
    kfree(c); /* at the head of the list: caught even without debug mode */
    KEXPECT_EQ(stats_now().double_frees, 1);
}
