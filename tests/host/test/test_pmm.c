/* test_pmm.c - the PMM (solutions/14-pmm/pmm.c and lessons/14-pmm/pmm_info.c)
 * on the host: the memory map cases and the bad frees the handout lists
 * (lessons/14-pmm/README.md), the contiguous runs and the counters. Expected
 * results are computed here from the documented rules, not read back from the
 * PMM. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "multiboot2.h"
#include "pmm.h"

enum {
    STORAGE_WORDS = 256, /* 2 KiB of bitmaps: 8192 frames, 32 MiB */
    STORAGE_FRAMES = STORAGE_WORDS / 2 * 64,
};

static uint64_t storage[STORAGE_WORDS];

#define USABLE(base, length)                                                                       \
    {                                                                                              \
        (base), (length), MEMORY_USABLE                                                            \
    }
#define RESERVED(base, length)                                                                     \
    {                                                                                              \
        (base), (length), MEMORY_RESERVED                                                          \
    }

/* ---- the rules, independently ---------------------------------------------- */

static bool touches(phys_addr_t frame, uint64_t start, uint64_t end)
{
    return start < end && frame < end && start < frame + PAGE_SIZE;
}

static uint64_t end_of(const struct memory_region *r)
{
    return r->base + r->length < r->base ? UINT64_MAX : r->base + r->length;
}

/* pmm.h: free only if wholly inside a usable region, touching no non-usable
 * region and no reserved range; never frame 0; only what the storage and
 * PMM_MEMORY_LIMIT cover. A zero-length entry covers nothing (README). */
static bool should_be_free(phys_addr_t frame, const struct memory_region *map, size_t count,
                           const struct phys_range *reserved, size_t reserved_count,
                           size_t storage_frames)
{
    if (frame == 0 || frame / PAGE_SIZE >= storage_frames || frame >= PMM_MEMORY_LIMIT)
        return false;
    bool inside = false;
    for (size_t i = 0; i < count; i++) {
        if (map[i].type == MEMORY_USABLE)
            inside = inside || (map[i].base <= frame && frame + PAGE_SIZE <= end_of(&map[i]));
        else if (touches(frame, map[i].base, end_of(&map[i])))
            return false;
    }
    for (size_t i = 0; i < reserved_count; i++) {
        if (touches(frame, reserved[i].start, reserved[i].end))
            return false;
    }
    return inside;
}

/* Every frame the PMM hands out, in order; frees them all again. Checks
 * that each is aligned, new, and allowed by `allowed`. */
static size_t drain(bool (*allowed)(phys_addr_t frame), phys_addr_t *first, phys_addr_t *last)
{
    static uint8_t seen[HOST_MEMORY_SIZE / PAGE_SIZE];
    static phys_addr_t frames[HOST_MEMORY_SIZE / PAGE_SIZE];
    memset(seen, 0, sizeof(seen));
    size_t count = 0;
    for (phys_addr_t frame; (frame = pmm_alloc_frame()) != PMM_NO_FRAME;) {
        REQUIRE(count < ARRAY_SIZE(frames));
        CHECK_EQ(frame % PAGE_SIZE, 0);
        REQUIRE(frame < HOST_MEMORY_SIZE);
        CHECK(!seen[frame / PAGE_SIZE]);
        CHECK(allowed(frame));
        seen[frame / PAGE_SIZE] = 1;
        frames[count++] = frame;
    }
    if (first != NULL)
        *first = count ? frames[0] : 0;
    if (last != NULL)
        *last = count ? frames[count - 1] : 0;
    for (size_t i = 0; i < count; i++)
        CHECK_EQ(pmm_free_frame(frames[i]), PMM_OK);
    return count;
}

/* The PMM built from a synthetic map, and the frames the rule says are free. */
static const struct memory_region *current_map;
static size_t current_count;
static const struct phys_range *current_reserved;
static size_t current_reserved_count;

