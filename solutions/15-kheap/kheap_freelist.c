/* kheap_freelist.c - the kernel heap with size-class free lists and debug
 * checks (the bonus; reference solution). Built with KHEAP=freelist in
 * place of kheap.c; same interface (kheap.h), same 2 MiB window.
 *
 * Design, in the manner of the header of Linux's mm/slub.c (much reduced):
 *
 * Pages. The window is managed a page at a time. heap_pages[] (outside the
 * window, one small descriptor per page) says what each page is:
 *   PAGE_FREE   not mapped, available
 *   PAGE_SLAB   mapped, cut into equal slots of one size class
 *   PAGE_LARGE  mapped, the first page of a large block (its pages and size)
 *   PAGE_TAIL   mapped, another page of a large block
 *   PAGE_GUARD  not mapped, kept free after a large block (debug mode)
 *   PAGE_FREED  not mapped, available; it was a large block's first page,
 *               and keeps its size so a second kfree can be named
 * Pages are found first-fit in heap_pages (O(number of pages), at most 512)
 * and mapped onto frames from the PMM as they are taken.
 *
 * Small blocks (up to SMALL_MAX bytes with their debug extras) come from
 * fourteen size classes (class_sizes): the powers of two from 16 to 2048
 * bytes and the sizes halfway between them, 48, 96, ..., 1536, as Linux's
 * kmalloc has 96 and 192. A request is rounded up to its class, so for
 * requests over 32 bytes the halfway classes cut the waste from up to half
 * a slot to under a third: without debug checks, a 40-byte structure takes
 * 48 bytes, not 64. Each class keeps a free list of its slots, linked
 * through the free slots themselves: kmalloc pops the head, kfree pushes
 * the block back: O(1) each. A class with an empty list
 * takes a page (a "slab") and cuts it into slots, from the page's start;
 * what is left at its end (PAGE_SIZE % slot size) stays unused. Slabs are
 * never given back (SLUB returns empty slabs to the page allocator; that
 * needs a count of slots in use per page, and a way to take a page's slots
 * off the list).
 *
 * Alignment: a slot starts at a multiple of its size from a page boundary,
 * so it is aligned to the largest power of two that divides its size: 2048
 * to 2048, 1536 to 512, 48 to 16. kmalloc_aligned with an alignment up to
 * SMALL_MAX picks the smallest class that is big enough and aligned enough.
 *
 * Large blocks (larger than SMALL_MAX, or aligned to more than that) get
 * whole pages, each on its own frame; kfree unmaps them and gives the frames
 * back to the PMM, so the memory returns to the system and a use after free
 * faults at once.
 *
 * From a pointer to its block (kfree): the page descriptor gives the class,
 * hence the slot size, and the offset in the page divided by it the slot;
 * or the descriptor gives the large block. A pointer that is not exactly
 * the start of a slot or of a large block is refused.
 *
 * Debug mode (heap_debug; on unless built with -DKHEAP_DEBUG=0, and
 * switchable with kheap_set_debug). Byte patterns as in Linux's
 * include/linux/poison.h. A slot then looks like
 *
 *   | object: size bytes | redzone, >= 16 bytes | trailer: 16 bytes |
 *     0x5a when handed out  0xcc while in use      link, magic, size
 *     0x6b while free       0x6b while free
 *
 *   - redzone: checked on kfree; a byte that is not 0xcc means something
 *     wrote past the end of the block (reported with the block's address,
 *     its size and the first bad byte);
 *   - poison: a free slot's object and redzone hold 0x6b, checked when the
 *     slot is handed out again: another value means a write after free;
 *   - trailer: the free-list link, a magic number saying "in use" or
 *     "free", and the size asked for. kfree of a slot marked free is a
 *     double free, and is refused (pushing it twice would hand it out to
 *     two owners later).
 *   Large blocks: the bytes from the end of the object to the end of its
 *   last page are a redzone, and an unmapped guard page follows the block.
 * Without debug mode a slot is just the object, the link sits in its first
 * 8 bytes while it is free, and only cheap checks remain: a link is
 * validated before it is followed (a bad one means a write after free), and
 * freeing the block at the head of its list is a double free.
 *
 * Problems are counted warnings: printed, counted in kheap_stats, and the
 * last one kept for kheap_last_report. The heap carries on.
 *
 * Concurrency: as in kheap.c, every public function runs inside the
 * interrupt guard (common/irq_guard.h).
 *
 * kheap_dump (kheap_dump.c) prints the counters and the pages mapped;
 * kheap_dump_details, its hook, adds what each page holds and the classes.
 */
