/* pmm_print.c - see pmm_print.h. It reads the PMM's state (pmm.h documents
 * the bitmaps' layout) and never changes it. */
#include "pmm_print.h"
#include "kprintf.h"
#include "multiboot2.h"

void pmm_print_memory_map(void)
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

void pmm_print_layout(void)
{
    kprintf("\nKernel image: %p..%p; Multiboot2 info: %p..%p\n", (void *)_kernel_phys_start,
            (void *)_kernel_phys_end, (void *)boot_info.info_start, (void *)boot_info.info_end);
    for (size_t i = 0; i < boot_info.module_count; i++)
        kprintf("Boot module \"%s\": %p..%p\n", boot_info.modules[i].name,
                (void *)boot_info.modules[i].start, (void *)boot_info.modules[i].end);
    if (pmm.used == NULL) {
        kprintf("Bitmaps: none yet\n");
        return;
    }
    kprintf("Bitmaps: %zu bytes at %p (physical %p), covering %zu frames\n",
            pmm_storage_size(pmm.frame_count * PAGE_SIZE), (void *)pmm.used,
            (void *)virt_to_phys_direct(pmm.used), pmm.frame_count);
}

char pmm_frame_map_char(size_t first, size_t count)
{
    size_t used = 0, frames = 0;
    for (size_t frame = first; frame < first + count && frame < pmm.frame_count; frame++) {
        used += (pmm.used[frame / 64] >> (frame % 64)) & 1;
        frames++;
    }
    if (frames == 0)
        return ' ';
    return used == 0 ? '.' : used == frames ? '#' : '+';
}

void pmm_print_frame_map(void)
{
    kprintf("\nFrames by MiB ('.' free, '+' partly used, '#' used or reserved):\n");
    size_t chars = (pmm.frame_count + FRAMES_PER_MAP_CHAR - 1) / FRAMES_PER_MAP_CHAR;
    for (size_t c = 0; c < chars; c++) {
        if (c % FRAME_MAP_COLUMNS == 0)
            kprintf("  %4llu MiB ", c * FRAMES_PER_MAP_CHAR * PAGE_SIZE / MiB);
        kprintf("%c", pmm_frame_map_char(c * FRAMES_PER_MAP_CHAR, FRAMES_PER_MAP_CHAR));
        if (c % FRAME_MAP_COLUMNS == FRAME_MAP_COLUMNS - 1 || c == chars - 1)
            kprintf("\n");
    }
}

void pmm_print_stats(const char *when)
{
    struct pmm_stats stats;
    pmm_get_stats(&stats);
    kprintf("PMM %s: %zu of %zu frames free (%llu MiB of %llu MiB); allocated %zu, freed %zu, "
            "failed %zu, rejected frees %zu, peak %zu\n",
            when, stats.free_frames, stats.total_frames, stats.free_frames * PAGE_SIZE / MiB,
            stats.total_frames * PAGE_SIZE / MiB, stats.frames_allocated, stats.frames_freed,
            stats.failed_allocations, stats.rejected_frees, stats.peak_used_frames);
}