static bool allowed_by_map(phys_addr_t frame)
{
    return should_be_free(frame, current_map, current_count, current_reserved,
                          current_reserved_count, STORAGE_FRAMES);
}

static size_t use_map(const struct memory_region *map, size_t count,
                      const struct phys_range *reserved, size_t reserved_count)
{
    current_map = map;
    current_count = count;
    current_reserved = reserved;
    current_reserved_count = reserved_count;
    pmm_init_map(map, count, reserved, reserved_count, storage, sizeof(storage));
    size_t expected = 0;
    for (phys_addr_t frame = 0; frame < STORAGE_FRAMES * PAGE_SIZE; frame += PAGE_SIZE)
        expected += allowed_by_map(frame);
    return expected;
}

/* Builds the PMM from `map` and checks its count and every frame it hands out. */
static void check_map(const struct memory_region *map, size_t count,
                      const struct phys_range *reserved, size_t reserved_count)
{
    size_t expected = use_map(map, count, reserved, reserved_count);
    CHECK_EQ(pmm_total_count(), expected);
    CHECK_EQ(pmm_free_count(), expected);
    CHECK_EQ(drain(allowed_by_map, NULL, NULL), expected);
    CHECK_EQ(pmm_free_count(), expected);
}

/* ---- the boot PMM (pmm_init) --------------------------------------------- */

static bool allowed_at_boot(phys_addr_t frame)
{
    phys_addr_t bitmap = virt_to_phys_direct(pmm.used);
    struct phys_range reserved[] = {
        {0, PMM_LOW_MEMORY_END},
        {HOST_IMAGE_START, HOST_IMAGE_END},
        {HOST_INFO_START, HOST_INFO_END},
        {HOST_MODULE_START, HOST_MODULE_END},
        {bitmap, bitmap + pmm_storage_size(pmm.frame_count * PAGE_SIZE)},
    };
    return should_be_free(frame, boot_info.memory_map, boot_info.memory_map_count, reserved,
                          ARRAY_SIZE(reserved), SIZE_MAX);
}

TEST(boot_hands_out_exactly_the_free_ram)
{
    size_t expected = 0;
    for (phys_addr_t frame = 0; frame < HOST_MEMORY_SIZE; frame += PAGE_SIZE)
        expected += allowed_at_boot(frame);
    CHECK(expected > 15000);
    CHECK_EQ(pmm_total_count(), expected);
    CHECK_EQ(drain(allowed_at_boot, NULL, NULL), expected);
}

TEST(boot_bitmaps_sit_in_usable_ram_away_from_everything_reserved)
{
    phys_addr_t bitmap = virt_to_phys_direct(pmm.used);
    size_t size = pmm_storage_size(pmm.frame_count * PAGE_SIZE);
    CHECK_EQ(bitmap % PAGE_SIZE, 0);
    CHECK_EQ((phys_addr_t)virt_to_phys_direct(pmm.reserved), bitmap + size / 2);
    CHECK(bitmap >= HOST_IMAGE_END);
    CHECK(!touches(bitmap, HOST_MODULE_START, HOST_MODULE_END) &&
          !touches(bitmap + size - 1, HOST_MODULE_START, HOST_MODULE_END));
    CHECK(bitmap + size <= HOST_MEMORY_SIZE - 0x20000);
}

/* Every frame written with its own address, then read back: a frame handed
 * out twice, or the PMM's own bitmaps handed out, shows here. */
TEST(every_frame_is_writable_and_owned_once)
{
    size_t count = 0;
    phys_addr_t head = PMM_NO_FRAME;
    for (phys_addr_t frame; (frame = pmm_alloc_frame()) != PMM_NO_FRAME; count++) {
        uint64_t *words = phys_to_virt(frame);
        for (size_t i = 0; i < PAGE_SIZE / 8; i++)
            words[i] = frame;
        words[0] = head;
        head = frame;
    }
    CHECK_EQ(count, pmm_total_count());
    CHECK_EQ(pmm_free_count(), 0);
    size_t checked = 0;
    while (head != PMM_NO_FRAME) {
        const uint64_t *words = phys_to_virt(head);
        bool intact = true;
        for (size_t i = 1; i < PAGE_SIZE / 8; i++)
            intact = intact && words[i] == head;
        CHECK(intact);
        phys_addr_t next = words[0];
        CHECK_EQ(pmm_free_frame(head), PMM_OK);
        head = next;
        checked++;
    }
    CHECK_EQ(checked, count);
    CHECK_EQ(pmm_free_count(), pmm_total_count());
}

