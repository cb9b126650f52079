/* tests_support.c - see tests_support.h. */
#include "tests_support.h"
#include "ktest.h"
#include "pmm.h"

/* Frames taken from the PMM by a test that starves the heap, linked through
 * their first word. */
static phys_addr_t hoarded_frames = PMM_NO_FRAME;

void fresh_heap(void)
{
    kheap_init();
    ktest_defer(kheap_init);
}

struct kheap_stats stats_now(void)
{
    struct kheap_stats stats;
    kheap_get_stats(&stats);
    return stats;
}

size_t bytes_not(const void *block, size_t size, uint8_t byte)
{
    size_t wrong = 0;
    for (size_t i = 0; i < size; i++)
        wrong += ((const uint8_t *)block)[i] != byte;
    return wrong;
}

void write_byte(void *address)
{
    *(volatile uint8_t *)address = 0x42;
}

void hoard_all_frames_but(size_t keep)
{
    for (phys_addr_t frame; (frame = pmm_alloc_frame()) != PMM_NO_FRAME;) {
        *(phys_addr_t *)phys_to_virt(frame) = hoarded_frames;
        hoarded_frames = frame;
    }
    for (size_t i = 0; i < keep && hoarded_frames != PMM_NO_FRAME; i++) {
        phys_addr_t next = *(phys_addr_t *)phys_to_virt(hoarded_frames);
        pmm_free_frame(hoarded_frames);
        hoarded_frames = next;
    }
}

void release_hoard_and_reset_heap(void)
{
    while (hoarded_frames != PMM_NO_FRAME) {
        phys_addr_t next = *(phys_addr_t *)phys_to_virt(hoarded_frames);
        pmm_free_frame(hoarded_frames);
        hoarded_frames = next;
    }
    kheap_init();
}
