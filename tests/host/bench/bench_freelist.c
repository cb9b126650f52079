/* bench_freelist.c - measurements of the free-list heap (kheap_freelist.c),
 * debug checks off (as a kernel runs it outside debugging); see bench.h.
 * The steady state is a slot freed and taken again; the same call is
 * measured with few and with many blocks live, to show that its cost does
 * not grow with the heap. */
#include "bench.h"
#include "kheap.h"

enum { MANY = 10000 };

/* `live` blocks of mixed sizes, allocated and kept. */
static void fill(size_t live)
{
    kheap_set_debug(false);
    for (size_t i = 0; i < live; i++)
        kmalloc(16 + i % 8 * 24);
}

static void measure_kmalloc(size_t live, size_t n)
{
    fill(live);
    kfree(kmalloc(24));
    for (size_t i = 0; i < n; i++)
        kfree(kmalloc(24));
}

static void measure_kmalloc_few(size_t n)
{
    measure_kmalloc(10, n);
}

static void measure_kmalloc_many(size_t n)
{
    measure_kmalloc(MANY, n);
}

static void measure_kfree_few(size_t n)
{
    measure_kmalloc(10, n);
}

static void measure_kfree_many(size_t n)
{
    measure_kmalloc(MANY, n);
}

static void measure_kmalloc_debug(size_t n)
{
    kheap_set_debug(true);
    kfree(kmalloc(24));
    for (size_t i = 0; i < n; i++)
        kfree(kmalloc(24));
}

static void trace(size_t n)
{
    kheap_set_debug(false);
    run_trace("freelist");
}

/* kfree_* run the same calls as kmalloc_*: the script collects inside kfree. */
const struct measurement measurements[] = {
    {"kmalloc_few", measure_kmalloc_few},
    {"kmalloc_many", measure_kmalloc_many},
    {"kfree_few", measure_kfree_few},
    {"kfree_many", measure_kfree_many},
    {"kmalloc_debug", measure_kmalloc_debug},
    {"trace", trace},
    {NULL, NULL},
};
