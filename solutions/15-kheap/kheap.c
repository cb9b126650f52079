/* kheap.c - the kernel heap as a bump allocator (reference solution).
 *
 * The window [heap_start, heap_end) is virtual address space kept free for
 * the heap; no memory backs it at boot. Blocks are handed out from the
 * bottom up, and a page of the window is mapped onto a PMM frame the first
 * time a block reaches it:
 *
 *   heap_start            heap_curr   heap_mapped                  heap_end
 *   |### blocks handed out ###|.........|------- not mapped -------|
 *
 * Invariants (between calls):
 *   - heap_start <= heap_curr <= heap_mapped <= heap_end;
 *   - heap_curr is a multiple of KHEAP_MIN_ALIGN, and heap_mapped ==
 *     ALIGN_UP(heap_curr, PAGE_SIZE): a page is mapped exactly when a block
 *     touches it, each page onto a frame of its own.
 * `used` and `peak` are not counted: heap_curr says both.
 *
 * Every size check is made against the room left, heap_end - heap_curr,
 * never as heap_curr + size > heap_end: that sum wraps around past 2^64
 * for a huge size and would let the request through.
 *
 * Freeing: a bump allocator can only take back the block just below
 * heap_curr, so kfree takes back nothing. It still checks the pointer (that
 * is where heap corruption shows first) and counts the call. A kernel can
 * live like this early on: what it allocates at boot (page tables, tables of
 * devices, per-CPU data) is needed until power-off anyway.
 *
 * Every public function runs inside the interrupt guard (irq_guard.h).
 */
#include "irq_guard.h"
#include "kheap.h"
#include "kprintf.h"
#include "paging.h"
#include "pmm.h"
#include "string.h"
#include "x86.h"

#define HEAP_PAGE_FLAGS (PTE_WRITABLE | PTE_NO_EXECUTE) /* data: never code */

static uintptr_t heap_start, heap_curr, heap_mapped, heap_end;
static struct kheap_stats heap_stats;
static struct kheap_report heap_last;

/* ---- mapping the window ------------------------------------------------- */

/* Unmaps the heap page at `page`, if it is mapped, and gives its frame back.
 * paging_unmap edits the table only: the CPU may still hold the page's
 * translation, and would keep reaching a frame the PMM hands to someone else. */
static void release_page(uintptr_t page)
{
    phys_addr_t frame;
    if (paging_unmap(paging_kernel_pml4(), page, &frame) != PAGING_OK)
        return;
    invlpg(page);
    pmm_free_frame(frame);
}

/* Unmaps the pages of [end, heap_mapped) and gives their frames back. */
static void unmap_down_to(uintptr_t end)
{
    while (heap_mapped > end) {
        heap_mapped -= PAGE_SIZE;
        release_page(heap_mapped);
    }
}

/* Maps every page below `end` (at most heap_end) that is not mapped yet,
 * each onto a fresh PMM frame. If the PMM runs out (of frames for the pages
 * or for page tables), unmaps what this call mapped, gives the frames back
 * and returns false: the heap is then exactly as it was. */
static bool map_up_to(uintptr_t end)
{
    uintptr_t old_mapped = heap_mapped;
    while (heap_mapped < end) {
        phys_addr_t frame = pmm_alloc_frame();
        if (frame == PMM_NO_FRAME)
            break;
        enum paging_status status =
            paging_map(paging_kernel_pml4(), heap_mapped, frame, HEAP_PAGE_FLAGS);
        if (status != PAGING_OK) {
            if (status != PAGING_NO_MEMORY)
                kprintf("kheap: warning: cannot map %p: %s\n", (void *)heap_mapped,
                        paging_status_name(status));
            pmm_free_frame(frame);
            break;
        }
        heap_mapped += PAGE_SIZE;
    }
    if (heap_mapped >= end)
        return true;
    unmap_down_to(old_mapped);
    return false;
}

/* ---- allocation --------------------------------------------------------- */

void kheap_init(void)
{
    uint64_t flags = irq_save();
    /* A fresh heap: whatever an earlier heap mapped goes back to the PMM.
     * Every page of the window is tried, so this works whatever state the
     * previous heap was left in (even by a test that crashed). */
    for (uintptr_t page = KHEAP_START; page < KHEAP_END; page += PAGE_SIZE)
        release_page(page);
    heap_start = heap_curr = heap_mapped = KHEAP_START;
    heap_end = KHEAP_END;
    heap_stats = (struct kheap_stats){.capacity = KHEAP_SIZE};
    heap_last = (struct kheap_report){.problem = KHEAP_NO_PROBLEM};
    irq_restore(flags);
}

