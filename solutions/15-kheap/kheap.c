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
 * State:
 *   heap_start, heap_end  the window (KHEAP_START, KHEAP_END)
 *   heap_curr             the next free byte: the next block starts here
 *   heap_mapped           where the mapped part of the window ends
 *   heap_pieces           one byte per 16-byte granule: does a block, or
 *                         alignment padding (kmalloc_aligned), start here?
 *   heap_stats            the counters kheap_get_stats reports; `used` and
 *                         `peak` are not kept there, as heap_curr says both
 * Invariants (between calls):
 *   - heap_start <= heap_curr <= heap_mapped <= heap_end;
 *   - heap_curr is a multiple of KHEAP_MIN_ALIGN, heap_mapped of PAGE_SIZE,
 *     and heap_mapped == ALIGN_UP(heap_curr, PAGE_SIZE): a page is mapped
 *     exactly when something below heap_curr touches it, each page onto a
 *     frame of its own;
 *   - [heap_start, heap_curr) is cut into blocks and paddings: each starts
 *     where heap_pieces says so and ends where the next one starts (or at
 *     heap_curr). Nothing is marked at or above heap_curr.
 *
 * Every size check is done against the room left, heap_end - heap_curr
 * (at most 2 MiB), never as heap_curr + size > heap_end: that sum wraps
 * around past 2^64 for a huge size and would let the request through.
 *
 * Fast path: most calls need no new page. kmalloc and kmalloc_aligned try
 * that case first, in a few lines (21 and 32 instructions,
 * docs/benchmarks.md); anything else - a page to map, no room, size 0, an
 * alignment above a page - takes allocate(), the general path, which checks
 * and does everything.
 *
 * Freeing: a bump allocator can only take back the block just below
 * heap_curr, so kfree takes back nothing. It still checks the pointer (that
 * is where heap corruption shows first) and counts the call. A kernel can
 * live like this early on: what it allocates at boot (page tables, tables of
 * devices, per-CPU data) is needed until power-off anyway.
 *
 * Concurrency: see heap_lock.
 */
#include "kheap.h"
#include "kprintf.h"
#include "paging.h"
#include "pmm.h"
#include "string.h"
#include "x86.h"

#define KHEAP_GRANULES  (KHEAP_SIZE / KHEAP_MIN_ALIGN)
#define HEAP_PAGE_FLAGS (PTE_WRITABLE | PTE_NO_EXECUTE) /* data: never code */

/* What starts at a granule. A byte each (128 KiB in all) rather than a bit:
 * marking a granule is then one store, not a word, a mask and an `or`. */
enum piece {
    NOTHING_STARTS, /* the granule continues the piece before it, or is free */
    BLOCK_STARTS,
    PADDING_STARTS,
};

static uintptr_t heap_start, heap_curr, heap_end;
static uintptr_t heap_mapped;
static uint8_t heap_pieces[KHEAP_GRANULES]; /* enum piece */
static struct kheap_stats heap_stats;
static struct kheap_report heap_last;

/* ---- the interrupt guard ------------------------------------------------ */

/* Concurrency. This kernel runs on one CPU with interrupts disabled from boot
 * to power-off, so nothing can run between two instructions of kmalloc and
 * no lock is needed today. The guard is what a one-CPU kernel with
 * interrupts on would need: each public function runs with interrupts off,
 * so an interrupt handler that allocates can never see heap_curr half
 * updated. With several CPUs, a spinlock would be taken right after the cli
 * in heap_lock and released just before heap_unlock restores the flags;
 * interrupts must stay off while it is held, or a handler on the same CPU
 * would spin forever on a lock its own CPU holds. */
#define RFLAGS_IF (1ull << 9)

static uint64_t heap_lock(void)
{
    uint64_t rflags = read_rflags();
    cli();
    return rflags;
}

static void heap_unlock(uint64_t rflags)
{
    if (rflags & RFLAGS_IF)
        sti();
}

/* ---- where blocks start ------------------------------------------------- */

/* The index in heap_pieces of the granule holding `address` (inside the
 * window). KHEAP_START is heap_start, but a constant: it costs no load. */
static size_t granule(uintptr_t address)
{
    return (address - KHEAP_START) / KHEAP_MIN_ALIGN;
}

/* What starts at `address` (16-byte aligned, inside the window). */
static enum piece piece_at(uintptr_t address)
{
    return heap_pieces[granule(address)];
}