TEST(init_panics_without_usable_memory)
{
    boot_info.memory_map[0] = (struct memory_region)RESERVED(0, HOST_MEMORY_SIZE);
    boot_info.memory_map_count = 1;
    CHECK_EQ(host_try((void (*)(void *))pmm_init, NULL), HOST_PANICKED);
    CHECK(strstr(host_last_panic(), "pmm") != NULL);
}

TEST(init_panics_without_room_for_the_bitmaps)
{
    /* 4 GiB of "usable" memory needs 256 KiB of bitmaps; the only place
     * without reserved memory in it is smaller. */
    boot_info.memory_map[0] = (struct memory_region)USABLE(0, 4 * GiB);
    boot_info.memory_map[1] =
        (struct memory_region)RESERVED(HOST_IMAGE_END, 4 * GiB - HOST_IMAGE_END - 0x3000);
    boot_info.memory_map_count = 2;
    boot_info.module_count = 0;
    CHECK_EQ(host_try((void (*)(void *))pmm_init, NULL), HOST_PANICKED);
    CHECK(strstr(host_last_panic(), "bitmap") != NULL);
}

TEST(storage_size_covers_memory_up_to_the_limit)
{
    CHECK_EQ(pmm_storage_size(0), 0);
    CHECK_EQ(pmm_storage_size(PAGE_SIZE), 16);
    CHECK_EQ(pmm_storage_size(64 * PAGE_SIZE), 16);
    CHECK_EQ(pmm_storage_size(65 * PAGE_SIZE), 32);
    CHECK_EQ(pmm_storage_size(4 * GiB), 2 * 128 * KiB);
    CHECK_EQ(pmm_storage_size(UINT64_MAX), 2 * 128 * KiB);
}

/* ---- memory maps (README: "real machines and other loaders do produce") ---- */

TEST(map_tidy)
{
    const struct memory_region map[] = {USABLE(0, 0x9fc00), RESERVED(0x9fc00, 0x400),
                                        USABLE(0x100000, 0xf00000), RESERVED(0x1000000, 0x1000)};
    check_map(map, ARRAY_SIZE(map), NULL, 0);
}

TEST(map_overlapping_entries_reserved_wins)
{
    const struct memory_region map[] = {USABLE(0x100000, 0x400000), USABLE(0x300000, 0x400000),
                                        RESERVED(0x200000, 0x3000), RESERVED(0x5ff800, 0x1000)};
    check_map(map, ARRAY_SIZE(map), NULL, 0);
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    CHECK_EQ(pmm_total_count(), (0x700000 - 0x100000) / PAGE_SIZE - 3 - 2);
}

TEST(map_unsorted_entries_give_the_same_frames)
{
    const struct memory_region sorted[] = {USABLE(0x100000, 0x100000), RESERVED(0x180000, 0x2000),
                                           USABLE(0x400000, 0x200000)};
    const struct memory_region unsorted[] = {USABLE(0x400000, 0x200000), RESERVED(0x180000, 0x2000),
                                             USABLE(0x100000, 0x100000)};
    use_map(sorted, ARRAY_SIZE(sorted), NULL, 0);
    uint64_t used[STORAGE_WORDS / 2];
    memcpy(used, pmm.used, sizeof(used));
    check_map(unsorted, ARRAY_SIZE(unsorted), NULL, 0);
    CHECK_EQ(memcmp(used, pmm.used, sizeof(used)), 0);
}

