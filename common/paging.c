/* paging.c - walking, mapping and unmapping 4 KiB pages; see paging.h. */
#include "paging.h"
#include "kprintf.h"
#include "panic.h"
#include "string.h"
#include "x86.h"

/* boot.asm's tables: the PML4 and the page directory that maps the kernel
 * image (0xFFFFFFFF80000000..+2 MiB), both linked at their physical address. */
extern pte_t boot_pml4[], boot_pd_kernel[];
extern char kernel_stack_guard[]; /* boot.asm: the page below the stack */

enum {
    BOOT_TABLE_POOL_FRAMES = 8,                   /* plenty for the kernel image and a few more */
    DIRECT_MAP_PD_FRAMES = DIRECT_MAP_SIZE / GiB, /* one page directory per GiB */
};

/* Page tables needed before the PMM exists come from here. */
static pte_t boot_table_pool[BOOT_TABLE_POOL_FRAMES][PAGE_TABLE_ENTRIES]
    __attribute__((aligned(PAGE_SIZE)));
static size_t boot_tables_used;

static phys_addr_t allocate_from_boot_pool(void)
{
    if (boot_tables_used == BOOT_TABLE_POOL_FRAMES)
        return 0;
    return kernel_virt_to_phys(boot_table_pool[boot_tables_used++]);
}

static frame_allocator_t allocate_table_frame = allocate_from_boot_pool;

void paging_set_table_allocator(frame_allocator_t allocate)
{
    allocate_table_frame = allocate;
}

pte_t *paging_kernel_pml4(void)
{
    return phys_to_virt((phys_addr_t)(uintptr_t)boot_pml4);
}

const char *paging_status_name(enum paging_status status)
{
    static const char *const names[] = {
        [PAGING_OK] = "ok",
        [PAGING_UNALIGNED] = "address not page-aligned",
        [PAGING_ALREADY_MAPPED] = "page already mapped",
        [PAGING_NOT_MAPPED] = "page not mapped",
        [PAGING_NO_MEMORY] = "no frame for a page table",
        [PAGING_HUGE_PAGE] = "address inside a huge page",
        [PAGING_WRITABLE_EXECUTABLE] = "writable and executable (W^X)",
        [PAGING_KERNEL_IMAGE] = "a frame of the kernel's code or constants, writable",
    };
    return (unsigned)status < ARRAY_SIZE(names) ? names[status] : "unknown";
}

/* The table an entry points to, allocating it if `create` allows. Upper-level
 * entries are made present, writable and user-accessible: the final
 * permissions are the AND of every level, so the leaf entry decides. */
static pte_t *next_table(pte_t *entry, bool create)
{
    if (*entry & PTE_PRESENT)
        return (*entry & PTE_HUGE) ? NULL : phys_to_virt(pte_address(*entry));
    if (!create)
        return NULL;
    phys_addr_t frame = allocate_table_frame();
    if (frame == 0)
        return NULL;
    pte_t *table = phys_to_virt(frame);
    memset(table, 0, PAGE_SIZE);
    *entry = frame | PTE_PRESENT | PTE_WRITABLE | PTE_USER;
    return table;
}

pte_t *paging_walk(pte_t *pml4, uintptr_t virt, bool create)
{
    pte_t *table = pml4;
    for (int level = PAGE_TABLE_LEVELS; level > 1; level--) {
        table = next_table(&table[page_table_index(virt, level)], create);
        if (table == NULL)
            return NULL;
    }
    return &table[page_table_index(virt, 1)];
}

/* The rules every leaf entry follows, for paging_map and paging_protect. */
static enum paging_status check_page_flags(uint64_t flags)
{
    if (flags & PTE_HUGE)
        return PAGING_HUGE_PAGE; /* in a 4 KiB page's entry bit 7 means PAT */
    if ((flags & PTE_WRITABLE) && !(flags & PTE_NO_EXECUTE))
        return PAGING_WRITABLE_EXECUTABLE; /* code that can be written can be injected */
    return PAGING_OK;
}

/* The PT entry of the mapped 4 KiB page at `virt`, or why there is none. */
static enum paging_status mapped_entry(pte_t *pml4, uintptr_t virt, pte_t **entry)
{
    if (!IS_ALIGNED(virt, PAGE_SIZE))
        return PAGING_UNALIGNED;
    phys_addr_t existing;
    if (paging_translate(pml4, virt, &existing) != PAGING_OK)
        return PAGING_NOT_MAPPED;
    *entry = paging_walk(pml4, virt, false);
    return *entry == NULL ? PAGING_HUGE_PAGE : PAGING_OK;
}

static bool is_kernel_code_or_rodata(phys_addr_t frame)
{
    return frame >= kernel_virt_to_phys(_text_start) && frame < kernel_virt_to_phys(_rodata_end);
}

enum paging_status paging_map(pte_t *pml4, uintptr_t virt, phys_addr_t phys, uint64_t flags)
{
    if (!IS_ALIGNED(virt, PAGE_SIZE) || !IS_ALIGNED(phys, PAGE_SIZE))
        return PAGING_UNALIGNED;
    enum paging_status status = check_page_flags(flags);
    if (status != PAGING_OK)
        return status;
    if ((flags & PTE_WRITABLE) && is_kernel_code_or_rodata(phys))
        return PAGING_KERNEL_IMAGE; /* a writable alias would let code rewrite the kernel */
    phys_addr_t existing;
    if (paging_translate(pml4, virt, &existing) == PAGING_OK)
        return PAGING_ALREADY_MAPPED;
    pte_t *entry = paging_walk(pml4, virt, true);
    if (entry == NULL)
        return PAGING_NO_MEMORY;
    *entry = phys | (flags & PTE_FLAGS_MASK) | PTE_PRESENT;
    return PAGING_OK;
}

