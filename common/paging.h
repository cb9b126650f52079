/* paging.h - 4-level x86_64 page tables (the course's lesson 13).
 *
 * A virtual address splits into four 9-bit table indexes and a 12-bit offset:
 *
 *   47      39 38      30 29      21 20      12 11         0
 *   | PML4    | PDPT     | PD       | PT       | offset     |
 *
 * Every table is one 4 KiB frame of 512 entries; an entry holds the physical
 * address of the next table (or of the page) plus flag bits.
 *
 * Reaching a table: entries hold physical addresses, but the CPU only lets us
 * dereference virtual ones. This kernel keeps all physical memory below 4 GiB
 * mapped at DIRECT_MAP_BASE + address (a "direct map", as Linux does), so a
 * table at physical p is at phys_to_virt(p). A recursive PML4 slot is the
 * other common answer; the direct map is simpler to read and also lets the
 * PMM and the heap zero any frame they hand out.
 */
#ifndef PAGING_H
#define PAGING_H

#include "kernel.h"

typedef uint64_t pte_t;

#define PTE_PRESENT      (1ull << 0)
#define PTE_WRITABLE     (1ull << 1)
#define PTE_USER         (1ull << 2)
#define PTE_ACCESSED     (1ull << 5)
#define PTE_DIRTY        (1ull << 6)
#define PTE_HUGE         (1ull << 7) /* in a PD: a 2 MiB page; in a PDPT: 1 GiB */
#define PTE_NO_EXECUTE   (1ull << 63)
#define PTE_ADDRESS_MASK 0x000FFFFFFFFFF000ull
#define PTE_FLAGS_MASK   (~PTE_ADDRESS_MASK)

#define PAGE_TABLE_ENTRIES 512
#define PAGE_TABLE_LEVELS  4

/* Index of `virt` in the table at `level` (4 = PML4, 3 = PDPT, 2 = PD, 1 = PT). */
static inline unsigned page_table_index(uintptr_t virt, int level)
{
    return (virt >> (PAGE_SHIFT + 9 * (level - 1))) & (PAGE_TABLE_ENTRIES - 1);
}

static inline phys_addr_t pte_address(pte_t entry)
{
    return entry & PTE_ADDRESS_MASK;
}

enum paging_status {
    PAGING_OK = 0,
    PAGING_UNALIGNED,           /* an address is not page-aligned */
    PAGING_ALREADY_MAPPED,      /* map: the page is mapped already */
    PAGING_NOT_MAPPED,          /* unmap/translate: nothing is mapped there */
    PAGING_NO_MEMORY,           /* no frame for a new page table */
    PAGING_HUGE_PAGE,           /* inside a 2 MiB/1 GiB page, or PTE_HUGE asked for */
    PAGING_WRITABLE_EXECUTABLE, /* map: PTE_WRITABLE without PTE_NO_EXECUTE (W^X) */
    PAGING_KERNEL_IMAGE,        /* map: PTE_WRITABLE for a frame of the kernel's text or rodata */
};

const char *paging_status_name(enum paging_status status);

/* Replaces the boot page tables' view with the kernel's own: drops the
 * identity map, makes the direct map no-execute, and maps the kernel image
 * with 4 KiB pages, W^X: text read+execute, rodata read-only, data and bss
 * read-write, and the stack's guard page not at all. The image's text and
 * rodata are read-only in the direct map as well: no alias can write them. */
void paging_init(void);

/* The kernel's PML4 (through the direct map). */
pte_t *paging_kernel_pml4(void);

/* Where page-table frames come from. Before the PMM exists, paging uses a
 * small pool inside the kernel image's bss; the PMM installs its allocator
 * here once it is ready (pmm_init). The allocator returns 0 when out of
 * frames. */
typedef phys_addr_t (*frame_allocator_t)(void);
void paging_set_table_allocator(frame_allocator_t allocate);

/* The level-1 entry (PT) for `virt` in the tree at `pml4`. With `create`,
 * missing tables on the way are allocated (zeroed); without it, or if a
 * table cannot be allocated, returns NULL. Also NULL if a huge page covers
 * `virt`. */
pte_t *paging_walk(pte_t *pml4, uintptr_t virt, bool create);

/* The page-table layer edits entries and never touches the TLB: the CPU may
 * keep using a translation it cached before an entry changed, until it is
 * told to forget it (invlpg, or loading CR3). Whoever calls paging_unmap or
 * paging_protect decides whether that is needed (lesson 16). */

/* Maps the 4 KiB page at `virt` to the frame `phys` with `flags`
 * (PTE_PRESENT is implied). Refuses to replace an existing mapping, a page
 * both writable and executable (PTE_WRITABLE without PTE_NO_EXECUTE), and a
 * writable mapping of a frame of the kernel's code or constants, whatever
 * the other flags say: through it, code could rewrite the kernel. On any
 * refusal the tables are unchanged (tables made on the way before
 * PAGING_NO_MEMORY stay, empty). */
enum paging_status paging_map(pte_t *pml4, uintptr_t virt, phys_addr_t phys, uint64_t flags);

/* Removes the mapping of the 4 KiB page at `virt` and stores the frame it
 * pointed to in *frame (if not NULL); the frame is not freed. Page tables
 * that become empty are kept. PAGING_HUGE_PAGE inside a 2 MiB/1 GiB page. */
enum paging_status paging_unmap(pte_t *pml4, uintptr_t virt, phys_addr_t *frame);

/* Replaces the flags of the mapped 4 KiB page at `virt` with `flags`
 * (PTE_PRESENT implied; the rules of paging_map), keeping its frame. */
enum paging_status paging_protect(pte_t *pml4, uintptr_t virt, uint64_t flags);

/* The physical address `virt` translates to (huge pages included), or
 * PAGING_NOT_MAPPED. */
enum paging_status paging_translate(pte_t *pml4, uintptr_t virt, phys_addr_t *phys);

#endif
