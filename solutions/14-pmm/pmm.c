/* pmm.c - a bitmap physical memory manager (reference solution).
 *
 * State (struct pmm_state in pmm.h):
 *   used      1 bit per frame: 1 = allocated or reserved, 0 = free
 *   reserved  1 bit per frame: 1 = never ours to hand out
 * Invariants:
 *   - reserved implies used, and frame 0 is reserved (0 is PMM_NO_FRAME);
 *   - stats.free_frames == number of 0 bits in `used`;
 *   - stats.total_frames == number of 0 bits in `reserved` (fixed after init);
 *   - next_search is only a hint: a search starting there still visits
 *     every word once.
 *
 * Building: every frame starts used; the frames wholly inside a usable region
 * are cleared; then the frames touching a non-usable region or a reserved
 * range are set again, so reserved wins whatever the order of the map.
 *
 * Allocation scans `used` one word (64 frames) at a time from next_search,
 * wrapping round, and takes the lowest 0 bit of the first word that has one.
 * Freeing checks the address against both bitmaps before it clears a bit.
 *
 * Concurrency: this kernel runs on one CPU with interrupts disabled, so no
 * lock is needed. With interrupts or SMP, every function below would take
 * one spinlock around its body.
 */
#include "pmm.h"
#include "kprintf.h"
#include "panic.h"
#include "paging.h"
#include "string.h"

enum {
    BITS_PER_WORD = 64,
    MAX_RESERVED_RANGES = 4 + BOOT_MAX_MODULES, /* low memory, kernel, info, bitmaps */
};

struct pmm_state pmm;

/* ---- bitmap helpers ---------------------------------------------------- */

static bool test_bit(const uint64_t *bitmap, size_t frame)
{
    return bitmap[frame / BITS_PER_WORD] & (1ull << (frame % BITS_PER_WORD));
}

static void set_bit(uint64_t *bitmap, size_t frame)
{
    bitmap[frame / BITS_PER_WORD] |= 1ull << (frame % BITS_PER_WORD);
}

static void clear_bit(uint64_t *bitmap, size_t frame)
{
    bitmap[frame / BITS_PER_WORD] &= ~(1ull << (frame % BITS_PER_WORD));
}

/* Sets (value true) or clears the bits of frames [first, end) in `used`. */
static void mark_frames(size_t first, size_t end, bool value)
{
    end = MIN(end, pmm.frame_count);
    for (size_t frame = first; frame < end; frame++) {
        if (value)
            set_bit(pmm.used, frame);
        else
            clear_bit(pmm.used, frame);
    }
}

/* The end of a region without wrapping past 2^64. */
static uint64_t region_end(uint64_t base, uint64_t length)
{
    return base + length < base ? UINT64_MAX : base + length;
}

/* Frames wholly inside [start, end): rounds inwards. */
static void frames_inside(uint64_t start, uint64_t end, size_t *first, size_t *last)
{
    *first = (size_t)(start / PAGE_SIZE + (start % PAGE_SIZE != 0));
    *last = (size_t)(end / PAGE_SIZE);
}

/* Frames touching [start, end): rounds outwards. An empty range touches
 * nothing, even at an unaligned address. */
static void frames_touching(uint64_t start, uint64_t end, size_t *first, size_t *last)
{
    *first = (size_t)(start / PAGE_SIZE);
    *last = start >= end ? *first : (size_t)(end / PAGE_SIZE + (end % PAGE_SIZE != 0));
}

/* ---- building the bitmaps from a memory map ------------------------------ */

size_t pmm_storage_size(phys_addr_t memory_end)
{
    size_t frames = (size_t)(MIN(memory_end, PMM_MEMORY_LIMIT) / PAGE_SIZE);
    size_t words = (frames + BITS_PER_WORD - 1) / BITS_PER_WORD;
    return 2 * words * sizeof(uint64_t); /* `used` and `reserved` */
}

/* The end of the highest usable region, at most PMM_MEMORY_LIMIT. */
static phys_addr_t usable_memory_end(const struct memory_region *map, size_t count)
{
    phys_addr_t end = 0;
    for (size_t i = 0; i < count; i++) {
        if (map[i].type == MEMORY_USABLE && map[i].length > 0)
            end = MAX(end, region_end(map[i].base, map[i].length));
    }
    return MIN(end, PMM_MEMORY_LIMIT);
}

