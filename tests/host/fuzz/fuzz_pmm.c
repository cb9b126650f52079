/* fuzz_pmm.c - the PMM (solutions/14-pmm/pmm.c) against a model.
 *
 * An input is a memory map (the boot one, or up to 8 entries and 3 reserved
 * ranges of any shape: unsorted, overlapping, unaligned, empty, above 4 GiB,
 * wrapping past 2^64), then operations: allocate a frame or a run, free a
 * frame or a run (good or bad), move the next_search hint. The model is one
 * state per frame, computed from the map by pmm.h's rule, and the counters.
 * After every operation: each frame handed out was free in the model, the
 * counters match, a refused free changed nothing but rejected_frees, and
 * the frames handed out still hold what was written into them. */
#include <string.h>

#include "model.h"
#include "multiboot2.h"
#include "pmm.h"

enum {
    STORAGE_WORDS = 512, /* at most 16384 frames: the host's 64 MiB of RAM */
    MAX_FRAMES = STORAGE_WORDS / 2 * 64,
    MAX_ENTRIES = 8,
    MAX_RESERVED = 3,
};

enum frame_state { NOT_OURS, FREE, ALLOCATED };

static uint64_t storage[STORAGE_WORDS];
static uint8_t state[MAX_FRAMES];
static struct pmm_stats expected;
static size_t frames; /* pmm.frame_count, as the model sees it */

/* ---- the map and the model's view of it ------------------------------------ */

static uint64_t take_address(struct input *in)
{
    switch (take_u8(in) % 8) {
    case 0:
        return take_u64(in); /* anything, up to 2^64 - 1 */
    case 1:
        return UINT64_MAX - take_u16(in);
    case 2:
        return 4 * GiB - PAGE_SIZE * take_u8(in) + take_u8(in) % 2 * 0x800;
    case 3:
        return (uint64_t)take_u16(in) * 0x800; /* unaligned, up to 128 MiB */
    default:
        return (uint64_t)take_u16(in) % (MAX_FRAMES + 64) * PAGE_SIZE; /* a frame */
    }
}

static uint64_t take_length(struct input *in)
{
    switch (take_u8(in) % 8) {
    case 0:
        return 0;
    case 1:
        return take_u64(in);
    case 2:
        return UINT64_MAX - take_u8(in);
    case 3:
        return take_u16(in) * 0x100ull;
    default:
        return (uint64_t)(1 + take_u8(in) % 64) * PAGE_SIZE * (take_u8(in) % 16 + 1);
    }
}

static uint64_t saturated_end(uint64_t base, uint64_t length)
{
    return base + length < base ? UINT64_MAX : base + length;
}

/* An empty range touches nothing. */
static bool touches(uint64_t frame, uint64_t start, uint64_t end)
{
    return start < end && frame < end && start < frame + PAGE_SIZE;
}

/* pmm.h's rule, frame by frame. */
static bool free_by_rule(uint64_t frame, const struct memory_region *map, size_t count,
                         const struct phys_range *reserved, size_t reserved_count)
{
    if (frame == 0)
        return false;
    bool inside = false;
    for (size_t i = 0; i < count; i++) {
        uint64_t end = saturated_end(map[i].base, map[i].length);
        if (map[i].type == MEMORY_USABLE)
            inside = inside || (map[i].base <= frame && frame + PAGE_SIZE <= end);
        else if (touches(frame, map[i].base, end))
            return false;
    }
    for (size_t i = 0; i < reserved_count; i++) {
        if (touches(frame, reserved[i].start, reserved[i].end))
            return false;
    }
    return inside;
}

/* The frames the PMM covers: up to the end of the highest non-empty usable
 * region, at most PMM_MEMORY_LIMIT, at most what the storage describes. */
static size_t covered_frames(const struct memory_region *map, size_t count, size_t storage_frames)
{
    uint64_t end = 0;
    for (size_t i = 0; i < count; i++) {
        if (map[i].type == MEMORY_USABLE && map[i].length > 0)
            end = MAX(end, saturated_end(map[i].base, map[i].length));
    }
    return MIN((size_t)(MIN(end, PMM_MEMORY_LIMIT) / PAGE_SIZE), storage_frames);
}

static void build_model(const struct memory_region *map, size_t count,
                        const struct phys_range *reserved, size_t reserved_count)
{
    memset(state, NOT_OURS, sizeof(state));
    expected = (struct pmm_stats){0};
    for (size_t f = 0; f < frames; f++) {
        if (free_by_rule(f * PAGE_SIZE, map, count, reserved, reserved_count)) {
            state[f] = FREE;
            expected.free_frames++;
        }
    }
    expected.total_frames = expected.free_frames;
}

