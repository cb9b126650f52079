/* pmm_print.h - what the PMM manages, printed for people: the boot memory
 * map, where the kernel, its boot data and the bitmaps are, a map of the
 * frames, and the counters. Given (pmm_print.c); the lessons' demos use it. */
#ifndef PMM_PRINT_H
#define PMM_PRINT_H

#include "pmm.h"

enum {
    FRAMES_PER_MAP_CHAR = 256, /* one character of the frame map: 1 MiB */
    FRAME_MAP_COLUMNS = 64,    /* characters per line: 64 MiB */
};

/* The memory map GRUB passed, one region a line, with the usable and
 * reserved totals. */
void pmm_print_memory_map(void);

/* Where the kernel image, the Multiboot2 information, the boot modules and
 * the PMM's bitmaps are. */
void pmm_print_layout(void);

/* The character for frames [first, first + count) of `used`: '.' all free,
 * '#' all used or reserved, '+' some of each (frames past frame_count are
 * not counted; none at all gives ' '). */
char pmm_frame_map_char(size_t first, size_t count);

/* One character per FRAMES_PER_MAP_CHAR frames, FRAME_MAP_COLUMNS a line. */
void pmm_print_frame_map(void);

/* "PMM <when>: F of T frames free (...); allocated ..., freed ..., ..." */
void pmm_print_stats(const char *when);

#endif
