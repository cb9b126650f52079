/* test_valloc.c - valloc and the VMM calls under it (solutions/16-vmm/) on
 * the host: every row of the handout's "Bad input and what it gives"
 * (lessons/16-vmm/README.md), first fit, guard pages that really fault,
 * exact frame accounting (pages + page tables), and the TLB rule: the MMU
 * model keeps a translation until invlpg, so a missing flush shows. */
#include <string.h>

#include "exception.h"
#include "harness.h"
#include "paging.h"
#include "pmm.h"
#include "vmm.h"

static pte_t *kernel_space(void)
{
    return vmm_kernel_space();
}

static void start(void)
{
    vmm_init();
    vmm_report_init();
}

/* Frames in use by valloc: its pages, and one PT per 2 MiB and one PD per
 * GiB of the window that holds a live page (tables exist only while they
 * map something; the window's PDPT is vmm_init's). */
static size_t frames_for(const uintptr_t *starts, const size_t *pages, size_t count)
{
    enum { MAX = 4096 };
    static uintptr_t pts[MAX], pds[MAX];
    size_t frames = 0, npt = 0, npd = 0;
    for (size_t a = 0; a < count; a++) {
        frames += pages[a];
        for (size_t p = 0; p < pages[a]; p++) {
            uintptr_t page = starts[a] + p * PAGE_SIZE;
            uintptr_t pt = page / (2 * MiB), pd = page / GiB;
            size_t i = 0;
            while (i < npt && pts[i] != pt)
                i++;
            if (i == npt && npt < MAX)
                pts[npt++] = pt;
            i = 0;
            while (i < npd && pds[i] != pd)
                i++;
            if (i == npd && npd < MAX)
                pds[npd++] = pd;
        }
    }
    return frames + npt + npd;
}

static bool mapped(uintptr_t page)
{
    phys_addr_t phys;
    return vmm_translate(kernel_space(), page, &phys) == VMM_OK;
}

static bool all_zero(const uint8_t *p, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        if (p[i] != 0)
            return false;
    }
    return true;
}

static void dirty_every_free_frame(void)
{
    phys_addr_t head = PMM_NO_FRAME;
    for (phys_addr_t frame; (frame = pmm_alloc_frame()) != PMM_NO_FRAME; head = frame) {
        memset(phys_to_virt(frame), 0xC3, PAGE_SIZE);
        *(phys_addr_t *)phys_to_virt(frame) = head;
    }
    while (head != PMM_NO_FRAME) {
        phys_addr_t next = *(phys_addr_t *)phys_to_virt(head);
        pmm_free_frame(head);
        head = next;
    }
}

/* ---- valloc ------------------------------------------------------------------------ */

TEST(valloc_memory_is_aligned_mapped_zeroed_and_writable)
{
    start();
    dirty_every_free_frame();
    size_t free = pmm_free_count();
    uint8_t *area = valloc(5);
    REQUIRE(area != NULL);
    CHECK_EQ((uintptr_t)area, VALLOC_START);
    CHECK_EQ(free - pmm_free_count(), 5 + 2); /* a PD and a PT */
    phys_addr_t frames[5];
    for (size_t i = 0; i < 5; i++) {
        uintptr_t page = (uintptr_t)area + i * PAGE_SIZE;
        CHECK_EQ(vmm_translate(kernel_space(), page, &frames[i]), VMM_OK);
        for (size_t j = 0; j < i; j++)
            CHECK(frames[i] != frames[j]);
        pte_t *entry = paging_walk(kernel_space(), page, false);
        REQUIRE(entry != NULL);
        CHECK_EQ(*entry & PTE_FLAGS_MASK & ~(PTE_ACCESSED | PTE_DIRTY),
                 PTE_PRESENT | VALLOC_PAGE_FLAGS);
    }
    CHECK(all_zero(area, 5 * PAGE_SIZE));
    memset(area, 0x77, 5 * PAGE_SIZE);
    CHECK_EQ(((uint8_t *)phys_to_virt(frames[3]))[5], 0x77); /* the very frame */
    CHECK_EQ(vmm_stats.areas, 1);
    CHECK_EQ(vmm_stats.area_pages, 5);
}

