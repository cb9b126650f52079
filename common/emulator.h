/* emulator.h - leaving QEMU or Bochs from inside the kernel, so a test run
 * ends by itself instead of idling until a timeout. */
#ifndef EMULATOR_H
#define EMULATOR_H

#include "kernel.h"

/* QEMU's isa-debug-exit turns a byte v into the exit status (v << 1) | 1. */
#define QEMU_EXIT_SUCCESS 0x10 /* qemu exits with 33 */
#define QEMU_EXIT_FAILURE 0x11 /* qemu exits with 35 */

_Noreturn void emulator_exit(bool success);

#endif
