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
    /* TODO(practice 2): the contract is in vmm.h; afterwards the invariants
     * above hold. The area is the lowest gap of the window with room for it
     * and its guard page (first fit). No one may ever see a previous owner's
     * data in it, not even for an instant. Out of memory half-way: NULL, and
     * nothing this call took is kept (homework 1 checks this).
     * Pitfall: what is (npages + 1) * PAGE_SIZE for npages = SIZE_MAX?
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
    /* TODO(practice 2): the contract is in vmm.h: the live area whose pages
     * *or guard page* hold `address`, copied into *area. vmm_describe_fault
     * names the area with it ("guard page after the valloc area at ...").
     * Pitfall: an address one byte past an area's last page: whose is it?
     * Test: guard_page_write_faults_and_is_named. */
    NOT_WRITTEN("practice 2");
    (void)address, (void)area, (void)areas, (void)area_count;
    return false;
}

/* ---- homework 1: vfree ------------------------------------------------------ */

enum vmm_status vfree(void *ptr)
{
    /* TODO(homework 1): the contract is in vmm.h. Afterwards the invariants
     * above hold: no page of the area is mapped (and the CPU reaches none of
     * them), its frames are free, and so is every page table of the window
     * that maps nothing, the window's PDPT excepted. A refused pointer
     * changes nothing but the warning count. valloc may have run out of
     * memory half-way through the area.
     * Pitfall: the CPU may cache upper-level entries too (SDM 4.10.3). What
     * can a cached PD entry still point to once a PT is freed?
     * Tests: vfree_gives_back_frames_and_tables, vfree_rejects_bad_pointers,
     * freed_area_faults_and_is_reused, valloc_out_of_memory_gives_back_every_frame. */
    NOT_WRITTEN("homework 1");
    (void)ptr;
    return VMM_NOT_WRITTEN;
}