#include "irq_guard.h"
#include "kheap.h"
#include "kprintf.h"
#include "paging.h"
#include "pmm.h"
#include "string.h"
#include "x86.h"

#ifndef KHEAP_DEBUG
#define KHEAP_DEBUG 1
#endif

#define HEAP_PAGE_FLAGS (PTE_WRITABLE | PTE_NO_EXECUTE)

enum {
    SMALL_MAX = 2048, /* the largest class */
    REDZONE_MIN = 16,
    TRAILER_SIZE = 16,
    POISON_INUSE = 0x5a, /* a new block: reading it before writing shows 0x5a5a... */
    POISON_FREE = 0x6b,  /* a free slot */
    RED_ACTIVE = 0xcc,   /* the redzone of a block in use */
};

#define SLOT_IN_USE 0x1B10C4EDu /* trailer magic numbers */
#define SLOT_FREE   0xF4EEF4EEu

enum page_state { PAGE_FREE, PAGE_SLAB, PAGE_LARGE, PAGE_TAIL, PAGE_GUARD, PAGE_FREED };

struct heap_page {
    enum page_state state : 8;
    uint8_t size_class; /* PAGE_SLAB */
    uint16_t pages;     /* PAGE_LARGE, PAGE_FREED: the block's pages */
    uint32_t size;      /* PAGE_LARGE, PAGE_FREED: the size asked for */
};

struct size_class {
    uintptr_t free;    /* the first free slot, or 0 */
    size_t free_slots; /* on the list */
    size_t pages;      /* slabs of this class */
};

/* The debug trailer at the end of each slot. */
struct slot_trailer {
    uintptr_t next; /* the next free slot, while free */
    uint32_t magic; /* SLOT_IN_USE or SLOT_FREE */
    uint32_t size;  /* the size asked for (of the last owner, while free) */
};

/* Slot sizes, smallest first; all multiples of KHEAP_MIN_ALIGN. */
static const uint16_t class_sizes[] = {16,  32,  48,  64,  96,   128,  192,
                                       256, 384, 512, 768, 1024, 1536, 2048};
#define CLASS_COUNT ARRAY_SIZE(class_sizes)

static struct heap_page heap_pages[KHEAP_PAGES]; /* 4 KiB */
static struct size_class heap_classes[CLASS_COUNT];
static bool heap_debug = KHEAP_DEBUG;
static struct kheap_stats heap_stats;
static struct kheap_report heap_last;

_Static_assert(sizeof(struct slot_trailer) == TRAILER_SIZE);

/* ---- small helpers ------------------------------------------------------ */

static size_t class_size(unsigned c)
{
    return class_sizes[c];
}

/* What every slot of class c is aligned to: the lowest bit set in its size. */
static size_t class_alignment(unsigned c)
{
    return class_size(c) & -class_size(c);
}

static uintptr_t page_address(size_t index)
{
    return KHEAP_START + index * PAGE_SIZE;
}

static size_t page_index(uintptr_t address)
{
    return (address - KHEAP_START) / PAGE_SIZE;
}

static struct slot_trailer *trailer_of(uintptr_t slot, size_t slot_size)
{
    return (struct slot_trailer *)(slot + slot_size - TRAILER_SIZE);
}

/* The first byte of [start, start + length) that is not `byte`, or 0. */
static uintptr_t first_byte_not(uintptr_t start, size_t length, uint8_t byte)
{
    for (size_t i = 0; i < length; i++) {
        if (((const uint8_t *)start)[i] != byte)
            return start + i;
    }
    return 0;
}