void pmm_init_map(const struct memory_region *map, size_t map_count,
                  const struct phys_range *reserved, size_t reserved_count, uint64_t *storage,
                  size_t storage_size)
{
    size_t words = storage_size / 2 / sizeof(uint64_t);
    size_t wanted = (size_t)(usable_memory_end(map, map_count) / PAGE_SIZE);

    memset(&pmm, 0, sizeof(pmm));
    pmm.used = storage;
    pmm.reserved = storage + words;
    pmm.frame_count = MIN(wanted, words * BITS_PER_WORD);
    memset(pmm.used, 0xFF, words * sizeof(uint64_t)); /* everything used... */

    size_t first, last;
    for (size_t i = 0; i < map_count; i++) { /* ...but usable RAM, */
        if (map[i].type != MEMORY_USABLE)
            continue;
        frames_inside(map[i].base, region_end(map[i].base, map[i].length), &first, &last);
        mark_frames(first, last, false);
    }
    for (size_t i = 0; i < map_count; i++) { /* where nothing else claims it. */
        if (map[i].type == MEMORY_USABLE)
            continue;
        frames_touching(map[i].base, region_end(map[i].base, map[i].length), &first, &last);
        mark_frames(first, last, true);
    }
    for (size_t i = 0; i < reserved_count; i++) {
        frames_touching(reserved[i].start, reserved[i].end, &first, &last);
        mark_frames(first, last, true);
    }
    mark_frames(0, 1, true); /* frame 0 is PMM_NO_FRAME: never hand it out */

    memcpy(pmm.reserved, pmm.used, words * sizeof(uint64_t));
    for (size_t frame = 0; frame < pmm.frame_count; frame++) {
        if (!test_bit(pmm.used, frame))
            pmm.stats.free_frames++;
    }
    pmm.stats.total_frames = pmm.stats.free_frames;
}

/* ---- the boot PMM -------------------------------------------------------- */

/* The end of whatever [start, end) overlaps - a reserved range or a
 * non-usable region of the map - or 0 if nothing does. */
static phys_addr_t overlapping_end(phys_addr_t start, phys_addr_t end,
                                   const struct phys_range *reserved, size_t reserved_count)
{
    for (size_t r = 0; r < reserved_count; r++) {
        if (start < reserved[r].end && reserved[r].start < end)
            return reserved[r].end;
    }
    for (size_t i = 0; i < boot_info.memory_map_count; i++) {
        const struct memory_region *region = &boot_info.memory_map[i];
        phys_addr_t region_last = region_end(region->base, region->length);
        if (region->type != MEMORY_USABLE && start < region_last && region->base < end)
            return region_last;
    }
    return 0;
}

/* A page-aligned place in usable memory for `size` bytes that touches no
 * reserved range and no non-usable region: the first that fits, taking the
 * usable regions in map order. PMM_NO_FRAME if there is none. */
static phys_addr_t find_storage(size_t size, const struct phys_range *reserved,
                                size_t reserved_count)
{
    for (size_t i = 0; i < boot_info.memory_map_count; i++) {
        const struct memory_region *region = &boot_info.memory_map[i];
        if (region->type != MEMORY_USABLE)
            continue;
        phys_addr_t end = MIN(region_end(region->base, region->length), PMM_MEMORY_LIMIT);
        phys_addr_t start = ALIGN_UP(region->base, PAGE_SIZE);
        phys_addr_t blocker;
        while (start + size <= end &&
               (blocker = overlapping_end(start, start + size, reserved, reserved_count)) != 0)
            start = ALIGN_UP(blocker, PAGE_SIZE); /* skip past it and look again */
        if (start + size <= end)
            return start;
    }
    return PMM_NO_FRAME;
}

void pmm_init(void)
{
    struct phys_range reserved[MAX_RESERVED_RANGES] = {
        {0, PMM_LOW_MEMORY_END},
        {(phys_addr_t)_kernel_phys_start, (phys_addr_t)_kernel_phys_end},
        {boot_info.info_start, boot_info.info_end},
    };
    size_t reserved_count = 3;
    for (size_t i = 0; i < boot_info.module_count; i++)
        reserved[reserved_count++] =
            (struct phys_range){boot_info.modules[i].start, boot_info.modules[i].end};

    phys_addr_t memory_end = usable_memory_end(boot_info.memory_map, boot_info.memory_map_count);
    size_t storage_size = pmm_storage_size(memory_end);
    phys_addr_t storage = find_storage(storage_size, reserved, reserved_count);
    if (storage == PMM_NO_FRAME)
        panic("pmm: no usable memory for a %zu-byte bitmap", storage_size);
    reserved[reserved_count++] = (struct phys_range){storage, storage + storage_size};

    pmm_init_map(boot_info.memory_map, boot_info.memory_map_count, reserved, reserved_count,
                 phys_to_virt(storage), storage_size);
    if (pmm.stats.total_frames == 0)
        panic("pmm: the memory map has no usable frame");

    paging_set_table_allocator(pmm_alloc_frame);
}

