/* tests.c - lesson 14's in-kernel tests. Each exists because a plausible
 * wrong PMM fails it; the name says what is being proved. Expected values
 * are computed here from the rules in pmm.h, never read back from the PMM. */
#include "ktest.h"
#include "kprintf.h"
#include "multiboot2.h"
#include "paging.h"
#include "pmm.h"
#include "pmm_print.h"

enum {
    CONTIGUOUS_FRAMES = 8,
    TEST_STORAGE_WORDS = 256, /* 2 KiB of bitmaps: 8192 frames, 32 MiB */
    TEST_FRAMES = TEST_STORAGE_WORDS / 2 * 64,
    PAGE_TABLES_BELOW_PML4 = PAGE_TABLE_LEVELS - 1,
};

/* ---- helpers ----------------------------------------------------------- */

/* Bit f of a bitmap, read as pmm.h documents it. */
static bool bit(const uint64_t *bitmap, size_t frame)
{
    return (bitmap[frame / 64] >> (frame % 64)) & 1;
}

static bool frame_is_free(phys_addr_t frame)
{
    return frame / PAGE_SIZE < pmm.frame_count && !bit(pmm.used, frame / PAGE_SIZE);
}

static bool overlaps(phys_addr_t frame, phys_addr_t start, phys_addr_t end)
{
    return start < end && frame < end && start < frame + PAGE_SIZE;
}