/* Marks [heap_curr, start) as alignment padding, if it is not empty, and
 * `start` as the start of a block. The two stores need no branch: with no
 * padding, the second overwrites the first. */
static void mark_block(uintptr_t start)
{
    heap_pieces[granule(heap_curr)] = PADDING_STARTS;
    heap_pieces[granule(start)] = BLOCK_STARTS;
}

/* The start of the block or padding holding `address` (in [heap_start, heap_curr)). */
static uintptr_t piece_containing(uintptr_t address)
{
    address = ALIGN_DOWN(address, KHEAP_MIN_ALIGN);
    while (address > heap_start && piece_at(address) == NOTHING_STARTS)
        address -= KHEAP_MIN_ALIGN;
    return address;
}

/* Where the block or padding starting at `start` ends. */
static uintptr_t piece_end(uintptr_t start)
{
    uintptr_t end = start + KHEAP_MIN_ALIGN;
    while (end < heap_curr && piece_at(end) == NOTHING_STARTS)
        end += KHEAP_MIN_ALIGN;
    return end;
}

/* ---- mapping the window ------------------------------------------------- */

/* Unmaps the pages of [end, heap_mapped) and gives their frames back. */
static void unmap_down_to(uintptr_t end)
{
    while (heap_mapped > end) {
        heap_mapped -= PAGE_SIZE;
        phys_addr_t frame;
        if (paging_unmap(paging_kernel_pml4(), heap_mapped, &frame) == PAGING_OK)
            pmm_free_frame(frame);
    }
}

/* Maps every page below `end` (at most heap_end) that is not mapped yet,
 * each onto a fresh PMM frame. If the PMM runs out (of frames for the pages
 * or for page tables), unmaps what this call mapped, gives the frames back
 * and returns false: the heap is then exactly as it was. */
