/* vmm.c - address spaces and the pages mapped in them (reference solution);
 * valloc.c builds the kernel's virtual areas on top.
 *
 * The walk through the four levels is lesson 13's paging_walk (paging.h):
 * this file decides what may be mapped where, and when the TLB must forget.
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
 */
#include "vmm.h"
#include "exception.h"
#include "kprintf.h"
#include "panic.h"
#include "pmm.h"
#include "string.h"
#include "x86.h"

extern char kernel_stack_guard[]; /* boot.asm: the unmapped page below the stack */

struct vmm_stats vmm_stats;

static bool vmm_page_fault(struct interrupt_frame *frame);

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
    exception_set_handler(VECTOR_PAGE_FAULT, vmm_page_fault);
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

enum vmm_status vmm_map(pte_t *space, uintptr_t virt, phys_addr_t phys, uint64_t flags)
{
    if (!IS_ALIGNED(phys, PAGE_SIZE))
        return VMM_UNALIGNED;
    enum vmm_status status = check_address(space, virt);
    if (status == VMM_OK)
        status = check_flags(virt, flags);
    if (status != VMM_OK)
        return status;
    phys_addr_t existing;
    if (paging_translate(space, virt, &existing) == PAGING_OK)
        return VMM_ALREADY_MAPPED; /* a 4 KiB page, or inside a 2 MiB one */
    pte_t *entry = paging_walk(space, virt, true);
    if (entry == NULL)
        return VMM_NO_MEMORY;
    *entry = phys | flags | PTE_PRESENT;
    return VMM_OK; /* not present -> present: no flush (see the top) */
}

enum vmm_status vmm_unmap(pte_t *space, uintptr_t virt, phys_addr_t *frame)
{
    enum vmm_status status = check_address(space, virt);
    if (status != VMM_OK)
        return status;
    phys_addr_t phys;
    if (paging_translate(space, virt, &phys) != PAGING_OK)
        return VMM_NOT_MAPPED;
    pte_t *entry = paging_walk(space, virt, false);
    if (entry == NULL)
        return VMM_BAD_ADDRESS; /* inside a 2 MiB page: not the VMM's to split */
    if (frame != NULL)
        *frame = pte_address(*entry);
    *entry = 0;
    flush(space, virt);
    return VMM_OK;
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
    if (status != VMM_OK)
        return status;
    phys_addr_t phys;
    if (paging_translate(space, virt, &phys) != PAGING_OK)
        return VMM_NOT_MAPPED;
    pte_t *entry = paging_walk(space, virt, false);
    if (entry == NULL)
        return VMM_BAD_ADDRESS;
    *entry = pte_address(*entry) | flags | PTE_PRESENT;
    flush(space, virt); /* the TLB may hold the old rights: a write would pass */
    return VMM_OK;
}

const char *vmm_status_name(enum vmm_status status)
{
    static const char *const names[] = {
        [VMM_OK] = "ok",
        [VMM_UNALIGNED] = "address not page-aligned",
        [VMM_BAD_ADDRESS] = "address the VMM may not change",
        [VMM_BAD_FLAGS] = "flags refused",
        [VMM_ALREADY_MAPPED] = "page already mapped",
        [VMM_NOT_MAPPED] = "page not mapped",
        [VMM_NO_MEMORY] = "no frame for a page table",
        [VMM_NOT_AN_AREA] = "not the start of a valloc area",
        [VMM_BUSY] = "space in use",
    };
    return (unsigned)status < ARRAY_SIZE(names) ? names[status] : "unknown";
}

/* ---- page faults ------------------------------------------------------- */

/* A bounded string builder: there is no snprintf in this kernel. */
struct text {
    char *buf;
    size_t size, length; /* size > 0; buf[length] == '\0' */
};

static void add_char(struct text *text, char c)
{
    if (text->length + 1 < text->size)
        text->buf[text->length++] = c;
    text->buf[text->length] = '\0';
}

static void add_text(struct text *text, const char *s)
{
    while (*s)
        add_char(text, *s++);
}