/* Checks the invariants of pmm.c's header comment on the current state. */
static void expect_consistent_bitmaps(void)
{
    size_t free_bits = 0, unreserved_bits = 0, broken = 0;
    for (size_t f = 0; f < pmm.frame_count; f++) {
        free_bits += !bit(pmm.used, f);
        unreserved_bits += !bit(pmm.reserved, f);
        if (bit(pmm.reserved, f) && !bit(pmm.used, f) && broken++ == 0) {
            ktest_note("frame %zu", f);
            KEXPECT_TRUE(bit(pmm.used, f)); /* reserved implies used */
        }
    }
    ktest_note_clear();
    KEXPECT_EQ(broken, 0);
    KEXPECT_EQ(pmm_free_count(), free_bits);
    KEXPECT_EQ(pmm_total_count(), unreserved_bits);
    if (pmm.frame_count > 0)
        KEXPECT_TRUE(bit(pmm.reserved, 0)); /* frame 0 is PMM_NO_FRAME */
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

/* Expects exactly these frames free, and the invariants. */
static void expect_free_frames(const phys_addr_t *frames, size_t count)
{
    KEXPECT_EQ(pmm_total_count(), count);
    for (size_t i = 0; i < count; i++) {
        ktest_note("frame %p", (void *)frames[i]);
        KEXPECT_TRUE(frame_is_free(frames[i]));
    }
    ktest_note_clear();
    expect_consistent_bitmaps();
}

/* Collects the frames of the current PMM in allocation order, at most max. */
static size_t drain(phys_addr_t *frames, size_t max)
{
    size_t n = 0;
    phys_addr_t frame;
    while (n < max && (frame = pmm_alloc_frame()) != PMM_NO_FRAME)
        frames[n++] = frame;
    return n;
}

/* The kernel's PMM (practice 3) must exist before the tests that use it. */
#define REQUIRE_BOOT_PMM()                                                                         \
    do {                                                                                           \
        ktest_note("the boot PMM is empty: pmm_init, practice 3");                                 \
        KASSERT_NE(pmm_total_count(), 0);                                                          \
        KASSERT_NOT_NULL(pmm.used);                                                                \
        ktest_note_clear();                                                                        \
    } while (0)

/* Allocates every free frame of the kernel's PMM (at most one more than it
 * counts, so a PMM that hands a frame out twice cannot loop for ever),
 * linking each to the previous one through its first word, which also
 * proves it writable. Returns the last one. */
static phys_addr_t allocate_all(size_t *count)
{
    phys_addr_t head = PMM_NO_FRAME;
    size_t limit = pmm_total_count() + 1;
    *count = 0;
    for (phys_addr_t frame; *count < limit && (frame = pmm_alloc_frame()) != PMM_NO_FRAME;
         head = frame) {
        *(phys_addr_t *)phys_to_virt(frame) = head;
        ++*count;
    }
    return head;
}

static void free_all(phys_addr_t head, size_t count)
{
    for (size_t i = 0; i < count && head != PMM_NO_FRAME; i++) {
        phys_addr_t next = *(phys_addr_t *)phys_to_virt(head);
        pmm_free_frame(head);
        head = next;
    }
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

/* clang-format 14 (Debian 12) splits this braced list into a block; 19 does not. */
/* clang-format off */
#define REGION(base, length, type) {(base), (length), (type)}
/* clang-format on */

/* ---- lecture: what the lesson gives ---------------------------------------- */

/* Why the PMM must reserve the kernel and the boot module: the firmware
 * knows nothing of them, so the map calls their memory usable. */
KTEST_LECTURE(memory_map_calls_the_kernel_usable, 1)
{
    phys_addr_t kernel_start = (phys_addr_t)_kernel_phys_start;
    phys_addr_t kernel_end = (phys_addr_t)_kernel_phys_end;
    bool kernel_inside = false, module_inside = false;
    KASSERT_EQ(boot_info.module_count, 1); /* tools/mkiso loads one: test-module */
    for (size_t i = 0; i < boot_info.memory_map_count; i++) {
        const struct memory_region *r = &boot_info.memory_map[i];
        if (r->type != MEMORY_USABLE)
            continue;
        kernel_inside |= r->base <= kernel_start && kernel_end <= r->base + r->length;
        module_inside |= r->base <= boot_info.modules[0].start &&
                         boot_info.modules[0].end <= r->base + r->length;
    }
    KEXPECT_TRUE(kernel_inside);
    KEXPECT_TRUE(module_inside);
}

/* pmm_print.c's frame map, on a state made here: 3 characters' worth of
 * frames, the first all free, the second half used, the third all used. */
KTEST_LECTURE(frame_map_shows_free_mixed_and_used, 1)
{
    _Static_assert(FRAMES_PER_MAP_CHAR == 4 * 64);
    static uint64_t bitmap[] = {0, 0, 0, 0, ~0ull, ~0ull, 0, 0, ~0ull, ~0ull, ~0ull, ~0ull};
    saved_pmm = pmm;
    ktest_defer(restore_kernel_pmm);
    pmm.used = bitmap;
    pmm.frame_count = 3 * FRAMES_PER_MAP_CHAR;
    KEXPECT_EQ(pmm_frame_map_char(0, FRAMES_PER_MAP_CHAR), '.');
    KEXPECT_EQ(pmm_frame_map_char(FRAMES_PER_MAP_CHAR, FRAMES_PER_MAP_CHAR), '+');
    KEXPECT_EQ(pmm_frame_map_char(2 * FRAMES_PER_MAP_CHAR, FRAMES_PER_MAP_CHAR), '#');
    KEXPECT_EQ(pmm_frame_map_char(3 * FRAMES_PER_MAP_CHAR, FRAMES_PER_MAP_CHAR), ' ');
}

KTEST_LECTURE(status_names_say_what_went_wrong, 1)
{
    static const enum pmm_status errors[] = {PMM_UNALIGNED, PMM_OUT_OF_RANGE, PMM_RESERVED_FRAME,
                                             PMM_DOUBLE_FREE};
    for (size_t i = 0; i < ARRAY_SIZE(errors); i++) {
        ktest_note("status %d", errors[i]);
        KEXPECT_NE(pmm_status_name(errors[i]), pmm_status_name(PMM_OK));
        for (size_t j = 0; j < i; j++)
            KEXPECT_NE(pmm_status_name(errors[i]), pmm_status_name(errors[j]));
    }
    ktest_note_clear();
    KEXPECT_NE(pmm_status_name((enum pmm_status)99), NULL); /* never NULL */
}

/* ---- practice 1: the bitmaps from a memory map ------------------------------ */

KTEST_PRACTICE(storage_size_covers_both_bitmaps, 1)
{
    KEXPECT_EQ(pmm_storage_size(0), 0);
    KEXPECT_EQ(pmm_storage_size(PAGE_SIZE), 2 * sizeof(uint64_t));
    KEXPECT_EQ(pmm_storage_size(64 * PAGE_SIZE), 2 * sizeof(uint64_t));
    KEXPECT_EQ(pmm_storage_size(65 * PAGE_SIZE), 4 * sizeof(uint64_t));
    KEXPECT_EQ(pmm_storage_size(128 * MiB), 8 * KiB); /* the handout's figure */
    KEXPECT_EQ(pmm_storage_size(PMM_MEMORY_LIMIT), 2 * 128 * KiB);
    KEXPECT_EQ(pmm_storage_size(UINT64_MAX), 2 * 128 * KiB);
}

KTEST_PRACTICE(map_usable_region_frames_are_free, 2)
{
    static const struct memory_region map[] = {
        REGION(0x0, 0x9FC00, MEMORY_RESERVED),
        REGION(0x100000, 0x8000, MEMORY_USABLE), /* 8 frames */
    };
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    KEXPECT_EQ(pmm.frame_count, 0x108000 / PAGE_SIZE);
    KEXPECT_EQ(pmm.used, test_storage);
    KEXPECT_EQ(pmm.reserved, test_storage + TEST_STORAGE_WORDS / 2);
    static const phys_addr_t free[] = {0x100000, 0x101000, 0x102000, 0x103000,
                                       0x104000, 0x105000, 0x106000, 0x107000};
    expect_free_frames(free, ARRAY_SIZE(free));
    KEXPECT_TRUE(bit(pmm.reserved, 0x9F000 / PAGE_SIZE));
    KEXPECT_TRUE(bit(pmm.reserved, 0xFF000 / PAGE_SIZE)); /* a gap is not RAM */
}

KTEST_PRACTICE(map_overlapping_regions, 2)
{
    static const struct memory_region map[] = {
        REGION(0x140000, 0x2000, MEMORY_RESERVED), /* two frames carved out of... */
        REGION(0x100000, 0x100000, MEMORY_USABLE), /* ...1-2 MiB, listed later */
        REGION(0x180000, 0x100000, MEMORY_USABLE), /* 1.5-2.5 MiB: overlaps the first */
    };
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    KEXPECT_EQ(pmm_total_count(), 0x180000 / PAGE_SIZE - 2);
    KEXPECT_FALSE(frame_is_free(0x140000));
    KEXPECT_FALSE(frame_is_free(0x141000));
    KEXPECT_TRUE(frame_is_free(0x13F000));
    KEXPECT_TRUE(frame_is_free(0x142000));
    KEXPECT_TRUE(frame_is_free(0x27F000));
    expect_consistent_bitmaps();
}

KTEST_PRACTICE(map_unsorted_regions, 1)
{
    static const struct memory_region map[] = {
        REGION(0x400000, 0x4000, MEMORY_USABLE),
        REGION(0x200000, 0x3000, MEMORY_USABLE),
        REGION(0x300000, 0x1000, MEMORY_USABLE),
    };
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    static const phys_addr_t free[] = {0x200000, 0x201000, 0x202000, 0x300000,
                                       0x400000, 0x401000, 0x402000, 0x403000};
    expect_free_frames(free, ARRAY_SIZE(free));
}

KTEST_PRACTICE(map_zero_length_and_unaligned_regions, 2)
{
    static const struct memory_region map[] = {
        REGION(0x500000, 0x1000, MEMORY_RESERVED), REGION(0x200000, 0, MEMORY_USABLE), /* nothing */
        REGION(0x300800, 0x3000, MEMORY_USABLE),  /* only 0x301000, 0x302000 whole */
        REGION(0x4FF000, 0x1800, MEMORY_USABLE),  /* ends inside the reserved one */
        REGION(0x4FE800, 0x100, MEMORY_RESERVED), /* takes all of frame 0x4FE000 */
        REGION(0x4FD000, 0x2000, MEMORY_USABLE),
    };
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    static const phys_addr_t free[] = {0x301000, 0x302000, 0x4FD000, 0x4FF000};
    expect_free_frames(free, ARRAY_SIZE(free));
}

KTEST_PRACTICE(map_empty_reserved_entries_reserve_nothing, 1)
{
    static const struct memory_region map[] = {
        REGION(0x200000, 0x4000, MEMORY_USABLE),
        REGION(0x201800, 0, MEMORY_RESERVED), /* empty, inside a frame */
    };
    const struct phys_range reserved[] = {{0x202800, 0x202800}}; /* empty as well */
    use_map(map, ARRAY_SIZE(map), reserved, ARRAY_SIZE(reserved));
    static const phys_addr_t free[] = {0x200000, 0x201000, 0x202000, 0x203000};
    expect_free_frames(free, ARRAY_SIZE(free));
}

KTEST_PRACTICE(map_region_straddling_the_kernel, 1)
{
    static const struct memory_region map[] = {REGION(0x0, 0x1000000, MEMORY_USABLE)};
    const struct phys_range reserved[] = {
        {0, PMM_LOW_MEMORY_END},
        {(phys_addr_t)_kernel_phys_start, (phys_addr_t)_kernel_phys_end},
        {0x7FF800, 0x801001}, /* unaligned at both ends: touches 3 frames */
    };
    use_map(map, ARRAY_SIZE(map), reserved, ARRAY_SIZE(reserved));
    size_t kernel_frames = ALIGN_UP((phys_addr_t)_kernel_phys_end, PAGE_SIZE) / PAGE_SIZE -
                           PMM_LOW_MEMORY_END / PAGE_SIZE;
    KEXPECT_EQ(pmm_total_count(),
               0x1000000 / PAGE_SIZE - PMM_LOW_MEMORY_END / PAGE_SIZE - kernel_frames - 3);
    KEXPECT_FALSE(frame_is_free(ALIGN_DOWN((phys_addr_t)_kernel_phys_end - 1, PAGE_SIZE)));
    KEXPECT_TRUE(frame_is_free(ALIGN_UP((phys_addr_t)_kernel_phys_end, PAGE_SIZE)));
    KEXPECT_FALSE(frame_is_free(0x7FF000));
    KEXPECT_FALSE(frame_is_free(0x801000));
    KEXPECT_TRUE(frame_is_free(0x7FE000));
    KEXPECT_TRUE(frame_is_free(0x802000));
    expect_consistent_bitmaps();
}

KTEST_PRACTICE(map_memory_beyond_the_bitmap_is_ignored, 1)
{
    static const struct memory_region map[] = {
        REGION(0x100000, 0x1000, MEMORY_USABLE),
        REGION(0x100000000ull, 0x100000000ull, MEMORY_USABLE), /* 4-8 GiB */
    };
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    KEXPECT_EQ(pmm.frame_count, TEST_FRAMES); /* as far as the storage reaches */
    static const phys_addr_t free[] = {0x100000};
    expect_free_frames(free, ARRAY_SIZE(free));
}

KTEST_PRACTICE(map_without_usable_memory, 1)
{
    static const struct memory_region some[] = {REGION(0x100000, 0x4000, MEMORY_USABLE)};
    static const struct memory_region none[] = {
        REGION(0x0, 0x9FC00, MEMORY_RESERVED),
        REGION(0x100000, 0x100000, MEMORY_ACPI_NVS),
        REGION(0x200000, 0x100000, MEMORY_BAD),
    };
    use_map(some, ARRAY_SIZE(some), NULL, 0);
    KASSERT_EQ(pmm_total_count(), 4);
    pmm_init_map(none, ARRAY_SIZE(none), NULL, 0, test_storage, sizeof(test_storage));
    KEXPECT_EQ(pmm_total_count(), 0); /* the previous map is forgotten */
    KEXPECT_EQ(pmm_free_count(), 0);
    expect_consistent_bitmaps();
}

KTEST_PRACTICE(map_never_hands_out_frame_zero, 1)
{
    static const struct memory_region map[] = {REGION(0x0, 0x4000, MEMORY_USABLE)};
    use_map(map, ARRAY_SIZE(map), NULL, 0); /* nothing reserved: still not frame 0 */
    static const phys_addr_t free[] = {0x1000, 0x2000, 0x3000};
    expect_free_frames(free, ARRAY_SIZE(free));
}

/* A region whose end passes 2^64 must neither hang the loops nor wrap round
 * to mark low memory. */
KTEST_PRACTICE(map_region_wrapping_past_2_64, 1)
{
    static const struct memory_region map[] = {
        REGION(0x200000, 0x2000, MEMORY_USABLE),
        REGION(0xFFFFFFFFFFFFF000ull, 0x202000, MEMORY_RESERVED), /* wraps to 0x201000 */
    };
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    static const phys_addr_t free[] = {0x200000, 0x201000};
    expect_free_frames(free, ARRAY_SIZE(free));
}

/* ---- practice 2: one frame at a time (on a small map) ---------------------------- */

/* 8 frames at 2 MiB, two of them reserved as a "kernel", and 32 frames at
 * 2.25 MiB: 38 to hand out, in two words of the bitmaps (frames 512-519 and
 * 576-607). */
static const struct memory_region small_map[] = {
    REGION(0x200000, 0x8000, MEMORY_USABLE),
    REGION(0x240000, 0x20000, MEMORY_USABLE),
};
static const struct phys_range small_map_kernel[] = {{0x204000, 0x206000}};
enum { SMALL_MAP_FREE = 38, SMALL_MAP_END = 0x260000 };

static bool in_small_map(phys_addr_t frame)
{
    return (frame >= 0x200000 && frame < 0x208000 && !(frame >= 0x204000 && frame < 0x206000)) ||
           (frame >= 0x240000 && frame < SMALL_MAP_END);
}

KTEST_PRACTICE(alloc_hands_out_every_free_frame_once, 3)
{
    use_map(small_map, ARRAY_SIZE(small_map), small_map_kernel, ARRAY_SIZE(small_map_kernel));
    phys_addr_t frames[SMALL_MAP_FREE + 1];
    size_t n = drain(frames, ARRAY_SIZE(frames));
    KEXPECT_EQ(n, SMALL_MAP_FREE);
    for (size_t i = 0; i < n; i++) {
        ktest_note("frame %zu: %p", i, (void *)frames[i]);
        KEXPECT_EQ(frames[i] % PAGE_SIZE, 0);
        KEXPECT_TRUE(in_small_map(frames[i]));
        KEXPECT_TRUE(bit(pmm.used, frames[i] / PAGE_SIZE));
        for (size_t j = 0; j < i; j++)
            KEXPECT_NE(frames[i], frames[j]);
    }
    ktest_note_clear();
    KEXPECT_EQ(pmm_alloc_frame(), PMM_NO_FRAME);
    KEXPECT_EQ(pmm_free_count(), 0);
    KEXPECT_EQ(pmm_total_count(), SMALL_MAP_FREE);
}

KTEST_PRACTICE(free_makes_the_frame_available_again, 2)
{
    use_map(small_map, ARRAY_SIZE(small_map), small_map_kernel, ARRAY_SIZE(small_map_kernel));
    enum { TAKEN = 7 }; /* the whole first word, and one frame of the second */
    phys_addr_t frames[TAKEN];
    KASSERT_EQ(drain(frames, TAKEN), TAKEN);
    KEXPECT_EQ(pmm_free_count(), SMALL_MAP_FREE - TAKEN);
    KEXPECT_EQ(pmm_free_frame(frames[0]), PMM_OK);
    KEXPECT_EQ(pmm_free_count(), SMALL_MAP_FREE - TAKEN + 1);
    KEXPECT_TRUE(frame_is_free(frames[0]));
    KEXPECT_FALSE(frame_is_free(frames[1]));
    KEXPECT_EQ(pmm_alloc_frame(), frames[0]); /* the lowest free frame again */
    expect_consistent_bitmaps();
}

/* next_search is a hint: wherever it points, the search finds the one free
 * frame left, at the bottom, even from past the end. */
KTEST_PRACTICE(alloc_search_wraps_past_the_hint, 1)
{
    use_map(small_map, ARRAY_SIZE(small_map), small_map_kernel, ARRAY_SIZE(small_map_kernel));
    phys_addr_t frames[SMALL_MAP_FREE];
    KASSERT_EQ(drain(frames, SMALL_MAP_FREE), SMALL_MAP_FREE);
    KASSERT_EQ(pmm_free_frame(0x200000), PMM_OK);
    static const size_t hints[] = {0, 0x201, 0x240, 0x25F, 0x260, 0x280, 100000};
    for (size_t i = 0; i < ARRAY_SIZE(hints); i++) {
        ktest_note("next_search = %zu", hints[i]);
        pmm.next_search = hints[i];
        phys_addr_t frame = pmm_alloc_frame();
        KEXPECT_EQ(frame, 0x200000);
        if (frame != PMM_NO_FRAME)
            pmm_free_frame(frame);
    }
}

/* ---- practice 3: the boot PMM ------------------------------------------------ */

KTEST_PRACTICE(total_matches_memory_map, 2)
{
    REQUIRE_BOOT_PMM();
    size_t expected = 0;
    for (size_t f = 0; f < pmm.frame_count; f++) {
        phys_addr_t frame = (phys_addr_t)f * PAGE_SIZE;
        if (frame_is_usable_ram(frame) && !frame_is_reserved(frame))
            expected++;
    }
    KEXPECT_EQ(pmm_total_count(), expected);
    KEXPECT_EQ(pmm_free_count(), pmm_total_count());
    expect_consistent_bitmaps();
}

KTEST_PRACTICE(frames_never_inside_reserved_memory, 3)
{
    REQUIRE_BOOT_PMM();
    size_t before = pmm_free_count(), count, bad = 0;
    phys_addr_t head = allocate_all(&count);
    KEXPECT_EQ(count, before);
    KEXPECT_EQ(pmm_alloc_frame(), PMM_NO_FRAME);
    phys_addr_t f = head;
    for (size_t i = 0; i < count; i++, f = *(phys_addr_t *)phys_to_virt(f)) {
        if ((frame_is_reserved(f) || !frame_is_usable_ram(f)) && bad++ == 0)
            ktest_fail_at(__FILE__, __LINE__, "frame %p is reserved or not RAM", (void *)f);
    }
    free_all(head, count);
    KEXPECT_EQ(bad, 0);
    KEXPECT_EQ(pmm_free_count(), before);
}

KTEST_PRACTICE(boot_modules_are_reserved, 1)
{
    REQUIRE_BOOT_PMM();
    KASSERT_EQ(boot_info.module_count, 1); /* tools/mkiso loads one: test-module */
    const struct boot_module *module = &boot_info.modules[0];
    for (phys_addr_t frame = ALIGN_DOWN(module->start, PAGE_SIZE); frame < module->end;
         frame += PAGE_SIZE) {
        ktest_note("frame %p", (void *)frame);
        KEXPECT_TRUE(bit(pmm.reserved, frame / PAGE_SIZE));
    }
}

KTEST_PRACTICE(bitmaps_are_in_usable_ram_and_reserved, 1)
{
    REQUIRE_BOOT_PMM();
    phys_addr_t start = virt_to_phys_direct(pmm.used);
    size_t size = pmm_storage_size(pmm.frame_count * PAGE_SIZE);
    KEXPECT_EQ(start % PAGE_SIZE, 0);
    KEXPECT_EQ(virt_to_phys_direct(pmm.reserved), start + size / 2);
    for (phys_addr_t frame = start; frame < start + size; frame += PAGE_SIZE) {
        ktest_note("bitmap frame %p", (void *)frame);
        KEXPECT_TRUE(frame_is_usable_ram(frame));
        KEXPECT_TRUE(bit(pmm.reserved, frame / PAGE_SIZE));
        KEXPECT_FALSE(overlaps(frame, 0, PMM_LOW_MEMORY_END));
        KEXPECT_FALSE(
            overlaps(frame, (phys_addr_t)_kernel_phys_start, (phys_addr_t)_kernel_phys_end));
        KEXPECT_FALSE(overlaps(frame, boot_info.info_start, boot_info.info_end));
        KEXPECT_FALSE(overlaps(frame, boot_info.modules[0].start, boot_info.modules[0].end));
    }
}

/* A new tree's first walk needs a PDPT, a PD and a PT: after pmm_init they
 * must come from the PMM, not from the boot pool in the kernel's bss. */
KTEST_PRACTICE(page_tables_come_from_the_pmm, 1)
{
    REQUIRE_BOOT_PMM();
    phys_addr_t root = pmm_alloc_frame();
    KASSERT_NE(root, PMM_NO_FRAME);
    pte_t *pml4 = phys_to_virt(root);
    for (size_t i = 0; i < PAGE_TABLE_ENTRIES; i++)
        pml4[i] = 0;
    size_t before = pmm_free_count();
    KEXPECT_NOT_NULL(paging_walk(pml4, 0, true));
    KASSERT_EQ(before - pmm_free_count(), PAGE_TABLES_BELOW_PML4); /* else: not ours to free */
    pte_t *table = pml4;
    for (int level = PAGE_TABLE_LEVELS; level > 1 && (table[0] & PTE_PRESENT); level--) {
        phys_addr_t next = pte_address(table[0]);
        pmm_free_frame(virt_to_phys_direct(table));
        table = phys_to_virt(next);
    }
    pmm_free_frame(virt_to_phys_direct(table));
}

/* ---- homework 1: refuse bad frees --------------------------------------------- */

/* The small map above: 0x204000 and 0x205000 are the "kernel". These tests
 * free bad addresses, so a PMM that accepts them corrupts only this map. */
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
    phys_addr_t frames[SMALL_MAP_FREE + 1];
    size_t n = drain(frames, ARRAY_SIZE(frames));
    KEXPECT_EQ(n, SMALL_MAP_FREE);
    for (size_t i = 0; i < n; i++) {
        ktest_note("frame %p", (void *)frames[i]);
        for (size_t j = 0; j < i; j++)
            KEXPECT_NE(frames[i], frames[j]);
    }
}

KTEST_HOMEWORK(free_rejects_bad_addresses, 3)
{
    use_map(small_map, ARRAY_SIZE(small_map), small_map_kernel, ARRAY_SIZE(small_map_kernel));
    size_t free_before = pmm_free_count();
    phys_addr_t frame = pmm_alloc_frame();
    KASSERT_NE(frame, PMM_NO_FRAME);
    KEXPECT_EQ(pmm_free_frame(frame + 8), PMM_UNALIGNED);
    KEXPECT_EQ(pmm_free_frame(SMALL_MAP_END), PMM_OUT_OF_RANGE);
    KEXPECT_EQ(pmm_free_frame(0x204000), PMM_RESERVED_FRAME); /* the "kernel" */
    KEXPECT_EQ(pmm_free_frame(0x220000), PMM_RESERVED_FRAME); /* not RAM in this map */
    KEXPECT_EQ(pmm_free_count(), free_before - 1);
    struct pmm_stats stats;
    pmm_get_stats(&stats);
    KEXPECT_EQ(stats.rejected_frees, 4);
    KEXPECT_EQ(pmm_free_frame(frame), PMM_OK);
    KEXPECT_EQ(pmm_free_count(), free_before);
}

/* ---- homework 2: contiguous frames ---------------------------------------------- */

KTEST_HOMEWORK(alloc_frames_returns_a_contiguous_run, 3)
{
    REQUIRE_BOOT_PMM();
    size_t before = pmm_free_count();
    phys_addr_t run = pmm_alloc_frames(CONTIGUOUS_FRAMES);
    KASSERT_NE(run, PMM_NO_FRAME);
    KEXPECT_EQ(run % PAGE_SIZE, 0);
    KEXPECT_EQ(pmm_free_count(), before - CONTIGUOUS_FRAMES);
    /* No frame of the run may be handed out again while it is allocated. */
    size_t count;
    phys_addr_t head = allocate_all(&count);
    phys_addr_t f = head;
    for (size_t i = 0; i < count; i++, f = *(phys_addr_t *)phys_to_virt(f)) {
        ktest_note("frame %p", (void *)f);
        KEXPECT_FALSE(f >= run && f < run + CONTIGUOUS_FRAMES * PAGE_SIZE);
    }
    ktest_note_clear();
    free_all(head, count);
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
    use_map(small_map, ARRAY_SIZE(small_map), small_map_kernel, ARRAY_SIZE(small_map_kernel));
    KEXPECT_EQ(pmm_alloc_frames(0), PMM_NO_FRAME);
    KEXPECT_EQ(pmm_alloc_frames(SMALL_MAP_FREE + 1), PMM_NO_FRAME);
    KEXPECT_EQ(pmm_free_count(), SMALL_MAP_FREE);
    /* Freeing a run that is partly free already frees nothing. */
    phys_addr_t run = pmm_alloc_frames(2);
    KASSERT_NE(run, PMM_NO_FRAME);
    KEXPECT_EQ(pmm_free_frame(run + PAGE_SIZE), PMM_OK);
    KEXPECT_EQ(pmm_free_frames(run, 2), PMM_DOUBLE_FREE);
    KEXPECT_EQ(pmm_free_count(), SMALL_MAP_FREE - 1);
    KEXPECT_EQ(pmm_free_frames(run, 1), PMM_OK);
    KEXPECT_EQ(pmm_free_count(), SMALL_MAP_FREE);
    /* A run at the end of memory, freed with a count so large that
     * count * PAGE_SIZE wraps round: the frame past the end is refused. */
    static const struct memory_region four[] = {REGION(0x200000, 0x4000, MEMORY_USABLE)};
    pmm_init_map(four, ARRAY_SIZE(four), NULL, 0, test_storage, sizeof(test_storage));
    KASSERT_EQ(pmm_alloc_frames(4), 0x200000);
    KEXPECT_EQ(pmm_free_frames(0x200000, SIZE_MAX / PAGE_SIZE + 2), PMM_OUT_OF_RANGE);
    KEXPECT_EQ(pmm_free_count(), 0);
}

/* ---- homework 3: statistics ------------------------------------------------------- */

KTEST_HOMEWORK(stats_count_allocations_and_frees, 3)
{
    use_map(small_map, ARRAY_SIZE(small_map), small_map_kernel, ARRAY_SIZE(small_map_kernel));
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
    phys_addr_t run = pmm_alloc_frames(2);
    pmm_free_frame(frames[0]);
    pmm_free_frame(frames[2]);
    pmm_free_frames(run, 2);
    pmm_get_stats(&after);
    KEXPECT_EQ(after.frames_allocated, before.frames_allocated + 5);
    KEXPECT_EQ(after.frames_freed, before.frames_freed + 5);
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
    KEXPECT_EQ(pmm_alloc_frames(1), PMM_NO_FRAME);
    pmm_get_stats(&stats);
    KEXPECT_EQ(stats.failed_allocations, 2);
    KEXPECT_EQ(stats.peak_used_frames, 4);
    (void)a;
    (void)d;
}