TEST(map_unaligned_usable_rounds_inwards_and_reserved_outwards)
{
    /* README: usable 0x300800..0x303800 holds 0x301000 and 0x302000 only. */
    const struct memory_region map[] = {USABLE(0x300800, 0x3000), USABLE(0x400000, 0x10000),
                                        RESERVED(0x404800, 0x1000)};
    check_map(map, ARRAY_SIZE(map), NULL, 0);
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    CHECK_EQ(pmm_total_count(), 2 + 16 - 2);
}

TEST(map_zero_length_usable_entries_add_nothing)
{
    const struct memory_region map[] = {USABLE(0x100000, 0x4000), USABLE(0x800000, 0),
                                        USABLE(0x900800, 0)};
    check_map(map, ARRAY_SIZE(map), NULL, 0);
    CHECK_EQ(pmm.frame_count, 0x104000 / PAGE_SIZE); /* the empty ones set no end */
}

/* README: "Zero-length entries. They must simply be ignored." */
TEST(map_zero_length_reserved_entries_are_ignored)
{
    const struct memory_region map[] = {USABLE(0x100000, 0x10000), RESERVED(0x104000, 0),
                                        RESERVED(0x108800, 0)};
    const struct phys_range reserved[] = {{0x10a000, 0x10a000}, {0x10c800, 0x10c800}};
    check_map(map, ARRAY_SIZE(map), reserved, ARRAY_SIZE(reserved));
}

TEST(map_memory_above_4_gib_is_ignored)
{
    const struct memory_region map[] = {USABLE(0x100000, 0x100000), USABLE(4 * GiB, 8 * GiB),
                                        USABLE(4 * GiB - 0x2000, 0x4000)};
    pmm_init_map(map, ARRAY_SIZE(map), NULL, 0, storage, sizeof(storage));
    CHECK_EQ(pmm.frame_count, STORAGE_FRAMES); /* as far as the storage reaches */
    check_map(map, ARRAY_SIZE(map), NULL, 0);
    CHECK_EQ(pmm_total_count(), 256);
}

TEST(map_gaps_are_not_ram)
{
    const struct memory_region map[] = {USABLE(0x100000, 0x10000), USABLE(0x200000, 0x10000)};
    check_map(map, ARRAY_SIZE(map), NULL, 0);
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    CHECK_EQ(pmm_total_count(), 32);
}

TEST(map_entries_that_wrap_past_2_64_saturate)
{
    const struct memory_region map[] = {USABLE(0x100000, 0x10000),
                                        RESERVED(UINT64_MAX - 0xfff, 0x3000),
                                        USABLE(UINT64_MAX - 0x1fff, UINT64_MAX)};
    check_map(map, ARRAY_SIZE(map), NULL, 0);
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    CHECK_EQ(pmm_total_count(), 16);
}

TEST(map_frames_beyond_the_storage_are_ignored)
{
    const struct memory_region map[] = {USABLE(0x10000, 64 * MiB)};
    pmm_init_map(map, 1, NULL, 0, storage, 32); /* 2 words: frames 0..127 */
    CHECK_EQ(pmm.frame_count, 128);
    CHECK_EQ(pmm_total_count(), 128 - 16);
    pmm_init_map(map, 1, NULL, 0, storage, 64); /* 4 words: 0..255 */
    CHECK_EQ(pmm.frame_count, 256);
    CHECK_EQ(pmm_total_count(), 256 - 16);
}

TEST(map_never_hands_out_frame_zero)
{
    const struct memory_region map[] = {USABLE(0, 0x10000)};
    check_map(map, ARRAY_SIZE(map), NULL, 0);
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    CHECK_EQ(pmm_total_count(), 15);
}

TEST(map_reserved_ranges_round_outwards)
{
    const struct memory_region map[] = {USABLE(0x100000, 0x10000)};
    const struct phys_range reserved[] = {{0x102800, 0x103001}, {0x10f000, UINT64_MAX}};
    check_map(map, ARRAY_SIZE(map), reserved, ARRAY_SIZE(reserved));
    use_map(map, ARRAY_SIZE(map), reserved, ARRAY_SIZE(reserved));
    CHECK_EQ(pmm_total_count(), 16 - 2 - 1);
}

