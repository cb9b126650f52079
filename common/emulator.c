/* emulator.c - try each way out in turn; whichever the machine understands
 * ends the run, the others are ignored. */
#include "emulator.h"
#include "x86.h"

enum {
    QEMU_DEBUG_EXIT_PORT = 0xF4,  /* -device isa-debug-exit,iobase=0xf4 */
    BOCHS_SHUTDOWN_PORT = 0x8900, /* "Shutdown" written here stops Bochs */
    QEMU_ACPI_PM1A_CNT = 0x604,   /* ACPI power-off on QEMU's i440fx machine */
    BOCHS_ACPI_PM1A_CNT = 0xB004,
    ACPI_SLEEP_S5 = 0x2000,
};

_Noreturn void emulator_exit(bool success)
{
    outb(QEMU_DEBUG_EXIT_PORT, success ? QEMU_EXIT_SUCCESS : QEMU_EXIT_FAILURE);
    for (const char *s = "Shutdown"; *s; s++)
        outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
    /* Without isa-debug-exit (a windowed run), QEMU powers off here; with
     * -no-shutdown it stops but keeps the window open for reading. */
    outw(QEMU_ACPI_PM1A_CNT, ACPI_SLEEP_S5);
    outw(BOCHS_ACPI_PM1A_CNT, ACPI_SLEEP_S5);
    halt_forever();
}
