/* test_freelist.c - the free-list heap (solutions/15-kheap/kheap_freelist.c)
 * on the host, with and without its debug checks: the handout's bad inputs
 * (lessons/15-kheap/README.md), reuse, the size classes and how slots are
 * cut from a page, large blocks that give their frames back (a use after
 * free then really faults), redzones, poison, double frees, exhaustion,
 * and exact counters. */
#include <string.h>

#include "harness.h"
#include "heap_checks.h"
#include "kheap.h"
#include "paging.h"
#include "pmm.h"

enum {
    SAMPLE = 48,
    POISON_INUSE = 0x5a, /* kheap_freelist.c's byte patterns (Linux's poison.h) */
    POISON_FREE = 0x6b,
    PLAIN_SLOTS_OF_16 = KHEAP_SIZE / 16 - KHEAP_PAGES,
};

static void check_report(enum kheap_problem problem, uintptr_t block, uintptr_t address)
{
    struct kheap_report r = report_now();
    CHECK_EQ(r.problem, problem);
    CHECK_EQ(r.block, block);
    CHECK_EQ(r.address, address);
}

/* ---- blocks, in both modes ----------------------------------------------------------- */

static void check_blocks(void)
{
    uint8_t *blocks[SAMPLE];
    size_t sizes[SAMPLE];
    for (size_t i = 0; i < SAMPLE; i++) {
        sizes[i] = i % 4 == 3 ? 2049 + i * 331 : 1 + i * 47;
        blocks[i] = kmalloc(sizes[i]);
        REQUIRE(blocks[i] != NULL);
        CHECK_EQ((uintptr_t)blocks[i] % KHEAP_MIN_ALIGN, 0);
        CHECK((uintptr_t)blocks[i] >= KHEAP_START);
        CHECK((uintptr_t)blocks[i] + sizes[i] <= KHEAP_END);
        memset(blocks[i], (int)i, sizes[i]);
    }
    for (size_t i = 0; i < SAMPLE; i++) {
        CHECK(all_bytes(blocks[i], sizes[i], (uint8_t)i));
        for (size_t j = 0; j < i; j++)
            CHECK(blocks[i] >= blocks[j] + sizes[j] || blocks[j] >= blocks[i] + sizes[i]);
    }
    for (size_t i = 0; i < SAMPLE; i += 2)
        kfree(blocks[i]);
    for (size_t i = 1; i < SAMPLE; i += 2)
        CHECK(all_bytes(blocks[i], sizes[i], (uint8_t)i));
    for (size_t i = 1; i < SAMPLE; i += 2)
        kfree(blocks[i]);
    CHECK_EQ(stats_now().used, 0);
    CHECK_EQ(stats_now().bad_frees + stats_now().double_frees + stats_now().redzone_errors +
                 stats_now().poison_errors,
             0);
}

TEST(fl_results_are_aligned_distinct_and_intact_in_debug_mode)
{
    kheap_set_debug(true);
    check_blocks();
}

TEST(fl_results_are_aligned_distinct_and_intact_without_debug_checks)
{
    kheap_set_debug(false);
    check_blocks();
}

TEST(fl_kmalloc_zero_returns_distinct_pointers)
{
    kheap_init();
    void *a = kmalloc(0), *b = kmalloc(0);
    CHECK(a != NULL && b != NULL && a != b);
    kfree(a);
    kfree(b);
    CHECK(!kheap_last_report(&(struct kheap_report){0}));
}

TEST(fl_new_blocks_are_poisoned_in_debug_mode)
{
    kheap_init();
    CHECK(all_bytes(kmalloc(100), 100, POISON_INUSE));
    CHECK(all_bytes(kmalloc(10000), 10000, POISON_INUSE));
}

