/* valloc.c - the kernel's allocator of virtual areas (reference solution):
 * whole pages, virtually contiguous, in the window [VALLOC_START,
 * VALLOC_END), each page backed by its own PMM frame.
 *
 * State: `areas`, the live areas sorted by start address. An area of n
 * pages takes n + 1 pages of the window: its pages, then its guard page.
 *
 *   VALLOC_START
 *   | area 0 | guard | area 1 ...... | guard |  free  | area 2 | guard | ...
 *
 * Invariants:
 *   - areas[0..area_count) are sorted, and their spans (pages + guard) do
 *     not overlap;
 *   - every page of a live area is mapped, writable and no-execute
 *     (VALLOC_PAGE_FLAGS), to a zeroed frame no one else uses; no guard
 *     page is ever mapped; nothing outside the live areas is mapped in the
 *     window;
 *   - a page table of the window exists only while it maps some page (the
 *     window's PDPT excepted: it is the shared PML4 entry, see vmm_init);
 *   - vmm_stats.areas == area_count, vmm_stats.area_pages == their pages.
 *
 * Placement is first fit: the lowest gap big enough. Freed space is reused
 * and the window stays compact. With at most VALLOC_MAX_AREAS areas a scan
 * is fast enough; Linux keeps its vmalloc areas in a red-black tree.
 */
#include "vmm.h"
#include "kprintf.h"
#include "pmm.h"
#include "string.h"
#include "x86.h"

static struct valloc_area areas[VALLOC_MAX_AREAS];
static size_t area_count;

/* The first address after the area's guard page. */
static uintptr_t span_end(const struct valloc_area *area)
{
    return area->start + (area->pages + 1) * PAGE_SIZE;
}

/* Finds the lowest gap for `npages` pages and their guard, and records the
 * area there. Returns its start, or 0 if the window or the table is full. */
static uintptr_t reserve_area(size_t npages)
{
    size_t span = (npages + 1) * PAGE_SIZE;
    uintptr_t gap = VALLOC_START;
    size_t at = 0;
    while (at < area_count && areas[at].start - gap < span)
        gap = span_end(&areas[at++]);
    if (area_count == VALLOC_MAX_AREAS || VALLOC_END - gap < span)
        return 0;
    memmove(&areas[at + 1], &areas[at], (area_count - at) * sizeof(areas[0]));
    areas[at] = (struct valloc_area){.start = gap, .pages = npages};
    area_count++;
    vmm_stats.areas++;
    vmm_stats.area_pages += npages;
    return gap;
}

/* Maps the page at `virt` to a fresh frame, zeroed before anyone can see it. */
static bool back_page(uintptr_t virt)
{
    phys_addr_t frame = pmm_alloc_frame();
    if (frame == PMM_NO_FRAME)
        return false;
    memset(phys_to_virt(frame), 0, PAGE_SIZE);
    if (vmm_map(vmm_kernel_space(), virt, frame, VALLOC_PAGE_FLAGS) != VMM_OK) {
        pmm_free_frame(frame); /* no frame for a page table */
        return false;
    }
    return true;
}

void *valloc(size_t npages)
{
    if (npages == 0 || npages >= VALLOC_PAGES)
        return NULL; /* the second test also keeps (npages + 1) * PAGE_SIZE from wrapping */
    uintptr_t start = reserve_area(npages);
    if (start == 0)
        return NULL;
    for (size_t i = 0; i < npages; i++) {
        if (!back_page(start + i * PAGE_SIZE)) {
            vfree((void *)start); /* out of memory: vfree undoes the pages done */
            return NULL;
        }
    }
    return (void *)start;
}

/* The index of the live area starting at `start`, or area_count. */
static size_t area_index(uintptr_t start)
{
    size_t at = 0;
    while (at < area_count && areas[at].start != start)
        at++;
    return at;
}

/* If the page table `entry` points to maps nothing, frees it and clears
 * the entry. */
static void free_if_empty(pte_t *entry)
{
    if (!(*entry & PTE_PRESENT))
        return;
    const pte_t *table = phys_to_virt(pte_address(*entry));
    for (unsigned i = 0; i < PAGE_TABLE_ENTRIES; i++) {
        if (table[i] != 0)
            return;
    }
    pmm_free_frame(pte_address(*entry));
    *entry = 0;
}

/* Frees the window's page tables that [start, end) left empty: each PT
 * (2 MiB of the window), then each PD (1 GiB) once its PTs are gone. The
 * PDPT stays: every space's PML4 points to it. */
static void free_empty_tables(uintptr_t start, uintptr_t end)
{
    const uint64_t pt_span = PAGE_SIZE * PAGE_TABLE_ENTRIES;
    pte_t *pdpt = phys_to_virt(pte_address(vmm_kernel_space()[page_table_index(start, 4)]));
    for (uintptr_t virt = ALIGN_DOWN(start, pt_span); virt < end; virt += pt_span) {
        pte_t *pdpt_entry = &pdpt[page_table_index(virt, 3)];
        if (!(*pdpt_entry & PTE_PRESENT))
            continue;
        pte_t *pd = phys_to_virt(pte_address(*pdpt_entry));
        free_if_empty(&pd[page_table_index(virt, 2)]);
        free_if_empty(pdpt_entry);
    }
    /* Besides translations, the CPU may cache entries of the upper levels
     * (the "paging-structure caches", SDM 4.10.3), even ones no access has
     * used yet. A cached PD entry would still point to a PT we just gave
     * back; invlpg of any address drops all of them (SDM 4.10.4.1). */
    invlpg(start);
}

enum vmm_status vfree(void *ptr)
{
    if (ptr == NULL)
        return VMM_OK;
    size_t at = area_index((uintptr_t)ptr);
    if (at == area_count) {
        vmm_stats.warnings++;
        kprintf("vmm: warning: vfree(%p): not the start of a valloc area\n", ptr);
        return VMM_NOT_AN_AREA;
    }
    struct valloc_area area = areas[at];
    for (size_t i = 0; i < area.pages; i++) {
        phys_addr_t frame;
        /* A page may be unmapped already: valloc ran out of memory before it. */
        if (vmm_unmap(vmm_kernel_space(), area.start + i * PAGE_SIZE, &frame) == VMM_OK)
            pmm_free_frame(frame);
    }
    free_empty_tables(area.start, area.start + area.pages * PAGE_SIZE);
    memmove(&areas[at], &areas[at + 1], (area_count - at - 1) * sizeof(areas[0]));
    area_count--;
    vmm_stats.areas--;
    vmm_stats.area_pages -= area.pages;
    return VMM_OK;
}

bool valloc_find(uintptr_t address, struct valloc_area *area)
{
    for (size_t at = 0; at < area_count; at++) {
        if (address >= areas[at].start && address < span_end(&areas[at])) {
            *area = areas[at];
            return true;
        }
    }
    return false;
}
