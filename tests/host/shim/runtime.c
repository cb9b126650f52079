/* runtime.c - the kernel services the allocators use, for a host process:
 * the console under kprintf (common/kprintf.c itself is reused), panic,
 * exception handlers and the linker script's symbols. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exception.h"
#include "internal.h"
#include "kprintf.h"
#include "multiboot2.h"
#include "panic.h"
#include "serial.h"
#include "vga.h"

/* ---- linker symbols ------------------------------------------------------- */

/* linker.ld's symbols: only their addresses mean anything. The physical ones
 * must be what pmm_init reserves (host.h); the kernel-image ones are only
 * compared with fault addresses. Absolute symbols, like the linker's. */
__asm__(".globl _kernel_phys_start, _kernel_phys_end, _kernel_end\n"
        ".globl _text_start, _text_end, _rodata_start, _rodata_end, _data_start, _data_end\n"
        ".globl kernel_stack_guard, boot_pml4, boot_pd_kernel\n"
        ".set _kernel_phys_start, 0x100000\n"
        ".set _kernel_phys_end, 0x140000\n"
        ".set _text_start, 0x10000000\n"
        ".set _text_end, 0x10010000\n"
        ".set _rodata_start, 0x10010000\n"
        ".set _rodata_end, 0x10018000\n"
        ".set _data_start, 0x10018000\n"
        ".set _data_end, 0x10030000\n"
        ".set kernel_stack_guard, 0x10030000\n"
        ".set _kernel_end, 0x10040000\n"
        ".set boot_pml4, 0x101000\n"
        ".set boot_pd_kernel, 0x103000\n");

/* boot_info is common/multiboot2.c's own; host_boot fills it. */

/* ---- the console ---------------------------------------------------------- */

enum { CONSOLE_SIZE = 1 << 16 };

static char console[CONSOLE_SIZE];
static size_t console_length;
static bool console_echo;
static FILE *echo_stream; /* stderr unless host_console_echo_to_stdout */

void serial_init(uint16_t base) {}

void vga_init(void) {}

/* kprintf's every character comes here (console_putc in common/kprintf.c). */
void serial_putc(uint16_t base, char c)
{
    if (console_echo)
        fputc(c, echo_stream != NULL ? echo_stream : stderr);
    if (console_length + 1 < CONSOLE_SIZE)
        console[console_length++] = c;
    console[console_length] = '\0';
}

void vga_putc(char c) {}

void host_console_clear(void)
{
    console_length = 0;
    console[0] = '\0';
}

const char *host_console_text(void)
{
    return console;
}

bool host_console_contains(const char *text)
{
    return strstr(console, text) != NULL;
}

void host_console_echo(bool on)
{
    console_echo = on;
}

void host_console_echo_to_stdout(void)
{
    echo_stream = stdout;
    console_echo = true;
}

/* ---- host_try: calls that may fault or panic ------------------------------ */

static sigjmp_buf *catcher; /* set while host_try runs its call */

void host_escape(enum host_outcome outcome)
{
    sigjmp_buf *target = catcher;
    if (target == NULL)
        return;
    catcher = NULL;
    siglongjmp(*target, (int)outcome);
}

enum host_outcome host_try(void (*fn)(void *), void *arg)
{
    sigjmp_buf here;
    sigjmp_buf *outer = catcher;
    int outcome = sigsetjmp(here, 1);
    if (outcome == 0) {
        catcher = &here;
        fn(arg);
    }
    catcher = outer;
    return (enum host_outcome)outcome;
}

/* ---- panic ----------------------------------------------------------------- */

static char panic_message[512];

static void default_panic_hook(const char *message)
{
    fprintf(stderr, "%s\n", message);
    abort();
}

static host_panic_hook_t panic_hook = default_panic_hook;

void host_set_panic_hook(host_panic_hook_t hook)
{
    panic_hook = hook != NULL ? hook : default_panic_hook;
}

const char *host_last_panic(void)
{
    return panic_message;
}

_Noreturn void panic_at(const char *file, int line, const char *format, ...)
{
    int n = snprintf(panic_message, sizeof(panic_message), "PANIC at %s:%d: ", file, line);
    va_list args;
    va_start(args, format);
    vsnprintf(panic_message + n, sizeof(panic_message) - (size_t)n, format, args);
    va_end(args);
    kprintf("\n*** %s ***\n", panic_message);
    host_escape(HOST_PANICKED);
    panic_hook(panic_message);
    abort(); /* a hook that returns */
}

_Noreturn void host_halt(void)
{
    fprintf(stderr, "host: the kernel halted\n");
    abort();
}

/* ---- exceptions ------------------------------------------------------------ */

static exception_handler_t handlers[EXCEPTION_VECTORS];

void exception_set_handler(unsigned vector, exception_handler_t handler)
{
    if (vector < EXCEPTION_VECTORS)
        handlers[vector] = handler;
}

/* The handler's diagnosis is on stderr already (the handler prints it). */
void exception_set_diagnosis(const char *text)
{
    (void)text;
}

/* Lets the VMM's page-fault handler describe a fault nobody expected, as it
 * would in the kernel (its text goes to stderr: the process is about to end). */
void host_report_fault(uintptr_t address, uint64_t error_code)
{
    fprintf(stderr, "host: page fault at %p (error code %#llx)\n", (void *)address,
            (unsigned long long)error_code);
    if (handlers[VECTOR_PAGE_FAULT] == NULL)
        return;
    struct interrupt_frame frame = {.vector = VECTOR_PAGE_FAULT, .error_code = error_code};
    if (!console_echo) /* what was echoed is on the screen already */
        fputs(console + (console_length > 2000 ? console_length - 2000 : 0), stderr);
    host_console_clear();
    console_echo = true;
    handlers[VECTOR_PAGE_FAULT](&frame);
}