/* A counted warning: printed, remembered for kheap_last_report, counted. */
static void report(enum kheap_problem problem, uintptr_t block, size_t size, uintptr_t address,
                   const char *what)
{
    heap_last = (struct kheap_report){problem, block, size, address};
    switch (problem) {
    case KHEAP_BAD_FREE:
        heap_stats.bad_frees++;
        break;
    case KHEAP_DOUBLE_FREE:
        heap_stats.double_frees++;
        break;
    case KHEAP_REDZONE:
        heap_stats.redzone_errors++;
        break;
    case KHEAP_USE_AFTER_FREE:
        heap_stats.poison_errors++;
        break;
    case KHEAP_NO_PROBLEM:
        break;
    }
    if (block != 0)
        kprintf("kheap: BUG: %s: block %p (size %zu), at %p (offset %zu): %s\n",
                problem == KHEAP_REDZONE          ? "redzone overwritten"
                : problem == KHEAP_USE_AFTER_FREE ? "write after free"
                : problem == KHEAP_DOUBLE_FREE    ? "double free"
                                                  : "bad kfree",
                (void *)block, size, (void *)address, (size_t)(address - block), what);
    else
        kprintf("kheap: BUG: bad kfree(%p): %s\n", (void *)address, what);
}

/* ---- pages of the window ------------------------------------------------ */

static bool page_available(size_t index)
{
    return heap_pages[index].state == PAGE_FREE || heap_pages[index].state == PAGE_FREED;
}

/* The first run of `count` available pages starting at a multiple of
 * `step` pages, or KHEAP_PAGES if there is none. */
static size_t find_pages(size_t count, size_t step)
{
    for (size_t first = 0; first + count <= KHEAP_PAGES; first += step) {
        size_t n = 0;
        while (n < count && page_available(first + n))
            n++;
        if (n == count)
            return first;
    }
    return KHEAP_PAGES;
}

/* Unmaps the heap page at `page`, if it is mapped, and gives its frame back;
 * true if it was mapped. paging_unmap edits the table only: the CPU may
 * still hold the page's translation, and would keep reaching a frame the PMM
 * hands to someone else. */
static bool release_page(uintptr_t page)
{
    phys_addr_t frame;
    if (paging_unmap(paging_kernel_pml4(), page, &frame) != PAGING_OK)
        return false;
    invlpg(page);
    pmm_free_frame(frame);
    return true;
}

static void unmap_pages(size_t first, size_t count)
{
    for (size_t i = first; i < first + count; i++) {
        if (release_page(page_address(i)))
            heap_stats.pages_mapped--;
    }
}

/* Maps pages [first, first + count) onto fresh frames; all or nothing. */
static bool map_pages(size_t first, size_t count)
{
    for (size_t i = first; i < first + count; i++) {
        phys_addr_t frame = pmm_alloc_frame();
        enum paging_status status = PAGING_NO_MEMORY;
        if (frame != PMM_NO_FRAME)
            status = paging_map(paging_kernel_pml4(), page_address(i), frame, HEAP_PAGE_FLAGS);
        if (status != PAGING_OK) {
            if (frame != PMM_NO_FRAME)
                pmm_free_frame(frame);
            unmap_pages(first, i - first);
            return false;
        }
        heap_stats.pages_mapped++;
    }
    return true;
}

/* ---- small blocks: size classes ----------------------------------------- */

/* Bytes a slot needs for a block of `size` bytes (size <= SMALL_MAX). */
static size_t slot_need(size_t size)
{
    if (!heap_debug)
        return MAX(size, (size_t)1);
    return ALIGN_UP(size, KHEAP_MIN_ALIGN) + REDZONE_MIN + TRAILER_SIZE;
}

/* The smallest class with slots of at least `bytes` aligned to at least
 * `align` (both <= SMALL_MAX: the last class, 2048 aligned to 2048, fits). */
static unsigned class_for(size_t bytes, size_t align)
{
    unsigned c = 0;
    while (class_size(c) < bytes || class_alignment(c) < align)
        c++;
    return c;
}

/* Whether a slot of `slot_size` bytes could start `offset` bytes into a
 * slab page: at a multiple of the size, and not in the unused end. */
static bool is_slot_offset(size_t offset, size_t slot_size)
{
    return offset % slot_size == 0 && offset + slot_size <= PAGE_SIZE;
}

static uintptr_t get_link(uintptr_t slot, size_t slot_size)
{
    return heap_debug ? trailer_of(slot, slot_size)->next : *(const uintptr_t *)slot;
}

/* Puts a slot on its class's free list (and poisons it in debug mode). */
static void push_slot(unsigned c, uintptr_t slot, uint32_t last_size)
{
    struct size_class *cls = &heap_classes[c];
    size_t slot_size = class_size(c);
    if (heap_debug) {
        memset((void *)slot, POISON_FREE, slot_size - TRAILER_SIZE);
        *trailer_of(slot, slot_size) = (struct slot_trailer){cls->free, SLOT_FREE, last_size};
    } else {
        *(uintptr_t *)slot = cls->free;
    }
    cls->free = slot;
    cls->free_slots++;
}

