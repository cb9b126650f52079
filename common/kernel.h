/* kernel.h - definitions every kernel file needs: fixed-size types, the
 * memory layout, and the handful of macros for sizes and alignment. */
#ifndef KERNEL_H
#define KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t phys_addr_t; /* a physical address: never dereference it */

#define PAGE_SIZE  4096ull
#define PAGE_SHIFT 12
#define KiB        1024ull
#define MiB        (1024ull * KiB)
#define GiB        (1024ull * MiB)

/* The kernel image: linked at KERNEL_VMA + its physical address. */
#define KERNEL_VMA 0xFFFFFFFF80000000ull
/* All physical memory below DIRECT_MAP_SIZE is also mapped at DIRECT_MAP_BASE
 * + address, so the kernel can reach any frame (see paging.h). */
#ifndef DIRECT_MAP_BASE /* the host tests (tests/host/) move it into their own memory */
#define DIRECT_MAP_BASE 0xFFFF800000000000ull
#endif
#define DIRECT_MAP_SIZE (4 * GiB)

/* Symbols from linker.ld; only their addresses mean anything. */
extern char _kernel_phys_start[], _kernel_phys_end[], _kernel_end[];
extern char _text_start[], _text_end[], _rodata_start[], _rodata_end[];
extern char _data_start[], _data_end[];

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Alignment helpers; `align` must be a power of two. ALIGN_UP can wrap past
 * the top of the address space: check the result where that matters. */
#define ALIGN_DOWN(x, align) ((x) & ~(((__typeof__(x))(align)) - 1))
#define ALIGN_UP(x, align)   ALIGN_DOWN((x) + ((__typeof__(x))(align)) - 1, (align))
#define IS_ALIGNED(x, align) (((x) & (((__typeof__(x))(align)) - 1)) == 0)
#define IS_POWER_OF_TWO(x)   ((x) != 0 && IS_ALIGNED((x), (x)))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* A physical address seen through the direct map, and back. */
static inline void *phys_to_virt(phys_addr_t phys)
{
    return (void *)(phys + DIRECT_MAP_BASE);
}

static inline phys_addr_t virt_to_phys_direct(const void *virt)
{
    return (phys_addr_t)virt - DIRECT_MAP_BASE;
}

/* A physical address of the kernel image from its linked address. */
static inline phys_addr_t kernel_virt_to_phys(const void *virt)
{
    return (phys_addr_t)virt - KERNEL_VMA;
}

#endif
