/* test_kheap.c - the bump heap (solutions/15-kheap/kheap.c) on the host:
 * every bad input of the handout (lessons/15-kheap/README.md: sizes that
 * wrap, products that overflow, alignments that are not powers of two,
 * foreign pointers to kfree), the exact counters, and the mapping: a page
 * of the window is accessible exactly when a block reaches it. */
#include <string.h>

#include "harness.h"
#include "heap_checks.h"
#include "kheap.h"
#include "paging.h"
#include "pmm.h"

enum { SAMPLE = 64, WINDOW_BLOCKS_OF_16 = KHEAP_SIZE / 16 };

/* Pages the page tables map in the window, counted from the tables. */
static size_t pages_mapped_in_window(void)
{
    size_t count = 0;
    for (uintptr_t page = KHEAP_START; page < KHEAP_END; page += PAGE_SIZE) {
        phys_addr_t phys;
        count += paging_translate(paging_kernel_pml4(), page, &phys) == PAGING_OK;
    }
    return count;
}

/* The window's pages that a real access reaches: must match the tables. */
static size_t pages_accessible_in_window(void)
{
    size_t count = 0;
    for (uintptr_t page = KHEAP_START; page < KHEAP_END; page += PAGE_SIZE)
        count += !host_write_faults(page);
    return count;
}

/* Where the next kmalloc(16) lands, without a trace: the next block's start. */
static uintptr_t next_block(void)
{
    return (uintptr_t)kmalloc(16);
}

/* ---- blocks ------------------------------------------------------------------- */

TEST(kmalloc_results_are_aligned_distinct_and_every_byte_writable)
{
    kheap_init();
    uint8_t *blocks[SAMPLE];
    size_t sizes[SAMPLE];
    for (size_t i = 0; i < SAMPLE; i++) {
        sizes[i] = 1 + i * 97 % 5000;
        blocks[i] = kmalloc(sizes[i]);
        REQUIRE(blocks[i] != NULL);
        CHECK_EQ((uintptr_t)blocks[i] % KHEAP_MIN_ALIGN, 0);
        CHECK((uintptr_t)blocks[i] >= KHEAP_START);
        CHECK((uintptr_t)blocks[i] + sizes[i] <= KHEAP_END);
        memset(blocks[i], (int)i, sizes[i]); /* faults if a page is missing */
    }
    for (size_t i = 0; i < SAMPLE; i++) {
        CHECK(all_bytes(blocks[i], sizes[i], (uint8_t)i)); /* no block overlaps another */
        for (size_t j = 0; j < i; j++)
            CHECK(blocks[i] >= blocks[j] + sizes[j] || blocks[j] >= blocks[i] + sizes[i]);
    }
}

TEST(kmalloc_zero_returns_distinct_pointers_that_kfree_accepts)
{
    kheap_init();
    void *a = kmalloc(0), *b = kmalloc(0);
    CHECK(a != NULL && b != NULL && a != b);
    CHECK_EQ((uintptr_t)b - (uintptr_t)a, KHEAP_MIN_ALIGN);
    kfree(a);
    kfree(b);
    CHECK(!kheap_last_report(&(struct kheap_report){0}));
    CHECK_EQ(stats_now().requested, 0);
    CHECK_EQ(stats_now().allocations, 2);
}

TEST(blocks_are_rounded_to_16_bytes_and_packed)
{
    kheap_init();
    uintptr_t a = (uintptr_t)kmalloc(20);
    CHECK_EQ(a, KHEAP_START);
    CHECK_EQ((uintptr_t)kmalloc(1), a + 32);
    CHECK_EQ((uintptr_t)kmalloc(16), a + 48);
    CHECK_EQ((uintptr_t)kmalloc(17), a + 64);
    CHECK_EQ(next_block(), a + 96);
}

/* ---- the window and its pages --------------------------------------------------- */

