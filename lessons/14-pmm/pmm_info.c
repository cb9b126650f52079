/* pmm_info.c - what the PMM tells the rest of the kernel: its counters and
 * the names of its statuses. Given: it only reads `pmm`, which pmm.c keeps
 * up to date. */
#include "pmm.h"

size_t pmm_free_count(void)
{
    return pmm.stats.free_frames;
}

size_t pmm_total_count(void)
{
    return pmm.stats.total_frames;
}

void pmm_get_stats(struct pmm_stats *out)
{
    *out = pmm.stats;
}

const char *pmm_status_name(enum pmm_status status)
{
    static const char *const names[] = {
        [PMM_OK] = "ok",
        [PMM_UNALIGNED] = "not the start of a frame",
        [PMM_OUT_OF_RANGE] = "beyond managed memory",
        [PMM_RESERVED_FRAME] = "reserved frame (never allocated)",
        [PMM_DOUBLE_FREE] = "double free (frame is already free)",
        [PMM_NOT_WRITTEN] = "not written yet",
    };
    return (unsigned)status < ARRAY_SIZE(names) ? names[status] : "unknown";
}