TEST(valloc_areas_are_apart_with_a_guard_page)
{
    start();
    uint8_t *a = valloc(2), *b = valloc(3);
    REQUIRE(a != NULL && b != NULL);
    CHECK_EQ(b, a + 3 * PAGE_SIZE); /* 2 pages and the guard */
    CHECK(!mapped((uintptr_t)a + 2 * PAGE_SIZE));
    CHECK(!mapped((uintptr_t)b + 3 * PAGE_SIZE));
    CHECK(host_write_faults((uintptr_t)a + 2 * PAGE_SIZE));
    CHECK(host_read_faults((uintptr_t)b + 3 * PAGE_SIZE));
    memset(a, 1, 2 * PAGE_SIZE);
    CHECK(all_zero(b, 3 * PAGE_SIZE));
}

TEST(guard_page_fault_is_described)
{
    start();
    uint8_t *area = valloc(3);
    CHECK(host_write_faults((uintptr_t)area + 3 * PAGE_SIZE));
    char text[VMM_FAULT_TEXT_SIZE];
    vmm_describe_fault(host_last_fault().address, PF_WRITE, text, sizeof(text));
    CHECK(strstr(text, "write to an unmapped page") != NULL);
    CHECK(strstr(text, "guard page after the valloc area at 0x0000400000000000 (3 pages)") != NULL);
    vmm_describe_fault(VALLOC_START + 100 * PAGE_SIZE, 0, text, sizeof(text));
    CHECK(strstr(text, "in no area") != NULL);
    char tiny[8];
    memset(tiny, 'x', sizeof(tiny));
    vmm_describe_fault(VALLOC_START, 0, tiny, 5);
    CHECK_EQ(strlen(tiny), 4);
    CHECK_EQ(tiny[5], 'x');
}

TEST(valloc_rejects_bad_sizes)
{
    start();
    size_t free = pmm_free_count();
    CHECK(valloc(0) == NULL);
    CHECK(valloc(SIZE_MAX) == NULL);
    CHECK(valloc(SIZE_MAX / PAGE_SIZE + 1) == NULL); /* (npages + 1) * PAGE_SIZE wraps */
    CHECK(valloc(VALLOC_PAGES) == NULL);
    CHECK(valloc(VALLOC_PAGES + 1) == NULL);
    CHECK_EQ(pmm_free_count(), free);
    CHECK_EQ(vmm_stats.areas, 0);
    CHECK_EQ(vfree(NULL), VMM_OK);
    CHECK_EQ(vmm_stats.warnings, 0);
}

TEST(valloc_out_of_memory_gives_back_every_frame)
{
    start();
    uint8_t *keep = valloc(1);
    phys_addr_t head = PMM_NO_FRAME;
    while (pmm_free_count() > 40) {
        phys_addr_t frame = pmm_alloc_frame();
        *(phys_addr_t *)phys_to_virt(frame) = head;
        head = frame;
    }
    CHECK(valloc(41) == NULL);
    CHECK_EQ(pmm_free_count(), 40);
    CHECK_EQ(vmm_stats.areas, 1);
    CHECK_EQ(vmm_stats.area_pages, 1);
    CHECK(!mapped((uintptr_t)keep + 2 * PAGE_SIZE)); /* nothing left where it tried */
    uint8_t *fits = valloc(40);                      /* tables exist: 40 frames do */
    CHECK_EQ(fits, keep + 2 * PAGE_SIZE);
    CHECK_EQ(pmm_free_count(), 0);
    CHECK_EQ(vfree(fits), VMM_OK);
    CHECK_EQ(pmm_free_count(), 40);
}