/* The block of `size` bytes (rounded up to KHEAP_MIN_ALIGN; 0 counts as 1)
 * at the first multiple of `align` at or after heap_curr, or NULL with
 * nothing changed. `align` is a power of two, at least KHEAP_MIN_ALIGN. */
static void *bump(size_t size, size_t align)
{
    /* Check the room. The padding is the distance to the next multiple of
     * align, computed without forming an address that could wrap (align may
     * be 2^63). */
    size_t room = heap_end - heap_curr;
    size_t padding = (align - heap_curr % align) % align;
    if (padding > room)
        return NULL;
    room -= padding;
    size_t block = size == 0 ? 1 : size;
    if (block > room)
        return NULL;
    /* Rounding cannot overflow (block <= 2 MiB) nor pass room, which is a
     * multiple of 16: heap_curr, heap_end and padding all are. */
    block = ALIGN_UP(block, KHEAP_MIN_ALIGN);

    /* Map what the block reaches beyond the mapped part, then bump. */
    uintptr_t start = heap_curr + padding;
    uintptr_t end = ALIGN_UP(start + block, PAGE_SIZE);
    if (end > heap_mapped && !map_up_to(end))
        return NULL;
    heap_curr = start + block;
    return (void *)start;
}

/* The path every allocation takes: check `align`, bump, count. */
static void *allocate(size_t size, size_t align)
{
    uint64_t flags = irq_save();
    void *block = NULL;
    if (IS_POWER_OF_TWO(align))
        block = bump(size, MAX(align, (size_t)KHEAP_MIN_ALIGN));
    if (block != NULL) {
        heap_stats.allocations++;
        heap_stats.requested += size;
    } else {
        heap_stats.failures++;
    }
    irq_restore(flags);
    return block;
}

void *kmalloc(size_t size)
{
    return allocate(size, KHEAP_MIN_ALIGN);
}

void *kcalloc(size_t n, size_t size)
{
    size_t bytes;
    /* n * size can wrap past SIZE_MAX to a small number: kcalloc(2^63 + 1, 2)
     * would then get 2 bytes for what its caller thinks is 2^64 + 2. */
    if (__builtin_mul_overflow(n, size, &bytes))
        bytes = SIZE_MAX; /* no heap holds that: kmalloc fails, and counts it */
    void *block = kmalloc(bytes);
    if (block != NULL)
        memset(block, 0, bytes);
    return block;
}

void *kmalloc_aligned(size_t size, size_t align)
{
    return allocate(size, align);
}

/* ---- freeing ------------------------------------------------------------ */

/* A counted warning: printed, remembered for kheap_last_report, counted. */
static void report_bad_free(uintptr_t address, const char *why)
{
    heap_last = (struct kheap_report){.problem = KHEAP_BAD_FREE, .address = address};
    heap_stats.bad_frees++;
    kprintf("kheap: warning: kfree(%p): %s\n", (void *)address, why);
}

void kfree(void *ptr)
{
    if (ptr == NULL)
        return;
    uint64_t flags = irq_save();
    uintptr_t address = (uintptr_t)ptr;
    heap_stats.frees++;
    if (address < heap_start || address >= heap_end)
        report_bad_free(address, "not a heap address");
    else if (address >= heap_curr)
        report_bad_free(address, "in the heap's free space: never allocated");
    else if (!IS_ALIGNED(address, KHEAP_MIN_ALIGN))
        report_bad_free(address, "not 16-byte aligned: not the start of a block");
    /* A block start stays allocated: a bump heap reclaims nothing. A pointer
     * inside a block cannot be told from one: that needs a record of where
     * blocks start, which the free-list heap keeps. */
    irq_restore(flags);
}

/* ---- statistics --------------------------------------------------------- */

void kheap_get_stats(struct kheap_stats *out)
{
    uint64_t flags = irq_save();
    *out = heap_stats;
    out->used = heap_curr - heap_start;
    out->peak = out->used; /* nothing comes back: used only grows */
    out->pages_mapped = (heap_mapped - heap_start) / PAGE_SIZE;
    irq_restore(flags);
}

bool kheap_last_report(struct kheap_report *out)
{
    *out = heap_last;
    return heap_last.problem != KHEAP_NO_PROBLEM;
}
