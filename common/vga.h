/* vga.h - the 80x25 VGA text screen, for a student watching the emulator window. */
#ifndef VGA_H
#define VGA_H

#include "kernel.h"

void vga_init(void);
void vga_putc(char c);

#endif
