/* cmdline.h - read "key=value" words from the kernel command line. */
#ifndef CMDLINE_H
#define CMDLINE_H

#include "kernel.h"

/* Copies the value of the first "key=value" word into `value` (at most
 * size - 1 bytes, always terminated). Returns false if `key` is absent. */
bool cmdline_get(const char *command_line, const char *key, char *value, size_t size);

#endif
