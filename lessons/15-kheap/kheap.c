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
#include "not_written.h"
#include "paging.h"
#include "pmm.h"
#include "string.h"
#include "x86.h"

#define HEAP_PAGE_FLAGS (PTE_WRITABLE | PTE_NO_EXECUTE) /* data: never code */

/* GDB's `kheap` command reads these by name: keep the names. (The
 * attribute only silences "unused" until your code uses them.) */
[[maybe_unused]] static uintptr_t heap_start, heap_curr, heap_mapped, heap_end;
static struct kheap_stats heap_stats; /* homework 3 */
static struct kheap_report heap_last; /* homework 1: the last warning */

/* TODO(practice): afterwards every page of [heap_start, end) is mapped,
 * writable and no-execute (HEAP_PAGE_FLAGS), each onto a frame of its own,
 * and heap_mapped == end; true. `end` is a multiple of PAGE_SIZE, at most
 * heap_end. If that cannot be done: false, and the page tables, the PMM's
 * free frames and heap_mapped are exactly as they were before the call.
 * Pitfall: the PMM runs out while a 2 MiB part of the window gets its very
 * first page. What else did that page need from the PMM, and who gives it
 * back?
 * Tests: failed_mapping_gives_frames_back, heap_pages_are_mapped_only_as_needed. */
[[maybe_unused]] static bool map_up_to(uintptr_t end)
{
    NOT_WRITTEN("practice");
    (void)end;
    return false;
}

/* TODO(practice): an empty heap over the window, nothing mapped. Calling it
 * again starts a fresh heap (the tests do, before each test): every page of
 * the window that is mapped is unmapped and its frame given back, whatever
 * state the previous heap was left in, and every counter restarts.
 * Pitfall: after paging_unmap returns, can a write to that page still reach
 * the frame you just gave back?
 * Tests: kheap_init_gives_every_frame_back, heap_pages_are_mapped_only_as_needed,
 * write_past_the_mapped_part_faults. */
void kheap_init(void)
{
    NOT_WRITTEN("practice");
}

/* TODO(practice): the contract is in kheap.h: a block of at least `size`
 * bytes in the window, overlapping no other, every byte of it mapped;
 * kmalloc(0) is a block of its own. NULL if the window or the PMM has no
 * room, and then nothing has changed (the counters aside). The invariants
 * above hold after every call.
 * Pitfall: what does `heap_curr + size` give when size is near 2^64?
 * Tests: kmalloc_results_are_16_byte_aligned,
 * kmalloc_blocks_are_distinct_and_do_not_overlap,
 * kmalloc_zero_returns_distinct_pointers, every_returned_byte_is_writable,
 * heap_pages_are_mapped_only_as_needed, write_past_the_mapped_part_faults,
 * kmalloc_fills_the_window_exactly, huge_sizes_return_null_without_wrapping. */
void *kmalloc(size_t size)
{
    NOT_WRITTEN("practice");
    (void)size;
    return NULL;
}

/* TODO(practice): a block for n elements of `size` bytes, every byte zero,
 * as kmalloc gives blocks; NULL (a failed call, homework 3) if n * size
 * bytes is more than a size_t can count.
 * Pitfall: what does kcalloc(2^63 + 1, 2) ask kmalloc for?
 * Tests: kcalloc_zeroes_dirty_memory, kcalloc_rejects_overflowing_products. */
void *kcalloc(size_t n, size_t size)
{
    NOT_WRITTEN("practice");
    (void)n;
    (void)size;
    return NULL;
}

/* TODO(homework 2): a block of `size` bytes at a multiple of `align`, for
 * any power of two the window can satisfy (1 and 2 too); NULL for 0, 3, 24
 * or any other align. No header: fewer than `align` bytes may be skipped
 * before the block, none after it, and the skipped bytes count as used.
 * kmalloc's contract and the invariants hold for these blocks too.
 * Pitfall: what is ALIGN_UP(heap_curr, 2^63)?
 * Tests: kmalloc_aligned_honours_every_power_of_two,
 * kmalloc_aligned_rejects_bad_alignments. */
void *kmalloc_aligned(size_t size, size_t align)
{
    NOT_WRITTEN("homework 2");
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
    NOT_WRITTEN("homework 1");
    (void)ptr;
}

/* TODO(homework 3): the counters, each as kheap.h defines it; `used` is
 * given (the practice tests read it).
 * Pitfall: kmalloc_aligned(1, 3) and kcalloc(SIZE_MAX, 2) fail. Which
 * counters move, and by how much?
 * Tests: stats_count_bytes_and_calls_exactly,
 * stats_count_failures_and_nothing_else, stats_include_alignment_padding. */
void kheap_get_stats(struct kheap_stats *out)
{
    NOT_WRITTEN("homework 3");
    *out = heap_stats;
    out->used = heap_curr - heap_start; /* given: the bytes blocks took, padding included */
}

/* Given: the last warning, for the tests (kheap.h). */
bool kheap_last_report(struct kheap_report *out)
{
    *out = heap_last;
    return heap_last.problem != KHEAP_NO_PROBLEM;
}
