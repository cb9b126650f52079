/* x86.h - the host's version of common/x86.h: the same functions, for a
 * process in ring 3. What would change the CPU's view of paging (CR3,
 * invlpg) goes to the MMU model in memory.c; port I/O does nothing.
 *
 * The interrupt guard (common/irq_guard.h: pushfq, pop, cli ... test IF,
 * sti) keeps its cost: read_rflags is the kernel's own pushfq/pop, and a nop
 * stands in for the privileged cli. sti is empty: in the kernel interrupts
 * are off, so its branch is never taken; in a process IF is set, so the
 * branch is taken here and runs nothing. Same instruction count either way. */
#ifndef X86_H
#define X86_H

#include "kernel.h"

/* memory.c */
uint64_t host_read_cr2(void);
uint64_t host_read_cr3(void);
void host_write_cr3(uint64_t value);
void host_invlpg(uintptr_t virt);
_Noreturn void host_halt(void);

static inline void outb(uint16_t port, uint8_t value) {}

static inline void outw(uint16_t port, uint16_t value) {}

static inline uint8_t inb(uint16_t port)
{
    return 0xFF; /* what QEMU reads from a port with nothing behind it */
}

static inline uint64_t read_cr2(void)
{
    return host_read_cr2();
}

static inline uint64_t read_cr3(void)
{
    return host_read_cr3();
}

static inline void write_cr3(uint64_t value)
{
    host_write_cr3(value);
}

static inline void invlpg(uintptr_t virt)
{
    host_invlpg(virt);
}

static inline uint64_t read_rflags(void)
{
    uint64_t rflags;
    __asm__ volatile("pushfq; popq %0" : "=r"(rflags));
    return rflags;
}

static inline void cli(void)
{
    __asm__ volatile("nop" : : : "memory");
}

static inline void sti(void)
{
    __asm__ volatile("" : : : "memory");
}

static inline uint64_t rdtsc(void)
{
    uint32_t low, high;
    __asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
    return ((uint64_t)high << 32) | low;
}

_Noreturn static inline void halt_forever(void)
{
    host_halt();
}

#define BOCHS_BREAK() ((void)0)

#endif
