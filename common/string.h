/* string.h - the C library's memory and string functions, for a kernel that
 * has no C library. gcc may also call memset/memcpy on its own. */
#ifndef KSTRING_H
#define KSTRING_H

#include "kernel.h"

void *memset(void *dest, int byte, size_t n);
void *memcpy(void *restrict dest, const void *restrict src, size_t n);
void *memmove(void *dest, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#endif