/* Takes a page for class c and puts its slots on the list, lowest first. */
static bool grow_class(unsigned c)
{
    size_t index = find_pages(1, 1);
    if (index == KHEAP_PAGES || !map_pages(index, 1))
        return false;
    heap_pages[index] = (struct heap_page){.state = PAGE_SLAB, .size_class = (uint8_t)c};
    heap_classes[c].pages++;
    /* The last slot first: the list then hands them out lowest first. */
    size_t slot_size = class_size(c);
    for (size_t i = PAGE_SIZE / slot_size; i-- > 0;)
        push_slot(c, page_address(index) + i * slot_size, 0);
    return true;
}

/* Can `link` be the next free slot of class c? */
static bool valid_link(uintptr_t link, unsigned c)
{
    if (link == 0)
        return true;
    if (link < KHEAP_START || link >= KHEAP_END)
        return false;
    const struct heap_page *page = &heap_pages[page_index(link)];
    return page->state == PAGE_SLAB && page->size_class == c &&
           is_slot_offset(link % PAGE_SIZE, class_size(c));
}

/* Checks a slot coming off the free list: its link, and in debug mode its
 * trailer and poison. Reports a write after free; returns the link to
 * follow (0, ending the list, if the link itself was overwritten). */
static uintptr_t check_free_slot(unsigned c, uintptr_t slot)
{
    size_t slot_size = class_size(c);
    uintptr_t link = get_link(slot, slot_size);
    if (heap_debug) {
        const struct slot_trailer *trailer = trailer_of(slot, slot_size);
        uintptr_t bad = first_byte_not(slot, slot_size - TRAILER_SIZE, POISON_FREE);
        if (trailer->magic != SLOT_FREE)
            report(KHEAP_USE_AFTER_FREE, slot, trailer->size, (uintptr_t)trailer,
                   "the free slot's trailer was overwritten");
        else if (bad != 0)
            report(KHEAP_USE_AFTER_FREE, slot, trailer->size, bad,
                   "freed memory was written before its reuse");
    }
    if (!valid_link(link, c)) {
        report(KHEAP_USE_AFTER_FREE, slot, heap_debug ? 0 : slot_size, slot,
               "the free-list link was overwritten; the rest of the list is dropped");
        heap_classes[c].free_slots = 1; /* the slot being taken */
        return 0;
    }
    return link;
}

static void *small_alloc(unsigned c, size_t size)
{
    struct size_class *cls = &heap_classes[c];
    if (cls->free == 0 && !grow_class(c))
        return NULL;
    uintptr_t slot = cls->free;
    cls->free = check_free_slot(c, slot);
    cls->free_slots--;
    size_t slot_size = class_size(c);
    if (heap_debug) {
        memset((void *)slot, POISON_INUSE, size);
        memset((void *)(slot + size), RED_ACTIVE, slot_size - TRAILER_SIZE - size);
        *trailer_of(slot, slot_size) = (struct slot_trailer){0, SLOT_IN_USE, (uint32_t)size};
    }
    heap_stats.used += slot_size;
    return (void *)slot;
}

static void small_free(uintptr_t address, size_t index)
{
    unsigned c = heap_pages[index].size_class;
    size_t slot_size = class_size(c);
    size_t offset = address % PAGE_SIZE; /* the window starts on a page */
    uintptr_t slot = address - offset % slot_size;
    if (!is_slot_offset(slot % PAGE_SIZE, slot_size)) {
        report(KHEAP_BAD_FREE, 0, 0, address, "after the last slot of a slab: never allocated");
        return;
    }
    struct slot_trailer *trailer = trailer_of(slot, slot_size);
    size_t size = heap_debug ? trailer->size : slot_size;
    if (address != slot) {
        report(KHEAP_BAD_FREE, slot, size, address, "not the start of a block");
        return;
    }
    if (heap_debug) {
        if (trailer->magic == SLOT_FREE) {
            report(KHEAP_DOUBLE_FREE, slot, size, address, "the block is free already");
            return;
        }
        if (trailer->magic != SLOT_IN_USE) {
            report(KHEAP_REDZONE, slot, 0, (uintptr_t)trailer,
                   "the trailer past the redzone was overwritten");
            size = 0;
        } else {
            uintptr_t bad =
                first_byte_not(slot + size, slot_size - TRAILER_SIZE - size, RED_ACTIVE);
            if (bad != 0)
                report(KHEAP_REDZONE, slot, size, bad, "written past the end of the block");
        }
    } else if (slot == heap_classes[c].free) {
        report(KHEAP_DOUBLE_FREE, slot, size, address, "the block is free already");
        return;
    }
    push_slot(c, slot, (uint32_t)size);
    heap_stats.used -= slot_size;
}

