/* memory.c - RAM and the MMU for a host process.
 *
 * RAM: HOST_MEMORY_SIZE bytes of a memfd, mapped at DIRECT_MAP_BASE, so
 * that phys_to_virt(frame) works as in the kernel; the rest of the 4 GiB
 * direct map is reserved and faults.
 *
 * The MMU: the page tables are the kernel's own (common/paging.c, in that
 * RAM), and this file reads them the way the CPU does, lazily. The two
 * windows (heap, valloc) start reserved and inaccessible. The first access
 * to a page faults (SIGSEGV); the handler walks the tables from CR3 and, if
 * the page is present, maps that very frame of the memfd there, read-only
 * unless every level allows writes, and the access runs again. That host
 * mapping is a TLB entry: invlpg drops it, and so does loading CR3. A
 * missing flush therefore leaves a stale translation working, as on real
 * hardware. A fault the tables do not explain is a page fault: it returns
 * to host_try, or it is reported and ends the process. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "exception.h"
#include "internal.h"
#include "multiboot2.h"
#include "paging.h"
#include "pmm.h"

#define X86_ERROR_WRITE 2 /* the page-fault error code's write bit (REG_ERR) */

static int memory_fd = -1;
static uint64_t cr2, cr3;
static struct host_fault last_fault;
static size_t tlb_fills;
static struct sigaction previous_segv;

static _Noreturn void die(const char *what)
{
    perror(what);
    abort();
}

static void map_at(uintptr_t address, size_t size, int prot, int flags, int fd, off_t offset)
{
    if (mmap((void *)address, size, prot, flags, fd, offset) == MAP_FAILED)
        die("host: mmap");
}

/* Makes [address, address + size) inaccessible again: no translation. */
static void forget(uintptr_t address, size_t size)
{
    map_at(address, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1,
           0);
}

static bool in_window(uintptr_t address)
{
    return (address >= KHEAP_START && address < KHEAP_END) ||
           (address >= VALLOC_START && address < VALLOC_END);
}

/* ---- the MMU --------------------------------------------------------------- */

/* The CPU's walk of `page` from CR3: the frame, and whether every level
 * allows writes. False if some level is not present, is a huge page (the
 * windows have none) or points outside RAM. */
static bool walk(uintptr_t page, phys_addr_t *frame, bool *writable)
{
    phys_addr_t table = cr3 & PTE_ADDRESS_MASK;
    *writable = true;
    for (int level = PAGE_TABLE_LEVELS; level >= 1; level--) {
        if (table + PAGE_SIZE > HOST_MEMORY_SIZE)
            return false;
        pte_t entry = ((const pte_t *)phys_to_virt(table))[page_table_index(page, level)];
        if (!(entry & PTE_PRESENT) || (level > 1 && (entry & PTE_HUGE)))
            return false;
        *writable = *writable && (entry & PTE_WRITABLE);
        table = pte_address(entry);
    }
    *frame = table;
    return table + PAGE_SIZE <= HOST_MEMORY_SIZE;
}

static void on_segv(int signal, siginfo_t *info, void *context)
{
    uintptr_t address = (uintptr_t)info->si_addr;
    bool write = ((ucontext_t *)context)->uc_mcontext.gregs[REG_ERR] & X86_ERROR_WRITE;
    uintptr_t page = ALIGN_DOWN(address, PAGE_SIZE);
    phys_addr_t frame;
    bool writable, present = in_window(address) && walk(page, &frame, &writable);

    if (present && (writable || !write)) { /* a TLB miss: load the translation */
        map_at(page, PAGE_SIZE, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED | MAP_FIXED,
               memory_fd, (off_t)frame);
        tlb_fills++;
        return;
    }
    cr2 = address;
    last_fault = (struct host_fault){address, write, present};
    host_escape(HOST_FAULTED);
    /* Nobody expected it: say what it was, then let the access fault again
     * under the handler that was there before (the sanitizer's report). */
    host_report_fault(address, (present ? PF_PRESENT : 0) | (write ? PF_WRITE : 0));
    sigaction(SIGSEGV, &previous_segv, NULL);
}

uint64_t host_read_cr2(void)
{
    return cr2;
}

uint64_t host_read_cr3(void)
{
    return cr3;
}

void host_write_cr3(uint64_t value)
{
    cr3 = value;
    forget(KHEAP_START, KHEAP_END - KHEAP_START); /* the whole TLB */
    forget(VALLOC_START, VALLOC_END - VALLOC_START);
}

void host_invlpg(uintptr_t virt)
{
    if (in_window(virt))
        forget(ALIGN_DOWN(virt, PAGE_SIZE), PAGE_SIZE);
}

