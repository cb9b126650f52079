/* tests.c - lesson 14's in-kernel tests. Each exists because a plausible
 * wrong PMM fails it; the name says what is being proved. */
#include "ktest.h"
#include "kprintf.h"
#include "multiboot2.h"
#include "pmm.h"

enum {
    SAMPLE_FRAMES = 64,
    CONTIGUOUS_FRAMES = 8,
    TEST_STORAGE_WORDS = 256, /* 2 KiB of bitmaps: 8192 frames, 32 MiB */
};

/* ---- helpers ----------------------------------------------------------- */

/* Allocates every free frame, linking each to the previous one through its
 * first word (which also proves it writable). Returns the last one. */
static phys_addr_t allocate_all(size_t *count)
{
    phys_addr_t head = PMM_NO_FRAME;
    *count = 0;
    for (phys_addr_t frame; (frame = pmm_alloc_frame()) != PMM_NO_FRAME; head = frame) {
        *(phys_addr_t *)phys_to_virt(frame) = head;
        ++*count;
    }
    return head;
}

static void free_all(phys_addr_t head)
{
    while (head != PMM_NO_FRAME) {
        phys_addr_t next = *(phys_addr_t *)phys_to_virt(head);
        pmm_free_frame(head);
        head = next;
    }
}

static bool overlaps(phys_addr_t frame, phys_addr_t start, phys_addr_t end)
{
    return frame < end && start < frame + PAGE_SIZE;
}

/* Is the whole frame inside a usable region and outside every other one? */
static bool frame_is_usable_ram(phys_addr_t frame)
{
    bool inside_usable = false;
    for (size_t i = 0; i < boot_info.memory_map_count; i++) {
        const struct memory_region *r = &boot_info.memory_map[i];
        if (r->type == MEMORY_USABLE && r->base <= frame &&
            frame + PAGE_SIZE <= r->base + r->length)
            inside_usable = true;
        if (r->type != MEMORY_USABLE && overlaps(frame, r->base, r->base + r->length))
            return false;
    }
    return inside_usable;
}

/* The memory the PMM must never hand out, computed here independently. */
static bool frame_is_reserved(phys_addr_t frame)
{
    phys_addr_t bitmap = virt_to_phys_direct(pmm.used);
    if (overlaps(frame, 0, PMM_LOW_MEMORY_END) ||
        overlaps(frame, (phys_addr_t)_kernel_phys_start, (phys_addr_t)_kernel_phys_end) ||
        overlaps(frame, boot_info.info_start, boot_info.info_end) ||
        overlaps(frame, bitmap, bitmap + pmm_storage_size(pmm.frame_count * PAGE_SIZE)))
        return true;
    for (size_t i = 0; i < boot_info.module_count; i++) {
        if (overlaps(frame, boot_info.modules[i].start, boot_info.modules[i].end))
            return true;
    }
    return false;
}

/* Synthetic memory maps: the test swaps in its own map and bitmaps, and the
 * deferred cleanup puts the kernel's PMM back even if the test crashes. */
static uint64_t test_storage[TEST_STORAGE_WORDS];
static struct pmm_state saved_pmm;

static void restore_kernel_pmm(void)
{
    pmm = saved_pmm;
}

static void use_map(const struct memory_region *map, size_t count,
                    const struct phys_range *reserved, size_t reserved_count)
{
    saved_pmm = pmm;
    ktest_defer(restore_kernel_pmm);
    pmm_init_map(map, count, reserved, reserved_count, test_storage, sizeof(test_storage));
}

/* Collects the frames of the current (test) PMM in allocation order. */
static size_t drain(phys_addr_t *frames, size_t max)
{
    size_t n = 0;
    phys_addr_t frame;
    while (n < max && (frame = pmm_alloc_frame()) != PMM_NO_FRAME)
        frames[n++] = frame;
    return n;
}

#define REGION(base, length, type)                                                                 \
    {                                                                                              \
        (base), (length), (type)                                                                   \
    }

/* ---- lecture: the boot-time PMM ------------------------------------------- */

