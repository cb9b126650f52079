/* layout.h - where the kernel's addresses live in a host process. Every host
 * build includes this file first (-include), so the kernel's headers, which
 * define these with #ifndef, take the values below instead of their own.
 *
 * The kernel puts the direct map, the heap window and the valloc window in
 * the upper half (0xFFFF8...), which a Linux process cannot map. Here they
 * sit in the lower half: the heap window in AddressSanitizer's low
 * application range (below its shadow, which starts near 0x7fff8000), the
 * others above the shadow (which ends near 0x100000000000) and below its
 * allocator (0x600000000000):
 *
 *   0x000040000000  KHEAP_START      the heap window, 2 MiB as in the kernel
 *   0x200000000000  DIRECT_MAP_BASE  "physical memory": HOST_MEMORY_SIZE bytes
 *                                    of a memfd, the rest of 4 GiB reserved
 *   0x400000000000  VALLOC_START     the valloc window, 512 GiB (one PML4
 *                                    entry, 128 here; 510 in the kernel)
 *
 * The two windows are reserved and inaccessible; a page becomes accessible
 * only when the page tables map it (memory.c plays the MMU).
 *
 * Why the heap window sits at 1 GiB: kheap.c subtracts KHEAP_START from an
 * address, and in the kernel (0xFFFFFFFF80200000) that constant fits in an
 * instruction's signed 32-bit field, so `lea` does it. Here it must fit
 * too, or the host build would need a 64-bit `movabs` the kernel does not,
 * and the instruction counts of `make bench` would not be the kernel's. */
#ifndef HOST_LAYOUT_H
#define HOST_LAYOUT_H

#define DIRECT_MAP_BASE  0x200000000000ull
#define HOST_MEMORY_SIZE 0x4000000ull /* 64 MiB of RAM */

#define KHEAP_START 0x40000000ull
#define KHEAP_END   (KHEAP_START + 0x200000ull)

#define VALLOC_START 0x400000000000ull
#define VALLOC_END   (VALLOC_START + 0x8000000000ull)

/* The host's x86.h before any other: files in common/ include "x86.h" from
 * their own folder first, and its include guard then keeps that one out. */
#include "x86.h"

#endif
