/* trace.c - lesson 16's trace points (make trace-lesson16; common/trace/ktrace.h):
 * valloc and vfree are the events, with the pages they map through vmm_map
 * and vmm_unmap and the frames they take. */
#include "pmm.h"
#include "trace/ktrace.h"
#include "vmm.h"

/* What ld --wrap calls "the real function": the student's. */
void *__real_valloc(size_t npages);
enum vmm_status __real_vfree(void *ptr);
enum vmm_status __real_vmm_map(pte_t *space, uintptr_t virt, phys_addr_t phys, uint64_t flags);
enum vmm_status __real_vmm_unmap(pte_t *space, uintptr_t virt, phys_addr_t *frame);

/* The wrappers, defined here for the linker only. */
void *__wrap_valloc(size_t npages);
enum vmm_status __wrap_vfree(void *ptr);
enum vmm_status __wrap_vmm_map(pte_t *space, uintptr_t virt, phys_addr_t phys, uint64_t flags);
enum vmm_status __wrap_vmm_unmap(pte_t *space, uintptr_t virt, phys_addr_t *frame);

/* The valloc counters and the PMM's free frames, for valloc's `ret` line. */
static void end_valloc(const char *function, const void *result, int status)
{
    ktrace_leave();
    ktrace_emit("ret %s result=%lx status=%d areas=%zu area_pages=%zu warnings=%zu free=%zu\n",
                function, (unsigned long)(uintptr_t)result, status, vmm_stats.areas,
                vmm_stats.area_pages, vmm_stats.warnings, pmm_free_count());
}

void *__wrap_valloc(size_t npages)
{
    ktrace_emit("call valloc npages=%zu caller=%lx\n", npages, (unsigned long)KTRACE_CALLER);
    ktrace_emit("window start=%lx end=%lx\n", (unsigned long)VALLOC_START,
                (unsigned long)VALLOC_END);
    ktrace_enter();
    void *area = __real_valloc(npages);
    end_valloc("valloc", area, 0);
    return area;
}

enum vmm_status __wrap_vfree(void *ptr)
{
    ktrace_emit("call vfree ptr=%lx caller=%lx\n", (unsigned long)(uintptr_t)ptr,
                (unsigned long)KTRACE_CALLER);
    ktrace_enter();
    enum vmm_status status = __real_vfree(ptr);
    end_valloc("vfree", NULL, (int)status);
    return status;
}

enum vmm_status __wrap_vmm_map(pte_t *space, uintptr_t virt, phys_addr_t phys, uint64_t flags)
{
    enum vmm_status status = __real_vmm_map(space, virt, phys, flags);
    ktrace_note_page("map", virt, phys, (int)status, KTRACE_CALLER);
    return status;
}

enum vmm_status __wrap_vmm_unmap(pte_t *space, uintptr_t virt, phys_addr_t *frame)
{
    phys_addr_t unmapped = 0;
    enum vmm_status status = __real_vmm_unmap(space, virt, &unmapped);
    if (frame != NULL)
        *frame = unmapped;
    if (status != VMM_NOT_MAPPED)
        ktrace_note_page("unmap", virt, unmapped, (int)status, KTRACE_CALLER);
    return status;
}