KTEST_LECTURE(total_matches_memory_map, 3)
{
    size_t expected = 0;
    for (size_t f = 0; f < pmm.frame_count; f++) {
        phys_addr_t frame = (phys_addr_t)f * PAGE_SIZE;
        if (frame_is_usable_ram(frame) && !frame_is_reserved(frame))
            expected++;
    }
    KEXPECT_GT(pmm_total_count(), 0);
    KEXPECT_EQ(pmm_total_count(), expected);
    KEXPECT_EQ(pmm_free_count(), pmm_total_count());
}

KTEST_LECTURE(frames_are_page_aligned_and_distinct, 2)
{
    phys_addr_t frames[SAMPLE_FRAMES];
    size_t before = pmm_free_count();
    for (int i = 0; i < SAMPLE_FRAMES; i++) {
        frames[i] = pmm_alloc_frame();
        KASSERT_NE(frames[i], PMM_NO_FRAME);
        KEXPECT_EQ(frames[i] % PAGE_SIZE, 0);
        for (int j = 0; j < i; j++)
            KEXPECT_NE(frames[i], frames[j]);
    }
    KEXPECT_EQ(pmm_free_count(), before - SAMPLE_FRAMES);
    for (int i = 0; i < SAMPLE_FRAMES; i++)
        pmm_free_frame(frames[i]);
    KEXPECT_EQ(pmm_free_count(), before);
}

KTEST_LECTURE(frames_never_inside_reserved_memory, 4)
{
    size_t count, bad = 0;
    phys_addr_t head = allocate_all(&count);
    for (phys_addr_t f = head; f != PMM_NO_FRAME; f = *(phys_addr_t *)phys_to_virt(f)) {
        if (frame_is_reserved(f) || !frame_is_usable_ram(f)) {
            if (bad++ == 0)
                ktest_fail_at(__FILE__, __LINE__, "frame %p is reserved or not RAM", (void *)f);
        }
    }
    free_all(head);
    KEXPECT_EQ(bad, 0);
}

KTEST_LECTURE(boot_modules_are_reserved, 1)
{
    KASSERT_EQ(boot_info.module_count, 1); /* tools/mkiso loads one: test-module */
    const struct boot_module *module = &boot_info.modules[0];
    KEXPECT_GT(module->end, module->start);
    for (phys_addr_t frame = ALIGN_DOWN(module->start, PAGE_SIZE); frame < module->end;
         frame += PAGE_SIZE)
        KEXPECT_TRUE((pmm.used[frame / PAGE_SIZE / 64] >> (frame / PAGE_SIZE % 64)) & 1);
}

KTEST_LECTURE(exhaustion_returns_no_frame_and_free_restores_count, 3)
{
    size_t before = pmm_free_count(), count;
    phys_addr_t head = allocate_all(&count);
    KEXPECT_EQ(count, before);
    KEXPECT_EQ(pmm_free_count(), 0);
    KEXPECT_EQ(pmm_alloc_frame(), PMM_NO_FRAME);
    free_all(head);
    KEXPECT_EQ(pmm_free_count(), before);
    KEXPECT_EQ(pmm_total_count(), before);
}

KTEST_LECTURE(free_then_alloc_reuses_frame, 2)
{
    phys_addr_t a = pmm_alloc_frame();
    phys_addr_t b = pmm_alloc_frame();
    KASSERT_NE(a, PMM_NO_FRAME);
    pmm_free_frame(a);
    KEXPECT_EQ(pmm_alloc_frame(), a);
    pmm_free_frame(a);
    pmm_free_frame(b);
}

/* ---- lecture: odd memory maps through pmm_init_map ----------------------- */

KTEST_LECTURE(map_overlapping_regions, 2)
{
    static const struct memory_region map[] = {
        REGION(0x100000, 0x100000, MEMORY_USABLE), /* 1-2 MiB */
        REGION(0x180000, 0x100000, MEMORY_USABLE), /* 1.5-2.5 MiB: overlaps the first */
        REGION(0x140000, 0x2000, MEMORY_RESERVED), /* two frames carved out */
    };
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    KEXPECT_EQ(pmm_total_count(), 0x180000 / PAGE_SIZE - 2);
    phys_addr_t frames[0x180];
    size_t n = drain(frames, ARRAY_SIZE(frames));
    for (size_t i = 0; i < n; i++)
        KEXPECT_FALSE(frames[i] >= 0x140000 && frames[i] < 0x142000);
}