/* `value` in `base`, zero-padded to at least `width` digits. */
static void add_number(struct text *text, uint64_t value, unsigned base, int width)
{
    char digits[64];
    int count = 0;
    do {
        digits[count++] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value != 0 || count < width);
    while (count > 0)
        add_char(text, digits[--count]);
}

static void add_address(struct text *text, uintptr_t address)
{
    add_text(text, "0x");
    add_number(text, address, 16, 16); /* as kprintf's %p */
}

/* What went wrong, from the error code and the current space's entry. */
static const char *fault_cause(uintptr_t address, uint64_t error_code)
{
    if (error_code & PF_RESERVED_BIT)
        return "reserved bit set in a page-table entry";
    if (!(error_code & PF_PRESENT)) {
        return error_code & PF_FETCH   ? "instruction fetch from an unmapped page"
               : error_code & PF_WRITE ? "write to an unmapped page"
                                       : "read from an unmapped page";
    }
    /* Present: a protection violation. Only a ring-3 access to a page without
     * PTE_USER is a user/kernel one; the 2 MiB pages here are all kernel's. */
    pte_t *entry = paging_walk(vmm_current(), ALIGN_DOWN(address, PAGE_SIZE), false);
    if ((error_code & PF_USER) && (entry == NULL || !(*entry & PTE_USER)))
        return "user access to a kernel page";
    if (error_code & PF_FETCH)
        return "instruction fetch from a no-execute page";
    if (error_code & PF_WRITE)
        return "write to a read-only page";
    return "protection violation";
}

/* Which region of the address space `address` falls in. */
static void add_region(struct text *text, uintptr_t address)
{
    struct valloc_area area;
    uintptr_t stack_guard = (uintptr_t)kernel_stack_guard;
    if (valloc_find(address, &area)) {
        bool guard = address >= area.start + area.pages * PAGE_SIZE;
        add_text(text, guard ? "guard page after the valloc area at " : "the valloc area at ");
        add_address(text, area.start);
        add_text(text, " (");
        add_number(text, area.pages, 10, 1);
        add_text(text, area.pages == 1 ? " page)" : " pages)");
    } else if (address >= VALLOC_START && address < VALLOC_END) {
        add_text(text, "the valloc window, in no area (freed, or never allocated)");
    } else if (address >= stack_guard && address < stack_guard + PAGE_SIZE) {
        add_text(text, "the kernel stack's guard page (a stack overflow?)");
    } else if (address >= (uintptr_t)_text_start && address < (uintptr_t)_kernel_end) {
        add_text(text, "the kernel image");
    } else if (address >= DIRECT_MAP_BASE && address < DIRECT_MAP_BASE + DIRECT_MAP_SIZE) {
        add_text(text, "the direct map of physical memory");
    } else if (address < PAGE_SIZE) {
        add_text(text, "the first page of the lower half (a NULL pointer?)");
    } else if (address < VMM_USER_END) {
        add_text(text, "the lower half of the current space");
    } else {
        add_text(text, is_kernel_half(address) ? "the kernel half, in no region"
                                               : "a non-canonical address");
    }
}

const char *vmm_describe_fault(uintptr_t address, uint64_t error_code, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    struct text text = {.buf = buf, .size = size};
    add_text(&text, fault_cause(address, error_code));
    add_text(&text, " at ");
    add_address(&text, address);
    add_text(&text, ": ");
    add_region(&text, address);
    return buf;
}

/* Says what the fault means, then lets the default report (or the test
 * harness, for a fault a test expects) take over. A kernel that loads pages
 * on demand or grows stacks would handle some faults here and return true. */
static bool vmm_page_fault(struct interrupt_frame *frame)
{
    static bool describing; /* a fault inside vmm_describe_fault (a broken table?) */
    char text[VMM_FAULT_TEXT_SIZE];
    vmm_stats.page_faults++;
    if (describing) {
        describing = false; /* the outer call never resumes: start afresh next time */
        return false;
    }
    describing = true;
    kprintf("vmm: page fault: %s\n",
            vmm_describe_fault(read_cr2(), frame->error_code, text, sizeof(text)));
    describing = false;
    return false;
}
