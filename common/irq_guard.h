/* irq_guard.h - a critical section on one CPU: interrupts off, then back as
 * they were.
 *
 *     uint64_t flags = irq_save();
 *     ... nothing else runs on this CPU here ...
 *     irq_restore(flags);
 *
 * This kernel runs on one CPU with interrupts disabled from boot to
 * power-off, so today the guard changes nothing. It is what a one-CPU kernel
 * with interrupts on needs: an interrupt handler that allocates can never see
 * a heap half updated. Sections nest: irq_restore turns interrupts back on
 * only if they were on at the matching irq_save.
 *
 * With several CPUs, a spinlock is taken right after irq_save and released
 * just before irq_restore. Interrupts must stay off while it is held, or a
 * handler on the same CPU would spin forever on a lock its own CPU holds. */
#ifndef IRQ_GUARD_H
#define IRQ_GUARD_H

#include "x86.h"

#define RFLAGS_IF (1ull << 9) /* the interrupt flag */

static inline uint64_t irq_save(void)
{
    uint64_t rflags = read_rflags();
    cli();
    return rflags;
}

static inline void irq_restore(uint64_t rflags)
{
    if (rflags & RFLAGS_IF)
        sti();
}

#endif
