/* pmm.h - the physical memory manager (PMM): hands out 4 KiB frames of RAM.
 *
 * Physical memory is split into frames of PAGE_SIZE bytes; frame f starts at
 * address f * PAGE_SIZE. The PMM keeps one bit per frame (a bitmap): 1 means
 * "in use or not RAM", 0 means "free". Everything that is not usable RAM
 * according to the boot loader's memory map starts as 1, and so do the frames
 * the kernel already occupies: the first 1 MiB (BIOS, VGA, boot loader
 * leftovers), the kernel image, the Multiboot2 information, boot modules and
 * the bitmap itself.
 *
 * pmm.c (the student's file) builds and changes the state; pmm_info.c (given)
 * defines the last four functions below, which only read it.
 */
#ifndef PMM_H
#define PMM_H

#include "kernel.h"
#include "multiboot2.h"

/* What the allocators return when no frame is free. Frame 0 can never be
 * handed out (the first 1 MiB is always reserved), so 0 is unambiguous. */
#define PMM_NO_FRAME ((phys_addr_t)0)

/* The PMM manages memory below this address only: the kernel reaches
 * physical memory through its direct map, which covers the first 4 GiB. */
#define PMM_MEMORY_LIMIT DIRECT_MAP_SIZE

/* Memory the PMM must never hand out: the low 1 MiB. */
#define PMM_LOW_MEMORY_END (1 * MiB)

/* A range of physical addresses, [start, end). */
struct phys_range {
    phys_addr_t start, end;
};

enum pmm_status {
    PMM_OK = 0,
    PMM_UNALIGNED,      /* the address is not the start of a frame */
    PMM_OUT_OF_RANGE,   /* above the memory the PMM manages */
    PMM_RESERVED_FRAME, /* the frame was never free memory (kernel, BIOS, ...) */
    PMM_DOUBLE_FREE,    /* the frame is free already */
    PMM_NOT_WRITTEN,    /* the starter's stubs: the function is not written yet */
};

/* Counters for the demo, the tests and anyone tuning memory use. */
struct pmm_stats {
    size_t total_frames; /* usable frames: free + allocated */
    size_t free_frames;
    size_t frames_allocated;   /* frames handed out since init */
    size_t frames_freed;       /* frames given back since init */
    size_t failed_allocations; /* calls that returned PMM_NO_FRAME */
    size_t rejected_frees;     /* free calls refused with an error status */
    size_t peak_used_frames;   /* most frames allocated at one time */
};

/* The whole allocator state. There is one (`pmm`); it is declared here so
 * that tests can save it, try an odd memory map, and put it back, and so
 * that printers and tests can read the bitmaps. Frame f is bit f % 64 of
 * word f / 64 in both bitmaps. */
struct pmm_state {
    uint64_t *used;     /* bit f = 1: frame f is allocated or reserved */
    uint64_t *reserved; /* bit f = 1: frame f is never ours to hand out */
    size_t frame_count; /* frames the bitmaps cover: 0 .. frame_count - 1 */
    size_t next_search; /* first frame to look at in the next allocation */
    struct pmm_stats stats;
};

extern struct pmm_state pmm;

/* Builds the PMM from the boot memory map (boot_info), reserving the low
 * 1 MiB, the kernel image, the Multiboot2 information, boot modules and its
 * own bitmaps; then page tables are taken from the PMM. Panics if there is
 * no usable memory or no room for the bitmaps. */
void pmm_init(void);

/* Bytes of bitmap storage needed to manage memory below `memory_end`. */
size_t pmm_storage_size(phys_addr_t memory_end);

/* Builds the PMM from any memory map: `map` may be unsorted, overlapping,
 * unaligned or hold zero-length entries. A frame is free only if it lies
 * wholly inside a usable region and touches no non-usable region and no
 * `reserved` range. Frames beyond what `storage` (storage_size bytes, 16-byte
 * multiple) can describe, or above PMM_MEMORY_LIMIT, are ignored. */
void pmm_init_map(const struct memory_region *map, size_t map_count,
                  const struct phys_range *reserved, size_t reserved_count, uint64_t *storage,
                  size_t storage_size);

/* One free frame (contents undefined), or PMM_NO_FRAME. */
phys_addr_t pmm_alloc_frame(void);

/* Gives back a frame from pmm_alloc_frame. Anything else - an unaligned or
 * out-of-range address, a reserved frame, a frame that is free already - is
 * refused with an error status and a warning on the console, and changes
 * nothing but the rejected_frees counter. */
enum pmm_status pmm_free_frame(phys_addr_t frame);

/* `count` physically contiguous free frames (the first one's address), or
 * PMM_NO_FRAME if there is no such run or count is 0. For DMA buffers and
 * other hardware that needs contiguous memory. */
phys_addr_t pmm_alloc_frames(size_t count);

/* Gives back `count` frames starting at `first`. Checks all of them first,
 * as pmm_free_frame does; if any is wrong, frees none and says why. */
enum pmm_status pmm_free_frames(phys_addr_t first, size_t count);

/* Defined in pmm_info.c (given). */
size_t pmm_free_count(void);  /* frames free now */
size_t pmm_total_count(void); /* usable frames, free or allocated */
void pmm_get_stats(struct pmm_stats *out);

const char *pmm_status_name(enum pmm_status status);

#endif
