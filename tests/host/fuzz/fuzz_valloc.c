/* fuzz_valloc.c - valloc and vfree (solutions/16-vmm/valloc.c, over vmm.c)
 * against a model.
 *
 * The model is valloc.c's contract: the live areas, each followed by a
 * guard page, placed first fit; every page backed by a zeroed frame of its
 * own; a page table per 2 MiB and a page directory per GiB of the window
 * while they map a page, and not a frame more; at most VALLOC_MAX_AREAS
 * areas; out of memory, every frame given back. Operations: valloc of any
 * size, vfree of areas and of pointers that are not areas, reading and
 * writing the areas and their guard pages through the MMU model,
 * valloc_find, taking frames away from the PMM. After every operation the
 * PMM's free count is exactly what the model says. */
#include <string.h>

#include "model.h"
#include "paging.h"
#include "pmm.h"
#include "vmm.h"

enum { RECENT = 8 };

struct area {
    uintptr_t start;
    size_t pages;
    uint8_t tag;
};

static struct area areas[VALLOC_MAX_AREAS]; /* sorted by start */
static size_t count;
static uintptr_t recently_freed[RECENT];
static size_t baseline;
static struct frame_hoard hoard; /* frames taken to starve valloc */
static uint8_t next_tag;

/* Frames the live areas hold: their pages, plus one PT per 2 MiB and one
 * PD per GiB of the window that holds any of their pages. Areas are sorted,
 * so a region already counted can only be the last one seen. */
static size_t regions(uintptr_t start, uintptr_t end, uint64_t size, uintptr_t *last)
{
    size_t first = start / size, final = (end - 1) / size;
    size_t n = final - first + 1 - (first == *last);
    *last = final;
    return n;
}

static size_t frames_held(const struct area *list, size_t n)
{
    size_t frames = 0;
    uintptr_t last_pt = UINTPTR_MAX, last_pd = UINTPTR_MAX;
    for (size_t a = 0; a < n; a++) {
        uintptr_t end = list[a].start + list[a].pages * PAGE_SIZE;
        frames += list[a].pages;
        frames += regions(list[a].start, end, 2 * MiB, &last_pt);
        frames += regions(list[a].start, end, GiB, &last_pd);
    }
    return frames;
}

static uintptr_t span_end(const struct area *a)
{
    return a->start + (a->pages + 1) * PAGE_SIZE;
}

static void check_state(void)
{
    FUZZ_CHECK_EQ(vmm_stats.areas, count);
    size_t pages = 0;
    for (size_t a = 0; a < count; a++)
        pages += areas[a].pages;
    FUZZ_CHECK_EQ(vmm_stats.area_pages, pages);
    FUZZ_CHECK_EQ(pmm_free_count() + hoard.frames + frames_held(areas, count), baseline);
}

/* Each page of an area holds its tag in its first and last byte. */
static void stamp(const struct area *a)
{
    for (size_t p = 0; p < a->pages; p++) {
        uint8_t *page = (uint8_t *)(a->start + p * PAGE_SIZE);
        page[0] = page[PAGE_SIZE - 1] = a->tag;
    }
}

static void check_stamps(const struct area *a)
{
    for (size_t p = 0; p < a->pages; p++) {
        const uint8_t *page = (const uint8_t *)(a->start + p * PAGE_SIZE);
        FUZZ_CHECK_EQ(page[0], a->tag);
        FUZZ_CHECK_EQ(page[PAGE_SIZE - 1], a->tag);
    }
}

/* ---- valloc ------------------------------------------------------------------------ */

static size_t take_pages(struct input *in)
{
    switch (take_u8(in) % 32) {
    case 0:
        return 0;
    case 1:
        switch (take_u8(in) % 4) {
        case 0:
            return SIZE_MAX;
        case 1:
            return VALLOC_PAGES;
        case 2:
            return SIZE_MAX / PAGE_SIZE + 1; /* (npages + 1) * PAGE_SIZE wraps */
        default:                             /* just about all of memory (when little is left) */
            return pmm_free_count() < 2048 ? pmm_free_count() + take_below(in, 4) - 2 : 1;
        }
    case 2:
    case 3:
        return 1 + take_below(in, 1100); /* across page tables */
    default:
        return 1 + take_below(in, 16);
    }
}

static void allocate(struct input *in)
{
    size_t pages = take_pages(in), free = pmm_free_count();
    /* The model's answer: the lowest gap for pages + guard, if any. */
    uintptr_t gap = VALLOC_START;
    size_t at = 0;
    bool possible = pages != 0 && pages < VALLOC_PAGES && count < VALLOC_MAX_AREAS;
    if (possible) {
        while (at < count && areas[at].start - gap < (pages + 1) * PAGE_SIZE)
            gap = span_end(&areas[at++]);
        possible = VALLOC_END - gap >= (pages + 1) * PAGE_SIZE;
    }
    struct area candidate = {gap, pages, ++next_tag};
    if (possible) {
        static struct area after[VALLOC_MAX_AREAS + 1];
        memcpy(after, areas, at * sizeof(areas[0]));
        after[at] = candidate;
        memcpy(after + at + 1, areas + at, (count - at) * sizeof(areas[0]));
        possible = frames_held(after, count + 1) - frames_held(areas, count) <= free;
    }

    uint8_t *result = valloc(pages);
    if (!possible) {
        FUZZ_CHECK(result == NULL);
        FUZZ_CHECK_EQ(pmm_free_count(), free); /* every frame taken was given back */
        return;
    }
    FUZZ_CHECK_EQ((uintptr_t)result, gap);
    for (size_t p = 0; p < pages; p++) { /* zeroed: the ends of each page, all of the first */
        const uint64_t *words = (const uint64_t *)(gap + p * PAGE_SIZE);
        FUZZ_CHECK_EQ(words[0] | words[PAGE_SIZE / 8 - 1], 0);
    }
    for (size_t i = 0; i < PAGE_SIZE; i++)
        FUZZ_CHECK_EQ(result[i], 0);
    FUZZ_CHECK(host_read_faults(gap + pages * PAGE_SIZE)); /* the guard page */
    memmove(areas + at + 1, areas + at, (count - at) * sizeof(areas[0]));
    areas[at] = candidate;
    count++;
    stamp(&areas[at]);
    for (size_t i = 0; i < RECENT; i++) {
        if (recently_freed[i] >= gap && recently_freed[i] < span_end(&candidate))
            recently_freed[i] = 0;
    }
}