TEST(valloc_more_pages_than_memory_gives_everything_back)
{
    start();
    size_t free = pmm_free_count();
    CHECK(valloc(VALLOC_PAGES - 1) == NULL); /* the window holds it; RAM does not */
    CHECK_EQ(pmm_free_count(), free);
    CHECK_EQ(vmm_stats.areas, 0);
    CHECK(valloc(pmm_free_count()) == NULL); /* its page tables do not fit either */
    CHECK_EQ(pmm_free_count(), free);
    size_t n = free; /* the most that fits: n pages, a PT per 512 of them, a PD */
    while (n + (n + 511) / 512 + 1 > free)
        n--;
    uint8_t *area = valloc(n);
    REQUIRE(area != NULL);
    uintptr_t starts[] = {(uintptr_t)area};
    CHECK_EQ(free - pmm_free_count(), frames_for(starts, &n, 1));
    CHECK(valloc(1) == NULL || pmm_free_count() == 0);
}

TEST(valloc_refuses_more_than_max_areas)
{
    start();
    size_t free = pmm_free_count();
    void *areas[VALLOC_MAX_AREAS];
    for (size_t i = 0; i < VALLOC_MAX_AREAS; i++) {
        areas[i] = valloc(1);
        REQUIRE(areas[i] != NULL);
    }
    size_t full = pmm_free_count();
    CHECK(valloc(1) == NULL);
    CHECK_EQ(pmm_free_count(), full);
    CHECK_EQ(vmm_stats.areas, VALLOC_MAX_AREAS);
    CHECK_EQ(vfree(areas[7]), VMM_OK);
    CHECK_EQ(valloc(1), areas[7]);
    for (size_t i = 0; i < VALLOC_MAX_AREAS; i++)
        CHECK_EQ(vfree(areas[i]), VMM_OK);
    CHECK_EQ(pmm_free_count(), free);
    CHECK_EQ(vmm_stats.areas, 0);
    CHECK_EQ(vmm_stats.area_pages, 0);
}

TEST(placement_is_first_fit)
{
    start();
    uint8_t *a = valloc(2), *b = valloc(3), *c = valloc(1);
    CHECK_EQ(vfree(b), VMM_OK);
    CHECK_EQ(valloc(4), c + 2 * PAGE_SIZE); /* b's gap holds 3 + guard only */
    CHECK_EQ(valloc(1), b);                 /* the lowest gap that fits */
    CHECK_EQ(valloc(1), b + 2 * PAGE_SIZE);
    CHECK_EQ(vfree(a), VMM_OK);
    CHECK_EQ(valloc(2), a);
}

TEST(valloc_find_knows_pages_and_guard)
{
    start();
    uint8_t *a = valloc(2);
    struct valloc_area area;
    CHECK(valloc_find((uintptr_t)a, &area));
    CHECK_EQ(area.start, (uintptr_t)a);
    CHECK_EQ(area.pages, 2);
    CHECK(valloc_find((uintptr_t)a + 3 * PAGE_SIZE - 1, &area)); /* its guard page */
    CHECK(!valloc_find((uintptr_t)a + 3 * PAGE_SIZE, &area));
    CHECK(!valloc_find((uintptr_t)a - 1, &area));
}

/* ---- vfree (homework 1) -------------------------------------------------------------- */

TEST(vfree_gives_back_frames_and_tables)
{
    start();
    size_t free = pmm_free_count();
    uint8_t *area = valloc(600); /* more than one PT holds */
    REQUIRE(area != NULL);
    uintptr_t starts[] = {(uintptr_t)area};
    size_t pages[] = {600};
    CHECK_EQ(free - pmm_free_count(), frames_for(starts, pages, 1));
    CHECK_EQ(vfree(area), VMM_OK);
    CHECK_EQ(pmm_free_count(), free);
    CHECK(host_read_faults((uintptr_t)area));
    CHECK_EQ(vmm_stats.areas, 0);
    CHECK_EQ(vmm_stats.area_pages, 0);
}

