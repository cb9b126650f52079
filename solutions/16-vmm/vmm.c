/* vmm.c - address spaces and the pages mapped in them (reference solution);
 * valloc.c builds the kernel's virtual areas on top.
 *
 * The page tables themselves are lesson 13's (paging.h): paging_map,
 * paging_unmap and paging_protect edit entries and never flush. This file
 * decides what may be mapped where, and when the TLB must forget.
 * What the VMM prints (status names, page-fault descriptions) is in
 * vmm_report.c.
 *
 * The TLB rule. The CPU caches translations; changing a page-table entry in
 * memory does not change its cached copy. So:
 *   - present -> not present, or fewer rights: the cached copy must go
 *     (invlpg), or the CPU keeps using the old translation;
 *   - not present -> present: nothing to do, the CPU never caches a
 *     translation whose entry is not present (Intel SDM vol. 3, 4.10.2);
 *   - the TLB holds the current space's translations only, and loading CR3
 *     empties it (this kernel uses no global pages and no PCIDs), so a change
 *     in another space's lower half needs no flush. But the kernel half is
 *     shared: a change there is a change in the current space too, whichever
 *     space it was made through.
 *
 * Invariants:
 *   - every space's entries VMM_KERNEL_SLOT..511 equal the kernel's; no
 *     kernel-half PML4 entry is made after vmm_init;
 *   - vmm_map never replaces a mapping, and never makes a PML4 entry in the
 *     kernel half;
 *   - vmm_stats.spaces counts the spaces vmm_create made and vmm_destroy
 *     has not freed yet.
 */
#include "vmm.h"
#include "kprintf.h"
#include "panic.h"
#include "pmm.h"
#include "string.h"
#include "x86.h"

struct vmm_stats vmm_stats;

/* ---- addresses and flags ------------------------------------------------- */

static bool is_kernel_half(uintptr_t virt)
{
    return virt >= VMM_KERNEL_START;
}

static bool is_canonical(uintptr_t virt)
{
    return virt < VMM_USER_END || is_kernel_half(virt);
}

/* May pages at `virt` be mapped, unmapped or changed in `space`? In the
 * kernel half only below a PML4 entry that exists already: a new one would
 * exist in this space alone, and the kernel half would stop being shared. */
static enum vmm_status check_address(const pte_t *space, uintptr_t virt)
{
    if (!IS_ALIGNED(virt, PAGE_SIZE))
        return VMM_UNALIGNED;
    if (!is_canonical(virt))
        return VMM_BAD_ADDRESS;
    if (is_kernel_half(virt) && !(space[page_table_index(virt, 4)] & PTE_PRESENT))
        return VMM_BAD_ADDRESS;
    return VMM_OK;
}

static enum vmm_status check_flags(uintptr_t virt, uint64_t flags)
{
    if (flags & ~(VMM_PAGE_FLAGS | PTE_PRESENT))
        return VMM_BAD_FLAGS; /* PTE_HUGE, address bits, ...: not a page flag */
    if ((flags & PTE_USER) && is_kernel_half(virt))
        return VMM_BAD_FLAGS; /* user code must never reach kernel memory */
    if ((flags & PTE_WRITABLE) && !(flags & PTE_NO_EXECUTE))
        return VMM_BAD_FLAGS; /* W^X: code that can be written can be injected */
    return VMM_OK;
}

/* Forgets the cached translation of `virt` if the CPU may hold one (see the
 * TLB rule at the top). */
static void flush(const pte_t *space, uintptr_t virt)
{
    if (is_kernel_half(virt) || space == vmm_current())
        invlpg(virt);
}

/* ---- address spaces ---------------------------------------------------- */

void vmm_init(void)
{
    /* vmm_create copies the kernel PML4's upper half as it is at that moment.
     * A PML4 entry added to the kernel's space later would be missing from
     * every space made before, so every entry the kernel half will ever need
     * is made now, while the kernel's is the only space: 256 (direct map) and
     * 511 (kernel image, heap) exist since boot; the valloc window's is new.
     * Below these entries, tables may come and go: they are shared. */
    pte_t *slot = &vmm_kernel_space()[page_table_index(VALLOC_START, 4)];
    if (!(*slot & PTE_PRESENT)) {
        phys_addr_t pdpt = pmm_alloc_frame();
        if (pdpt == PMM_NO_FRAME)
            panic("vmm: no frame for the valloc window's page table");
        memset(phys_to_virt(pdpt), 0, PAGE_SIZE);
        /* No PTE_USER: whatever the entries below say, ring 3 cannot get in. */
        *slot = pdpt | PTE_PRESENT | PTE_WRITABLE;
    }
}

pte_t *vmm_kernel_space(void)
{
    return paging_kernel_pml4();
}

pte_t *vmm_current(void)
{
    return phys_to_virt(read_cr3() & PTE_ADDRESS_MASK);
}