TEST(fl_huge_sizes_and_overflowing_products_return_null)
{
    for (int debug = 0; debug <= 1; debug++) {
        kheap_set_debug(debug);
        kmalloc(16);
        CHECK_FAILS_CLEANLY(kmalloc(SIZE_MAX));
        CHECK_FAILS_CLEANLY(kmalloc(SIZE_MAX - 14));
        CHECK_FAILS_CLEANLY(kmalloc(KHEAP_SIZE + 1));
        CHECK_FAILS_CLEANLY(kmalloc((size_t)UINT32_MAX + 1)); /* the page's size field is 32 bits */
        CHECK_FAILS_CLEANLY(kcalloc((1ull << 63) + 1, 2));
        CHECK_FAILS_CLEANLY(kcalloc(1ull << 32, 1ull << 32));
        CHECK_FAILS_CLEANLY(kcalloc(SIZE_MAX, SIZE_MAX));
        CHECK_FAILS_CLEANLY(kmalloc_aligned(SIZE_MAX, 16));
        CHECK_FAILS_CLEANLY(kmalloc_aligned(16, 2 * KHEAP_SIZE));
        CHECK_FAILS_CLEANLY(kmalloc_aligned(16, 1ull << 63));
    }
}

TEST(fl_kcalloc_zeroes_a_reused_block)
{
    for (int debug = 0; debug <= 1; debug++) {
        kheap_set_debug(debug);
        uint8_t *a = kmalloc(64);
        memset(a, 0xFF, 64);
        kfree(a);
        uint8_t *b = kcalloc(4, 16);
        CHECK_EQ(b, a);
        CHECK(all_bytes(b, 64, 0));
        uint8_t *large = kmalloc(3 * PAGE_SIZE);
        memset(large, 0xFF, 3 * PAGE_SIZE);
        kfree(large);
        CHECK(all_bytes(kcalloc(3, PAGE_SIZE), 3 * PAGE_SIZE, 0));
    }
}

TEST(fl_kmalloc_aligned_honours_every_power_of_two)
{
    for (int debug = 0; debug <= 1; debug++) {
        kheap_set_debug(debug);
        for (unsigned shift = 0; shift <= 20; shift++) {
            size_t align = (size_t)1 << shift;
            kmalloc(24); /* something in the way */
            uint8_t *block = kmalloc_aligned(40, align);
            REQUIRE(block != NULL);
            CHECK_EQ((uintptr_t)block % align, 0);
            CHECK_EQ((uintptr_t)block % KHEAP_MIN_ALIGN, 0);
            memset(block, 1, 40);
            kfree(block);
            CHECK_EQ(stats_now().bad_frees + stats_now().redzone_errors, 0);
        }
    }
}

TEST(fl_kmalloc_aligned_rejects_bad_alignments)
{
    kheap_init();
    static const size_t bad[] = {0, 3, 24, 48, 100, 4097, SIZE_MAX, (1ull << 63) + 1};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        CHECK_FAILS_CLEANLY(kmalloc_aligned(16, bad[i]));
}

/* ---- reuse, large blocks, exhaustion ----------------------------------------------- */

TEST(fl_freed_block_is_reused)
{
    for (int debug = 0; debug <= 1; debug++) {
        kheap_set_debug(debug);
        void *a = kmalloc(100);
        kfree(a);
        for (int round = 0; round < 1000; round++) {
            void *b = kmalloc(100);
            CHECK_EQ(b, a);
            kfree(b);
        }
        CHECK_EQ(stats_now().pages_mapped, 1);
    }
}

TEST(fl_large_blocks_return_frames_to_the_pmm)
{
    kheap_init();
    kmalloc(16); /* the window's page table exists from here on */
    size_t free = pmm_free_count();
    uint8_t *large = kmalloc(5 * PAGE_SIZE + 1);
    REQUIRE(large != NULL);
    CHECK_EQ((uintptr_t)large % PAGE_SIZE, 0);
    CHECK_EQ(free - pmm_free_count(), 6);
    memset(large, 7, 5 * PAGE_SIZE + 1);
    kfree(large);
    CHECK_EQ(pmm_free_count(), free);
    CHECK(host_read_faults((uintptr_t)large));                  /* a use after free faults */
    CHECK(host_write_faults((uintptr_t)large + 5 * PAGE_SIZE)); /* at once */
}

TEST(fl_large_block_guard_page_faults)
{
    kheap_init();
    uint8_t *large = kmalloc(2 * PAGE_SIZE);
    REQUIRE(large != NULL);
    CHECK(!host_write_faults((uintptr_t)large + 2 * PAGE_SIZE - 1));
    CHECK(host_write_faults((uintptr_t)large + 2 * PAGE_SIZE));
    uint8_t *next = kmalloc(PAGE_SIZE);
    CHECK(next != large + 2 * PAGE_SIZE); /* the guard page is not handed out */
}

