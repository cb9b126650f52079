/* panic.h - stop the kernel with a message saying where and why. */
#ifndef PANIC_H
#define PANIC_H

#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)

/* Prints "PANIC at file:line: message", the registers that matter and a
 * backtrace, then leaves the emulator with a failure status. Inside a test
 * run the current test fails instead and the run goes on. */
__attribute__((format(printf, 3, 4))) _Noreturn void panic_at(const char *file, int line,
                                                              const char *format, ...);

/* Checks a condition that must hold; a false one is a kernel bug. */
#define KASSERT(condition)                                                                         \
    do {                                                                                           \
        if (!(condition))                                                                          \
            panic("assertion failed: %s", #condition);                                             \
    } while (0)

#endif