/* ---- vfree ---------------------------------------------------------------------------- */

static void free_area(struct input *in)
{
    if (count == 0)
        return;
    size_t at = take_below(in, count);
    struct area a = areas[at];
    check_stamps(&a);
    FUZZ_CHECK_EQ(vfree((void *)a.start), VMM_OK);
    memmove(areas + at, areas + at + 1, (count - at - 1) * sizeof(areas[0]));
    count--;
    FUZZ_CHECK(host_read_faults(a.start)); /* gone at once */
    memmove(recently_freed + 1, recently_freed, (RECENT - 1) * sizeof(recently_freed[0]));
    recently_freed[0] = a.start;
}

/* vfree of what is not a live area's start: refused, a warning, nothing else. */
static void free_bad(struct input *in)
{
    uintptr_t address;
    const struct area *a = count ? &areas[take_below(in, count)] : NULL;
    switch (take_u8(in) % 6) {
    case 0:
        address = a ? a->start + 1 + take_below(in, a->pages * PAGE_SIZE) : VALLOC_START;
        break;
    case 1:
        address = a ? span_end(a) - PAGE_SIZE + take_below(in, PAGE_SIZE) : VALLOC_END;
        break;
    case 2:
        address = recently_freed[take_below(in, RECENT)];
        break;
    case 3:
        address = take_u64(in);
        break;
    case 4:
        address = VALLOC_START + take_u32(in) * PAGE_SIZE;
        break;
    default:
        address = 0;
    }
    for (size_t i = 0; i < count; i++) {
        if (areas[i].start == address)
            return; /* a live area after all */
    }
    size_t warnings = vmm_stats.warnings;
    enum vmm_status status = vfree((void *)address);
    FUZZ_CHECK_EQ(status, address == 0 ? VMM_OK : VMM_NOT_AN_AREA);
    FUZZ_CHECK_EQ(vmm_stats.warnings, warnings + (address != 0));
}

/* ---- looking ------------------------------------------------------------------------- */

static void touch(struct input *in)
{
    if (count == 0)
        return;
    const struct area *a = &areas[take_below(in, count)];
    size_t p = take_below(in, a->pages);
    const uint8_t *page = (const uint8_t *)(a->start + p * PAGE_SIZE);
    FUZZ_CHECK_EQ(page[0], a->tag);
    FUZZ_CHECK(!host_write_faults((uintptr_t)page + take_below(in, PAGE_SIZE)));
    FUZZ_CHECK(host_write_faults(span_end(a) - 1 - take_below(in, PAGE_SIZE))); /* guard */
}

static void find(struct input *in)
{
    uintptr_t address = count && take_u8(in) % 2
                            ? areas[take_below(in, count)].start + take_below(in, 1 << 20)
                            : VALLOC_START + take_u32(in) % (1u << 22) * 16;
    const struct area *owner = NULL;
    for (size_t i = 0; i < count; i++) {
        if (address >= areas[i].start && address < span_end(&areas[i]))
            owner = &areas[i];
    }
    struct valloc_area found;
    FUZZ_CHECK_EQ(valloc_find(address, &found), owner != NULL);
    if (owner != NULL) {
        FUZZ_CHECK_EQ(found.start, owner->start);
        FUZZ_CHECK_EQ(found.pages, owner->pages);
    }
}

/* ---- one input, operation by operation ------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size, 0};
    fuzz_boot();
    vmm_stats = (struct vmm_stats){0};
    vmm_init();
    count = 0;
    memset(recently_freed, 0, sizeof(recently_freed));
    baseline = pmm_free_count();
    while (input_left(&in)) {
        switch (take_u8(&in) % 10) {
        default:
            allocate(&in);
            break;
        case 4:
        case 5:
            free_area(&in);
            break;
        case 6:
            free_bad(&in);
            break;
        case 7:
            touch(&in);
            break;
        case 8:
            find(&in);
            break;
        case 9:
            hoard_step(&hoard, &in, 24);
            break;
        }
        check_state();
    }
    /* Everything back: valloc.c's table of areas outlives this input. */
    while (count > 0) {
        check_stamps(&areas[count - 1]);
        FUZZ_CHECK_EQ(vfree((void *)areas[count - 1].start), VMM_OK);
        count--;
    }
    hoard_release(&hoard);
    check_state();
    FUZZ_CHECK_EQ(pmm_free_count(), baseline);
    return 0;
}