TEST(fl_failed_mapping_gives_frames_back)
{
    kheap_init();
    kmalloc(16);
    phys_addr_t head = PMM_NO_FRAME;
    while (pmm_free_count() > 2) {
        phys_addr_t frame = pmm_alloc_frame();
        *(phys_addr_t *)phys_to_virt(frame) = head;
        head = frame;
    }
    CHECK_FAILS_CLEANLY(kmalloc(4 * PAGE_SIZE));
    CHECK_EQ(pmm_free_count(), 2);
    CHECK(kmalloc(2 * PAGE_SIZE) != NULL);
    CHECK_FAILS_CLEANLY(kmalloc(2048)); /* a new slab: no frame left */
    CHECK(kmalloc(16) != NULL);         /* the first slab still has room */
}

TEST(fl_exhaustion_and_reuse)
{
    for (int debug = 0; debug <= 1; debug++) {
        kheap_set_debug(debug);
        void *blocks[KHEAP_PAGES * 2 + 1];
        size_t count = 0;
        for (void *b; count < ARRAY_SIZE(blocks) && (b = kmalloc(2000)) != NULL;)
            blocks[count++] = b;
        CHECK(count >= KHEAP_PAGES); /* one per page in debug mode, two without */
        CHECK(kmalloc(2000) == NULL);
        for (size_t i = 0; i < count; i++)
            kfree(blocks[i]);
        size_t again = 0;
        while (again < ARRAY_SIZE(blocks) && kmalloc(2000) != NULL)
            again++;
        CHECK_EQ(again, count);
    }
}

TEST(fl_kheap_init_gives_every_frame_back)
{
    kheap_init();
    size_t free = pmm_free_count();
    for (size_t i = 0; i < 100; i++)
        kmalloc(i * 61);
    kheap_init();
    CHECK_EQ(pmm_free_count(), free - 1); /* the window's page table stays */
    CHECK_EQ(stats_now().pages_mapped, 0);
    for (uintptr_t page = KHEAP_START; page < KHEAP_END; page += PAGE_SIZE)
        CHECK(host_read_faults(page));
}

/* ---- debug checks ------------------------------------------------------------------- */

TEST(fl_redzone_overwrite_is_reported)
{
    kheap_init();
    uint8_t *small = kmalloc(20);
    small[20] = 0;
    kfree(small);
    check_report(KHEAP_REDZONE, (uintptr_t)small, (uintptr_t)small + 20);
    CHECK_EQ(report_now().size, 20);
    uint8_t *large = kmalloc(5000);
    large[6000] = 1;
    kfree(large);
    check_report(KHEAP_REDZONE, (uintptr_t)large, (uintptr_t)large + 6000);
    CHECK_EQ(stats_now().redzone_errors, 2);
    CHECK(host_console_contains("redzone overwritten"));
}

TEST(fl_write_after_free_is_reported)
{
    kheap_init();
    uint8_t *a = kmalloc(20);
    kfree(a);
    a[3] = 1;
    CHECK(all_bytes(a + 4, 16, POISON_FREE));
    uint8_t *b = kmalloc(20);
    CHECK_EQ(b, a);
    check_report(KHEAP_USE_AFTER_FREE, (uintptr_t)a, (uintptr_t)a + 3);
    CHECK_EQ(stats_now().poison_errors, 1);
    CHECK(host_console_contains("write after free"));
}

TEST(fl_double_free_is_reported_and_refused)
{
    kheap_init();
    void *a = kmalloc(40);
    kfree(a);
    kfree(a);
    check_report(KHEAP_DOUBLE_FREE, (uintptr_t)a, (uintptr_t)a);
    void *b = kmalloc(40), *c = kmalloc(40);
    CHECK(b != c); /* pushed once: one owner */
    void *large = kmalloc(3 * PAGE_SIZE);
    kfree(large);
    kfree(large);
    check_report(KHEAP_DOUBLE_FREE, (uintptr_t)large, (uintptr_t)large);
    CHECK_EQ(stats_now().double_frees, 2);
    CHECK_EQ(stats_now().frees, 4);
}

