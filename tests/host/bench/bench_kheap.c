/* bench_kheap.c - measurements of the bump heap (kheap.c), the PMM and
 * valloc; see bench.h. Each warms up first, so that the calls measured take
 * the steady-state fast path: the page they land in is mapped already. */
#include "bench.h"
#include "kheap.h"
#include "pmm.h"
#include "vmm.h"

/* kmalloc(24): a 32-byte block; 100 of them stay inside the page the
 * warm-up mapped. */
static void measure_kmalloc(size_t n)
{
    kheap_init();
    kmalloc(24);
    for (size_t i = 0; i < n; i++)
        kmalloc(24);
}

/* kmalloc_aligned(40, 64): 16 bytes of padding before every block. */
static void measure_kmalloc_aligned(size_t n)
{
    kheap_init();
    kmalloc_aligned(40, 64);
    for (size_t i = 0; i < n; i++)
        kmalloc_aligned(40, 64);
}

/* kmalloc_aligned(64, 64): already aligned, no padding. */
static void measure_kmalloc_aligned_unpadded(size_t n)
{
    kheap_init();
    kmalloc_aligned(64, 64);
    for (size_t i = 0; i < n; i++)
        kmalloc_aligned(64, 64);
}

static void measure_kcalloc(size_t n)
{
    kheap_init();
    kcalloc(1, 64);
    for (size_t i = 0; i < n; i++)
        kcalloc(1, 64);
}

static void measure_kfree(size_t n)
{
    kheap_init();
    void *block = kmalloc(24);
    for (size_t i = 0; i < n; i++)
        kfree(block);
}

static void measure_pmm_alloc_frame(size_t n)
{
    pmm_alloc_frame();
    for (size_t i = 0; i < n; i++)
        pmm_alloc_frame();
}

/* valloc(1) with one area live, so that its page tables exist; each area
 * is freed again before the next. */
static void measure_valloc(size_t n)
{
    vmm_init();
    valloc(1);
    vfree(valloc(1));
    for (size_t i = 0; i < n; i++)
        vfree(valloc(1));
}

static void trace(size_t n)
{
    kheap_init();
    run_trace("bump");
}

const struct measurement measurements[] = {
    {"kmalloc", measure_kmalloc},
    {"kmalloc_aligned", measure_kmalloc_aligned},
    {"kmalloc_aligned_unpadded", measure_kmalloc_aligned_unpadded},
    {"kcalloc", measure_kcalloc},
    {"kfree", measure_kfree},
    {"pmm_alloc_frame", measure_pmm_alloc_frame},
    {"valloc", measure_valloc},
    {"trace", trace},
    {NULL, NULL},
};
