/* kheap.c - the kernel heap as a bump allocator. You write it.
 *
 * The window [heap_start, heap_end) is virtual address space kept free for
 * the heap (KHEAP_START..KHEAP_END, kheap.h); no memory backs it at boot.
 * Blocks are handed out from the bottom up, and a page of the window is
 * mapped onto a PMM frame the first time a block reaches it:
 *
 *   heap_start            heap_curr   heap_mapped                  heap_end
 *   |### blocks handed out ###|.........|------- not mapped -------|
 *
 * Invariants (between calls; every function may rely on them and must keep
 * them):
 *   - heap_start <= heap_curr <= heap_mapped <= heap_end;
 *   - heap_curr is a multiple of KHEAP_MIN_ALIGN, and heap_mapped ==
 *     ALIGN_UP(heap_curr, PAGE_SIZE): a page is mapped exactly when a block
 *     touches it, each page onto a frame of its own;
 *   - a call that fails (returns NULL) changes nothing but the counters.
 *
 * Practice (in class): map_up_to, kheap_init, kmalloc, kcalloc.
 * Homework: 1. kfree  2. kmalloc_aligned  3. the counters.
 * Run the tests with `make test-lesson15` or `grader/grade 15`; each TODO
 * names its own. Every public function runs inside the interrupt guard
 * (irq_save/irq_restore, common/irq_guard.h); the handout says why.
 */
#include "irq_guard.h"
#include "kheap.h"
#include "kprintf.h"
#include "paging.h"
#include "pmm.h"
#include "string.h"

#define HEAP_PAGE_FLAGS (PTE_WRITABLE | PTE_NO_EXECUTE) /* data: never code */

/* GDB's `kheap` command reads these by name: keep the names. (The
 * attribute only silences "unused" until your code uses them.) */
[[maybe_unused]] static uintptr_t heap_start, heap_curr, heap_mapped, heap_end;
static struct kheap_stats heap_stats; /* homework 3 */
static struct kheap_report heap_last; /* homework 1: the last warning */

/* TODO(practice): map every page of [heap_mapped, end) onto a fresh PMM
 * frame (pmm_alloc_frame, paging_map onto paging_kernel_pml4() with
 * HEAP_PAGE_FLAGS), moving heap_mapped up; `end` is a multiple of PAGE_SIZE,
 * at most heap_end. Return true when all are mapped.
 * Pitfall: the PMM may run out halfway (of frames for the pages, or for the
 * page tables paging_map creates: PAGING_NO_MEMORY). Then unmap what this
 * call mapped, give every frame back (paging_unmap tells you which) and
 * return false, leaving the heap exactly as it was.
 * Tests: failed_mapping_gives_frames_back, heap_pages_are_mapped_only_as_needed. */
[[maybe_unused]] static bool map_up_to(uintptr_t end)
{
    (void)end;
    return false;
}

/* TODO(practice): an empty heap over the window, nothing mapped. Calling it
 * again starts a fresh heap (the tests do, before each test): every page of
 * the window that is mapped is unmapped and its frame given back, whatever
 * state the previous heap was left in, and every counter restarts.
 * Tests: kheap_init_gives_every_frame_back, heap_pages_are_mapped_only_as_needed. */
void kheap_init(void) {}

/* TODO(practice): a block of at least `size` bytes at heap_curr, or NULL if
 * the window (or the PMM) has no room. Contract in kheap.h.
 *   - Blocks start on multiples of KHEAP_MIN_ALIGN: round sizes up.
 *   - kmalloc(0) is a block of its own, not NULL: two calls differ.
 *   - Pitfall: `heap_curr + size > heap_end` is not a size check. For a
 *     huge size the sum wraps past 2^64 to a small address and the request
 *     gets through. Compare the size with the room left instead, and mind
 *     that rounding up a huge size can wrap to 0 as well.
 *   - Map (map_up_to) before moving heap_curr; if mapping fails, fail.
 * Tests: kmalloc_results_are_16_byte_aligned,
 * kmalloc_blocks_are_distinct_and_do_not_overlap,
 * kmalloc_zero_returns_distinct_pointers, every_returned_byte_is_writable,
 * heap_pages_are_mapped_only_as_needed, write_past_the_mapped_part_faults,
 * kmalloc_fills_the_window_exactly, huge_sizes_return_null_without_wrapping. */
void *kmalloc(size_t size)
{
    (void)size;
    return NULL;
}

/* TODO(practice): n * size bytes, zeroed (a frame may hold an earlier
 * user's data). Pitfall: n * size can wrap past SIZE_MAX to a small number;
 * kcalloc(2^63 + 1, 2) must not return a 2-byte block. Such a product gets
 * NULL (and counts as a failed call, homework 3).
 * Tests: kcalloc_zeroes_dirty_memory, kcalloc_rejects_overflowing_products. */
void *kcalloc(size_t n, size_t size)
{
    (void)n;
    (void)size;
    return NULL;
}

/* TODO(homework 2): a block of `size` bytes at a multiple of `align`, any
 * power of two the window can satisfy (1 and 2 too: every block is 16-byte
 * aligned anyway). 0, 3, 24 or any other align gives NULL. No header: skip
 * the bytes up to the next multiple of align; they count as used. Less than
 * `align` bytes may be skipped, and none after the block.
 * Pitfall: ALIGN_UP(heap_curr, 2^63) wraps. Check the padding against the
 * room left, as kmalloc checks the size. Share kmalloc's path rather than
 * copy it: kmalloc is kmalloc_aligned(size, KHEAP_MIN_ALIGN).
 * Tests: kmalloc_aligned_honours_every_power_of_two,
 * kmalloc_aligned_rejects_bad_alignments. */
void *kmalloc_aligned(size_t size, size_t align)
{
    (void)size;
    (void)align;
    return NULL;
}

/* TODO(homework 1): a bump heap reclaims nothing, so kfree only checks and
 * counts. kfree(NULL) does nothing at all. Any other call counts in
 * heap_stats.frees; a pointer outside [heap_start, heap_curr), or not a
 * multiple of KHEAP_MIN_ALIGN, is no block's start: report it as a counted
 * warning (a line on the console starting "kheap: warning: kfree(", the
 * report in heap_last with KHEAP_BAD_FREE and the address, bad_frees + 1).
 * Tests: kfree_counts_frees_and_ignores_null, kfree_reports_foreign_pointers,
 * kfree_reports_misaligned_pointers. */
void kfree(void *ptr)
{
    (void)ptr;
}

/* TODO(homework 3): the counters, as kheap.h defines them. `requested`,
 * `allocations` and `failures` are counted where every allocation passes
 * exactly once, failed ones too; `capacity`, `used`, `peak` and
 * `pages_mapped` are filled in here. `used` and `peak` need no counter of
 * their own: the state says both. (What kfree counts shows here already.)
 * Tests: stats_count_bytes_and_calls_exactly,
 * stats_count_failures_and_nothing_else, stats_include_alignment_padding. */
void kheap_get_stats(struct kheap_stats *out)
{
    *out = heap_stats;
}

/* Given: the last warning, for the tests (kheap.h). */
bool kheap_last_report(struct kheap_report *out)
{
    *out = heap_last;
    return heap_last.problem != KHEAP_NO_PROBLEM;
}