static bool map_up_to(uintptr_t end)
{
    uintptr_t old_mapped = heap_mapped;
    uintptr_t target = ALIGN_UP(end, PAGE_SIZE); /* no wrap: end <= heap_end */
    while (heap_mapped < target) {
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
    if (heap_mapped >= target)
        return true;
    unmap_down_to(old_mapped);
    return false;
}

/* ---- allocation --------------------------------------------------------- */

void kheap_init(void)
{
    uint64_t rflags = heap_lock();
    /* A fresh heap: whatever an earlier heap mapped goes back to the PMM.
     * Every page of the window is tried, so this works whatever state the
     * previous heap was left in (even by a test that crashed). */
    for (uintptr_t page = KHEAP_START; page < KHEAP_END; page += PAGE_SIZE) {
        phys_addr_t frame;
        if (paging_unmap(paging_kernel_pml4(), page, &frame) == PAGING_OK)
            pmm_free_frame(frame);
    }
    heap_start = KHEAP_START;
    heap_end = KHEAP_END;
    heap_curr = heap_start;
    heap_mapped = heap_start;
    memset(heap_pieces, NOTHING_STARTS, sizeof(heap_pieces));
    heap_stats = (struct kheap_stats){.capacity = KHEAP_SIZE};
    heap_last = (struct kheap_report){.problem = KHEAP_NO_PROBLEM};
    heap_unlock(rflags);
}

/* The block of `size` bytes (rounded up to KHEAP_MIN_ALIGN; 0 counts as 1)
 * at the first multiple of `align` at or after heap_curr, or NULL with
 * nothing changed. `align` is a power of two, at least KHEAP_MIN_ALIGN. */
static void *bump(size_t size, size_t align)
{
    size_t room = heap_end - heap_curr;
    /* The distance to the next multiple of align, computed without forming
     * an address that could wrap (align may be as large as 2^63). */
    size_t padding = (size_t)(align - heap_curr % align) % align;
    if (padding > room)
        return NULL;
    room -= padding;
    size_t block = size == 0 ? 1 : size;
    if (block > room)
        return NULL;
    /* Rounding cannot overflow (block <= 2 MiB) nor pass room, which is a
     * multiple of 16: heap_curr, heap_end and padding all are. */
    block = ALIGN_UP(block, KHEAP_MIN_ALIGN);

    uintptr_t start = heap_curr + padding;
    if (!map_up_to(start + block))
        return NULL;
    mark_block(start);
    heap_curr = start + block;
    return (void *)start;
}

/* Counts a successful call that asked for `size` bytes. */
static void count_allocation(size_t size)
{
    heap_stats.allocations++;
    heap_stats.requested += size;
}

/* Brings the counters up to date after a call that asked for `size` bytes
 * and got `block`. */
static void count(const void *block, size_t size)
{
    if (block == NULL) {
        heap_stats.failures++;
        return;
    }
    count_allocation(size);
}

/* The path every allocation takes: check `align`, bump, count. */
static void *allocate(size_t size, size_t align)
{
    uint64_t rflags = heap_lock();
    void *block = NULL;
    if (IS_POWER_OF_TWO(align))
        block = bump(size, MAX(align, (size_t)KHEAP_MIN_ALIGN));
    count(block, size);
    heap_unlock(rflags);
    return block;
}

/* The fast path's block at `start` (heap_curr, or the first multiple of an
 * alignment after it: the bytes in between are padding), which fits below
 * heap_mapped: nothing to check or map. Called with the heap locked. */
static inline void *take_mapped(uintptr_t start, size_t size)
{
    mark_block(start);
    heap_curr = ALIGN_UP(start + size, KHEAP_MIN_ALIGN); /* start is a multiple of 16 */
    count_allocation(size);
    return (void *)start;
}

void *kmalloc(size_t size)
{
    uint64_t rflags = heap_lock();
    /* heap_curr is a multiple of 16: kmalloc needs no padding. The test is
     * 0 < size <= the room left in the mapped part (size 0 - 1 wraps). */
    uintptr_t start = heap_curr;
    if (size - 1 < heap_mapped - start) {
        void *block = take_mapped(start, size);
        heap_unlock(rflags);
        return block;
    }
    heap_unlock(rflags);
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
    uint64_t rflags = heap_lock();
    if (IS_POWER_OF_TWO(align) && align <= PAGE_SIZE) {
        /* Cannot wrap, nor pass heap_mapped: a multiple of PAGE_SIZE, so of
         * align too. Alignments up to 16 leave heap_curr as it is. */
        uintptr_t start = ALIGN_UP(heap_curr, align);
        if (size - 1 < heap_mapped - start) {
            void *block = take_mapped(start, size);
            heap_unlock(rflags);
            return block;
        }
    }
    heap_unlock(rflags);
    return allocate(size, align);
}

/* ---- freeing ------------------------------------------------------------ */

/* A counted warning: printed, remembered for kheap_last_report, counted. */
static void report(enum kheap_problem problem, uintptr_t block, size_t size, uintptr_t address,
                   const char *what)
{
    heap_last = (struct kheap_report){problem, block, size, address};
    if (problem == KHEAP_BAD_FREE)
        heap_stats.bad_frees++;
    kprintf("kheap: warning: kfree(%p): %s", (void *)address, what);
    if (block != 0)
        kprintf(" (offset %zu in the %zu-byte block at %p)", (size_t)(address - block), size,
                (void *)block);
    kprintf("\n");
}

void kfree(void *ptr)
{
    if (ptr == NULL)
        return;
    uint64_t rflags = heap_lock();
    uintptr_t address = (uintptr_t)ptr;
    heap_stats.frees++;
    if (address < heap_start || address >= heap_end) {
        report(KHEAP_BAD_FREE, 0, 0, address, "not a heap address");
    } else if (address >= heap_curr) {
        report(KHEAP_BAD_FREE, 0, 0, address, "in the heap's free space: never allocated");
    } else if (!IS_ALIGNED(address, KHEAP_MIN_ALIGN) || piece_at(address) != BLOCK_STARTS) {
        uintptr_t piece = piece_containing(address);
        if (piece_at(piece) == PADDING_STARTS)
            report(KHEAP_BAD_FREE, 0, 0, address, "in alignment padding: never allocated");
        else
            report(KHEAP_BAD_FREE, piece, piece_end(piece) - piece, address,
                   "not the start of a block");
    }
    /* A valid block stays allocated: a bump heap reclaims nothing. */
    heap_unlock(rflags);
}

/* ---- statistics and the heap map ---------------------------------------- */

void kheap_get_stats(struct kheap_stats *out)
{
    uint64_t rflags = heap_lock();
    *out = heap_stats;
    out->capacity = heap_end - heap_start;
    out->used = heap_curr - heap_start;
    out->peak = out->used; /* nothing comes back: used only grows */
    out->pages_mapped = (heap_mapped - heap_start) / PAGE_SIZE;
    heap_unlock(rflags);
}

bool kheap_last_report(struct kheap_report *out)
{
    *out = heap_last;
    return heap_last.problem != KHEAP_NO_PROBLEM;
}

enum {
    MAP_COLUMNS = 64,   /* pages per line of the page map: 256 KiB */
    ZOOM_GRANULES = 64, /* granules per line of the zoomed map: 1 KiB */
    ZOOM_LINES = 2,
};

/* One character per page: '#' allocated, '+' partly, '.' mapped but free,
 * '-' not mapped. Lines past the last mapped page are summed up in one. */
static void print_page_map(void)
{
    size_t pages = (heap_end - heap_start) / PAGE_SIZE;
    size_t mapped = (heap_mapped - heap_start) / PAGE_SIZE;
    size_t lines = MAX((mapped + MAP_COLUMNS - 1) / MAP_COLUMNS, (size_t)1);
    kprintf("  pages (4 KiB each): '#' allocated  '+' partly allocated  '.' mapped, free  "
            "'-' not mapped\n");
    for (size_t line = 0; line < lines; line++) {
        kprintf("  +%5zu KiB  ", (size_t)(line * MAP_COLUMNS * PAGE_SIZE / KiB));
        for (size_t p = line * MAP_COLUMNS; p < (line + 1) * MAP_COLUMNS && p < pages; p++) {
            uintptr_t page = heap_start + p * PAGE_SIZE;
            char c = page >= heap_mapped             ? '-'
                     : page + PAGE_SIZE <= heap_curr ? '#'
                     : page < heap_curr              ? '+'
                                                     : '.';
            kprintf("%c", c);
        }
        kprintf("\n");
    }
    if (lines * MAP_COLUMNS < pages)
        kprintf("  (pages %zu..%zu: not mapped)\n", lines * MAP_COLUMNS, pages - 1);
}

/* One character per granule around heap_curr: the blocks get the letters
 * A, B, C... in turn (so neighbours differ), alignment padding is '~', free
 * space '.', unmapped space '-'; a caret marks heap_curr. */
static void print_zoom(void)
{
    uintptr_t line_bytes = ZOOM_GRANULES * KHEAP_MIN_ALIGN;
    uintptr_t first = heap_start;
    if (heap_curr - heap_start >= line_bytes)
        first = ALIGN_DOWN(heap_curr - line_bytes / 2, line_bytes);
    first = MIN(first, heap_end - ZOOM_LINES * line_bytes);
    kprintf("  granules (16 bytes each) near heap_curr: a letter per block, '~' alignment "
            "padding, '.' free, '-' not mapped\n");
    char letter = 'A' - 1, shown = '.';
    if (first < heap_curr && piece_at(first) == NOTHING_STARTS)
        shown = piece_at(piece_containing(first)) == PADDING_STARTS ? '~' : (letter = 'A');
    uintptr_t at = first;
    for (size_t line = 0; line < ZOOM_LINES; line++) {
        kprintf("  %p  ", (void *)at);
        size_t caret = 0;
        for (size_t g = 0; g < ZOOM_GRANULES; g++, at += KHEAP_MIN_ALIGN) {
            if (at < heap_curr && piece_at(at) == BLOCK_STARTS)
                shown = letter = letter == 'Z' ? 'A' : letter + 1;
            else if (at < heap_curr && piece_at(at) == PADDING_STARTS)
                shown = '~';
            else if (at >= heap_curr)
                shown = at < heap_mapped ? '.' : '-';
            if (at == heap_curr)
                caret = g + 1;
            kprintf("%c", shown);
        }
        kprintf("\n");
        if (caret != 0) {
            for (size_t column = 0; column < 2 + 18 + 2 + caret - 1; column++)
                kprintf(" ");
            kprintf("^ heap_curr\n");
        }
    }
}

void kheap_dump(void)
{
    struct kheap_stats s;
    kheap_get_stats(&s);
    uint64_t rflags = heap_lock();
    kprintf("kheap (bump): window %p..%p (%zu KiB), heap_curr %p (+%zu)\n", (void *)heap_start,
            (void *)heap_end, (size_t)(s.capacity / KiB), (void *)heap_curr,
            (size_t)(heap_curr - heap_start));
    kprintf("  used %zu bytes (requested %zu, rounding and padding %zu), peak %zu\n", s.used,
            s.requested, s.used - MIN(s.used, s.requested), s.peak);
    kprintf("  %zu allocations, %zu frees (%zu refused), %zu failures; pages mapped: %zu "
            "(%zu KiB)\n",
            s.allocations, s.frees, s.bad_frees, s.failures, s.pages_mapped,
            (size_t)(s.pages_mapped * PAGE_SIZE / KiB));
    print_page_map();
    print_zoom();
    heap_unlock(rflags);
}