TEST(map_other_types_count_as_reserved)
{
    const struct memory_region map[] = {USABLE(0x100000, 0x10000),
                                        {0x101000, 0x1000, MEMORY_ACPI_RECLAIMABLE},
                                        {0x103000, 0x1000, MEMORY_ACPI_NVS},
                                        {0x105000, 0x1000, MEMORY_BAD},
                                        {0x107000, 0x1000, 77}};
    check_map(map, ARRAY_SIZE(map), NULL, 0);
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    CHECK_EQ(pmm_total_count(), 12);
}

/* ---- bad frees (homework 1) ------------------------------------------------ */

/* The small map of the kernel's tests: 16 frames at 2 MiB, the first one
 * reserved as a "kernel". */
static const struct memory_region small_map[] = {USABLE(0x200000, 0x10000)};
static const struct phys_range small_kernel[] = {{0x200000, 0x201000}};

static void use_small_map(void)
{
    use_map(small_map, 1, small_kernel, 1);
}

/* A refused free changes nothing but rejected_frees, and says why. */
static void check_refused(phys_addr_t frame, enum pmm_status expected)
{
    struct pmm_state before = pmm;
    uint64_t used[STORAGE_WORDS / 2];
    memcpy(used, pmm.used, sizeof(used));
    host_console_clear();
    CHECK_EQ(pmm_free_frame(frame), expected);
    CHECK_EQ(pmm.stats.rejected_frees, before.stats.rejected_frees + 1);
    before.stats.rejected_frees++;
    CHECK_EQ(memcmp(&before, &pmm, sizeof(pmm)), 0);
    CHECK_EQ(memcmp(used, pmm.used, sizeof(used)), 0);
    CHECK(host_console_contains(pmm_status_name(expected)));
}

TEST(free_rejects_double_free)
{
    use_small_map();
    phys_addr_t frame = pmm_alloc_frame();
    CHECK_EQ(pmm_free_frame(frame), PMM_OK);
    check_refused(frame, PMM_DOUBLE_FREE);
    check_refused(0x20f000, PMM_DOUBLE_FREE); /* never allocated */
}

TEST(free_rejects_bad_addresses)
{
    use_small_map();
    phys_addr_t frame = pmm_alloc_frame();
    check_refused(frame + 1, PMM_UNALIGNED);
    check_refused(frame + PAGE_SIZE / 2, PMM_UNALIGNED);
    check_refused(UINT64_MAX, PMM_UNALIGNED);
    check_refused(0x210000, PMM_OUT_OF_RANGE); /* just past the last frame */
    check_refused(UINT64_MAX & ~(PAGE_SIZE - 1), PMM_OUT_OF_RANGE);
    check_refused(0x200000, PMM_RESERVED_FRAME); /* the "kernel" */
    check_refused(0x100000, PMM_RESERVED_FRAME); /* not RAM in this map */
    check_refused(0, PMM_RESERVED_FRAME);        /* frame 0 */
    CHECK_EQ(pmm_free_frame(frame), PMM_OK);
}

TEST(status_names_cover_every_status)
{
    for (int s = PMM_OK; s <= PMM_DOUBLE_FREE; s++)
        CHECK(strcmp(pmm_status_name((enum pmm_status)s), "unknown") != 0);
    CHECK(strcmp(pmm_status_name((enum pmm_status)99), "unknown") == 0);
    CHECK(strcmp(pmm_status_name((enum pmm_status) - 1), "unknown") == 0);
}

/* ---- contiguous runs (homework 2) ------------------------------------------- */

