/* pmm.c - the physical memory manager: one bit per 4 KiB frame of RAM.
 *
 * You write this file. Each function below is a stub with its contract and
 * the tests that check it (tests.c); the handout (README.md) explains the
 * ideas and the traps. Work in order: practice 1-3 in class, then homework
 * 1-3. Given, in files you do not edit: the counters' getters and the status
 * names (pmm_info.c), the printers of the demo (pmm_print.c), the boot memory
 * map (`boot_info`, multiboot2.h) and the direct map (phys_to_virt).
 *
 * State: `pmm`, a struct pmm_state (pmm.h). Frame f is bit f % 64 of word
 * f / 64 in both bitmaps, and starts at physical address f * PAGE_SIZE.
 *   used         1 = allocated or reserved, 0 = free
 *   reserved     1 = never ours to hand out (not RAM, or taken before the
 *                PMM existed); fixed once built
 *   frame_count  how many frames the bitmaps describe: 0 .. frame_count - 1
 *   next_search  the frame where the next search for a free frame begins
 *   stats        the counters of struct pmm_stats
 *
 * Invariants (the tests check each of them):
 *   - reserved implies used; frame 0 is always reserved (0 is PMM_NO_FRAME);
 *   - a frame is free only if it lies wholly inside a usable region of the
 *     map and touches no other region and no reserved range;
 *   - stats.free_frames == the 0 bits of `used`, stats.total_frames == the
 *     0 bits of `reserved` (both over frames 0 .. frame_count - 1);
 *   - next_search is only a hint: any value must still find every free frame.
 *
 * TODO(homework 3): keep the other counters of struct pmm_stats up to date
 * wherever they change: frames_allocated, frames_freed, failed_allocations
 * (every call that returns PMM_NO_FRAME), rejected_frees (homework 1) and
 * peak_used_frames (the most frames in use at one time).
 * Tests: stats_count_allocations_and_frees, stats_track_peak_and_failures.
 *
 * Concurrency: one CPU with interrupts disabled, so no lock.
 */
#include "pmm.h"
#include "kprintf.h"
#include "not_written.h"
#include "panic.h"
#include "paging.h"
#include "string.h"

struct pmm_state pmm;

/* ---- practice 1: the bitmaps from a memory map ----------------------------- */

size_t pmm_storage_size(phys_addr_t memory_end)
{
    /* TODO(practice 1): the bytes both bitmaps need to describe every frame
     * below memory_end (never above PMM_MEMORY_LIMIT): whole uint64_t words,
     * the same number for `used` and for `reserved`.
     * Test: storage_size_covers_both_bitmaps. */
    NOT_WRITTEN("practice 1");
    return 0;
}

void pmm_init_map(const struct memory_region *map, size_t map_count,
                  const struct phys_range *reserved, size_t reserved_count, uint64_t *storage,
                  size_t storage_size)
{
    /* TODO(practice 1): forget the previous state and build `pmm` from this
     * map in `storage`: `used` in its first half, `reserved` in its second.
     * frame_count ends at the end of the highest usable region, but never
     * past PMM_MEMORY_LIMIT nor past what half of storage_size can describe.
     * Afterwards every invariant above holds, whatever the order of the map's
     * entries and however they overlap.
     * Pitfall: where does an entry end whose base + length is past 2^64?
     * Tests: map_usable_region_frames_are_free, map_overlapping_regions,
     * map_unsorted_regions, map_zero_length_and_unaligned_regions,
     * map_empty_reserved_entries_reserve_nothing, map_region_straddling_the_kernel,
     * map_memory_beyond_the_bitmap_is_ignored, map_without_usable_memory,
     * map_never_hands_out_frame_zero, map_region_wrapping_past_2_64. */
    NOT_WRITTEN("practice 1");
}

/* ---- practice 2: one frame at a time --------------------------------------- */

phys_addr_t pmm_alloc_frame(void)
{
    /* TODO(practice 2): take a free frame - the first one found from
     * next_search on, wrapping round to frame 0 - mark it used and return its
     * address; PMM_NO_FRAME when none is free.
     * Pitfall: the last word of `used` may have bits for frames past
     * frame_count. Can one of them be handed out?
     * Tests: alloc_hands_out_every_free_frame_once, alloc_search_wraps_past_the_hint,
     * and (with practice 3) frames_never_inside_reserved_memory. */
    NOT_WRITTEN("practice 2");
    return PMM_NO_FRAME;
}

enum pmm_status pmm_free_frame(phys_addr_t frame)
{
    /* TODO(practice 2): give a frame from pmm_alloc_frame back: it is free
     * again and counted as free; when it is the lowest free frame, the next
     * pmm_alloc_frame hands it out. Pitfall: where does the next search start?
     * Test: free_makes_the_frame_available_again.
     *
     * TODO(homework 1): refuse anything else with the status pmm.h names
     * for it. An address can be wrong in several ways at once: the tests
     * expect the first status of pmm.h's list that applies, and no check may
     * read the bitmaps outside the frames they cover. A refused free
     * warns on the console with the address and pmm_status_name(), adds 1 to
     * stats.rejected_frees and changes nothing else.
     * Tests: free_rejects_double_free, free_rejects_bad_addresses. */
    NOT_WRITTEN("practice 2");
    (void)frame;
    return PMM_NOT_WRITTEN;
}

/* ---- practice 3: the boot PMM ---------------------------------------------- */

void pmm_init(void)
{
    /* TODO(practice 3): the kernel's PMM, over boot_info.memory_map. The
     * reservation rules are yours: afterwards no frame that anything was using
     * before the PMM existed is free. The bitmaps lie in usable RAM below
     * PMM_MEMORY_LIMIT, page-aligned, touching nothing reserved and no region
     * that is not usable, and are never handed out either. Page tables made
     * from then on come from the PMM. No room for the bitmaps, or no usable
     * frame at all: a panic that says why, starting "pmm:".
     * Pitfall: what did GRUB load besides the kernel, and where is the very
     * list of memory regions you are reading?
     * Tests: total_matches_memory_map, frames_never_inside_reserved_memory,
     * boot_modules_are_reserved, bitmaps_are_in_usable_ram_and_reserved,
     * page_tables_come_from_the_pmm. */
    NOT_WRITTEN("practice 3");
}

/* ---- homework 2: contiguous runs ------------------------------------------- */

phys_addr_t pmm_alloc_frames(size_t count)
{
    /* TODO(homework 2): `count` free frames in a row (the first run that is
     * long enough), all marked used; the first one's address. PMM_NO_FRAME
     * when count is 0 or no run is long enough. A run may cross words, and
     * must not cross a used or reserved frame.
     * Tests: alloc_frames_returns_a_contiguous_run, alloc_frames_skips_holes,
     * alloc_frames_rejects_bad_requests. */
    NOT_WRITTEN("homework 2");
    return PMM_NO_FRAME;
}

enum pmm_status pmm_free_frames(phys_addr_t first, size_t count)
{
    /* TODO(homework 2): check every frame of the run as pmm_free_frame does
     * (homework 1) before releasing any; if all are fine release them all,
     * otherwise release none and refuse with the first problem. Beware of
     * first + count * PAGE_SIZE when count is huge.
     * Tests: alloc_frames_returns_a_contiguous_run, alloc_frames_rejects_bad_requests. */
    NOT_WRITTEN("homework 2");
    (void)first, (void)count;
    return PMM_NOT_WRITTEN;
}