KTEST_LECTURE(map_unsorted_regions, 1)
{
    static const struct memory_region map[] = {
        REGION(0x400000, 0x4000, MEMORY_USABLE),
        REGION(0x200000, 0x3000, MEMORY_USABLE),
        REGION(0x300000, 0x1000, MEMORY_USABLE),
    };
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    KEXPECT_EQ(pmm_total_count(), 8);
    phys_addr_t frames[16];
    KEXPECT_EQ(drain(frames, ARRAY_SIZE(frames)), 8);
}

KTEST_LECTURE(map_zero_length_and_unaligned_regions, 2)
{
    static const struct memory_region map[] = {
        REGION(0x200000, 0, MEMORY_USABLE),      /* nothing */
        REGION(0x300800, 0x3000, MEMORY_USABLE), /* only 0x301000, 0x302000 whole */
        REGION(0x500000, 0x1000, MEMORY_RESERVED),
        REGION(0x4FF000, 0x1800, MEMORY_USABLE), /* ends inside the reserved one */
    };
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    phys_addr_t frames[8];
    size_t n = drain(frames, ARRAY_SIZE(frames));
    KASSERT_EQ(n, 3);
    KEXPECT_EQ(frames[0], 0x301000);
    KEXPECT_EQ(frames[1], 0x302000);
    KEXPECT_EQ(frames[2], 0x4FF000);
}

KTEST_LECTURE(map_empty_reserved_entries_reserve_nothing, 1)
{
    static const struct memory_region map[] = {
        REGION(0x200000, 0x4000, MEMORY_USABLE),
        REGION(0x201800, 0, MEMORY_RESERVED), /* empty, inside a frame */
    };
    const struct phys_range reserved[] = {{0x202800, 0x202800}}; /* empty as well */
    use_map(map, ARRAY_SIZE(map), reserved, ARRAY_SIZE(reserved));
    KEXPECT_EQ(pmm_total_count(), 4);
}

KTEST_LECTURE(map_memory_beyond_the_bitmap_is_ignored, 1)
{
    static const struct memory_region map[] = {
        REGION(0x100000, 0x1000, MEMORY_USABLE),
        REGION(0x100000000ull, 0x100000000ull, MEMORY_USABLE), /* 4-8 GiB */
    };
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    KEXPECT_EQ(pmm_total_count(), 1);
    KEXPECT_EQ(pmm_alloc_frame(), 0x100000);
    KEXPECT_EQ(pmm_alloc_frame(), PMM_NO_FRAME);
}

KTEST_LECTURE(map_region_straddling_the_kernel, 2)
{
    static const struct memory_region map[] = {REGION(0x0, 0x1000000, MEMORY_USABLE)};
    const struct phys_range reserved[] = {
        {0, PMM_LOW_MEMORY_END},
        {(phys_addr_t)_kernel_phys_start, (phys_addr_t)_kernel_phys_end},
    };
    use_map(map, ARRAY_SIZE(map), reserved, ARRAY_SIZE(reserved));
    size_t kernel_frames = ALIGN_UP((phys_addr_t)_kernel_phys_end, PAGE_SIZE) / PAGE_SIZE -
                           PMM_LOW_MEMORY_END / PAGE_SIZE;
    KEXPECT_EQ(pmm_total_count(),
               0x1000000 / PAGE_SIZE - PMM_LOW_MEMORY_END / PAGE_SIZE - kernel_frames);
    phys_addr_t first = pmm_alloc_frame();
    KEXPECT_EQ(first, ALIGN_UP((phys_addr_t)_kernel_phys_end, PAGE_SIZE));
}

KTEST_LECTURE(map_without_usable_memory, 2)
{
    static const struct memory_region map[] = {
        REGION(0x0, 0x9FC00, MEMORY_RESERVED),
        REGION(0x100000, 0x100000, MEMORY_ACPI_NVS),
        REGION(0x200000, 0x100000, MEMORY_BAD),
    };
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    KEXPECT_EQ(pmm_total_count(), 0);
    KEXPECT_EQ(pmm_alloc_frame(), PMM_NO_FRAME);
}

