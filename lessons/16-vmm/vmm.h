/* vmm.h - the virtual memory manager (VMM): address spaces, pages mapped in
 * them, and valloc, the kernel's allocator of page-sized virtual areas.
 *
 * Address spaces. A space is one PML4 (one tree of page tables); loading its
 * physical address into CR3 makes it the one the CPU translates through. We
 * name a space by its PML4 as the kernel sees it (through the direct map), a
 * `pte_t *`, as xv6 names one by its pagetable_t.
 *
 *   lower half  0x0000000000000000..0x00007FFFFFFFFFFF  PML4 entries 0..255
 *               private: what one process would see
 *   (addresses in between are non-canonical: the CPU refuses them)
 *   upper half  0xFFFF800000000000..0xFFFFFFFFFFFFFFFF  PML4 entries 256..511
 *               the kernel: the same in every space
 *
 * "The same" is meant literally: vmm_create copies the kernel PML4's entries
 * 256..511, so every space points to the very same PDPTs, and a kernel
 * mapping made below them through any space is seen through all of them.
 * Switching spaces changes what the lower half means and nothing else: the
 * kernel's code, data and stack stay where they are.
 *
 * The kernel half, by PML4 entry:
 *   256  0xFFFF800000000000  direct map of physical memory (4 GiB, paging.h)
 *   510  0xFFFFFF0000000000  the valloc window (512 GiB, this lesson)
 *   511  0xFFFFFFFF80000000  kernel image; 0xFFFFFFFF80200000 lesson 15's heap
 *
 * valloc(n) takes n pages of the window, backs each with a zeroed PMM frame,
 * and leaves the page after them unmapped: a guard page, so that running off
 * the end faults at once instead of corrupting the next area. Unlike kmalloc
 * (lesson 15) it works in whole pages and needs no physically contiguous
 * memory: the frames may be anywhere, only the virtual pages are in a row.
 *
 * Concurrency: one CPU, interrupts off, no locks (as in pmm.c).
 */
#ifndef VMM_H
#define VMM_H

#include "kernel.h"
#include "paging.h"

/* The two canonical halves. */
#define VMM_USER_END     0x0000800000000000ull /* lower half: [0, VMM_USER_END) */
#define VMM_KERNEL_START 0xFFFF800000000000ull /* upper half: [VMM_KERNEL_START, 2^64) */
#define VMM_KERNEL_SLOT  256                   /* its first PML4 entry */

/* The valloc window: PML4 entry 510, created by vmm_init so every space
 * shares it. */
#ifndef VALLOC_START /* the host tests (tests/host/) move the window into their own memory */
#define VALLOC_START 0xFFFFFF0000000000ull
#define VALLOC_END   0xFFFFFF8000000000ull
#endif
#define VALLOC_PAGES      ((VALLOC_END - VALLOC_START) / PAGE_SIZE)
#define VALLOC_MAX_AREAS  128 /* live areas at one time */
#define VALLOC_PAGE_FLAGS (PTE_WRITABLE | PTE_NO_EXECUTE)

/* The page flags vmm_map and vmm_protect accept (PTE_PRESENT is implied). */
#define VMM_PAGE_FLAGS (PTE_WRITABLE | PTE_USER | PTE_NO_EXECUTE)

enum vmm_status {
    VMM_OK = 0,
    VMM_UNALIGNED,      /* an address is not page-aligned */
    VMM_BAD_ADDRESS,    /* non-canonical; in the kernel half outside a shared
                           PML4 entry; or inside a 2 MiB page of the direct map */
    VMM_BAD_FLAGS,      /* flags the VMM refuses (see vmm_map) */
    VMM_ALREADY_MAPPED, /* map: something is mapped there */
    VMM_NOT_MAPPED,     /* unmap/translate/protect: nothing is mapped there */
    VMM_NO_MEMORY,      /* no frame for a page table */
    VMM_NOT_AN_AREA,    /* vfree: not the start of a live valloc area */
    VMM_BUSY,           /* destroy: the kernel's space or the current one */
    VMM_NOT_WRITTEN,    /* the starter's stubs: the function is not written yet */
};

/* Counters for the demo, the tests and anyone hunting a leak. */
struct vmm_stats {
    size_t spaces;      /* spaces made by vmm_create and not destroyed yet */
    size_t areas;       /* live valloc areas */
    size_t area_pages;  /* pages in them (guard pages not counted) */
    size_t page_faults; /* page faults the VMM's handler has seen */
    size_t warnings;    /* bad calls refused with a warning (vfree, vmm_destroy) */
};

extern struct vmm_stats vmm_stats;

