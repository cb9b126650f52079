/* kheap_freelist.c - the bonus: a kernel heap that reuses freed memory.
 *
 * Built instead of kheap.c by `make lesson15 KHEAP=freelist` (and tested by
 * tests_freelist.c: `make test-lesson15 KHEAP=freelist`). Same interface
 * (kheap.h), same 2 MiB window, mapped on demand as before. Everything here
 * is a stub that compiles and fails the bonus tests; replace it.
 *
 * TODO(bonus): the lesson's "possible improvements", as a design you write
 * down in this header before coding it (Linux's mm/slub.c opens with one).
 * The tests (all bonus, 38 points) rely on the few choices stated here.
 *
 *   1. Size classes with free lists. Serve requests up to 2048 bytes from
 *      classes of 16, 32, 48, 64, 96, 128, ..., 1536 and 2048 bytes: the
 *      powers of two and the sizes halfway between them, cut from the start
 *      of a page (without debug checks a 40-byte block takes a 48-byte
 *      slot). Each class keeps a list of its free slots, linked through the
 *      free slots themselves, so kmalloc and kfree are O(1): pop and push. The most recently freed
 *      block of a class is the next one handed out (LIFO). An empty class
 *      takes a page of the window, maps it and cuts it into slots, handed
 *      out lowest first. Keep one small descriptor per page of the window
 *      (outside the window) saying what the page holds, so kfree can find a
 *      block's class from its address. kmalloc_aligned: a slot is aligned
 *      to the largest power of two that divides its size (a 96-byte slot to
 *      32), so pick a class that is big enough and aligned enough. kfree of
 *      anything but a block's start is a counted warning (KHEAP_BAD_FREE);
 *      unlike kheap.c, this heap knows where blocks start, so a pointer
 *      inside a block is one too, and so is the unused end of a slab.
 *      Tests: fl_results_are_aligned_and_distinct,
 *      fl_kmalloc_zero_returns_distinct_pointers,
 *      fl_huge_sizes_and_overflowing_products_return_null,
 *      fl_kcalloc_zeroes_a_reused_block,
 *      fl_kmalloc_aligned_honours_every_power_of_two,
 *      fl_failed_mapping_gives_frames_back, fl_freed_block_is_reused,
 *      fl_exhaustion_and_reuse, fl_halfway_classes_fit_closely,
 *      fl_bad_frees_are_reported, fl_stats_after_a_scripted_sequence
 *      (`used` counts what is allocated now, so it goes down on kfree).
 *
 *   2. A page per block for large requests (more than 2048 bytes): whole
 *      pages, each mapped onto its own PMM frame; kfree unmaps them and
 *      gives the frames back to the PMM. A large block counts its whole
 *      pages in `used`. A pointer into a large block's pages, other than
 *      its start, is a bad free that names the block (its address and the
 *      size asked for). The heap remembers a freed large block until its
 *      pages are reused: a second kfree of it is a double free naming the
 *      block and its size, although its pages are gone.
 *      Tests: fl_large_blocks_return_frames_to_the_pmm,
 *      fl_double_free_is_reported, fl_bad_frees_are_reported,
 *      fl_stats_after_a_scripted_sequence.
 *
 *   3. A debug mode, on in this kernel, off with kheap_set_debug(false).
 *      Each report is a counted warning (kheap_stats and kheap_last_report)
 *      naming the block's address, the size asked for and the address of
 *      the first bad byte:
 *      - a redzone after each block, filled with a known byte and checked
 *        on kfree: fl_redzone_overwrite_is_reported;
 *      - poison: fill freed memory with a known byte and check it when the
 *        block is handed out again: fl_write_after_free_is_reported;
 *      - double-free detection: fl_double_free_is_reported;
 *      - an unmapped guard page after each large block:
 *        fl_large_block_guard_page_faults.
 *      In debug mode a slot holds the block *and* its redzone and
 *      bookkeeping: a request of up to 2048 bytes whose slot would then be
 *      larger than 2048 bytes (e.g. 2040 bytes) is served as a large block,
 *      whose redzone is the rest of its last page. A 16-byte block may cost
 *      at most 64 bytes in debug mode (fl_exhaustion_and_reuse).
 *      Without debug mode a 16-byte block costs 16 bytes
 *      (fl_debug_off_packs_16_byte_blocks), the link of a free block sits in
 *      its first 8 bytes, and two cheap checks stay:
 *      - a link is checked before it is followed. A bad one was overwritten
 *        after the free: the block whose link it is is still handed out, the
 *        problem is reported as a write after free (KHEAP_USE_AFTER_FREE,
 *        counted in poison_errors) naming that block, and the rest of that
 *        class's list is dropped (never followed): the class goes on with
 *        fresh slots;
 *      - freeing the block at the head of its list is a double free.
 *      Test: fl_debug_off_detects_an_overwritten_link.
 *
 * kheap_dump (kheap_dump.c) prints the counters and the pages the page
 * tables map, through kheap_get_stats. Define kheap_dump_details (kheap.h)
 * to add what only your design knows: what each page holds, how full each
 * size class is. GDB's `kheap` command reads `heap_stats` if your heap
 * keeps its counters under that name, and the page tables in any case.
 */
#include "kheap.h"
#include "kprintf.h"
#include "not_written.h"

void kheap_init(void)
{
    NOT_WRITTEN("bonus");
}

void kheap_set_debug(bool on)
{
    NOT_WRITTEN("bonus");
    (void)on;
    kheap_init();
}

void *kmalloc(size_t size)
{
    NOT_WRITTEN("bonus");
    (void)size;
    return NULL;
}

void *kcalloc(size_t n, size_t size)
{
    NOT_WRITTEN("bonus");
    (void)n;
    (void)size;
    return NULL;
}

void *kmalloc_aligned(size_t size, size_t align)
{
    NOT_WRITTEN("bonus");
    (void)size;
    (void)align;
    return NULL;
}

void kfree(void *ptr)
{
    NOT_WRITTEN("bonus");
    (void)ptr;
}

void kheap_get_stats(struct kheap_stats *out)
{
    NOT_WRITTEN("bonus");
    *out = (struct kheap_stats){.capacity = KHEAP_SIZE};
}

bool kheap_last_report(struct kheap_report *out)
{
    NOT_WRITTEN("bonus");
    *out = (struct kheap_report){.problem = KHEAP_NO_PROBLEM};
    return false;
}