TEST(pages_are_mapped_only_as_needed)
{
    kheap_init();
    size_t free = pmm_free_count();
    CHECK_EQ(pages_mapped_in_window(), 0);
    CHECK_EQ(pages_accessible_in_window(), 0);
    char *a = kmalloc(20);
    CHECK_EQ(pages_mapped_in_window(), 1);
    CHECK_EQ(free - pmm_free_count(), 2); /* the page, and the window's page table */
    CHECK(!host_write_faults((uintptr_t)a + PAGE_SIZE - 1));
    CHECK(host_read_faults((uintptr_t)a + PAGE_SIZE));
    char *b = kmalloc(3 * PAGE_SIZE); /* from a + 32 to a + 3 pages + 32: 4 pages */
    CHECK_EQ(pages_mapped_in_window(), 4);
    CHECK_EQ(pages_accessible_in_window(), 4);
    CHECK_EQ(stats_now().pages_mapped, 4);
    memset(b, 1, 3 * PAGE_SIZE);
    CHECK(host_read_faults((uintptr_t)a + 4 * PAGE_SIZE));
}

TEST(write_past_the_mapped_part_faults)
{
    kheap_init();
    char *a = kmalloc(PAGE_SIZE - 16);
    CHECK(!host_write_faults((uintptr_t)a + PAGE_SIZE - 17));
    CHECK(host_write_faults((uintptr_t)a + PAGE_SIZE));
    CHECK(!host_last_fault().present);
    CHECK(host_write_faults(KHEAP_END - 1));
}

TEST(heap_pages_are_writable_but_never_executable)
{
    kheap_init();
    uintptr_t a = (uintptr_t)kmalloc(100);
    pte_t *entry = paging_walk(paging_kernel_pml4(), a, false);
    REQUIRE(entry != NULL);
    CHECK(*entry & PTE_PRESENT);
    CHECK(*entry & PTE_WRITABLE);
    CHECK(*entry & PTE_NO_EXECUTE);
    CHECK(!(*entry & PTE_USER));
}

TEST(kmalloc_fills_the_window_exactly)
{
    kheap_init();
    for (size_t i = 0; i < WINDOW_BLOCKS_OF_16; i++) {
        if ((uintptr_t)kmalloc(16) != KHEAP_START + i * 16) {
            CHECK_EQ(i, WINDOW_BLOCKS_OF_16);
            break;
        }
    }
    CHECK_FAILS_CLEANLY(kmalloc(1));
    CHECK_FAILS_CLEANLY(kmalloc(0));
    CHECK_EQ(stats_now().used, KHEAP_SIZE);
    CHECK_EQ(pages_mapped_in_window(), KHEAP_PAGES);
}

TEST(a_block_can_end_exactly_at_the_end_of_the_window)
{
    kheap_init();
    CHECK_EQ((uintptr_t)kmalloc(KHEAP_SIZE - 32), KHEAP_START);
    CHECK_FAILS_CLEANLY(kmalloc(33));
    CHECK_EQ((uintptr_t)kmalloc(32), KHEAP_END - 32);
    CHECK_FAILS_CLEANLY(kmalloc(1));
    kheap_init();
    CHECK_EQ((uintptr_t)kmalloc(KHEAP_SIZE), KHEAP_START);
}

/* README: heap_curr + size can wrap; rounding first can wrap too. */
TEST(huge_sizes_return_null_without_wrapping)
{
    kheap_init();
    uintptr_t a = (uintptr_t)kmalloc(16);
    CHECK_FAILS_CLEANLY(kmalloc(SIZE_MAX));
    CHECK_FAILS_CLEANLY(kmalloc(SIZE_MAX - 14)); /* ALIGN_UP of it is 0 */
    CHECK_FAILS_CLEANLY(kmalloc(SIZE_MAX - 15));
    CHECK_FAILS_CLEANLY(kmalloc(0 - (size_t)(a + 16) + 0x10)); /* heap_curr + size = 0x10 */
    CHECK_FAILS_CLEANLY(kmalloc(0 - (size_t)(a + 16)));        /* heap_curr + size = 0 */
    CHECK_FAILS_CLEANLY(kmalloc(KHEAP_SIZE));                  /* 16 bytes too many */
    CHECK_FAILS_CLEANLY(kmalloc(KHEAP_SIZE - 15));
    CHECK_FAILS_CLEANLY(kmalloc_aligned(SIZE_MAX, 4096));
    CHECK_EQ(next_block(), a + 16);
    CHECK_EQ(pages_mapped_in_window(), 1);
}

