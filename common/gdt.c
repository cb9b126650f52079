/* gdt.c - long mode ignores segment bases and limits, but the CPU still wants
 * a code segment with the L bit, a data segment, and a TSS. The TSS matters
 * for one reason: when the kernel stack overflows into its guard page, the
 * page fault cannot push its frame, the CPU raises a double fault, and that
 * handler needs a known-good stack (IST1) to report it. */
#include "gdt.h"
#include "kernel.h"
#include "string.h"

struct __attribute__((packed)) tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

struct __attribute__((packed)) gdt_pointer {
    uint16_t limit;
    uint64_t base;
};

enum {
    DOUBLE_FAULT_STACK_SIZE = 8192,
    GDT_ENTRIES = 5, /* null, code, data, TSS (two entries) */
};
#define SEGMENT_KERNEL_CODE   0x00209A0000000000ull /* present, ring 0, code, L=1 */
#define SEGMENT_KERNEL_DATA   0x0000920000000000ull /* present, ring 0, data */
#define SEGMENT_TSS_AVAILABLE 0x89ull               /* present, 64-bit TSS */

static struct tss tss;
static uint64_t gdt[GDT_ENTRIES];
static uint8_t double_fault_stack[DOUBLE_FAULT_STACK_SIZE] __attribute__((aligned(16)));

static void set_tss_descriptor(uint64_t *entry, uint64_t base, uint32_t limit)
{
    entry[0] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (SEGMENT_TSS_AVAILABLE << 40) |
               ((uint64_t)(limit >> 16) << 48) | (((base >> 24) & 0xFF) << 56);
    entry[1] = base >> 32;
}

void gdt_init(void)
{
    memset(&tss, 0, sizeof(tss));
    tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)(double_fault_stack + sizeof(double_fault_stack));
    tss.iomap_base = sizeof(tss); /* no I/O permission bitmap */

    gdt[0] = 0;
    gdt[GDT_KERNEL_CODE / 8] = SEGMENT_KERNEL_CODE;
    gdt[GDT_KERNEL_DATA / 8] = SEGMENT_KERNEL_DATA;
    set_tss_descriptor(&gdt[GDT_TSS / 8], (uint64_t)&tss, sizeof(tss) - 1);

    struct gdt_pointer pointer = {.limit = sizeof(gdt) - 1, .base = (uint64_t)gdt};
    __asm__ volatile("lgdt %0\n\t"
                     "mov %1, %%ds\n\t"
                     "mov %1, %%es\n\t"
                     "mov %1, %%ss\n\t"
                     "pushq %2\n\t" /* reload cs with a far return */
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "ltr %w3"
                     :
                     : "m"(pointer), "r"((uint64_t)GDT_KERNEL_DATA), "i"(GDT_KERNEL_CODE),
                       "r"((uint16_t)GDT_TSS)
                     : "rax", "memory");
}