TEST(vfree_keeps_tables_another_area_still_uses)
{
    start();
    size_t free = pmm_free_count();
    uint8_t *a = valloc(1), *b = valloc(510), *c = valloc(3); /* c: in the 2nd PT */
    REQUIRE(c != NULL);
    CHECK_EQ((uintptr_t)c, VALLOC_START + 513 * PAGE_SIZE);
    uintptr_t starts[] = {(uintptr_t)a, (uintptr_t)c};
    size_t pages[] = {1, 3};
    CHECK_EQ(vfree(b), VMM_OK);
    CHECK_EQ(free - pmm_free_count(), frames_for(starts, pages, 2));
    CHECK_EQ(vfree(a), VMM_OK);
    CHECK_EQ(free - pmm_free_count(), frames_for(starts + 1, pages + 1, 1));
    CHECK(c[0] == 0 && c[3 * PAGE_SIZE - 1] == 0);
    CHECK_EQ(vfree(c), VMM_OK);
    CHECK_EQ(pmm_free_count(), free);
    /* The window's PDPT stays: every space's PML4 points to it. */
    CHECK(kernel_space()[page_table_index(VALLOC_START, 4)] & PTE_PRESENT);
}

static void check_refused(void *ptr)
{
    size_t warnings = vmm_stats.warnings, areas = vmm_stats.areas, free = pmm_free_count();
    host_console_clear();
    CHECK_EQ(vfree(ptr), VMM_NOT_AN_AREA);
    CHECK_EQ(vmm_stats.warnings, warnings + 1);
    CHECK_EQ(vmm_stats.areas, areas);
    CHECK_EQ(pmm_free_count(), free);
    CHECK(host_console_contains("vmm: warning: vfree"));
}

TEST(vfree_rejects_bad_pointers)
{
    start();
    uint8_t *a = valloc(3), *b = valloc(1);
    int local;
    check_refused(a + 1);                            /* inside */
    check_refused(a + PAGE_SIZE);                    /* inside, page-aligned */
    check_refused(a + 3 * PAGE_SIZE);                /* its guard page */
    check_refused((void *)(VALLOC_END - PAGE_SIZE)); /* never allocated */
    check_refused(&local);                           /* outside the window */
    check_refused((void *)UINTPTR_MAX);
    CHECK_EQ(vfree(b), VMM_OK);
    check_refused(b); /* freed already */
    CHECK(mapped((uintptr_t)a + 2 * PAGE_SIZE));
}

TEST(freed_area_faults_and_is_reused)
{
    start();
    uint8_t *a = valloc(2);
    a[0] = 1; /* the TLB holds the translation now */
    CHECK_EQ(vfree(a), VMM_OK);
    CHECK(host_read_faults((uintptr_t)a));
    CHECK(host_write_faults((uintptr_t)a + PAGE_SIZE));
    CHECK_EQ(valloc(2), a);
    CHECK_EQ(a[0], 0);
}

/* ---- the VMM's bad input (README table) ----------------------------------------------- */