TEST(failed_mapping_gives_frames_back)
{
    kheap_init();
    uintptr_t a = (uintptr_t)kmalloc(16);
    /* Leave the PMM 3 frames: a 5-page block needs 5 new pages. */
    phys_addr_t head = PMM_NO_FRAME;
    while (pmm_free_count() > 3) {
        phys_addr_t frame = pmm_alloc_frame();
        *(phys_addr_t *)phys_to_virt(frame) = head;
        head = frame;
    }
    struct kheap_stats before = stats_now();
    CHECK_FAILS_CLEANLY(kmalloc(5 * PAGE_SIZE));
    CHECK_EQ(pmm_free_count(), 3);
    CHECK_EQ(pages_mapped_in_window(), before.pages_mapped);
    CHECK_EQ(pages_accessible_in_window(), 1);
    CHECK_EQ((uintptr_t)kmalloc(2 * PAGE_SIZE), a + 16); /* 2 new pages: fits */
    CHECK_EQ(pmm_free_count(), 1);
    while (head != PMM_NO_FRAME) {
        phys_addr_t next = *(phys_addr_t *)phys_to_virt(head);
        pmm_free_frame(head);
        head = next;
    }
}

TEST(kheap_init_gives_every_frame_back)
{
    kheap_init();
    size_t free = pmm_free_count();
    for (size_t i = 0; i < 40; i++)
        kmalloc(1000 + i);
    CHECK(pmm_free_count() < free - 10);
    kheap_init();
    CHECK_EQ(pmm_free_count(), free - 1); /* the page table stays, as paging_unmap keeps it */
    CHECK_EQ(pages_mapped_in_window(), 0);
    CHECK_EQ(pages_accessible_in_window(), 0);
    struct kheap_stats s = stats_now();
    CHECK_EQ(s.used + s.requested + s.allocations + s.frees + s.failures + s.peak, 0);
    CHECK_EQ(s.capacity, KHEAP_SIZE);
    CHECK_EQ((uintptr_t)kmalloc(1), KHEAP_START);
}

/* ---- kcalloc ---------------------------------------------------------------------- */

TEST(kcalloc_zeroes_dirty_memory)
{
    /* Dirty every free frame first: the heap gets frames someone used. */
    phys_addr_t head = PMM_NO_FRAME;
    for (phys_addr_t frame; (frame = pmm_alloc_frame()) != PMM_NO_FRAME; head = frame) {
        memset(phys_to_virt(frame), 0xA5, PAGE_SIZE);
        *(phys_addr_t *)phys_to_virt(frame) = head;
    }
    while (head != PMM_NO_FRAME) {
        phys_addr_t next = *(phys_addr_t *)phys_to_virt(head);
        pmm_free_frame(head);
        head = next;
    }
    kheap_init();
    uint8_t *a = kmalloc(100);
    CHECK(!all_bytes(a, 100, 0)); /* kmalloc does not zero: the test means something */
    uint32_t *b = kcalloc(1000, sizeof(uint32_t));
    REQUIRE(b != NULL);
    CHECK(all_bytes(b, 4000, 0));
    CHECK(all_bytes(kcalloc(3, 5), 15, 0));
    CHECK_EQ(stats_now().requested, 100 + 4000 + 15);
}

TEST(kcalloc_rejects_overflowing_products)
{
    kheap_init();
    CHECK_FAILS_CLEANLY(kcalloc((1ull << 63) + 1, 2)); /* the product wraps to 2 */
    CHECK_FAILS_CLEANLY(kcalloc(2, (1ull << 63) + 1));
    CHECK_FAILS_CLEANLY(kcalloc(1ull << 32, 1ull << 32)); /* wraps to 0 */
    CHECK_FAILS_CLEANLY(kcalloc(SIZE_MAX, SIZE_MAX));
    CHECK_FAILS_CLEANLY(kcalloc(KHEAP_SIZE, 2)); /* no wrap, just too big */
    CHECK_EQ(next_block(), KHEAP_START);
}

TEST(kcalloc_of_nothing_is_a_unique_block)
{
    kheap_init();
    void *a = kcalloc(0, 100), *b = kcalloc(100, 0), *c = kcalloc(0, SIZE_MAX);
    CHECK(a != NULL && b != NULL && c != NULL && a != b && b != c);
    CHECK_EQ(stats_now().requested, 0);
}

