/* main.c - the kernel's C entry point, called by boot.asm in long mode.
 *
 * Boot order matters: the console first (so everything after can report),
 * then the CPU tables (so a fault is reported instead of a silent reboot),
 * then the boot information and the kernel's own page tables, and only then
 * the lessons' code: each lesson's subsystems (INIT_NN in its lesson.mk),
 * earlier lessons first, then what this kernel's main.c adds (lesson_init).
 * The command line picks what happens next:
 *   mode=demo (default)  the lesson's demonstration
 *   mode=test            the in-kernel tests (see ktest.h) */
#include "cmdline.h"
#include "emulator.h"
#include "exception.h"
#include "gdt.h"
#include "kprintf.h"
#include "ktest.h"
#include "lesson.h"
#include "multiboot2.h"
#include "paging.h"
#include "string.h"
#include "x86.h"

#ifndef LESSON_NAME
#error "LESSON_NAME must be defined by the build (e.g. -DLESSON_NAME=\"14-pmm\")"
#endif
#ifndef LESSON_BUILD
#define LESSON_BUILD "starter"
#endif
#ifndef LESSON_FLAVOUR
#define LESSON_FLAVOUR ""
#endif
#ifndef LESSON_INITS
#error "LESSON_INITS(CALL) must be defined by the build: CALL(pmm_init) CALL(kheap_init) ..."
#endif

/* The lessons' init functions: declared here, so that common code includes
 * no lesson's header. */
#define DECLARE_INIT(init) void init(void);
LESSON_INITS(DECLARE_INIT)
#define CALL_INIT(init) init();

enum { MODE_SIZE = 16 };

const char lesson_name[] = LESSON_NAME;

_Noreturn void kernel_main(uint32_t magic, uint32_t multiboot_info); /* boot.asm */

_Noreturn void kernel_main(uint32_t magic, uint32_t multiboot_info)
{
    console_init();
    gdt_init();
    idt_init();
    multiboot2_parse(magic, multiboot_info);
    paging_init();

    kprintf("kernel-memory-lab: lesson %s%s%s (%s build), booted by %s\n", LESSON_NAME,
            LESSON_FLAVOUR[0] ? " " : "", LESSON_FLAVOUR, LESSON_BUILD, boot_info.loader_name);
    ktest_prepare();
    kprintf("command line: %s\n", boot_info.command_line);

    char mode[MODE_SIZE] = "demo";
    cmdline_get(boot_info.command_line, "mode", mode, sizeof(mode));

    LESSON_INITS(CALL_INIT)
    if (lesson_init != NULL)
        lesson_init();
    kprintf("kernel: boot complete\n");

    if (strcmp(mode, "test") == 0)
        ktest_run_all(LESSON_NAME, boot_info.command_line);

    lesson_demo();
    kprintf("kernel: demo finished (under Bochs: stopped in its debugger, 'c' powers off)\n");
    BOCHS_BREAK(); /* lets a Bochs window stay up to be read; a no-op elsewhere */
    kprintf("kernel: powering off\n");
    emulator_exit(true);
}