KTEST_LECTURE(map_never_hands_out_frame_zero, 1)
{
    static const struct memory_region map[] = {REGION(0x0, 0x4000, MEMORY_USABLE)};
    use_map(map, ARRAY_SIZE(map), NULL, 0); /* nothing reserved: still not frame 0 */
    phys_addr_t frames[8];
    size_t n = drain(frames, ARRAY_SIZE(frames));
    KEXPECT_EQ(n, 3);
    for (size_t i = 0; i < n; i++)
        KEXPECT_NE(frames[i], 0);
}

/* A region whose end passes 2^64 must neither hang the loops nor wrap round
 * to mark (or free) low memory. */
KTEST_LECTURE(map_region_wrapping_past_2_64, 1)
{
    static const struct memory_region map[] = {
        REGION(0x200000, 0x2000, MEMORY_USABLE),
        REGION(0xFFFFFFFFFFFFF000ull, 0x2000, MEMORY_RESERVED), /* wraps to 0x1000 */
    };
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    KEXPECT_EQ(pmm_total_count(), 2);
}

/* ---- homework 1: refuse bad frees ---------------------------------------- */

/* A small machine: 16 frames at 2 MiB, the first one "kernel". The
 * tests free bad addresses here, so a PMM that accepts them corrupts only
 * this map, never the kernel's. */
static const struct memory_region small_map[] = {REGION(0x200000, 0x10000, MEMORY_USABLE)};
static const struct phys_range small_map_kernel[] = {{0x200000, 0x201000}};

KTEST_HOMEWORK(free_rejects_double_free, 3)
{
    use_map(small_map, ARRAY_SIZE(small_map), small_map_kernel, ARRAY_SIZE(small_map_kernel));
    struct pmm_stats before, after;
    phys_addr_t frame = pmm_alloc_frame();
    KASSERT_NE(frame, PMM_NO_FRAME);
    KEXPECT_EQ(pmm_free_frame(frame), PMM_OK);
    pmm_get_stats(&before);
    KEXPECT_EQ(pmm_free_frame(frame), PMM_DOUBLE_FREE);
    pmm_get_stats(&after);
    KEXPECT_EQ(after.free_frames, before.free_frames);
    KEXPECT_EQ(after.rejected_frees, before.rejected_frees + 1);
    /* Every frame must still be handed out exactly once. */
    phys_addr_t frames[16];
    size_t n = drain(frames, ARRAY_SIZE(frames));
    KEXPECT_EQ(n, 15);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            KEXPECT_NE(frames[i], frames[j]);
}

KTEST_HOMEWORK(free_rejects_bad_addresses, 3)
{
    use_map(small_map, ARRAY_SIZE(small_map), small_map_kernel, ARRAY_SIZE(small_map_kernel));
    size_t free_before = pmm_free_count();
    phys_addr_t frame = pmm_alloc_frame();
    KASSERT_NE(frame, PMM_NO_FRAME);
    KEXPECT_EQ(pmm_free_frame(frame + 8), PMM_UNALIGNED);
    KEXPECT_EQ(pmm_free_frame(0x200000 + 0x10000), PMM_OUT_OF_RANGE);
    KEXPECT_EQ(pmm_free_frame(0x200000), PMM_RESERVED_FRAME); /* the "kernel" */
    KEXPECT_EQ(pmm_free_frame(0x100000), PMM_RESERVED_FRAME); /* not RAM in this map */
    KEXPECT_EQ(pmm_free_count(), free_before - 1);
    struct pmm_stats stats;
    pmm_get_stats(&stats);
    KEXPECT_EQ(stats.rejected_frees, 4);
    KEXPECT_EQ(pmm_free_frame(frame), PMM_OK);
    KEXPECT_EQ(pmm_free_count(), free_before);
}

/* ---- homework 2: contiguous frames ---------------------------------------- */