/* ---- kmalloc_aligned (homework 2) --------------------------------------------------- */

TEST(kmalloc_aligned_honours_every_power_of_two)
{
    for (unsigned shift = 0; shift <= 20; shift++) {
        size_t align = (size_t)1 << shift;
        kheap_init();
        kmalloc(16 * (1 + shift % 3)); /* heap_curr misaligned for big alignments */
        uintptr_t curr = next_block();
        uintptr_t block = (uintptr_t)kmalloc_aligned(24, align);
        REQUIRE(block != 0);
        CHECK_EQ(block % align, 0);
        CHECK_EQ(block % KHEAP_MIN_ALIGN, 0);
        CHECK_EQ(block, ALIGN_UP(curr + 16, MAX(align, (size_t)KHEAP_MIN_ALIGN)));
        CHECK_EQ(next_block(), block + 32); /* no waste after the block either */
        memset((void *)block, 1, 24);
    }
}

TEST(kmalloc_aligned_wastes_nothing_when_already_aligned)
{
    kheap_init();
    CHECK_EQ((uintptr_t)kmalloc_aligned(PAGE_SIZE, PAGE_SIZE), KHEAP_START);
    CHECK_EQ((uintptr_t)kmalloc_aligned(16, PAGE_SIZE), KHEAP_START + PAGE_SIZE);
    CHECK_EQ(stats_now().used, PAGE_SIZE + 16);
}

TEST(kmalloc_aligned_rejects_bad_alignments)
{
    kheap_init();
    kmalloc(16);
    static const size_t bad[] = {0,
                                 3,
                                 5,
                                 6,
                                 7,
                                 12,
                                 24,
                                 48,
                                 100,
                                 4095,
                                 4097,
                                 SIZE_MAX,
                                 (1ull << 63) + 1,
                                 (1ull << 63) | (1ull << 62)};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        CHECK_FAILS_CLEANLY(kmalloc_aligned(16, bad[i]));
    CHECK_EQ(next_block(), KHEAP_START + 16);
}

TEST(kmalloc_aligned_with_alignments_beyond_the_window)
{
    kheap_init();
    kmalloc(16);
    CHECK_FAILS_CLEANLY(kmalloc_aligned(16, KHEAP_SIZE)); /* the next multiple is KHEAP_END */
    CHECK_FAILS_CLEANLY(kmalloc_aligned(16, 2 * KHEAP_SIZE));
    CHECK_FAILS_CLEANLY(kmalloc_aligned(16, 1ull << 62));
    CHECK_FAILS_CLEANLY(kmalloc_aligned(16, 1ull << 63)); /* align - heap_curr % align wraps */
    CHECK_FAILS_CLEANLY(kmalloc_aligned(0, 1ull << 63));
    kheap_init();
    CHECK_EQ((uintptr_t)kmalloc_aligned(16, KHEAP_SIZE), KHEAP_START);
}

TEST(kmalloc_aligned_padding_must_fit_with_the_block)
{
    kheap_init();
    kmalloc(KHEAP_SIZE - 2 * PAGE_SIZE - 16); /* heap_curr 16 below the last 2 pages */
    CHECK_FAILS_CLEANLY(kmalloc_aligned(2 * PAGE_SIZE + 1, PAGE_SIZE)); /* 16 + 8193 > 8208 */
    CHECK_EQ((uintptr_t)kmalloc_aligned(2 * PAGE_SIZE, PAGE_SIZE), KHEAP_END - 2 * PAGE_SIZE);
}

/* ---- kfree (homework 1) ------------------------------------------------------------- */

static void check_bad_free(void *ptr, uintptr_t block, size_t size)
{
    size_t bad = stats_now().bad_frees, frees = stats_now().frees;
    host_console_clear();
    kfree(ptr);
    struct kheap_report r = report_now();
    CHECK_EQ(r.problem, KHEAP_BAD_FREE);
    CHECK_EQ(r.address, (uintptr_t)ptr);
    CHECK_EQ(r.block, block);
    CHECK_EQ(r.size, size);
    CHECK_EQ(stats_now().bad_frees, bad + 1);
    CHECK_EQ(stats_now().frees, frees + 1);
    CHECK(host_console_contains("kheap: warning: kfree("));
}

