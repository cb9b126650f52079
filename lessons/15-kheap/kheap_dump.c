/* kheap_dump.c - kheap_dump: the heap's counters and a map of its window.
 *
 * It knows the heap only through its interface (kheap_get_stats) and the
 * page tables, so it serves both heaps and any design of the free-list
 * bonus; what only a design knows, it prints through kheap_dump_details.
 * The page map is read from the page tables themselves, not from the
 * heap's own idea of what it mapped: when the two disagree, it says so.
 */
#include "kheap.h"
#include "kprintf.h"
#include "paging.h"

enum { MAP_COLUMNS = 64 }; /* pages per line: 256 KiB */

static bool page_is_mapped(size_t page)
{
    phys_addr_t frame;
    return paging_translate(paging_kernel_pml4(), KHEAP_START + page * PAGE_SIZE, &frame) ==
           PAGING_OK;
}

/* One character per page, '=' mapped, '-' not (the legend of GDB's `kheap`,
 * where '#', '+' and '.' say how much of a mapped page the bump heap handed
 * out, something only a design knows); lines past the last mapped
 * page are summed up in one. Returns how many pages are mapped. */
static size_t print_page_map(void)
{
    size_t mapped = 0, last_mapped = 0;
    for (size_t page = 0; page < KHEAP_PAGES; page++) {
        if (page_is_mapped(page)) {
            mapped++;
            last_mapped = page;
        }
    }
    size_t lines = last_mapped / MAP_COLUMNS + 1;
    kprintf("  pages (4 KiB each, from the page tables): '=' mapped  '-' not mapped\n");
    for (size_t line = 0; line < lines; line++) {
        kprintf("  %5zu KiB  ", (size_t)(line * MAP_COLUMNS * PAGE_SIZE / KiB));
        for (size_t page = line * MAP_COLUMNS; page < (line + 1) * MAP_COLUMNS; page++)
            kprintf("%c", page_is_mapped(page) ? '=' : '-');
        kprintf("\n");
    }
    if (lines * MAP_COLUMNS < KHEAP_PAGES)
        kprintf("  (pages %zu..%zu: not mapped)\n", lines * MAP_COLUMNS, (size_t)KHEAP_PAGES - 1);
    return mapped;
}

void kheap_dump(void)
{
    struct kheap_stats s;
    kheap_get_stats(&s);
    kprintf("kheap: window %p..%p (%zu KiB)\n", (void *)KHEAP_START, (void *)KHEAP_END,
            (size_t)(KHEAP_SIZE / KiB));
    kprintf("  used %zu bytes (requested %zu), peak %zu\n", s.used, s.requested, s.peak);
    kprintf("  %zu allocations, %zu frees, %zu failures; pages mapped: %zu (%zu KiB)\n",
            s.allocations, s.frees, s.failures, s.pages_mapped,
            (size_t)(s.pages_mapped * PAGE_SIZE / KiB));
    kprintf("  reported: bad frees %zu, double frees %zu, redzone overwrites %zu, writes after "
            "free %zu\n",
            s.bad_frees, s.double_frees, s.redzone_errors, s.poison_errors);
    size_t mapped = print_page_map();
    if (mapped != s.pages_mapped)
        kprintf("  the page tables map %zu pages of the window; the heap counts %zu\n", mapped,
                s.pages_mapped);
    if (kheap_dump_details != NULL)
        kheap_dump_details();
}