TEST(fl_bad_frees_are_reported)
{
    for (int debug = 0; debug <= 1; debug++) {
        kheap_set_debug(debug);
        uint8_t *small = kmalloc(64), *large = kmalloc(3 * PAGE_SIZE);
        int local;
        kfree(small + 16);
        check_report(KHEAP_BAD_FREE, (uintptr_t)small, (uintptr_t)small + 16);
        kfree(small + 1);
        check_report(KHEAP_BAD_FREE, (uintptr_t)small, (uintptr_t)small + 1);
        kfree(large + PAGE_SIZE); /* its second page */
        check_report(KHEAP_BAD_FREE, (uintptr_t)large, (uintptr_t)large + PAGE_SIZE);
        kfree(large + 8);
        check_report(KHEAP_BAD_FREE, (uintptr_t)large, (uintptr_t)large + 8);
        kfree(&local);
        check_report(KHEAP_BAD_FREE, 0, (uintptr_t)&local);
        kfree((void *)(KHEAP_END - PAGE_SIZE)); /* a page never used */
        check_report(KHEAP_BAD_FREE, 0, KHEAP_END - PAGE_SIZE);
        kfree((void *)KHEAP_END);
        check_report(KHEAP_BAD_FREE, 0, KHEAP_END);
        CHECK_EQ(stats_now().bad_frees, 7);
        kfree(small);
        kfree(large);
        CHECK_EQ(stats_now().bad_frees, 7);
        CHECK_EQ(stats_now().double_frees, 0);
        CHECK_EQ(stats_now().frees, 9);
    }
}

/* kheap_freelist.c's slot sizes: powers of two and the sizes halfway between. */
static const size_t class_sizes[] = {16,  32,  48,  64,  96,   128,  192,
                                     256, 384, 512, 768, 1024, 1536, 2048};

TEST(fl_each_request_takes_the_smallest_class_that_holds_it)
{
    kheap_set_debug(false);
    size_t smaller = 0;
    for (size_t i = 0; i < ARRAY_SIZE(class_sizes); i++) {
        size_t before = stats_now().used;
        /* The largest and the smallest request of the class. */
        REQUIRE(kmalloc(class_sizes[i]) != NULL);
        REQUIRE(kmalloc(smaller + 1) != NULL);
        CHECK_EQ(stats_now().used - before, 2 * class_sizes[i]);
        smaller = class_sizes[i];
    }
}

TEST(fl_slots_are_cut_from_the_page_start_and_the_end_stays_unused)
{
    kheap_set_debug(false);
    for (size_t i = 0; i < ARRAY_SIZE(class_sizes); i++) {
        size_t size = class_sizes[i], slots = PAGE_SIZE / size;
        uint8_t *first = kmalloc(size); /* the class's first slab: a fresh page */
        REQUIRE(first != NULL);
        CHECK_EQ((uintptr_t)first % PAGE_SIZE, 0);
        for (size_t slot = 1; slot < slots; slot++)
            CHECK_EQ(kmalloc(size), first + slot * size);
        CHECK_EQ((uintptr_t)kmalloc(size) % PAGE_SIZE, 0); /* full: the next page */
        kfree(first + size + 8);
        check_report(KHEAP_BAD_FREE, (uintptr_t)first + size, (uintptr_t)first + size + 8);
        if (PAGE_SIZE % size != 0) {
            kfree(first + slots * size);
            check_report(KHEAP_BAD_FREE, 0, (uintptr_t)first + slots * size);
        }
    }
    CHECK_EQ(stats_now().double_frees + stats_now().poison_errors, 0);
}

TEST(fl_the_unused_end_of_a_slab_is_never_a_block)
{
    enum { SLOT = 48, UNUSED_END = PAGE_SIZE - PAGE_SIZE % SLOT };
    /* In debug mode too, where a slot's trailer would lie past the page. */
    kheap_set_debug(true);
    uint8_t *first = kmalloc(SLOT - 32); /* 16 bytes, redzone and trailer: 48 */
    REQUIRE(first != NULL);
    kfree(first + UNUSED_END);
    check_report(KHEAP_BAD_FREE, 0, (uintptr_t)first + UNUSED_END);
    CHECK_EQ(stats_now().redzone_errors + stats_now().double_frees, 0);

    /* A free-list link overwritten to point there is not followed. */
    kheap_set_debug(false);
    uint64_t *a = kmalloc(SLOT), *b = kmalloc(SLOT);
    REQUIRE(a != NULL && b != NULL);
    kfree(b);
    kfree(a); /* the list: a, b, ... */
    a[0] = (uintptr_t)a + UNUSED_END;
    CHECK_EQ(kmalloc(SLOT), a);
    CHECK_EQ(stats_now().poison_errors, 1);
    uint8_t *next = kmalloc(SLOT);
    REQUIRE(next != NULL);
    CHECK(next != (uint8_t *)a + UNUSED_END);
    CHECK_EQ((uintptr_t)next % PAGE_SIZE % SLOT, 0);
}