/* Creates the kernel-half PML4 entry every space will share from now on:
 * the valloc window's (its PDPT, zeroed). Needs pmm_init() first, and must
 * run before the first vmm_create. */
void vmm_init(void);

/* Installs the page-fault handler that prints what a fault means
 * (vmm_describe_fault) and counts it in vmm_stats.page_faults
 * (vmm_report.c, given with the lesson). */
void vmm_report_init(void);

/* ---- address spaces ---------------------------------------------------- */

pte_t *vmm_kernel_space(void); /* the space the kernel booted in */
pte_t *vmm_current(void);      /* the space CR3 holds now */

/* A new space: an empty lower half and the shared kernel half. NULL if the
 * PMM has no frame for its PML4. */
pte_t *vmm_create(void);

/* Gives back every page table of the space's lower half and its PML4. The
 * frames still mapped there are not freed: they belong to whoever mapped
 * them. NULL does nothing (VMM_OK). The kernel's space and the current one
 * are refused with a warning (VMM_BUSY); switch away first. */
enum vmm_status vmm_destroy(pte_t *space);

/* Makes `space` the current one (loads CR3, which also flushes the TLB). */
void vmm_switch(pte_t *space);

/* ---- pages in a space -------------------------------------------------- */

/* Maps the 4 KiB page at `virt` in `space` to the frame `phys`. `flags` is
 * any combination of VMM_PAGE_FLAGS; refused with VMM_BAD_FLAGS: any other
 * bit, PTE_USER in the kernel half, and PTE_WRITABLE without
 * PTE_NO_EXECUTE (W^X: no page is both writable and executable). Never
 * replaces a mapping (VMM_ALREADY_MAPPED). Checks, in order: alignment of
 * both addresses, `virt` itself, flags, an existing mapping, memory for
 * page tables; the first problem found is the status returned. */
enum vmm_status vmm_map(pte_t *space, uintptr_t virt, phys_addr_t phys, uint64_t flags);

/* Removes the mapping of the page at `virt` and stores the frame it pointed
 * to in *frame (if frame is not NULL); the frame itself is not freed. The
 * change is visible at once: no stale TLB entry survives it. Page tables
 * left empty are kept. */
enum vmm_status vmm_unmap(pte_t *space, uintptr_t virt, phys_addr_t *frame);

/* The physical address `virt` (any byte, not only a page start) translates
 * to in `space`: VMM_OK, VMM_NOT_MAPPED or VMM_BAD_ADDRESS. */
enum vmm_status vmm_translate(pte_t *space, uintptr_t virt, phys_addr_t *phys);

/* Replaces the flags of the mapped page at `virt` (same rules as vmm_map),
 * keeping its frame; visible at once, like vmm_unmap. */
enum vmm_status vmm_protect(pte_t *space, uintptr_t virt, uint64_t flags);

const char *vmm_status_name(enum vmm_status status);

/* ---- valloc: kernel virtual areas --------------------------------------- */

/* `npages` pages, virtually contiguous, mapped writable and no-execute in
 * the kernel half (so in every space), zeroed, followed by an unmapped
 * guard page. NULL for npages == 0, for more pages than the window holds,
 * when VALLOC_MAX_AREAS areas are live, and when memory runs out; in the
 * last case every frame taken so far has been given back. */
void *valloc(size_t npages);

/* Gives an area back: its frames to the PMM, page tables it left empty too.
 * NULL does nothing (VMM_OK). A pointer that is not the start of a live
 * area (inside one, freed already, never valloc'ed) is refused with a
 * warning and changes nothing else (VMM_NOT_AN_AREA). */
enum vmm_status vfree(void *ptr);

struct valloc_area {
    uintptr_t start;
    size_t pages; /* the guard page, at start + pages * PAGE_SIZE, not counted */
};

/* The live area whose pages or guard page hold `address`, if any. */
bool valloc_find(uintptr_t address, struct valloc_area *area);

/* ---- page faults ------------------------------------------------------- */

#define VMM_FAULT_TEXT_SIZE 192 /* enough for any description */

/* (vmm_report.c, given with the lesson.)
 * Puts into buf (size bytes, always terminated) what a page fault at `address`
 * with `error_code` (the CPU's, see exception.h) means, judged by the current
 * space: the cause, the address and the region it falls in, e.g.
 *   "write to an unmapped page at 0xffffff0000003000: guard page after the
 *    valloc area at 0xffffff0000000000 (3 pages)".
 * Causes: "read from/write to/instruction fetch from an unmapped page",
 * "write to a read-only page", "user access to a kernel page", "instruction
 * fetch from a no-execute page". Returns buf. */
const char *vmm_describe_fault(uintptr_t address, uint64_t error_code, char *buf, size_t size);

#endif