pte_t *vmm_create(void)
{
    phys_addr_t frame = pmm_alloc_frame();
    if (frame == PMM_NO_FRAME)
        return NULL;
    pte_t *space = phys_to_virt(frame);
    const pte_t *kernel = vmm_kernel_space();
    for (unsigned i = 0; i < PAGE_TABLE_ENTRIES; i++)
        space[i] = i < VMM_KERNEL_SLOT ? 0 : kernel[i];
    vmm_stats.spaces++;
    return space;
}

void vmm_switch(pte_t *space)
{
    KASSERT(space != NULL);
    write_cr3(virt_to_phys_direct(space));
}

/* Frees the table `entry` points to, which sits at `level` (3 = PDPT, 2 = PD,
 * 1 = PT), and every table below it. The entries of a PT map pages, not
 * tables: their frames are not ours and are left alone. */
static void free_table(pte_t entry, int level)
{
    pte_t *table = phys_to_virt(pte_address(entry));
    for (unsigned i = 0; level > 1 && i < PAGE_TABLE_ENTRIES; i++) {
        if ((table[i] & PTE_PRESENT) && !(table[i] & PTE_HUGE))
            free_table(table[i], level - 1);
    }
    pmm_free_frame(pte_address(entry));
}

enum vmm_status vmm_destroy(pte_t *space)
{
    if (space == NULL)
        return VMM_OK;
    if (space == vmm_kernel_space() || space == vmm_current()) {
        vmm_stats.warnings++;
        kprintf("vmm: warning: vmm_destroy(%p): %s space, not destroyed\n", (void *)space,
                space == vmm_kernel_space() ? "the kernel's" : "the current");
        return VMM_BUSY;
    }
    /* The lower half only: the upper half's tables belong to every space. */
    for (unsigned i = 0; i < VMM_KERNEL_SLOT; i++) {
        if (space[i] & PTE_PRESENT)
            free_table(space[i], 3);
    }
    pmm_free_frame(virt_to_phys_direct(space));
    vmm_stats.spaces--;
    return VMM_OK;
}

/* ---- pages in a space -------------------------------------------------- */

/* The page-table layer's answer in the VMM's words. Inside a 2 MiB page
 * (PAGING_HUGE_PAGE) is VMM_BAD_ADDRESS: splitting one is not the VMM's job. */
static enum vmm_status from_paging(enum paging_status status)
{
    switch (status) {
    case PAGING_OK:
        return VMM_OK;
    case PAGING_UNALIGNED:
        return VMM_UNALIGNED;
    case PAGING_ALREADY_MAPPED:
        return VMM_ALREADY_MAPPED;
    case PAGING_NOT_MAPPED:
        return VMM_NOT_MAPPED;
    case PAGING_NO_MEMORY:
        return VMM_NO_MEMORY;
    case PAGING_WRITABLE_EXECUTABLE:
    case PAGING_KERNEL_IMAGE: /* a writable alias of the kernel's code */
        return VMM_BAD_FLAGS;
    case PAGING_HUGE_PAGE:
        break;
    }
    return VMM_BAD_ADDRESS;
}

enum vmm_status vmm_map(pte_t *space, uintptr_t virt, phys_addr_t phys, uint64_t flags)
{
    if (!IS_ALIGNED(phys, PAGE_SIZE))
        return VMM_UNALIGNED;
    enum vmm_status status = check_address(space, virt);
    if (status == VMM_OK)
        status = check_flags(virt, flags);
    if (status != VMM_OK)
        return status;
    /* not present -> present: no flush (see the top). Inside a 2 MiB page
     * paging_map finds the page mapped, as it is. */
    return from_paging(paging_map(space, virt, phys, flags));
}

enum vmm_status vmm_unmap(pte_t *space, uintptr_t virt, phys_addr_t *frame)
{
    enum vmm_status status = check_address(space, virt);
    if (status == VMM_OK)
        status = from_paging(paging_unmap(space, virt, frame));
    if (status == VMM_OK)
        flush(space, virt);
    return status;
}

enum vmm_status vmm_translate(pte_t *space, uintptr_t virt, phys_addr_t *phys)
{
    if (!is_canonical(virt))
        return VMM_BAD_ADDRESS;
    return paging_translate(space, virt, phys) == PAGING_OK ? VMM_OK : VMM_NOT_MAPPED;
}

enum vmm_status vmm_protect(pte_t *space, uintptr_t virt, uint64_t flags)
{
    enum vmm_status status = check_address(space, virt);
    if (status == VMM_OK)
        status = check_flags(virt, flags);
    if (status == VMM_OK)
        status = from_paging(paging_protect(space, virt, flags));
    if (status == VMM_OK)
        flush(space, virt); /* the TLB may hold the old rights: a write would pass */
    return status;
}