TEST(map_and_unmap_reject_bad_input)
{
    start();
    pte_t *k = kernel_space();
    phys_addr_t frame = pmm_alloc_frame(), out = 0;
    size_t free = pmm_free_count();
    uintptr_t low = 0x400000;
    CHECK_EQ(vmm_map(k, low + 1, frame, PTE_NO_EXECUTE), VMM_UNALIGNED);
    CHECK_EQ(vmm_map(k, low, frame + 8, PTE_NO_EXECUTE), VMM_UNALIGNED);
    CHECK_EQ(vmm_unmap(k, low + 8, NULL), VMM_UNALIGNED);
    CHECK_EQ(vmm_protect(k, low + 8, PTE_NO_EXECUTE), VMM_UNALIGNED);
    CHECK_EQ(vmm_map(k, 0x0000800000000000ull, frame, PTE_NO_EXECUTE), VMM_BAD_ADDRESS);
    CHECK_EQ(vmm_map(k, 0xFFFF7FFFFFFFF000ull, frame, PTE_NO_EXECUTE), VMM_BAD_ADDRESS);
    CHECK_EQ(vmm_translate(k, 0x0000800000000000ull, &out), VMM_BAD_ADDRESS);
    CHECK_EQ(vmm_unmap(k, 0x0000800000000000ull, NULL), VMM_BAD_ADDRESS);
    /* PML4 entry 257 is absent: no entry may be created in one space only */
    CHECK_EQ(vmm_map(k, 0xFFFF808000000000ull, frame, PTE_NO_EXECUTE), VMM_BAD_ADDRESS);
    CHECK_EQ(k[257], 0);
    CHECK_EQ(pmm_free_count(), free);
    /* mapped already, also inside a 2 MiB page of the direct map */
    CHECK_EQ(vmm_map(k, low, frame, PTE_NO_EXECUTE), VMM_OK);
    CHECK_EQ(vmm_map(k, low, frame, PTE_NO_EXECUTE), VMM_ALREADY_MAPPED);
    CHECK_EQ(vmm_map(k, 0xFFFF800000201000ull, frame, PTE_NO_EXECUTE), VMM_ALREADY_MAPPED);
    CHECK_EQ(vmm_unmap(k, 0xFFFF800000201000ull, NULL), VMM_BAD_ADDRESS);
    CHECK_EQ(vmm_protect(k, 0xFFFF800000201000ull, PTE_NO_EXECUTE), VMM_BAD_ADDRESS);
    CHECK_EQ(vmm_translate(k, 0xFFFF800000201234ull, &out), VMM_OK);
    CHECK_EQ(out, 0x201234);
    CHECK_EQ(vmm_unmap(k, low, &out), VMM_OK);
    CHECK_EQ(out, frame);
    CHECK_EQ(vmm_unmap(k, low, NULL), VMM_NOT_MAPPED);
    CHECK_EQ(vmm_protect(k, low, PTE_NO_EXECUTE), VMM_NOT_MAPPED);
    CHECK_EQ(vmm_translate(k, low, &out), VMM_NOT_MAPPED);
}

TEST(map_refuses_unsafe_flags)
{
    start();
    pte_t *k = kernel_space();
    phys_addr_t frame = pmm_alloc_frame();
    uintptr_t low = 0x400000, high = 0xFFFF800100000000ull; /* entry 256, past the 1 GiB */
    CHECK_EQ(vmm_map(k, low, frame, PTE_HUGE | PTE_NO_EXECUTE), VMM_BAD_FLAGS);
    CHECK_EQ(vmm_map(k, low, frame, PTE_NO_EXECUTE | 0x1000), VMM_BAD_FLAGS);
    CHECK_EQ(vmm_map(k, low, frame, PTE_WRITABLE), VMM_BAD_FLAGS); /* W^X */
    CHECK_EQ(vmm_map(k, high, frame, PTE_USER | PTE_NO_EXECUTE), VMM_BAD_FLAGS);
    CHECK_EQ(vmm_map(k, high, frame, PTE_PRESENT | PTE_WRITABLE | PTE_NO_EXECUTE), VMM_OK);
    CHECK_EQ(vmm_protect(k, high, PTE_WRITABLE), VMM_BAD_FLAGS);
    CHECK_EQ(vmm_protect(k, high, PTE_USER | PTE_NO_EXECUTE), VMM_BAD_FLAGS);
    CHECK_EQ(vmm_map(k, low, frame, PTE_USER | PTE_WRITABLE | PTE_NO_EXECUTE), VMM_OK);
    CHECK_EQ(vmm_map(k, low + PAGE_SIZE, frame, 0), VMM_OK); /* read-only, executable */
}

