/* serial.h - 16550 UARTs: COM1 carries the console (kprintf), COM2 the test
 * results (ktest.c), which only the harness writes. */
#ifndef SERIAL_H
#define SERIAL_H

#include "kernel.h"

#define SERIAL_COM1 0x3F8
#define SERIAL_COM2 0x2F8

/* Sets up the UART at I/O port `base` for polled output; one that is not
 * there (COM2 in a plain `make run-lessonN`) ignores it all. */
void serial_init(uint16_t base);
void serial_putc(uint16_t base, char c);

#endif
