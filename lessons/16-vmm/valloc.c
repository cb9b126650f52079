/* valloc.c - the kernel's allocator of virtual areas: whole pages,
 * virtually contiguous, in the window [VALLOC_START, VALLOC_END), each page
 * backed by its own PMM frame.
 *
 * The lecture's code works as it is; vfree is homework 1, marked
 * TODO(homework 1): the tests named there fail until it is done.
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
 *   - every page of a live area is mapped, writable and no-execute, to a
 *     frame no one else uses; no guard page is ever mapped; nothing outside
 *     the live areas is mapped in the window;
 *   - a page table of the window exists only while it maps some page (the
 *     window's PDPT excepted: it is the shared PML4 entry, see vmm_init);
 *     vfree keeps this one once homework 1 is done;
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

enum vmm_status vfree(void *ptr)
{
    /* TODO(homework 1): give the area starting at `ptr` back.
     *   - NULL: do nothing, return VMM_OK.
     *   - Not the start of a live area (inside one, freed already, never
     *     allocated): print a warning, count it in vmm_stats.warnings and
     *     return VMM_NOT_AN_AREA, changing nothing else.
     *   - Otherwise unmap each page (vmm_unmap flushes the TLB) and give its
     *     frame to the PMM; a page may be unmapped already if valloc ran out
     *     of memory half-way. Then free the window's page tables the area
     *     left empty - PTs, then PDs, never the PDPT (every space's PML4
     *     points to it) - and invlpg once more afterwards: the CPU may cache
     *     upper-level entries too (SDM 4.10.3). Last, remove the area from
     *     `areas` and the counters.
     * valloc calls vfree to undo a half-built area, so this also fixes
     * valloc running out of memory.
     * Tests: vfree_gives_back_frames_and_tables, vfree_rejects_bad_pointers,
     * freed_area_faults_and_is_reused, valloc_out_of_memory_gives_back_every_frame. */
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