TEST(kfree_counts_frees_and_ignores_null)
{
    kheap_init();
    kfree(NULL);
    CHECK_EQ(stats_now().frees, 0);
    void *a = kmalloc(10), *b = kmalloc_aligned(10, 256);
    kfree(a);
    kfree(b);
    kfree(a); /* a bump heap cannot tell: the block is still allocated */
    CHECK_EQ(stats_now().frees, 3);
    CHECK_EQ(stats_now().bad_frees, 0);
    CHECK(!kheap_last_report(&(struct kheap_report){0}));
    CHECK_EQ(next_block(), (uintptr_t)b + 16);
}

TEST(kfree_reports_foreign_pointers)
{
    kheap_init();
    uintptr_t a = (uintptr_t)kmalloc(40);
    int local;
    check_bad_free(&local, 0, 0);                     /* the stack */
    check_bad_free((void *)(KHEAP_START - 16), 0, 0); /* just below the window */
    check_bad_free((void *)KHEAP_END, 0, 0);          /* just past it */
    check_bad_free((void *)(a + 48), 0, 0);           /* heap_curr: free space */
    check_bad_free((void *)(KHEAP_END - 16), 0, 0);   /* never allocated */
    check_bad_free((void *)UINTPTR_MAX, 0, 0);
    check_bad_free((void *)1, 0, 0);
}

TEST(kfree_reports_misaligned_pointers)
{
    kheap_init();
    uintptr_t a = (uintptr_t)kmalloc(40); /* 48 bytes */
    uintptr_t b = (uintptr_t)kmalloc(20); /* 32 bytes */
    check_bad_free((void *)(a + 4), 0, 0);
    check_bad_free((void *)(a + 47), 0, 0);
    check_bad_free((void *)(b + 1), 0, 0);
    CHECK(host_console_contains("not 16-byte aligned"));
}

TEST(kfree_accepts_any_16_byte_multiple_below_heap_curr)
{
    kheap_init();
    uintptr_t a = (uintptr_t)kmalloc(40);
    kmalloc_aligned(16, 256);
    kfree((void *)(a + 16)); /* inside a: a bump heap has no record of block starts */
    kfree((void *)(a + 64)); /* alignment padding: the same */
    CHECK_EQ(stats_now().bad_frees, 0);
    CHECK_EQ(stats_now().frees, 2);
    CHECK(!kheap_last_report(&(struct kheap_report){0}));
}

/* ---- counters (homework 3) ------------------------------------------------------------ */

TEST(stats_count_bytes_and_calls_exactly)
{
    kheap_init();
    kmalloc(20);
    kcalloc(10, 4);
    kmalloc(0);
    kmalloc(SIZE_MAX);
    kmalloc_aligned(16, 3);
    kcalloc(SIZE_MAX, 2);
    kfree(NULL);
    struct kheap_stats s = stats_now();
    CHECK_EQ(s.capacity, KHEAP_SIZE);
    CHECK_EQ(s.used, 32 + 48 + 16);
    CHECK_EQ(s.requested, 20 + 40 + 0);
    CHECK_EQ(s.allocations, 3);
    CHECK_EQ(s.failures, 3);
    CHECK_EQ(s.peak, 96);
    CHECK_EQ(s.frees, 0);
    CHECK_EQ(s.pages_mapped, 1);
    CHECK_EQ(s.bad_frees + s.double_frees + s.redzone_errors + s.poison_errors, 0);
}

TEST(stats_include_alignment_padding)
{
    kheap_init();
    kmalloc(16);
    kmalloc_aligned(100, 256); /* padding 240, block 112 */
    struct kheap_stats s = stats_now();
    CHECK_EQ(s.used, 16 + 240 + 112);
    CHECK_EQ(s.requested, 116);
    CHECK_EQ(s.peak, s.used);
}

TEST(kheap_dump_describes_the_heap)
{
    kheap_init();
    kmalloc(20);
    kmalloc(PAGE_SIZE);
    host_console_clear();
    kheap_dump();
    CHECK(host_console_contains("used 4128 bytes (requested 4116), peak 4128"));
    CHECK(host_console_contains("pages mapped: 2 (8 KiB)"));
    CHECK(host_console_contains("      0 KiB  ==---"));
    CHECK(!host_console_contains("the page tables map"));
}
