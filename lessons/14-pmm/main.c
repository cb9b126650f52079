/* main.c - lesson 14's kernel: bring up the PMM and show what it manages. */
#include "kprintf.h"
#include "lesson.h"
#include "multiboot2.h"
#include "pmm.h"

enum {
    MAP_COLUMNS = 64,          /* characters per line of the frame map */
    FRAMES_PER_MAP_CHAR = 256, /* 1 MiB of memory per character */
    DEMO_FRAMES = 3,
    DEMO_CONTIGUOUS_FRAMES = 4,
};

void lesson_init(void)
{
    pmm_init();
}

static void print_memory_map(void)
{
    uint64_t usable = 0, reserved = 0;
    kprintf("\nMemory map from %s (%zu entries):\n", boot_info.loader_name,
            boot_info.memory_map_count);
    kprintf("  %-18s  %-18s  %s\n", "base", "length", "type");
    for (size_t i = 0; i < boot_info.memory_map_count; i++) {
        const struct memory_region *region = &boot_info.memory_map[i];
        kprintf("  %p  %p  %s\n", (void *)region->base, (void *)region->length,
                memory_type_name(region->type));
        if (region->type == MEMORY_USABLE)
            usable += region->length;
        else
            reserved += region->length;
    }
    kprintf("  usable: %llu MiB, reserved: %llu MiB (%llu KiB)\n", usable / MiB, reserved / MiB,
            reserved / KiB);
}

/* One character per MiB: '.' all free, '#' all used, '+' some of each. */
static void print_frame_map(void)
{
    kprintf("\nFrames by MiB ('.' free, '+' partly used, '#' used or reserved):\n");
    size_t chars = (pmm.frame_count + FRAMES_PER_MAP_CHAR - 1) / FRAMES_PER_MAP_CHAR;
    for (size_t c = 0; c < chars; c++) {
        if (c % MAP_COLUMNS == 0)
            kprintf("  %4zu MiB ", c);
        size_t used = 0, frames = 0;
        for (size_t f = c * FRAMES_PER_MAP_CHAR;
             f < (c + 1) * FRAMES_PER_MAP_CHAR && f < pmm.frame_count; f++, frames++)
            used += (pmm.used[f / 64] >> (f % 64)) & 1;
        kprintf("%c", used == 0 ? '.' : used == frames ? '#' : '+');
        if (c % MAP_COLUMNS == MAP_COLUMNS - 1 || c == chars - 1)
            kprintf("\n");
    }
}

static void print_stats(const char *when)
{
    struct pmm_stats stats;
    pmm_get_stats(&stats);
    kprintf("PMM %s: %zu of %zu frames free (%llu MiB of %llu MiB); allocated %zu, freed %zu, "
            "failed %zu, rejected frees %zu, peak %zu\n",
            when, stats.free_frames, stats.total_frames, stats.free_frames * PAGE_SIZE / MiB,
            stats.total_frames * PAGE_SIZE / MiB, stats.frames_allocated, stats.frames_freed,
            stats.failed_allocations, stats.rejected_frees, stats.peak_used_frames);
}

void lesson_demo(void)
{
    print_memory_map();
    kprintf("\nKernel image: %p..%p; Multiboot2 info: %p..%p\n", (void *)_kernel_phys_start,
            (void *)_kernel_phys_end, (void *)boot_info.info_start, (void *)boot_info.info_end);
    for (size_t i = 0; i < boot_info.module_count; i++)
        kprintf("Boot module \"%s\": %p..%p\n", boot_info.modules[i].name,
                (void *)boot_info.modules[i].start, (void *)boot_info.modules[i].end);
    kprintf("Bitmaps: %zu bytes at %p, covering %zu frames\n",
            pmm_storage_size(pmm.frame_count * PAGE_SIZE), (void *)pmm.used, pmm.frame_count);
    print_frame_map();
    print_stats("after boot");

    kprintf("\nAllocating %d frames:", DEMO_FRAMES);
    phys_addr_t frames[DEMO_FRAMES];
    for (int i = 0; i < DEMO_FRAMES; i++) {
        frames[i] = pmm_alloc_frame();
        kprintf(" %p", (void *)frames[i]);
    }
    kprintf("\nFreeing %p, then allocating again: ", (void *)frames[1]);
    pmm_free_frame(frames[1]);
    frames[1] = pmm_alloc_frame();
    kprintf("%p (the same frame comes back)\n", (void *)frames[1]);

    kprintf("Freeing %p twice: ", (void *)frames[0]);
    pmm_free_frame(frames[0]);
    enum pmm_status status = pmm_free_frame(frames[0]);
    kprintf("second free -> %s\n", pmm_status_name(status));

    phys_addr_t run = pmm_alloc_frames(DEMO_CONTIGUOUS_FRAMES);
    kprintf("%d contiguous frames: %p..%p\n", DEMO_CONTIGUOUS_FRAMES, (void *)run,
            (void *)(run + DEMO_CONTIGUOUS_FRAMES * PAGE_SIZE));
    print_stats("now");

    pmm_free_frames(run, DEMO_CONTIGUOUS_FRAMES);
    pmm_free_frame(frames[1]);
    pmm_free_frame(frames[2]);
    print_stats("after freeing everything");
}