/* A synthetic map from the input, built into the PMM and the model. */
static void use_input_map(struct input *in)
{
    struct memory_region map[MAX_ENTRIES];
    struct phys_range reserved[MAX_RESERVED];
    size_t count = take_below(in, MAX_ENTRIES + 1),
           reserved_count = take_below(in, MAX_RESERVED + 1);
    for (size_t i = 0; i < count; i++) {
        map[i].base = take_address(in);
        map[i].length = take_length(in);
        uint8_t type = take_u8(in);
        map[i].type = type < 160 ? MEMORY_USABLE : type % 7; /* 0 and 6: unknown types */
    }
    for (size_t i = 0; i < reserved_count; i++) {
        reserved[i].start = take_address(in);
        reserved[i].end = take_u8(in) % 4 == 0 ? take_address(in)
                                               : saturated_end(reserved[i].start, take_length(in));
    }
    size_t storage_size = 16 * (1 + take_below(in, STORAGE_WORDS / 2)); /* 16-byte multiples */
    pmm_init_map(map, count, reserved, reserved_count, storage, storage_size);
    frames = covered_frames(map, count, storage_size / 16 * 64);
    FUZZ_CHECK_EQ(pmm.frame_count, frames);
    build_model(map, count, reserved, reserved_count);
}

/* The boot map (pmm_init): the model needs its reserved ranges too. */
static void use_boot_map(void)
{
    phys_addr_t bitmap = virt_to_phys_direct(pmm.used);
    const struct phys_range reserved[] = {
        {0, PMM_LOW_MEMORY_END},
        {HOST_IMAGE_START, HOST_IMAGE_END},
        {HOST_INFO_START, HOST_INFO_END},
        {HOST_MODULE_START, HOST_MODULE_END},
        {bitmap, bitmap + pmm_storage_size(pmm.frame_count * PAGE_SIZE)},
    };
    frames = pmm.frame_count;
    FUZZ_CHECK(frames <= MAX_FRAMES);
    build_model(boot_info.memory_map, boot_info.memory_map_count, reserved, ARRAY_SIZE(reserved));
}

/* ---- checks ------------------------------------------------------------------ */

static void check_stats(void)
{
    struct pmm_stats s;
    pmm_get_stats(&s);
    FUZZ_CHECK_EQ(s.total_frames, expected.total_frames);
    FUZZ_CHECK_EQ(s.free_frames, expected.free_frames);
    FUZZ_CHECK_EQ(s.frames_allocated, expected.frames_allocated);
    FUZZ_CHECK_EQ(s.frames_freed, expected.frames_freed);
    FUZZ_CHECK_EQ(s.failed_allocations, expected.failed_allocations);
    FUZZ_CHECK_EQ(s.rejected_frees, expected.rejected_frees);
    FUZZ_CHECK_EQ(s.peak_used_frames, expected.peak_used_frames);
    FUZZ_CHECK_EQ(pmm_free_count(), expected.free_frames);
    FUZZ_CHECK_EQ(pmm_total_count(), expected.total_frames);
}

/* Each allocated frame holds its own address in its first and last word. */
static void stamp(size_t f)
{
    uint64_t *words = phys_to_virt(f * PAGE_SIZE);
    words[0] = words[PAGE_SIZE / 8 - 1] = f * PAGE_SIZE;
}

static void check_stamp(size_t f)
{
    const uint64_t *words = phys_to_virt(f * PAGE_SIZE);
    FUZZ_CHECK_EQ(words[0], f * PAGE_SIZE);
    FUZZ_CHECK_EQ(words[PAGE_SIZE / 8 - 1], f * PAGE_SIZE);
}

static void note_allocated(size_t first, size_t count)
{
    for (size_t f = first; f < first + count; f++) {
        FUZZ_CHECK(f < frames);
        FUZZ_CHECK_EQ(state[f], FREE);
        state[f] = ALLOCATED;
        stamp(f);
    }
    expected.free_frames -= count;
    expected.frames_allocated += count;
    expected.peak_used_frames =
        MAX(expected.peak_used_frames, expected.total_frames - expected.free_frames);
}

static bool run_exists(size_t count)
{
    for (size_t f = 0, run = 0; f < frames; f++) {
        run = state[f] == FREE ? run + 1 : 0;
        if (run == count)
            return true;
    }
    return false;
}

/* The status pmm.h gives a free of `address`. */
static enum pmm_status predicted_status(uint64_t address)
{
    if (address % PAGE_SIZE != 0)
        return PMM_UNALIGNED;
    if (address / PAGE_SIZE >= pmm.frame_count)
        return PMM_OUT_OF_RANGE;
    size_t f = address / PAGE_SIZE;
    return state[f] == NOT_OURS ? PMM_RESERVED_FRAME : state[f] == FREE ? PMM_DOUBLE_FREE : PMM_OK;
}

/* A frame of the given state, or SIZE_MAX if there is none (a search from
 * a place the input picks). */
static size_t pick_frame(struct input *in, enum frame_state wanted)
{
    if (frames == 0)
        return SIZE_MAX;
    size_t start = take_below(in, frames);
    for (size_t i = 0; i < frames; i++) {
        size_t f = (start + i) % frames;
        if (state[f] == wanted)
            return f;
    }
    return SIZE_MAX;
}

/* ---- operations -------------------------------------------------------------- */