KTEST_HOMEWORK(alloc_frames_returns_a_contiguous_run, 3)
{
    size_t before = pmm_free_count();
    phys_addr_t run = pmm_alloc_frames(CONTIGUOUS_FRAMES);
    KASSERT_NE(run, PMM_NO_FRAME);
    KEXPECT_EQ(run % PAGE_SIZE, 0);
    KEXPECT_EQ(pmm_free_count(), before - CONTIGUOUS_FRAMES);
    /* No frame of the run may be handed out again while it is allocated. */
    size_t count;
    phys_addr_t head = allocate_all(&count);
    for (phys_addr_t f = head; f != PMM_NO_FRAME; f = *(phys_addr_t *)phys_to_virt(f))
        KEXPECT_FALSE(f >= run && f < run + CONTIGUOUS_FRAMES * PAGE_SIZE);
    free_all(head);
    KEXPECT_EQ(pmm_free_frames(run, CONTIGUOUS_FRAMES), PMM_OK);
    KEXPECT_EQ(pmm_free_count(), before);
}

KTEST_HOMEWORK(alloc_frames_skips_holes, 2)
{
    static const struct memory_region map[] = {
        REGION(0x200000, 0x3000, MEMORY_USABLE), /* 3 frames: too short */
        REGION(0x204000, 0x5000, MEMORY_USABLE), /* 5 frames after a hole */
    };
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    KEXPECT_EQ(pmm_alloc_frames(4), 0x204000);
    KEXPECT_EQ(pmm_alloc_frames(3), 0x200000);
    KEXPECT_EQ(pmm_alloc_frames(2), PMM_NO_FRAME);
    KEXPECT_EQ(pmm_free_count(), 1);
}

KTEST_HOMEWORK(alloc_frames_rejects_bad_requests, 2)
{
    size_t before = pmm_free_count();
    KEXPECT_EQ(pmm_alloc_frames(0), PMM_NO_FRAME);
    KEXPECT_EQ(pmm_alloc_frames(before + 1), PMM_NO_FRAME);
    KEXPECT_EQ(pmm_free_count(), before);
    /* Freeing a run that is partly free already frees nothing. */
    phys_addr_t run = pmm_alloc_frames(2);
    KASSERT_NE(run, PMM_NO_FRAME);
    KEXPECT_EQ(pmm_free_frame(run + PAGE_SIZE), PMM_OK);
    KEXPECT_NE(pmm_free_frames(run, 2), PMM_OK);
    KEXPECT_EQ(pmm_free_count(), before - 1);
    KEXPECT_EQ(pmm_free_frame(run), PMM_OK);
    KEXPECT_EQ(pmm_free_count(), before);
}

/* ---- homework 3: statistics ----------------------------------------------- */

KTEST_HOMEWORK(stats_count_allocations_and_frees, 3)
{
    struct pmm_stats before, after;
    pmm_get_stats(&before);
    phys_addr_t frames[3];
    for (int i = 0; i < 3; i++)
        frames[i] = pmm_alloc_frame();
    pmm_free_frame(frames[1]);
    pmm_get_stats(&after);
    KEXPECT_EQ(after.frames_allocated, before.frames_allocated + 3);
    KEXPECT_EQ(after.frames_freed, before.frames_freed + 1);
    KEXPECT_EQ(after.free_frames, before.free_frames - 2);
    KEXPECT_EQ(after.total_frames, before.total_frames);
    pmm_free_frame(frames[0]);
    pmm_free_frame(frames[2]);
    pmm_get_stats(&after);
    KEXPECT_EQ(after.frames_freed, before.frames_freed + 3);
}

KTEST_HOMEWORK(stats_track_peak_and_failures, 2)
{
    static const struct memory_region map[] = {REGION(0x200000, 0x4000, MEMORY_USABLE)};
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    phys_addr_t a = pmm_alloc_frame(), b = pmm_alloc_frame(), c = pmm_alloc_frame();
    pmm_free_frame(b);
    pmm_free_frame(c);
    phys_addr_t d = pmm_alloc_frame();
    struct pmm_stats stats;
    pmm_get_stats(&stats);
    KEXPECT_EQ(stats.peak_used_frames, 3);
    KEXPECT_EQ(stats.failed_allocations, 0);
    phys_addr_t rest[4];
    KEXPECT_EQ(drain(rest, ARRAY_SIZE(rest)), 2); /* two left, then one failure */
    pmm_get_stats(&stats);
    KEXPECT_EQ(stats.failed_allocations, 1);
    KEXPECT_EQ(stats.peak_used_frames, 4);
    (void)a;
    (void)d;
}
