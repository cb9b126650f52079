/* model.h - what the fuzz targets share. Each target reads a sequence of
 * operations from the fuzzer's bytes, runs them against an allocator on a
 * freshly booted host, and after every operation compares the allocator
 * with a reference model that is too simple to be wrong (a list of live
 * blocks, counters kept by hand). Any difference stops the run with a
 * message and abort(), and libFuzzer saves the input that caused it. */
#ifndef FUZZ_MODEL_H
#define FUZZ_MODEL_H

#include "host.h"

/* ---- reading the input ---------------------------------------------------- */

struct input {
    const uint8_t *data;
    size_t size, at;
};

bool input_left(const struct input *in);
uint8_t take_u8(struct input *in); /* 0 once the input is used up */
uint16_t take_u16(struct input *in);
uint32_t take_u32(struct input *in);
uint64_t take_u64(struct input *in);
size_t take_below(struct input *in, size_t limit); /* in [0, limit); limit > 0 */

/* A size for an allocation: mostly small, sometimes a page or more, now and
 * then one of the sizes the handouts warn about (0, SIZE_MAX, ...). */
size_t take_size(struct input *in, size_t window);

/* kcalloc's count for elements of `size` bytes: small, or one whose
 * product with size wraps around past SIZE_MAX (to a small number). */
size_t take_count(struct input *in, size_t size);

/* ---- checks --------------------------------------------------------------- */

#define FUZZ_CHECK(condition)                                                                      \
    do {                                                                                           \
        if (!(condition))                                                                          \
            fuzz_fail(__FILE__, __LINE__, #condition, 0, 0, false);                                \
    } while (0)

#define FUZZ_CHECK_EQ(actual, expected)                                                            \
    do {                                                                                           \
        uint64_t actual_ = (uint64_t)(actual), expected_ = (uint64_t)(expected);                   \
        if (actual_ != expected_)                                                                  \
            fuzz_fail(__FILE__, __LINE__, #actual " == " #expected, actual_, expected_, true);     \
    } while (0)

_Noreturn void fuzz_fail(const char *file, int line, const char *what, uint64_t actual,
                         uint64_t expected, bool values);

/* The first call of every input: a fresh machine (host_boot), quiet console. */
void fuzz_boot(void);

/* ---- live blocks ---------------------------------------------------------- */

enum { MAX_BLOCKS = 1024 };

struct block {
    uintptr_t start;
    size_t size; /* as asked for */
    uint8_t tag; /* the byte its contents are filled with */
};

struct blocks {
    struct block items[MAX_BLOCKS];
    size_t count;
};

/* Adds [start, start + size) (size 0 counts as 1 byte), after checking it
 * overlaps no live block; fills it with `tag` unless fill is false. */
void blocks_add(struct blocks *live, uintptr_t start, size_t size, uint8_t tag, bool fill);
void blocks_remove(struct blocks *live, size_t index);
/* The live block holding `address`, or -1. */
long blocks_find(const struct blocks *live, uintptr_t address);
/* Checks that the block still holds its tag everywhere. */
void blocks_check(const struct blocks *live, size_t index);

/* ---- starving the PMM ----------------------------------------------------- */

enum { MAX_HOARD_RUNS = 64 };

/* Frames a target takes from the PMM to make an allocator run out. */
struct frame_hoard {
    struct {
        phys_addr_t first;
        size_t count;
    } runs[MAX_HOARD_RUNS];
    size_t run_count;
    size_t frames; /* in all runs */
};

/* Gives every hoarded frame back (checking the PMM takes each run). */
void hoard_release(struct frame_hoard *hoard);

/* Takes frames, in contiguous runs as large as the PMM has, until at most
 * `leave` are free or the hoard has no room for another run. */
void hoard_take(struct frame_hoard *hoard, size_t leave);

/* An operation of the input: gives the hoard back, or (half the time) takes
 * frames until fewer than `leave_limit` are left. */
void hoard_step(struct frame_hoard *hoard, struct input *in, size_t leave_limit);

#endif
