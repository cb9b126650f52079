/* panic.c */
#include "panic.h"
#include "emulator.h"
#include "exception.h"
#include "kprintf.h"
#include "witness.h"
#include "x86.h"

_Noreturn void panic_at(const char *file, int line, const char *format, ...)
{
    uint64_t rsp, rbp;
    __asm__ volatile("mov %%rsp, %0; mov %%rbp, %1" : "=r"(rsp), "=r"(rbp));

    witness_crash_report();
    va_list args;
    va_start(args, format);
    kprintf("\n*** PANIC at %s:%d: ", file, line);
    kvprintf(format, args);
    kprintf(" ***\n");
    va_end(args);

    kprintf("  RSP=%p RBP=%p RFLAGS=%p\n", (void *)rsp, (void *)rbp, (void *)read_rflags());
    kprintf("  CR0=%p CR2=%p CR3=%p CR4=%p\n", (void *)read_cr0(), (void *)read_cr2(),
            (void *)read_cr3(), (void *)read_cr4());
    print_backtrace(rbp);

    if (crash_hook != NULL)
        crash_hook("panic");
    kprintf("kernel: halted after a panic\n");
    emulator_exit(false);
}
