/* vmm.c - address spaces and the pages mapped in them; valloc.c builds the
 * kernel's virtual areas on top. What the VMM prints (status names, page-
 * fault descriptions, the fault handler) is given, in vmm_report.c.
 *
 * A space is a PML4 (vmm.h). Its entries 0..VMM_KERNEL_SLOT-1 are the
 * space's own; entries VMM_KERNEL_SLOT..511 are copies of the kernel's, so
 * every space points to the very same kernel tables below them.
 *
 * The walk through the four levels is lesson 13's (paging.h): paging_walk
 * finds or creates a page's PT entry, paging_translate follows 4 KiB and
 * 2 MiB pages alike. This file decides what may be mapped where, and when
 * the TLB must forget.
 *
 * The TLB rule. The CPU caches translations; changing an entry in memory
 * does not change its cached copy.
 *   - present -> not present, or fewer rights: the cached copy must go
 *     (invlpg), or the CPU keeps using the old translation;
 *   - not present -> present: nothing to do, the CPU never caches an entry
 *     that is not present (Intel SDM vol. 3, 4.10.2);
 *   - the TLB holds the current space's translations only, and loading CR3
 *     empties it (no global pages, no PCIDs here): a change in another
 *     space's lower half needs no flush. But the kernel half is shared: a
 *     change there is a change in the current space too, whichever space
 *     it was made through.
 *
 * Invariants:
 *   - every space's entries VMM_KERNEL_SLOT..511 equal the kernel's; no
 *     kernel-half PML4 entry is made after vmm_init;
 *   - vmm_map never replaces a mapping, and never makes a PML4 entry in the
 *     kernel half;
 *   - vmm_stats.spaces counts the spaces vmm_create made and vmm_destroy
 *     has not freed yet.
 *
 * Practice 1 (in class): vmm_init, vmm_create, vmm_switch, vmm_map,
 * vmm_unmap, vmm_translate. Homework 2: vmm_destroy. Homework 3: the flag
 * rules and vmm_protect. Each stub names the tests that check it.
 */
#include "vmm.h"
#include "kprintf.h"
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
    /* TODO(practice 1): give the valloc window (VALLOC_START) its PML4 entry
     * in the kernel's space: a zeroed PDPT from the PMM, present and
     * writable, no PTE_USER. Made now, while the kernel's is the only space:
     * an entry added later would be missing from the spaces made before.
     * No frame this early is a bug worth a panic.
     * Test: kernel_half_is_identical_in_every_space. */
}

pte_t *vmm_create(void)
{
    /* TODO(practice 1): a PML4 from the PMM: entries below VMM_KERNEL_SLOT
     * empty, the others copied from the kernel's; counted in
     * vmm_stats.spaces. NULL if out of frames.
     * Tests: two_spaces_see_different_data_at_one_address,
     * kernel_half_is_identical_in_every_space. */
    return NULL;
}

void vmm_switch(pte_t *space)
{
    /* TODO(practice 1): make `space` the one CR3 holds. NULL is a kernel
     * bug (KASSERT). Test: two_spaces_see_different_data_at_one_address. */
    (void)space;
}

enum vmm_status vmm_destroy(pte_t *space)
{
    /* TODO(homework 2): the contract is in vmm.h. Refuse the kernel's space
     * and the current one (a warning, counted). Free every table below the
     * lower half, bottom up, then the PML4: not the frames the PTs map (they
     * are the caller's), not a 2 MiB page, nothing below the kernel half's
     * entries (shared with every space); vmm_stats.spaces follows.
     * Tests: destroy_frees_every_table_of_the_space,
     * destroy_refuses_kernel_and_current_space. */
    (void)space;
    return VMM_NOT_WRITTEN;
}

/* ---- practice 1: pages in a space ---------------------------------------- */

/* Hints for helpers worth writing (yours to name and shape):
 *   - "may pages at `virt` be changed in `space`?": aligned, canonical, and
 *     in the kernel half only below a PML4 entry that exists already;
 *   - the flag rules (homework 3): VMM_BAD_FLAGS for any bit outside
 *     VMM_PAGE_FLAGS (PTE_PRESENT may be given), PTE_USER in the kernel
 *     half, PTE_WRITABLE without PTE_NO_EXECUTE (W^X);
 *   - "flush `virt` if the CPU may cache it", from the TLB rule above. */

enum vmm_status vmm_map(pte_t *space, uintptr_t virt, phys_addr_t phys, uint64_t flags)
{
    /* TODO(practice 1): the checks and their order are in vmm.h. Something
     * mapped there includes a 2 MiB page of the direct map. Pitfall: the
     * address checks must come before anything that creates a table.
     * Tests: map_translate_unmap_round_trip, map_and_unmap_reject_bad_input;
     * the flags (homework 3): map_refuses_unsafe_flags. */
    (void)space, (void)virt, (void)phys, (void)flags;
    return VMM_NOT_WRITTEN;
}

enum vmm_status vmm_unmap(pte_t *space, uintptr_t virt, phys_addr_t *frame)
{
    /* TODO(practice 1): the same address checks; VMM_NOT_MAPPED if nothing
     * is mapped, VMM_BAD_ADDRESS inside a 2 MiB page (not the VMM's to
     * split). The TLB rule decides the flush: the kernel half too.
     * Tests: map_translate_unmap_round_trip, unmap_is_visible_at_once,
     * map_and_unmap_reject_bad_input. */
    (void)space, (void)virt, (void)frame;
    return VMM_NOT_WRITTEN;
}

enum vmm_status vmm_translate(pte_t *space, uintptr_t virt, phys_addr_t *phys)
{
    /* TODO(practice 1): any byte, huge pages included; a non-canonical
     * address is VMM_BAD_ADDRESS.
     * Tests: map_translate_unmap_round_trip, map_and_unmap_reject_bad_input. */
    (void)space, (void)virt, (void)phys;
    return VMM_NOT_WRITTEN;
}

enum vmm_status vmm_protect(pte_t *space, uintptr_t virt, uint64_t flags)
{
    /* TODO(homework 3): the checks of vmm_map (flag rules included, also in
     * vmm_map), VMM_NOT_MAPPED or VMM_BAD_ADDRESS as vmm_unmap; the entry
     * keeps its frame. Pitfall: the TLB may still hold the old rights.
     * Tests: protect_changes_permissions_at_once, map_refuses_unsafe_flags. */
    (void)space, (void)virt, (void)flags;
    return VMM_NOT_WRITTEN;
}