/* ---- large blocks: whole pages ------------------------------------------ */

static void *large_alloc(size_t size, size_t align)
{
    if (size > KHEAP_SIZE || align > KHEAP_SIZE)
        return NULL;
    size_t pages = (MAX(size, (size_t)1) + PAGE_SIZE - 1) / PAGE_SIZE;
    size_t guard = heap_debug ? 1 : 0;
    size_t first = find_pages(pages + guard, MAX(align, (size_t)PAGE_SIZE) / PAGE_SIZE);
    if (first == KHEAP_PAGES || !map_pages(first, pages))
        return NULL;
    heap_pages[first] =
        (struct heap_page){.state = PAGE_LARGE, .pages = (uint16_t)pages, .size = (uint32_t)size};
    for (size_t i = 1; i < pages; i++)
        heap_pages[first + i] = (struct heap_page){.state = PAGE_TAIL};
    if (guard)
        heap_pages[first + pages] = (struct heap_page){.state = PAGE_GUARD};
    uintptr_t block = page_address(first);
    if (heap_debug) {
        memset((void *)block, POISON_INUSE, size);
        memset((void *)(block + size), RED_ACTIVE, pages * PAGE_SIZE - size);
    }
    heap_stats.used += pages * PAGE_SIZE;
    return (void *)block;
}

static void large_free(uintptr_t address, size_t index)
{
    size_t first = index;
    while (heap_pages[first].state == PAGE_TAIL && first > 0)
        first--;
    struct heap_page *head = &heap_pages[first];
    uintptr_t block = page_address(first);
    if (address != block) {
        report(KHEAP_BAD_FREE, block, head->size, address, "not the start of a block");
        return;
    }
    if (head->state == PAGE_FREED) {
        report(KHEAP_DOUBLE_FREE, block, head->size, address, "the block is free already");
        return;
    }
    size_t pages = head->pages;
    if (heap_debug) {
        uintptr_t bad =
            first_byte_not(block + head->size, pages * PAGE_SIZE - head->size, RED_ACTIVE);
        if (bad != 0)
            report(KHEAP_REDZONE, block, head->size, bad, "written past the end of the block");
    }
    unmap_pages(first, pages);
    head->state = PAGE_FREED;
    for (size_t i = first + 1; i < first + pages; i++)
        heap_pages[i] = (struct heap_page){.state = PAGE_FREE};
    if (first + pages < KHEAP_PAGES && heap_pages[first + pages].state == PAGE_GUARD)
        heap_pages[first + pages] = (struct heap_page){.state = PAGE_FREE};
    heap_stats.used -= pages * PAGE_SIZE;
}

/* ---- the interface ------------------------------------------------------ */

void kheap_init(void)
{
    uint64_t rflags = irq_save();
    for (uintptr_t page = KHEAP_START; page < KHEAP_END; page += PAGE_SIZE)
        release_page(page);
    memset(heap_pages, 0, sizeof(heap_pages));
    memset(heap_classes, 0, sizeof(heap_classes));
    heap_stats = (struct kheap_stats){.capacity = KHEAP_SIZE};
    heap_last = (struct kheap_report){.problem = KHEAP_NO_PROBLEM};
    irq_restore(rflags);
}

void kheap_set_debug(bool on)
{
    heap_debug = on;
    kheap_init();
}

/* Every allocation: pick a class or whole pages, then count. */
static void *allocate(size_t size, size_t align)
{
    uint64_t rflags = irq_save();
    void *block = NULL;
    if (IS_POWER_OF_TWO(align)) {
        /* An alignment above SMALL_MAX needs whole pages, as a size does. */
        size_t need = size <= SMALL_MAX ? MAX(slot_need(size), align) : SIZE_MAX;
        block = need <= SMALL_MAX ? small_alloc(class_for(need, align), size)
                                  : large_alloc(size, align);
    }
    if (block == NULL) {
        heap_stats.failures++;
    } else {
        heap_stats.allocations++;
        heap_stats.requested += size;
        heap_stats.peak = MAX(heap_stats.peak, heap_stats.used);
    }
    irq_restore(rflags);
    return block;
}

