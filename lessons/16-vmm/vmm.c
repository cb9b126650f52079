/* vmm.c - address spaces and the pages mapped in them; valloc.c builds the
 * kernel's virtual areas on top. What the VMM prints (status names, page-
 * fault descriptions, the fault handler) is given, in vmm_report.c.
 *
 * A space is a PML4 (vmm.h). Its entries 0..VMM_KERNEL_SLOT-1 are the
 * space's own; entries VMM_KERNEL_SLOT..511 are copies of the kernel's, so
 * every space points to the very same kernel tables below them.
 *
 * The page tables themselves are lesson 13's (paging.h): paging_map,
 * paging_unmap, paging_protect and paging_translate walk and edit them. They
 * never touch the TLB. This file decides what may be mapped where, and
 * when the CPU must forget a translation it cached: the TLB rule is yours
 * to write (the handout's "The TLB, and when to flush it").
 *
 * Invariants:
 *   - every space's entries VMM_KERNEL_SLOT..511 equal the kernel's; no
 *     kernel-half PML4 entry is made after vmm_init;
 *   - vmm_map never replaces a mapping, and never makes a PML4 entry in the
 *     kernel half;
 *   - vmm_stats.spaces counts the spaces vmm_create made and vmm_destroy
 *     has not freed yet;
 *   - once vmm_unmap or vmm_protect returns, no access made afterwards, in
 *     whichever space is current, uses the page's old entry.
 *
 * Practice 1 (in class): vmm_init, vmm_create, vmm_switch, vmm_map,
 * vmm_unmap, vmm_translate. Homework 2: vmm_destroy. Homework 3: the flag
 * rules and vmm_protect. Each stub names the tests that check it.
 */
#include "vmm.h"
#include "kprintf.h"
#include "not_written.h"
#include "panic.h"
#include "pmm.h"
#include "string.h"
#include "x86.h"

struct vmm_stats vmm_stats;

static inline bool is_kernel_half(uintptr_t virt)
{
    return virt >= VMM_KERNEL_START;
}

[[maybe_unused]] static inline bool is_canonical(uintptr_t virt)
{
    return virt < VMM_USER_END || is_kernel_half(virt);
}

pte_t *vmm_kernel_space(void)
{
    return paging_kernel_pml4();
}

pte_t *vmm_current(void)
{
    return phys_to_virt(read_cr3() & PTE_ADDRESS_MASK);
}

/* ---- practice 1: address spaces ------------------------------------------ */

void vmm_init(void)
{
    /* TODO(practice 1): the contract is in vmm.h. After it, the kernel's
     * space has a PML4 entry for the valloc window over an empty PDPT, and
     * ring 3 cannot reach the window. No frame this early is a kernel bug.
     * Pitfall: what would a space made *before* this entry existed see at
     * VALLOC_START?
     * Test: kernel_half_is_identical_in_every_space. */
    NOT_WRITTEN("practice 1");
}

pte_t *vmm_create(void)
{
    /* TODO(practice 1): the contract is in vmm.h: a space whose lower half
     * maps nothing and whose kernel half is the kernel's; counted in
     * vmm_stats.spaces; NULL, with nothing counted, if out of frames.
     * Pitfall: a PMM frame holds its previous owner's data. What does a
     * PML4 entry of that data point to?
     * Tests: two_spaces_see_different_data_at_one_address,
     * kernel_half_is_identical_in_every_space. */
    NOT_WRITTEN("practice 1");
    return NULL;
}

void vmm_switch(pte_t *space)
{
    /* TODO(practice 1): afterwards vmm_current() == space. NULL is a kernel
     * bug, stopped loudly. Pitfall: `space` is a pointer the kernel can
     * dereference; is that what the CPU wants to find in CR3?
     * Test: two_spaces_see_different_data_at_one_address. */
    NOT_WRITTEN("practice 1");
    (void)space;
}

enum vmm_status vmm_destroy(pte_t *space)
{
    /* TODO(homework 2): the contract is in vmm.h. Afterwards every frame
     * the space's own tables used is free again, and nothing else is: not a
     * frame its pages mapped, not a table of the kernel half.
     * Pitfall: the frames a space's tables use and the frames its pages
     * map are both reached through its entries. Which are the space's?
     * Tests: destroy_frees_every_table_of_the_space,
     * destroy_refuses_kernel_and_current_space. */
    NOT_WRITTEN("homework 2");
    (void)space;
    return VMM_NOT_WRITTEN;
}

/* ---- practice 1: pages in a space ---------------------------------------- */

enum vmm_status vmm_map(pte_t *space, uintptr_t virt, phys_addr_t phys, uint64_t flags)
{
    /* TODO(practice 1): the contract, its statuses and which one wins are
     * in vmm.h; a refused call changes no table of any space.
     * Pitfall: a kernel-half address under a PML4 entry that does not exist
     * yet: what would every other space see there after this call?
     * Tests: map_translate_unmap_round_trip, map_and_unmap_reject_bad_input;
     * the flag rules (homework 3): map_refuses_unsafe_flags. */
    NOT_WRITTEN("practice 1");
    (void)space, (void)virt, (void)phys, (void)flags;
    return VMM_NOT_WRITTEN;
}

enum vmm_status vmm_unmap(pte_t *space, uintptr_t virt, phys_addr_t *frame)
{
    /* TODO(practice 1): the contract is in vmm.h: the page is gone from
     * `space` and from the CPU's view of it at once (the invariant above);
     * its frame is reported, never freed; a refused call changes nothing.
     * Pitfall: the space you changed is not the current one. Can the
     * current space still reach that page?
     * Tests: map_translate_unmap_round_trip, unmap_is_visible_at_once,
     * map_and_unmap_reject_bad_input. */
    NOT_WRITTEN("practice 1");
    (void)space, (void)virt, (void)frame;
    return VMM_NOT_WRITTEN;
}

enum vmm_status vmm_translate(pte_t *space, uintptr_t virt, phys_addr_t *phys)
{
    /* TODO(practice 1): the contract is in vmm.h: any byte, not only a page
     * start. Pitfall: the direct map uses 2 MiB pages; what is the offset
     * of a byte inside one?
     * Tests: map_translate_unmap_round_trip, map_and_unmap_reject_bad_input. */
    NOT_WRITTEN("practice 1");
    (void)space, (void)virt, (void)phys;
    return VMM_NOT_WRITTEN;
}

enum vmm_status vmm_protect(pte_t *space, uintptr_t virt, uint64_t flags)
{
    /* TODO(homework 3): the contract is in vmm.h: the flag rules of
     * vmm_map, the frame kept, the new rights in force at once (the
     * invariant above).
     * Symptom to avoid: a page made read-only that can still be written
     * right after vmm_protect returns.
     * Tests: protect_changes_permissions_at_once, map_refuses_unsafe_flags. */
    NOT_WRITTEN("homework 3");
    (void)space, (void)virt, (void)flags;
    return VMM_NOT_WRITTEN;
}
