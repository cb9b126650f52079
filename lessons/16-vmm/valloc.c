/* valloc.c - the kernel's allocator of virtual areas: whole pages,
 * virtually contiguous, in the window [VALLOC_START, VALLOC_END), each page
 * backed by its own PMM frame, each area followed by an unmapped guard page.
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
 * Placement is first fit: the lowest gap big enough for the pages and the
 * guard. Freed space is reused and the window stays compact. With at most
 * VALLOC_MAX_AREAS areas a scan is fast enough; Linux keeps its vmalloc
 * areas in a red-black tree.
 *
 * Practice 2 (in class): valloc and valloc_find. Homework 1: vfree. Each
 * stub names the tests that check it.
 */
#include "vmm.h"
#include "kprintf.h"
#include "not_written.h"
#include "pmm.h"
#include "string.h"
#include "x86.h"

static struct valloc_area areas[VALLOC_MAX_AREAS];
static size_t area_count;

/* ---- practice 2: valloc ---------------------------------------------------- */

void *valloc(size_t npages)
{
    /* TODO(practice 2): the contract is in vmm.h.
     *   - Find the lowest gap of the window with room for npages pages and
     *     the guard page after them, and record the area (kept sorted, and
     *     counted in vmm_stats.areas and vmm_stats.area_pages).
     *   - Back each page with its own frame, zeroed *before* it is mapped
     *     (no one may ever see the previous owner's data), mapped
     *     VALLOC_PAGE_FLAGS in the kernel's space, so in every space.
     *   - Out of frames half-way: give back what this call took (homework 1
     *     gives you vfree for that; valloc_out_of_memory_gives_back_every_frame
     *     checks it), and return NULL.
     * Pitfalls: (npages + 1) * PAGE_SIZE wraps for a huge npages, so refuse
     * too many pages before any arithmetic; the table may be full.
     * Tests: valloc_memory_is_aligned_mapped_zeroed_writable,
     * valloc_areas_are_apart_with_a_guard_page,
     * guard_page_write_faults_and_is_named, valloc_memory_is_not_executable,
     * valloc_rejects_bad_sizes. */
    NOT_WRITTEN("practice 2");
    (void)npages;
    return NULL;
}

bool valloc_find(uintptr_t address, struct valloc_area *area)
{
    /* TODO(practice 2): the live area whose pages *or guard page* hold
     * `address`, copied into *area. vmm_describe_fault names the area with
     * it ("guard page after the valloc area at ...").
     * Test: guard_page_write_faults_and_is_named. */
    NOT_WRITTEN("practice 2");
    (void)address, (void)area, (void)areas, (void)area_count;
    return false;
}

/* ---- homework 1: vfree ------------------------------------------------------ */

enum vmm_status vfree(void *ptr)
{
    /* TODO(homework 1): give the area starting at `ptr` back.
     *   - NULL: nothing to do, VMM_OK.
     *   - Not the start of a live area (inside one, its guard page, freed
     *     already, never allocated): a warning on the console, counted in
     *     vmm_stats.warnings, VMM_NOT_AN_AREA, and nothing else changes.
     *   - Otherwise: each page unmapped and its frame given to the PMM (a
     *     page may be unmapped already, if valloc ran out of memory half-
     *     way); then the window's page tables the area left empty: PTs, then
     *     PDs, never the PDPT (every space's PML4 points to it); then the
     *     area leaves `areas` and the counters.
     * Pitfalls: "empty" (all 512 entries zero) decides, not "mine": another
     * area may share the PT. vmm_unmap forgets the pages' translations, but
     * the CPU may also cache upper-level entries, the PD entry of a freed PT
     * included (SDM 4.10.3): one more invlpg after freeing tables.
     * Tests: vfree_gives_back_frames_and_tables, vfree_rejects_bad_pointers,
     * freed_area_faults_and_is_reused, valloc_out_of_memory_gives_back_every_frame. */
    NOT_WRITTEN("homework 1");
    (void)ptr;
    return VMM_NOT_WRITTEN;
}