static void alloc_one(void)
{
    phys_addr_t frame = pmm_alloc_frame();
    if (expected.free_frames == 0) {
        FUZZ_CHECK_EQ(frame, PMM_NO_FRAME);
        expected.failed_allocations++;
        return;
    }
    FUZZ_CHECK(frame != PMM_NO_FRAME);
    FUZZ_CHECK_EQ(frame % PAGE_SIZE, 0);
    note_allocated(frame / PAGE_SIZE, 1);
}

static void alloc_run(struct input *in)
{
    size_t count = take_u8(in) % 4 == 0 ? take_u64(in) : take_below(in, 40);
    phys_addr_t first = pmm_alloc_frames(count);
    if (count == 0 || count > expected.free_frames || !run_exists(count)) {
        FUZZ_CHECK_EQ(first, PMM_NO_FRAME);
        expected.failed_allocations++;
        return;
    }
    FUZZ_CHECK(first != PMM_NO_FRAME); /* a run exists: first fit finds it */
    FUZZ_CHECK_EQ(first % PAGE_SIZE, 0);
    note_allocated(first / PAGE_SIZE, count);
}

static void free_good(struct input *in)
{
    size_t f = pick_frame(in, ALLOCATED);
    if (f == SIZE_MAX)
        return;
    check_stamp(f);
    FUZZ_CHECK_EQ(pmm_free_frame(f * PAGE_SIZE), PMM_OK);
    state[f] = FREE;
    expected.free_frames++;
    expected.frames_freed++;
}

/* A run of allocated frames freed at once; or, with a bad frame in it, refused whole. */
static void free_run(struct input *in)
{
    size_t f = pick_frame(in, ALLOCATED), count = 1;
    if (f == SIZE_MAX)
        return;
    while (f + count < frames && state[f + count] == ALLOCATED && count < 64)
        count++;
    count = 1 + take_below(in, count + 1); /* sometimes one frame past the run */
    enum pmm_status status = PMM_OK;
    for (size_t i = 0; i < count && status == PMM_OK; i++)
        status = predicted_status((f + i) * PAGE_SIZE);
    FUZZ_CHECK_EQ(pmm_free_frames(f * PAGE_SIZE, count), status);
    if (status != PMM_OK) {
        expected.rejected_frees++;
        return;
    }
    for (size_t i = 0; i < count; i++) {
        check_stamp(f + i);
        state[f + i] = FREE;
    }
    expected.free_frames += count;
    expected.frames_freed += count;
}

/* A free the PMM must refuse, changing nothing but rejected_frees. */
static void free_bad(struct input *in)
{
    uint64_t address;
    switch (take_u8(in) % 6) {
    case 0: { /* unaligned */
        size_t f = pick_frame(in, ALLOCATED);
        address = (f == SIZE_MAX ? 0x5000 : f * PAGE_SIZE) + 1 + take_below(in, PAGE_SIZE - 1);
        break;
    }
    case 1: /* past the frames it manages */
        address = (pmm.frame_count + take_u16(in)) * PAGE_SIZE;
        break;
    case 2:
        address = ALIGN_DOWN(take_u64(in), PAGE_SIZE);
        break;
    case 3: { /* never ours */
        size_t f = pick_frame(in, NOT_OURS);
        address = f == SIZE_MAX ? 0 : f * PAGE_SIZE;
        break;
    }
    default: { /* free already */
        size_t f = pick_frame(in, FREE);
        if (f == SIZE_MAX)
            return;
        address = f * PAGE_SIZE;
    }
    }
    enum pmm_status status = predicted_status(address);
    if (status == PMM_OK)
        return; /* a random address hit an allocated frame: not a bad free */
    static uint64_t used[STORAGE_WORDS / 2];
    size_t words = (pmm.frame_count + 63) / 64;
    memcpy(used, pmm.used, words * sizeof(uint64_t));
    struct pmm_state before = pmm;
    FUZZ_CHECK_EQ(pmm_free_frame(address), status);
    expected.rejected_frees++;
    before.stats.rejected_frees++;
    FUZZ_CHECK(memcmp(&before, &pmm, sizeof(pmm)) == 0);
    FUZZ_CHECK(memcmp(used, pmm.used, words * sizeof(uint64_t)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size, 0};
    fuzz_boot();
    if (take_u8(&in) % 4 == 0)
        use_boot_map();
    else
        use_input_map(&in);
    check_stats();
    while (input_left(&in)) {
        switch (take_u8(&in) % 8) {
        case 0:
        case 1:
            alloc_one();
            break;
        case 2:
            alloc_run(&in);
            break;
        case 3:
        case 4:
            free_good(&in);
            break;
        case 5:
            free_run(&in);
            break;
        case 6:
            free_bad(&in);
            break;
        default: /* next_search is a hint: any value must work */
            pmm.next_search = take_below(&in, pmm.frame_count + 128);
            break;
        }
        check_stats();
    }
    for (size_t f = 0; f < frames; f++) { /* everything back, intact */
        if (state[f] == ALLOCATED) {
            check_stamp(f);
            FUZZ_CHECK_EQ(pmm_free_frame(f * PAGE_SIZE), PMM_OK);
        }
    }
    FUZZ_CHECK_EQ(pmm_free_count(), pmm_total_count());
    return 0;
}