TEST(alloc_frames_returns_a_contiguous_run)
{
    size_t free = pmm_free_count();
    phys_addr_t single = pmm_alloc_frame();
    phys_addr_t run = pmm_alloc_frames(8);
    CHECK(run != PMM_NO_FRAME);
    CHECK_EQ(run % PAGE_SIZE, 0);
    CHECK(single < run || single >= run + 8 * PAGE_SIZE);
    for (size_t i = 0; i < 8; i++) {
        CHECK(allowed_at_boot(run + i * PAGE_SIZE));
        CHECK_EQ(pmm_free_frame(run + i * PAGE_SIZE), PMM_OK);
        CHECK_EQ(pmm_free_frame(run + i * PAGE_SIZE), PMM_DOUBLE_FREE);
    }
    CHECK_EQ(pmm_free_frame(single), PMM_OK);
    CHECK_EQ(pmm_free_count(), free);
}

TEST(alloc_frames_skips_holes)
{
    /* README: a 3-frame region, a hole, then 5 frames; 4 must come from the 5. */
    const struct memory_region map[] = {USABLE(0x200000, 0x3000), USABLE(0x204000, 0x5000)};
    use_map(map, ARRAY_SIZE(map), NULL, 0);
    CHECK_EQ(pmm_alloc_frames(4), 0x204000);
    CHECK_EQ(pmm_alloc_frames(4), PMM_NO_FRAME); /* 4 free, but not in a row */
    CHECK_EQ(pmm_alloc_frames(3), 0x200000);
    CHECK_EQ(pmm_alloc_frames(1), 0x208000);
    CHECK_EQ(pmm_free_count(), 0);
}

TEST(alloc_frames_crosses_bitmap_words)
{
    const struct memory_region map[] = {USABLE(0x100000, 0x100000)};
    use_map(map, 1, NULL, 0);
    phys_addr_t head = pmm_alloc_frames(60); /* frames 256..315 */
    CHECK_EQ(head, 0x100000);
    phys_addr_t run = pmm_alloc_frames(10); /* 316..325: across words 4 and 5 */
    CHECK_EQ(run, 0x100000 + 60 * PAGE_SIZE);
    CHECK_EQ(pmm_free_frames(run, 10), PMM_OK);
    CHECK_EQ(pmm_alloc_frames(196), 0x100000 + 60 * PAGE_SIZE); /* the rest: 316..511 */
    CHECK_EQ(pmm_free_count(), 0);
}

TEST(alloc_frames_rejects_bad_requests)
{
    use_small_map();
    size_t failed = pmm.stats.failed_allocations;
    CHECK_EQ(pmm_alloc_frames(0), PMM_NO_FRAME);
    CHECK_EQ(pmm_alloc_frames(16), PMM_NO_FRAME); /* 15 free */
    CHECK_EQ(pmm_alloc_frames(SIZE_MAX), PMM_NO_FRAME);
    CHECK_EQ(pmm_alloc_frames(SIZE_MAX / PAGE_SIZE + 1), PMM_NO_FRAME);
    CHECK_EQ(pmm.stats.failed_allocations, failed + 4);
    CHECK_EQ(pmm_free_count(), 15);
    CHECK_EQ(pmm_alloc_frames(15), 0x201000);
    CHECK_EQ(pmm_free_count(), 0);
}

TEST(free_frames_checks_every_frame_before_freeing_any)
{
    use_small_map();
    phys_addr_t run = pmm_alloc_frames(8);
    CHECK_EQ(pmm_free_frame(run + 5 * PAGE_SIZE), PMM_OK);
    size_t free = pmm_free_count();
    CHECK_EQ(pmm_free_frames(run, 8), PMM_DOUBLE_FREE);
    CHECK_EQ(pmm_free_count(), free);
    CHECK_EQ(pmm_free_frame(run), PMM_OK); /* still allocated: the run freed nothing */
    CHECK_EQ(pmm_free_frames(run + PAGE_SIZE, 4), PMM_OK);
    CHECK_EQ(pmm_free_frames(run + 6 * PAGE_SIZE, 2), PMM_OK);
    CHECK_EQ(pmm_free_count(), 15);
    CHECK_EQ(pmm_free_frames(0x201000, 0), PMM_OK); /* nothing to do */
    CHECK_EQ(pmm_alloc_frames(15), 0x201000);
    CHECK_EQ(pmm_free_frames(0x200000, 2), PMM_RESERVED_FRAME);
    CHECK_EQ(pmm_free_frames(0x20e000, 3), PMM_OUT_OF_RANGE); /* runs off the end */
    CHECK_EQ(pmm_free_count(), 0);
    CHECK_EQ(pmm_free_frames(0x201000, 15), PMM_OK);
}