enum paging_status paging_unmap(pte_t *pml4, uintptr_t virt, phys_addr_t *frame)
{
    pte_t *entry;
    enum paging_status status = mapped_entry(pml4, virt, &entry);
    if (status != PAGING_OK)
        return status;
    if (frame != NULL)
        *frame = pte_address(*entry);
    *entry = 0;
    return PAGING_OK;
}

enum paging_status paging_protect(pte_t *pml4, uintptr_t virt, uint64_t flags)
{
    if (!IS_ALIGNED(virt, PAGE_SIZE))
        return PAGING_UNALIGNED;
    enum paging_status status = check_page_flags(flags);
    if (status != PAGING_OK)
        return status;
    pte_t *entry;
    status = mapped_entry(pml4, virt, &entry);
    if (status != PAGING_OK)
        return status;
    if ((flags & PTE_WRITABLE) && is_kernel_code_or_rodata(pte_address(*entry)))
        return PAGING_KERNEL_IMAGE; /* as paging_map: no writable alias of the kernel */
    *entry = pte_address(*entry) | (flags & PTE_FLAGS_MASK) | PTE_PRESENT;
    return PAGING_OK;
}

enum paging_status paging_translate(pte_t *pml4, uintptr_t virt, phys_addr_t *phys)
{
    const pte_t *table = pml4;
    for (int level = PAGE_TABLE_LEVELS; level >= 1; level--) {
        pte_t entry = table[page_table_index(virt, level)];
        if (!(entry & PTE_PRESENT))
            return PAGING_NOT_MAPPED;
        if (level == 1 || (entry & PTE_HUGE)) {
            /* The offset inside a page spans the index bits of the levels below. */
            uint64_t page_size = PAGE_SIZE << (9 * (level - 1));
            /* In a huge page's entry bit 12 is the PAT bit, not address. */
            *phys = (pte_address(entry) & ~(page_size - 1)) + (virt & (page_size - 1));
            return PAGING_OK;
        }
        table = phys_to_virt(pte_address(entry));
    }
    return PAGING_NOT_MAPPED;
}

/* Maps [start, end) of the kernel image with `flags`, page by page. */
static void map_kernel_range(pte_t *page_table, const char *start, const char *end, uint64_t flags)
{
    for (uintptr_t virt = (uintptr_t)start; virt < (uintptr_t)end; virt += PAGE_SIZE) {
        if (virt == (uintptr_t)kernel_stack_guard)
            continue; /* left unmapped: a stack overflow faults here */
        page_table[page_table_index(virt, 1)] =
            kernel_virt_to_phys((const void *)virt) | flags | PTE_PRESENT;
    }
}

/* The direct map's first 2 MiB holds the kernel image: a page table of
 * 4 KiB pages replaces its huge page, so that the image's text and rodata
 * are read-only here too. A writable alias would undo W^X: code could
 * rewrite the kernel's instructions through it. */
static void protect_image_in_direct_map(pte_t *pd)
{
    phys_addr_t table_frame = allocate_table_frame();
    KASSERT(table_frame != 0);
    pte_t *page_table = phys_to_virt(table_frame);
    for (unsigned i = 0; i < PAGE_TABLE_ENTRIES; i++) {
        phys_addr_t frame = (phys_addr_t)i * PAGE_SIZE;
        uint64_t writable = is_kernel_code_or_rodata(frame) ? 0 : PTE_WRITABLE;
        page_table[i] = frame | PTE_PRESENT | writable | PTE_NO_EXECUTE;
    }
    pd[0] = table_frame | PTE_PRESENT | PTE_WRITABLE | PTE_NO_EXECUTE;
}

void paging_init(void)
{
    pte_t *pml4 = paging_kernel_pml4();

    /* The identity map was only needed to jump to the higher half. Without it
     * a stray low pointer (NULL + offset) faults instead of working. */
    pml4[page_table_index(0, 4)] = 0;

    /* The direct map is data, never code. */
    pte_t *pdpt = phys_to_virt(pte_address(pml4[page_table_index(DIRECT_MAP_BASE, 4)]));
    for (unsigned gib = 0; gib < DIRECT_MAP_PD_FRAMES; gib++) {
        pte_t *pd = phys_to_virt(pte_address(pdpt[gib]));
        for (unsigned i = 0; i < PAGE_TABLE_ENTRIES; i++)
            pd[i] |= PTE_NO_EXECUTE;
    }
    protect_image_in_direct_map(phys_to_virt(pte_address(pdpt[0])));

    /* The kernel image: a page table replaces the boot code's 2 MiB page. */
    phys_addr_t table_frame = allocate_table_frame();
    KASSERT(table_frame != 0);
    pte_t *page_table = phys_to_virt(table_frame);
    memset(page_table, 0, PAGE_SIZE);
    map_kernel_range(page_table, _text_start, _text_end, 0);
    map_kernel_range(page_table, _rodata_start, _rodata_end, PTE_NO_EXECUTE);
    map_kernel_range(page_table, _data_start, _data_end, PTE_WRITABLE | PTE_NO_EXECUTE);
    pte_t *pd_kernel = phys_to_virt((phys_addr_t)(uintptr_t)boot_pd_kernel);
    pd_kernel[page_table_index(KERNEL_VMA, 2)] = table_frame | PTE_PRESENT | PTE_WRITABLE;

    write_cr3(read_cr3()); /* many entries changed: flush the whole TLB */
}
