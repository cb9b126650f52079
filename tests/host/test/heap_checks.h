/* heap_checks.h - what the host tests of both heaps (test_kheap.c,
 * test_freelist.c) ask of a kernel heap through its public API. */
#ifndef HEAP_CHECKS_H
#define HEAP_CHECKS_H

#include <string.h>

#include "harness.h"
#include "kheap.h"
#include "pmm.h"

static inline struct kheap_stats stats_now(void)
{
    struct kheap_stats s;
    kheap_get_stats(&s);
    return s;
}

static inline struct kheap_report report_now(void)
{
    struct kheap_report r = {0};
    kheap_last_report(&r);
    return r;
}

static inline bool all_bytes(const void *block, size_t size, uint8_t byte)
{
    for (size_t i = 0; i < size; i++) {
        if (((const uint8_t *)block)[i] != byte)
            return false;
    }
    return true;
}

/* A call that must fail and change nothing but the failure counter. */
#define CHECK_FAILS_CLEANLY(call)                                                                  \
    do {                                                                                           \
        struct kheap_stats before_ = stats_now();                                                  \
        size_t free_before_ = pmm_free_count();                                                    \
        CHECK((call) == NULL);                                                                     \
        struct kheap_stats after_ = stats_now();                                                   \
        before_.failures++;                                                                        \
        CHECK_EQ(memcmp(&before_, &after_, sizeof(after_)), 0);                                    \
        CHECK_EQ(pmm_free_count(), free_before_);                                                  \
    } while (0)

#endif