TEST(fl_kmalloc_aligned_moves_up_to_a_class_aligned_enough)
{
    kheap_set_debug(false);
    for (size_t i = 0; i < ARRAY_SIZE(class_sizes); i++) {
        size_t size = class_sizes[i], alignment = size & -size;
        if (alignment == size)
            continue; /* a power of two: aligned to itself */
        /* Twice the alignment this class gives: the block must move up to
         * the next power of two, 4/3 of the size (48 to 64, 96 to 128). */
        size_t before = stats_now().used;
        uint8_t *block = kmalloc_aligned(size, 2 * alignment);
        REQUIRE(block != NULL);
        CHECK_EQ((uintptr_t)block % (2 * alignment), 0);
        CHECK_EQ(stats_now().used - before, size / 3 * 4);
    }
}

TEST(fl_debug_off_packs_16_byte_blocks)
{
    kheap_set_debug(false);
    size_t count = 0;
    for (uint8_t *block; (block = kmalloc(16)) != NULL; count++)
        CHECK_EQ((uintptr_t)block % 16, 0);
    CHECK(count >= PLAIN_SLOTS_OF_16);
    CHECK_EQ(stats_now().used, count * 16);
}

TEST(fl_debug_off_detects_an_overwritten_link)
{
    kheap_set_debug(false);
    uint64_t *a = kmalloc(32), *b = kmalloc(32);
    kfree(b);
    kfree(a);
    a[0] = 0x41;
    CHECK_EQ(kmalloc(32), a);
    check_report(KHEAP_USE_AFTER_FREE, (uintptr_t)a, (uintptr_t)a);
    uint64_t *c = kmalloc(32);
    REQUIRE(c != NULL);
    CHECK((uintptr_t)c >= KHEAP_START && (uintptr_t)c < KHEAP_END);
    *c = 1;
    kfree(c);
    kfree(c); /* the head of its list: caught without debug mode too */
    CHECK_EQ(stats_now().double_frees, 1);
}

/* ---- counters ------------------------------------------------------------------------- */

TEST(fl_stats_after_a_scripted_sequence)
{
    kheap_set_debug(false);
    void *small = kmalloc(20);   /* a 32-byte slot */
    void *large = kmalloc(5000); /* 2 pages */
    struct kheap_stats both = stats_now();
    CHECK_EQ(both.used, 32 + 2 * PAGE_SIZE);
    CHECK_EQ(both.peak, both.used);
    CHECK_EQ(both.pages_mapped, 3);
    kfree(small);
    CHECK(kmalloc(SIZE_MAX) == NULL);
    kfree(NULL);
    struct kheap_stats s = stats_now();
    CHECK_EQ(s.capacity, KHEAP_SIZE);
    CHECK_EQ(s.used, 2 * PAGE_SIZE);
    CHECK_EQ(s.requested, 5020);
    CHECK_EQ(s.allocations, 2);
    CHECK_EQ(s.frees, 1);
    CHECK_EQ(s.failures, 1);
    kfree(large);
    s = stats_now();
    CHECK_EQ(s.used, 0);
    CHECK_EQ(s.pages_mapped, 1); /* the slab stays */
    CHECK_EQ(s.peak, both.used);
}

TEST(fl_kheap_dump_describes_the_heap)
{
    kheap_init();
    kmalloc(20);
    kmalloc(5000);
    host_console_clear();
    kheap_dump();
    CHECK(host_console_contains("kheap: window "));
    CHECK(host_console_contains("free lists, debug checks on")); /* kheap_dump_details */
    CHECK(host_console_contains("Llg")); /* 2 pages and the guard */
}
