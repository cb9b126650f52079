/* tests_support.h - helpers shared by the tests of both heaps (tests.c for
 * the bump heap, tests_freelist.c for the free-list heap). */
#ifndef TESTS_SUPPORT_H
#define TESTS_SUPPORT_H

#include "kheap.h"

/* Starts the running test from a fresh heap and leaves a fresh one behind,
 * even if the test crashes. */
void fresh_heap(void);

struct kheap_stats stats_now(void);

/* How many of the `size` bytes at `block` differ from `byte`. */
size_t bytes_not(const void *block, size_t size, uint8_t byte);

/* A write the compiler cannot drop: for ktest_catch_fault. */
void write_byte(void *address);

/* Takes every free frame from the PMM but `keep`, so the heap starves; the
 * test defers release_hoard_and_reset_heap to give them back. */
void hoard_all_frames_but(size_t keep);
void release_hoard_and_reset_heap(void);

#endif