size_t host_tlb_fills(void)
{
    return tlb_fills;
}

struct host_fault host_last_fault(void)
{
    return last_fault;
}

static void read_byte(void *address)
{
    (void)*(volatile uint8_t *)address;
}

static void rewrite_byte(void *address)
{
    volatile uint8_t *byte = address;
    *byte = *byte;
}

bool host_read_faults(uintptr_t address)
{
    return host_try(read_byte, (void *)address) == HOST_FAULTED;
}

bool host_write_faults(uintptr_t address)
{
    return host_try(rewrite_byte, (void *)address) == HOST_FAULTED;
}

/* ---- setting up ------------------------------------------------------------ */

/* Once per process: RAM, the reserved windows, the fault handler. */
static void create_machine(void)
{
    memory_fd = memfd_create("host-physical-memory", 0);
    if (memory_fd < 0 || ftruncate(memory_fd, HOST_MEMORY_SIZE) != 0)
        die("host: memfd");
    int reserve = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE;
    map_at(DIRECT_MAP_BASE, DIRECT_MAP_SIZE, PROT_NONE, reserve, -1, 0);
    map_at(DIRECT_MAP_BASE, HOST_MEMORY_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
           memory_fd, 0);
    map_at(KHEAP_START, KHEAP_END - KHEAP_START, PROT_NONE, reserve, -1, 0);
    map_at(VALLOC_START, VALLOC_END - VALLOC_START, PROT_NONE, reserve, -1, 0);

    struct sigaction action = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO};
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGSEGV, &action, &previous_segv) != 0)
        die("host: sigaction");
}

static phys_addr_t no_frame(void)
{
    return 0;
}

/* A memory map like QEMU's (lessons/14-pmm/README.md), scaled to our RAM:
 * usable low memory with the EBDA and the BIOS carved out, usable RAM from
 * 1 MiB, firmware data in its last 128 KiB. */
static const struct memory_region host_memory_map[] = {
    {0x0, 0x9fc00, MEMORY_USABLE},
    {0x9fc00, 0x400, MEMORY_RESERVED},
    {0xf0000, 0x10000, MEMORY_RESERVED},
    {0x100000, HOST_MEMORY_SIZE - 0x100000 - 0x20000, MEMORY_USABLE},
    {HOST_MEMORY_SIZE - 0x20000, 0x20000, MEMORY_RESERVED},
};

void host_boot(void)
{
    if (memory_fd < 0)
        create_machine();

    /* Boot page tables in the "kernel image": the PML4, the heap window's
     * PDPT and PD (boot.asm's for the kernel's last 2 GiB) and the direct
     * map's first GiB. */
    memset(phys_to_virt(HOST_IMAGE_START), 0, HOST_IMAGE_END - HOST_IMAGE_START);
    pte_t *pml4 = phys_to_virt(HOST_BOOT_PML4);
    pte_t *pdpt = phys_to_virt(HOST_BOOT_PDPT);
    pml4[page_table_index(KHEAP_START, 4)] = HOST_BOOT_PDPT | PTE_PRESENT | PTE_WRITABLE;
    pdpt[page_table_index(KHEAP_START, 3)] = HOST_BOOT_PD | PTE_PRESENT | PTE_WRITABLE;
    pml4[HOST_DIRECT_MAP_SLOT] = HOST_DIRECT_MAP_PDPT | PTE_PRESENT | PTE_WRITABLE;
    ((pte_t *)phys_to_virt(HOST_DIRECT_MAP_PDPT))[0] =
        HOST_DIRECT_MAP_PD | PTE_PRESENT | PTE_WRITABLE;
    pte_t *direct_map_pd = phys_to_virt(HOST_DIRECT_MAP_PD);
    for (unsigned i = 0; i < PAGE_TABLE_ENTRIES; i++)
        direct_map_pd[i] = i * (2 * MiB) | PTE_PRESENT | PTE_WRITABLE | PTE_HUGE | PTE_NO_EXECUTE;
    host_write_cr3(HOST_BOOT_PML4);
    tlb_fills = 0;
    last_fault = (struct host_fault){0};

    boot_info = (struct boot_info){.info_start = HOST_INFO_START, .info_end = HOST_INFO_END};
    memcpy(boot_info.memory_map, host_memory_map, sizeof(host_memory_map));
    boot_info.memory_map_count = ARRAY_SIZE(host_memory_map);
    boot_info.modules[0] = (struct boot_module){HOST_MODULE_START, HOST_MODULE_END, "module"};
    boot_info.module_count = 1;

    paging_set_table_allocator(no_frame); /* pmm_init installs the PMM */
    pmm_init();
}
