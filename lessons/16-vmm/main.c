/* main.c - lesson 16's kernel: two address spaces that disagree about one
 * address, and a valloc area seen through a page-table walk. With the
 * starter's stubs it says which part is not written yet. */
#include "exception.h"
#include "kprintf.h"
#include "lesson.h"
#include "paging.h"
#include "pmm.h"
#include "string.h"
#include "vmm.h"
#include "x86.h"

enum { DEMO_PAGES = 3, TEXT_SIZE = 32 };
#define DEMO_ADDRESS 0x400000ull /* a lower-half page, different in each space */

void lesson_init(void)
{
    vmm_report_init();
}

static void print_flags(pte_t entry, int level)
{
    kprintf("%s%s%s%s%s%s%s", entry & PTE_PRESENT ? " P" : " -", entry & PTE_WRITABLE ? " W" : "",
            entry & PTE_USER ? " U" : "", entry & PTE_ACCESSED ? " A" : "",
            entry & PTE_DIRTY ? " D" : "", level > 1 && (entry & PTE_HUGE) ? " PS" : "",
            entry & PTE_NO_EXECUTE ? " NX" : "");
}

/* What the CPU does on a TLB miss, one line per level. */
static void print_walk(pte_t *space, uintptr_t virt)
{
    static const char *const level_names[] = {"", "PT", "PD", "PDPT", "PML4"};
    kprintf("  walk of %p from CR3 = %p:\n", (void *)virt, (void *)virt_to_phys_direct(space));
    const pte_t *table = space;
    for (int level = PAGE_TABLE_LEVELS; level >= 1; level--) {
        unsigned index = page_table_index(virt, level);
        pte_t entry = table[index];
        kprintf("    %-4s[%3u] = %p", level_names[level], index, (void *)entry);
        print_flags(entry, level);
        if (!(entry & PTE_PRESENT)) {
            kprintf("  -> not mapped\n");
            return;
        }
        if (level == 1 || (entry & PTE_HUGE)) {
            uint64_t page_size = PAGE_SIZE << (9 * (level - 1));
            kprintf("  -> page at %p, byte at %p\n", (void *)pte_address(entry),
                    (void *)(pte_address(entry) + (virt & (page_size - 1))));
            return;
        }
        kprintf("\n");
        table = phys_to_virt(pte_address(entry));
    }
}

/* A frame holding `text`, written through the direct map. */
static phys_addr_t frame_with_text(const char *text)
{
    phys_addr_t frame = pmm_alloc_frame();
    if (frame != PMM_NO_FRAME) {
        memset(phys_to_virt(frame), 0, PAGE_SIZE);
        memcpy(phys_to_virt(frame), text, strlen(text) + 1);
    }
    return frame;
}

static void show_space(const char *name, pte_t *space)
{
    char text[TEXT_SIZE];
    vmm_switch(space);
    memcpy(text, (const char *)DEMO_ADDRESS, sizeof(text)); /* through this space's tables */
    text[sizeof(text) - 1] = '\0';
    kprintf("  in space %s (CR3 = %p): %p holds \"%s\"\n", name, (void *)read_cr3(),
            (void *)DEMO_ADDRESS, text);
}

static void demo_spaces(void)
{
    kprintf("\n== Two address spaces, one address ==\n");
    pte_t *a = vmm_create(), *b = vmm_create();
    if (a == NULL || b == NULL) {
        kprintf("  vmm_create() returned NULL with %zu frames free: not written yet? "
                "(practice 1)\n",
                pmm_free_count());
        vmm_destroy(a);
        vmm_destroy(b);
        return;
    }
    phys_addr_t frame_a = frame_with_text("hello from space A");
    phys_addr_t frame_b = frame_with_text("hello from space B");
    kprintf("  space A: PML4 at %p; space B: PML4 at %p\n", (void *)virt_to_phys_direct(a),
            (void *)virt_to_phys_direct(b));
    kprintf("  shared kernel half: PML4[256] = %p (direct map), [510] = %p (valloc), "
            "[511] = %p (kernel)\n",
            (void *)a[256], (void *)a[510], (void *)a[511]);
    uint64_t flags = PTE_WRITABLE | PTE_USER | PTE_NO_EXECUTE;
    enum vmm_status map_a = vmm_map(a, DEMO_ADDRESS, frame_a, flags);
    enum vmm_status map_b = vmm_map(b, DEMO_ADDRESS, frame_b, flags);
    kprintf("  map %p -> %p in A: %s\n", (void *)DEMO_ADDRESS, (void *)frame_a,
            vmm_status_name(map_a));
    kprintf("  map %p -> %p in B: %s\n", (void *)DEMO_ADDRESS, (void *)frame_b,
            vmm_status_name(map_b));
    if (map_a == VMM_OK && map_b == VMM_OK) {
        show_space("A", a);
        show_space("B", b);
        show_space("A", a);
        vmm_switch(vmm_kernel_space());
    }
    phys_addr_t phys;
    kprintf("  in the kernel's space: %p is %s\n", (void *)DEMO_ADDRESS,
            vmm_status_name(vmm_translate(vmm_kernel_space(), DEMO_ADDRESS, &phys)));
    print_walk(a, DEMO_ADDRESS);

    kprintf("  vmm_destroy(A): %s\n", vmm_status_name(vmm_destroy(a)));
    vmm_destroy(b);
    pmm_free_frame(frame_a);
    pmm_free_frame(frame_b);
}

static void demo_valloc(void)
{
    char text[VMM_FAULT_TEXT_SIZE];
    kprintf("\n== valloc ==\n");
    size_t before = pmm_free_count();
    char *area = valloc(DEMO_PAGES);
    if (area == NULL) {
        kprintf("  valloc(%d) returned NULL with %zu frames free: not written yet? (practice 2)\n",
                DEMO_PAGES, before);
        return;
    }
    size_t during = pmm_free_count();
    kprintf("  valloc(%d) = %p: %zu frames taken (%d pages + %zu page tables)\n", DEMO_PAGES,
            (void *)area, before - during, DEMO_PAGES, before - during - DEMO_PAGES);
    static const char message[] = "written through the valloc area";
    memcpy(area + PAGE_SIZE, message, sizeof(message));
    print_walk(vmm_current(), (uintptr_t)area + PAGE_SIZE);
    uintptr_t guard = (uintptr_t)area + DEMO_PAGES * PAGE_SIZE;
    print_walk(vmm_current(), guard);
    kprintf("  a write there would be reported as:\n    %s\n",
            vmm_describe_fault(guard, PF_WRITE, text, sizeof(text)));

    kprintf("  vfree(%p): %s\n", (void *)area, vmm_status_name(vfree(area)));
    kprintf("  PMM free frames: %zu before valloc, %zu with the area, %zu after vfree%s\n", before,
            during, pmm_free_count(), pmm_free_count() == before ? "" : "  <- a leak (homework 1)");
    kprintf("  vfree(%p) again: %s\n", (void *)area, vmm_status_name(vfree(area)));
}

void lesson_demo(void)
{
    size_t before = pmm_free_count();
    demo_spaces();
    demo_valloc();
    kprintf("\nPMM: %zu frames free at the start, %zu now%s\n", before, pmm_free_count(),
            pmm_free_count() == before ? "" : " (frames leaked: see homework 1 and 2)");
    kprintf("vmm_stats: %zu spaces, %zu areas (%zu pages), %zu page faults, %zu warnings\n",
            vmm_stats.spaces, vmm_stats.areas, vmm_stats.area_pages, vmm_stats.page_faults,
            vmm_stats.warnings);
}