TEST(free_frames_with_a_count_that_wraps_is_refused)
{
    use_small_map();
    phys_addr_t run = pmm_alloc_frames(4);
    size_t rejected = pmm.stats.rejected_frees;
    /* first + count * PAGE_SIZE wraps around to `first` itself */
    CHECK(pmm_free_frames(run, (SIZE_MAX / PAGE_SIZE) + 1) != PMM_OK);
    CHECK(pmm_free_frames(run, SIZE_MAX) != PMM_OK);
    CHECK_EQ(pmm.stats.rejected_frees, rejected + 2);
    CHECK_EQ(pmm_free_count(), 11);
    CHECK_EQ(pmm_free_frames(run, 4), PMM_OK);
}

/* ---- counters (homework 3) and next fit ---------------------------------------- */

TEST(stats_count_allocations_frees_peak_and_failures)
{
    use_small_map();
    struct pmm_stats s;
    phys_addr_t a = pmm_alloc_frame(), b = pmm_alloc_frame(), c = pmm_alloc_frame();
    CHECK_EQ(pmm_free_frame(b), PMM_OK);
    phys_addr_t run = pmm_alloc_frames(5);
    CHECK_EQ(pmm_free_frames(run, 5), PMM_OK);
    CHECK_EQ(pmm_free_frame(b), PMM_DOUBLE_FREE);
    CHECK_EQ(pmm_alloc_frames(0), PMM_NO_FRAME);
    pmm_get_stats(&s);
    CHECK_EQ(s.total_frames, 15);
    CHECK_EQ(s.free_frames, 13);
    CHECK_EQ(s.frames_allocated, 8);
    CHECK_EQ(s.frames_freed, 6);
    CHECK_EQ(s.failed_allocations, 1);
    CHECK_EQ(s.rejected_frees, 1);
    CHECK_EQ(s.peak_used_frames, 7);
    while (pmm_alloc_frame() != PMM_NO_FRAME)
        ;
    pmm_get_stats(&s);
    CHECK_EQ(s.peak_used_frames, 15);
    CHECK_EQ(s.failed_allocations, 2);
    CHECK_EQ(s.free_frames, 0);
    (void)a, (void)c;
}

TEST(low_frames_are_reused_first)
{
    use_small_map();
    phys_addr_t a = pmm_alloc_frame(), b = pmm_alloc_frame(), c = pmm_alloc_frame();
    CHECK_EQ(a, 0x201000);
    CHECK_EQ(b, 0x202000);
    CHECK_EQ(c, 0x203000);
    CHECK_EQ(pmm_free_frame(a), PMM_OK);
    CHECK_EQ(pmm_alloc_frame(), a);
    CHECK_EQ(pmm_alloc_frame(), 0x204000);
}

TEST(any_next_search_hint_finds_the_free_frames)
{
    use_small_map();
    phys_addr_t frames[15];
    for (size_t i = 0; i < 15; i++)
        frames[i] = pmm_alloc_frame();
    CHECK_EQ(pmm_free_frame(frames[14]), PMM_OK);
    pmm.next_search = 0; /* a hint, nothing more: any value must work */
    CHECK_EQ(pmm_alloc_frame(), frames[14]);
    CHECK_EQ(pmm_free_frame(frames[3]), PMM_OK);
    pmm.next_search = pmm.frame_count - 1;
    CHECK_EQ(pmm_alloc_frame(), frames[3]);
    CHECK_EQ(pmm_alloc_frame(), PMM_NO_FRAME);
}
