/* kheap.h - the kernel heap: kmalloc and friends for memory smaller than a
 * page, on top of the PMM (lesson 14) and the page tables (lesson 13).
 *
 * The heap lives in a fixed 2 MiB window of virtual addresses just above the
 * kernel image (linker.ld makes sure the image stays below it):
 *
 *   0xFFFFFFFF80000000  kernel image (text, rodata, data, bss)
 *   0xFFFFFFFF80200000  KHEAP_START  \  the heap window; a page of it is
 *   0xFFFFFFFF80400000  KHEAP_END    /  mapped onto a PMM frame when first used
 *
 * Two implementations share this interface:
 *   kheap.c           a bump allocator: kfree reclaims nothing (the lesson);
 *   kheap_freelist.c  size-class free lists with debug checks (the bonus,
 *                     built with `make lesson15 KHEAP=freelist`).
 *
 * Concurrency: each call runs with interrupts off (common/irq_guard.h), so
 * it is atomic on this kernel's one CPU; irq_guard.h says what SMP would add.
 */
#ifndef KHEAP_H
#define KHEAP_H

#include "kernel.h"

#ifndef KHEAP_START /* the host tests (tests/host/) move the window into their own memory */
#define KHEAP_START 0xFFFFFFFF80200000ull
#define KHEAP_END   0xFFFFFFFF80400000ull
#endif
#define KHEAP_SIZE      (KHEAP_END - KHEAP_START)
#define KHEAP_PAGES     (KHEAP_SIZE / PAGE_SIZE)
#define KHEAP_MIN_ALIGN 16 /* every block starts on a multiple of this */

/* Prepares an empty heap; nothing is mapped until the first allocation.
 * Calling it again starts a fresh heap: every page of the window is
 * unmapped and its frame given back to the PMM, and every counter restarts
 * from zero (the tests do this). Needs pmm_init() first. */
void kheap_init(void);

/* A block of at least `size` bytes aligned to KHEAP_MIN_ALIGN, or NULL if
 * the window (or the PMM) has no room for it; a failed call changes nothing
 * but the failure counter. Its contents are undefined.
 * kmalloc(0) returns a unique pointer (a block of KHEAP_MIN_ALIGN bytes),
 * which may be passed to kfree like any other. */
void *kmalloc(size_t size);

/* n * size bytes, zeroed; NULL if the product does not fit in a size_t
 * (it would wrap around to a smaller number) or kmalloc fails. */
void *kcalloc(size_t n, size_t size);

/* A block of `size` bytes whose address is a multiple of `align`, which must
 * be a power of two (1, 2, 4, ... any power of two the window can satisfy).
 * NULL for any other `align` (0, 3, 24, ...) or when there is no room. The
 * result is also aligned to KHEAP_MIN_ALIGN. */
void *kmalloc_aligned(size_t size, size_t align);

/* Gives a block back. NULL does nothing. A pointer that is not the start of
 * a block this heap returned is refused with a warning on the console (a
 * counted warning: see kheap_stats.bad_frees and kheap_last_report), and the
 * kernel goes on. The bump heap (kheap.c) checks and counts the free but
 * reclaims nothing; the free-list heap reuses the block. */
void kfree(void *ptr);

struct kheap_stats {
    size_t capacity;     /* bytes in the window */
    size_t used;         /* bytes consumed now, rounding and alignment padding
                          * included (the bump heap never gets any back) */
    size_t requested;    /* bytes asked for by successful calls since kheap_init */
    size_t allocations;  /* successful kmalloc/kcalloc/kmalloc_aligned calls */
    size_t frees;        /* kfree calls with a non-NULL pointer (refused ones too) */
    size_t failures;     /* calls that returned NULL */
    size_t peak;         /* highest `used` seen */
    size_t pages_mapped; /* heap pages backed by PMM frames */
    /* Problems found and reported as counted warnings: */
    size_t bad_frees;      /* kfree of a pointer that is not a block's start */
    size_t double_frees;   /* kfree of a block that is free already (free-list heap) */
    size_t redzone_errors; /* bytes just past a block were overwritten (debug mode) */
    size_t poison_errors;  /* a freed block was written before its reuse */
};

void kheap_get_stats(struct kheap_stats *out);

/* Prints the stats and a map of the heap's pages on the console
 * (kheap_dump.c: it reads kheap_get_stats and the page tables, so it works
 * for any heap behind this interface). */
void kheap_dump(void);

/* The hook for what only one design knows (its size classes, say). A heap
 * may define it; kheap_dump then calls it after the page map, with the
 * heap's lock not held. A heap without it loses nothing else. */
[[gnu::weak]] void kheap_dump_details(void);

/* What the heap's last warning was about, for the tests. */
enum kheap_problem {
    KHEAP_NO_PROBLEM,
    KHEAP_BAD_FREE,       /* address: the pointer passed to kfree */
    KHEAP_DOUBLE_FREE,    /* address: the pointer passed to kfree */
    KHEAP_REDZONE,        /* address: the first overwritten byte past the block */
    KHEAP_USE_AFTER_FREE, /* address: the first byte written after the free */
};

struct kheap_report {
    enum kheap_problem problem;
    uintptr_t block; /* start of the block concerned; 0 if the address is in none */
    size_t size;     /* that block's size in bytes (as asked for, when known) */
    uintptr_t address;
};

/* Copies the last warning into *out and returns true, or returns false if
 * there was none since kheap_init. */
bool kheap_last_report(struct kheap_report *out);

/* Free-list heap only (KHEAP=freelist): turns the debug checks (redzones,
 * poisoning, double-free detection) on or off and starts a fresh heap. The
 * kernel boots with them on. */
void kheap_set_debug(bool on);

#endif