/* ---- allocation -------------------------------------------------------- */

static void note_allocated(size_t frames)
{
    pmm.stats.free_frames -= frames;
    pmm.stats.frames_allocated += frames;
    size_t used = pmm.stats.total_frames - pmm.stats.free_frames;
    pmm.stats.peak_used_frames = MAX(pmm.stats.peak_used_frames, used);
}

phys_addr_t pmm_alloc_frame(void)
{
    size_t words = (pmm.frame_count + BITS_PER_WORD - 1) / BITS_PER_WORD;
    for (size_t scanned = 0; scanned < words; scanned++) {
        size_t word = (pmm.next_search / BITS_PER_WORD + scanned) % words;
        if (pmm.used[word] == UINT64_MAX)
            continue; /* 64 frames in use: skip them at once */
        size_t frame = word * BITS_PER_WORD + (size_t)__builtin_ctzll(~pmm.used[word]);
        if (frame >= pmm.frame_count)
            continue; /* a free-looking bit past the last frame */
        set_bit(pmm.used, frame);
        pmm.next_search = frame + 1;
        note_allocated(1);
        return (phys_addr_t)frame * PAGE_SIZE;
    }
    pmm.stats.failed_allocations++;
    return PMM_NO_FRAME;
}

phys_addr_t pmm_alloc_frames(size_t count)
{
    if (count == 0 || count > pmm.stats.free_frames) {
        pmm.stats.failed_allocations++;
        return PMM_NO_FRAME;
    }
    size_t run_start = 0, run_length = 0;
    for (size_t frame = 0; frame < pmm.frame_count; frame++) {
        if (test_bit(pmm.used, frame)) {
            run_length = 0;
            continue;
        }
        if (run_length++ == 0)
            run_start = frame;
        if (run_length == count) {
            mark_frames(run_start, run_start + count, true);
            note_allocated(count);
            return (phys_addr_t)run_start * PAGE_SIZE;
        }
    }
    pmm.stats.failed_allocations++;
    return PMM_NO_FRAME;
}

/* ---- freeing ----------------------------------------------------------- */

static enum pmm_status check_free(phys_addr_t frame_address)
{
    if (!IS_ALIGNED(frame_address, PAGE_SIZE))
        return PMM_UNALIGNED;
    size_t frame = (size_t)(frame_address / PAGE_SIZE);
    if (frame >= pmm.frame_count)
        return PMM_OUT_OF_RANGE;
    if (test_bit(pmm.reserved, frame))
        return PMM_RESERVED_FRAME;
    if (!test_bit(pmm.used, frame))
        return PMM_DOUBLE_FREE;
    return PMM_OK;
}

static enum pmm_status reject_free(phys_addr_t frame, enum pmm_status status)
{
    pmm.stats.rejected_frees++;
    kprintf("pmm: warning: refused to free frame %p: %s\n", (void *)frame, pmm_status_name(status));
    return status;
}

static void release(phys_addr_t frame_address)
{
    size_t frame = (size_t)(frame_address / PAGE_SIZE);
    clear_bit(pmm.used, frame);
    pmm.stats.free_frames++;
    pmm.stats.frames_freed++;
    if (frame < pmm.next_search)
        pmm.next_search = frame; /* reuse low frames first */
}

enum pmm_status pmm_free_frame(phys_addr_t frame)
{
    enum pmm_status status = check_free(frame);
    if (status != PMM_OK)
        return reject_free(frame, status);
    release(frame);
    return PMM_OK;
}

enum pmm_status pmm_free_frames(phys_addr_t first, size_t count)
{
    for (size_t i = 0; i < count; i++) { /* stops at frame_count at the latest */
        enum pmm_status status = check_free(first + i * PAGE_SIZE);
        if (status != PMM_OK)
            return reject_free(first + i * PAGE_SIZE, status);
    }
    for (size_t i = 0; i < count; i++)
        release(first + i * PAGE_SIZE);
    return PMM_OK;
}
