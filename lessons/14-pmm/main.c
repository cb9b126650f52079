/* main.c - lesson 14's kernel: bring up the PMM and show what it manages.
 * Each step of the demo checks the one before, and says which TODO of
 * pmm.c to write when a result shows it is missing. */
#include "kprintf.h"
#include "lesson.h"
#include "pmm.h"
#include "pmm_print.h"

enum {
    DEMO_FRAMES = 3,
    DEMO_CONTIGUOUS_FRAMES = 4,
};

static void missing(const char *what)
{
    kprintf("\n-> %s (lessons/14-pmm/pmm.c). The demo stops here.\n", what);
}

/* Allocates, frees and allocates again; false if the practice part is not
 * written yet. */
static bool demo_single_frames(phys_addr_t frames[DEMO_FRAMES])
{
    kprintf("\nAllocating %d frames:", DEMO_FRAMES);
    for (int i = 0; i < DEMO_FRAMES; i++) {
        frames[i] = pmm_alloc_frame();
        kprintf(" %p", (void *)frames[i]);
    }
    kprintf("\n");
    for (int i = 0; i < DEMO_FRAMES; i++) {
        if (frames[i] == PMM_NO_FRAME) {
            missing("pmm_alloc_frame found no free frame: TODO(practice 2)");
            return false;
        }
    }
    kprintf("Freeing %p, then allocating again: ", (void *)frames[1]);
    pmm_free_frame(frames[1]);
    phys_addr_t again = pmm_alloc_frame();
    kprintf("%p\n", (void *)again);
    if (again != frames[1]) {
        missing("the freed frame did not come back: pmm_free_frame, TODO(practice 2)");
        return false;
    }
    return true;
}

void lesson_demo(void)
{
    pmm_print_memory_map();
    pmm_print_layout();
    if (pmm_total_count() == 0) {
        missing("the PMM manages no frame: pmm_init_map and pmm_init, TODO(practice 1 and 3)");
        return;
    }
    pmm_print_frame_map();
    pmm_print_stats("after boot");

    phys_addr_t frames[DEMO_FRAMES];
    if (!demo_single_frames(frames))
        return;

    kprintf("Freeing %p twice: ", (void *)frames[0]);
    pmm_free_frame(frames[0]);
    enum pmm_status status = pmm_free_frame(frames[0]);
    kprintf("second free -> %s%s\n", pmm_status_name(status),
            status == PMM_OK ? "  <- accepted: TODO(homework 1)" : "");

    phys_addr_t run = pmm_alloc_frames(DEMO_CONTIGUOUS_FRAMES);
    if (run == PMM_NO_FRAME)
        kprintf("%d contiguous frames: none  <- TODO(homework 2)\n", DEMO_CONTIGUOUS_FRAMES);
    else
        kprintf("%d contiguous frames: %p..%p\n", DEMO_CONTIGUOUS_FRAMES, (void *)run,
                (void *)(run + DEMO_CONTIGUOUS_FRAMES * PAGE_SIZE));
    pmm_print_stats("now");

    if (run != PMM_NO_FRAME)
        pmm_free_frames(run, DEMO_CONTIGUOUS_FRAMES);
    pmm_free_frame(frames[1]);
    pmm_free_frame(frames[2]);
    pmm_print_stats("after freeing everything");
    struct pmm_stats stats;
    pmm_get_stats(&stats);
    if (stats.frames_allocated == 0)
        kprintf("-> the counters stay at 0: TODO(homework 3)\n");
}