void *kmalloc(size_t size)
{
    return allocate(size, KHEAP_MIN_ALIGN);
}

void *kcalloc(size_t n, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes))
        bytes = SIZE_MAX; /* kmalloc fails, and counts the failure */
    void *block = kmalloc(bytes);
    if (block != NULL)
        memset(block, 0, bytes);
    return block;
}

void *kmalloc_aligned(size_t size, size_t align)
{
    return allocate(size, align);
}

void kfree(void *ptr)
{
    if (ptr == NULL)
        return;
    uint64_t rflags = irq_save();
    uintptr_t address = (uintptr_t)ptr;
    heap_stats.frees++;
    if (address < KHEAP_START || address >= KHEAP_END) {
        report(KHEAP_BAD_FREE, 0, 0, address, "not a heap address");
    } else {
        size_t index = page_index(address);
        enum page_state state = heap_pages[index].state;
        if (state == PAGE_SLAB)
            small_free(address, index);
        else if (state == PAGE_LARGE || state == PAGE_TAIL ||
                 (state == PAGE_FREED && address == page_address(index)))
            large_free(address, index);
        else
            report(KHEAP_BAD_FREE, 0, 0, address, "no block there: never allocated");
    }
    irq_restore(rflags);
}

void kheap_get_stats(struct kheap_stats *out)
{
    uint64_t rflags = irq_save();
    *out = heap_stats;
    irq_restore(rflags);
}

bool kheap_last_report(struct kheap_report *out)
{
    *out = heap_last;
    return heap_last.problem != KHEAP_NO_PROBLEM;
}

/* ---- the heap map ------------------------------------------------------- */

enum { MAP_COLUMNS = 64 };

/* A slab page shows as its class's digit. */
static const char class_digits[] = "0123456789abcd";
_Static_assert(sizeof(class_digits) == CLASS_COUNT + 1, "a digit per size class");

static char page_char(const struct heap_page *page)
{
    switch (page->state) {
    case PAGE_SLAB:
        return class_digits[page->size_class];
    case PAGE_LARGE:
        return 'L';
    case PAGE_TAIL:
        return 'l';
    case PAGE_GUARD:
        return 'g';
    case PAGE_FREE:
    case PAGE_FREED:
        break;
    }
    return '-';
}

void kheap_dump_details(void)
{
    uint64_t rflags = irq_save();
    kprintf("  free lists, debug checks %s\n", heap_debug ? "on" : "off");
    kprintf("  what each page holds: '0'..'d' a slab of that size class (below), 'L' a large "
            "block,\n  'l' its other pages, 'g' its guard page, '-' not mapped\n");
    size_t last_used = 0;
    for (size_t i = 0; i < KHEAP_PAGES; i++) {
        if (page_char(&heap_pages[i]) != '-')
            last_used = i;
    }
    size_t lines = last_used / MAP_COLUMNS + 1;
    for (size_t line = 0; line < lines; line++) {
        kprintf("  %5zu KiB  ", (size_t)(line * MAP_COLUMNS * PAGE_SIZE / KiB));
        for (size_t i = line * MAP_COLUMNS; i < (line + 1) * MAP_COLUMNS; i++)
            kprintf("%c", page_char(&heap_pages[i]));
        kprintf("\n");
    }
    if (lines * MAP_COLUMNS < KHEAP_PAGES)
        kprintf("  (pages %zu..%zu: not mapped)\n", lines * MAP_COLUMNS, (size_t)KHEAP_PAGES - 1);
    kprintf("  size classes:\n");
    for (unsigned c = 0; c < CLASS_COUNT; c++) {
        const struct size_class *cls = &heap_classes[c];
        if (cls->pages == 0)
            continue;
        size_t slots = cls->pages * (PAGE_SIZE / class_size(c));
        kprintf("    %c: %4zu-byte slots, pages: %zu, in use: %zu, free: %zu (first %p)\n",
                class_digits[c], class_size(c), cls->pages, slots - cls->free_slots,
                cls->free_slots, (void *)cls->free);
    }
    irq_restore(rflags);
}
