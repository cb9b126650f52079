/* host.h - what the host shim gives the tests, fuzzers and benchmarks: a
 * machine to boot, its console, and a way to try an access or a call that
 * may fault or panic. The shim itself: layout.h (addresses), x86.h (the
 * CPU), memory.c (RAM and the MMU), runtime.c (console, panic, boot
 * information, linker symbols), paging.c (common/paging.c, reused). */
#ifndef HOST_H
#define HOST_H

#include "kernel.h"

/* The "kernel image" in host physical memory, [1 MiB, 1 MiB + 256 KiB):
 * pmm_init reserves it (_kernel_phys_start/_end), and host_boot keeps its
 * boot page tables there, as boot.asm keeps its own in the kernel's bss. */
#define HOST_IMAGE_START 0x100000ull
#define HOST_IMAGE_END   0x140000ull
#define HOST_BOOT_PML4   0x101000ull /* the kernel's PML4 (paging_kernel_pml4) */
#define HOST_BOOT_PDPT   0x102000ull /* the heap window's, like boot.asm's slot 511 */
#define HOST_BOOT_PD     0x103000ull
/* The direct map's PML4 entry (256), as in the kernel: its first GiB in
 * 2 MiB pages. Only the VMM's checks read it; RAM is reached at
 * DIRECT_MAP_BASE, where the process has it. */
#define HOST_DIRECT_MAP_PDPT 0x104000ull
#define HOST_DIRECT_MAP_PD   0x105000ull
#define HOST_DIRECT_MAP_SLOT 256
/* The Multiboot2 information and one boot module, both to be reserved. */
#define HOST_INFO_START   0x110000ull
#define HOST_INFO_END     0x110400ull
#define HOST_MODULE_START 0x200000ull
#define HOST_MODULE_END   0x208000ull

/* A fresh machine, as common/main.c leaves it before the lesson starts,
 * then pmm_init(): HOST_MEMORY_SIZE of RAM (described by a QEMU-like memory
 * map in boot_info), empty page tables apart from the boot ones, every
 * cached translation forgotten. The memory's contents are whatever earlier
 * boots left there: dirty, as real RAM is. Call it as often as needed. */
void host_boot(void);

/* ---- the console (kprintf) ---------------------------------------------- */

void host_console_clear(void);
const char *host_console_text(void); /* everything printed since the clear */
bool host_console_contains(const char *text);
void host_console_echo(bool on);        /* also copy it to stderr as it comes */
void host_console_echo_to_stdout(void); /* copy it to stdout instead (the ktest runner) */

/* ---- faults and panics ---------------------------------------------------- */

enum host_outcome { HOST_RETURNED, HOST_FAULTED, HOST_PANICKED };

/* Calls fn(arg); a page fault or a panic inside it comes back here instead
 * of ending the process. Outside host_try, a fault is reported (with the
 * VMM's description if one is installed) and ends the process through the
 * sanitizer's handler, and a panic calls the panic hook. */
enum host_outcome host_try(void (*fn)(void *), void *arg);

/* Does reading / writing the byte at `address` fault? The write stores the
 * value it read, so nothing changes. */
bool host_read_faults(uintptr_t address);
bool host_write_faults(uintptr_t address);

struct host_fault {
    uintptr_t address;
    bool write;   /* the access was a write */
    bool present; /* the page was mapped: a protection fault */
};
struct host_fault host_last_fault(void);
const char *host_last_panic(void); /* the message of the last panic */

/* What a panic outside host_try does; the default prints it and aborts. */
typedef void (*host_panic_hook_t)(const char *message);
void host_set_panic_hook(host_panic_hook_t hook);

/* Pages of the windows whose translation the MMU model has loaded since the
 * last boot (a TLB miss each). */
size_t host_tlb_fills(void);

#endif
