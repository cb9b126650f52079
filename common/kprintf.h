/* kprintf.h - formatted output to every console at once (serial, VGA, and
 * Bochs's port 0xE9 when present).
 *
 * What gcc's format check accepts for integers, characters and strings:
 * conversions %c %s %d %i %u %o %x %X %p %%; length modifiers hh, h, l, ll,
 * z, j, t; the flags '-' (left alignment), '0' (zero padding), '#' (0x
 * before a nonzero %x, 0X before %X, 0 before %o), '+' and ' ' (the sign of
 * a non-negative %d); a width and a precision, each a number or '*'. %p
 * prints 0x and 16 hex digits. Floating point (%f %e %g %a) and %n are not
 * supported: they are printed as written. */
#ifndef KPRINTF_H
#define KPRINTF_H

#include <stdarg.h>
#include "kernel.h"

void console_init(void);
void console_putc(char c);

__attribute__((format(printf, 1, 2))) void kprintf(const char *format, ...);
void kvprintf(const char *format, va_list args);

/* Formats into buffer[size] (always NUL-terminated when size > 0) and
 * returns the length the whole text would have: a result >= size means it
 * was cut short. */
__attribute__((format(printf, 3, 4))) size_t ksnprintf(char *buffer, size_t size,
                                                       const char *format, ...);
size_t kvsnprintf(char *buffer, size_t size, const char *format, va_list args);

#endif