/* ---- the TLB rule -------------------------------------------------------------------- */

TEST(unmap_is_visible_at_once)
{
    start();
    uint8_t *area = valloc(1);
    CHECK_EQ(area[0], 0); /* cached */
    phys_addr_t frame;
    CHECK_EQ(vmm_unmap(kernel_space(), (uintptr_t)area, &frame), VMM_OK);
    CHECK(host_read_faults((uintptr_t)area));
    CHECK_EQ(vmm_map(kernel_space(), (uintptr_t)area, frame, VALLOC_PAGE_FLAGS), VMM_OK);
    CHECK_EQ(vfree(area), VMM_OK);
}

TEST(protect_changes_permissions_at_once)
{
    start();
    uint8_t *area = valloc(1);
    area[0] = 1; /* a writable translation is cached */
    CHECK_EQ(vmm_protect(kernel_space(), (uintptr_t)area, PTE_NO_EXECUTE), VMM_OK);
    CHECK(host_write_faults((uintptr_t)area));
    CHECK(host_last_fault().present);
    CHECK(!host_read_faults((uintptr_t)area));
    CHECK_EQ(vmm_protect(kernel_space(), (uintptr_t)area, PTE_WRITABLE | PTE_NO_EXECUTE), VMM_OK);
    CHECK(!host_write_faults((uintptr_t)area));
}

/* ---- address spaces ------------------------------------------------------------------- */

TEST(destroy_frees_every_table_of_the_space)
{
    start();
    static const uintptr_t pages[] = {0x1000, 0x40000000, 0x8000000000, 0x00007FFFFFFFF000};
    enum { TABLES = 1 + 5 + 3 + 3 };
    pte_t saved[PAGE_TABLE_ENTRIES - VMM_KERNEL_SLOT];
    memcpy(saved, kernel_space() + VMM_KERNEL_SLOT, sizeof(saved));
    phys_addr_t frame = pmm_alloc_frame();
    size_t free = pmm_free_count();
    pte_t *space = vmm_create();
    REQUIRE(space != NULL);
    CHECK_EQ(vmm_stats.spaces, 1);
    for (size_t i = 0; i < ARRAY_SIZE(pages); i++)
        CHECK_EQ(vmm_map(space, pages[i], frame, PTE_NO_EXECUTE), VMM_OK);
    CHECK_EQ(free - pmm_free_count(), TABLES);
    CHECK_EQ(memcmp(space + VMM_KERNEL_SLOT, saved, sizeof(saved)), 0);
    CHECK_EQ(vmm_destroy(space), VMM_OK);
    CHECK_EQ(pmm_free_count(), free);
    CHECK_EQ(pmm_free_frame(frame), PMM_OK); /* still allocated: not the space's */
    CHECK_EQ(memcmp(kernel_space() + VMM_KERNEL_SLOT, saved, sizeof(saved)), 0);
    CHECK_EQ(vmm_stats.spaces, 0);
}

TEST(destroy_refuses_kernel_and_current_space)
{
    start();
    CHECK_EQ(vmm_destroy(NULL), VMM_OK);
    CHECK_EQ(vmm_destroy(kernel_space()), VMM_BUSY);
    CHECK_EQ(vmm_stats.warnings, 1);
    pte_t *space = vmm_create();
    vmm_switch(space);
    CHECK_EQ(vmm_current(), space);
    CHECK_EQ(vmm_destroy(space), VMM_BUSY);
    CHECK_EQ(vmm_stats.warnings, 2);
    vmm_switch(kernel_space());
    CHECK_EQ(vmm_destroy(space), VMM_OK);
}

static void switch_to_null(void *unused)
{
    vmm_switch(NULL);
}

TEST(switch_to_null_is_a_kernel_bug)
{
    start();
    CHECK_EQ(host_try(switch_to_null, NULL), HOST_PANICKED);
    CHECK(strstr(host_last_panic(), "assertion failed") != NULL);
}
