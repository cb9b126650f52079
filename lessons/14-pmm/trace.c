/* trace.c - lesson 14's trace points (make trace-lesson14; common/trace/ktrace.h):
 * the frame calls. In this lesson's kernel they are the events; in a later
 * lesson's, what that lesson's allocator asked for during one of its calls. */
#include "lesson.h"
#include "pmm.h"
#include "string.h"
#include "trace/ktrace.h"

/* What ld --wrap calls "the real function": the student's. */
phys_addr_t __real_pmm_alloc_frame(void);
enum pmm_status __real_pmm_free_frame(phys_addr_t frame);
phys_addr_t __real_pmm_alloc_frames(size_t count);
enum pmm_status __real_pmm_free_frames(phys_addr_t first, size_t count);

/* The wrappers, defined here for the linker only. */
phys_addr_t __wrap_pmm_alloc_frame(void);
enum pmm_status __wrap_pmm_free_frame(phys_addr_t frame);
phys_addr_t __wrap_pmm_alloc_frames(size_t count);
enum pmm_status __wrap_pmm_free_frames(phys_addr_t first, size_t count);

/* The PMM's counters, for a frame call's `ret` line. */
static void end_frames(const char *function, phys_addr_t result, int status)
{
    struct pmm_stats s;
    pmm_get_stats(&s);
    ktrace_emit("ret %s result=%lx status=%d free=%zu allocated=%zu freed=%zu failures=%zu "
                "rejected=%zu\n",
                function, (unsigned long)result, status, s.free_frames, s.frames_allocated,
                s.frames_freed, s.failed_allocations, s.rejected_frees);
}

/* Frame calls are events of their own only in this lesson's kernel: later
 * lessons' kernels have an allocator on top, and there they are what it asked for. */
static bool frames_are_events(void)
{
    return strcmp(lesson_name, "14-pmm") == 0 && !ktrace_inside();
}

phys_addr_t __wrap_pmm_alloc_frame(void)
{
    uintptr_t caller = KTRACE_CALLER;
    if (frames_are_events()) {
        ktrace_emit("call pmm_alloc_frame caller=%lx\n", (unsigned long)caller);
        phys_addr_t frame = __real_pmm_alloc_frame();
        end_frames("pmm_alloc_frame", frame, 0);
        return frame;
    }
    phys_addr_t frame = __real_pmm_alloc_frame();
    if (ktrace_inside())
        ktrace_emit("frame-alloc phys=%lx caller=%lx\n", (unsigned long)frame,
                    (unsigned long)caller);
    return frame;
}

enum pmm_status __wrap_pmm_free_frame(phys_addr_t frame)
{
    uintptr_t caller = KTRACE_CALLER;
    if (frames_are_events()) {
        ktrace_emit("call pmm_free_frame phys=%lx caller=%lx\n", (unsigned long)frame,
                    (unsigned long)caller);
        enum pmm_status status = __real_pmm_free_frame(frame);
        end_frames("pmm_free_frame", 0, (int)status);
        return status;
    }
    enum pmm_status status = __real_pmm_free_frame(frame);
    if (ktrace_inside())
        ktrace_emit("frame-free phys=%lx status=%d caller=%lx\n", (unsigned long)frame, (int)status,
                    (unsigned long)caller);
    return status;
}

phys_addr_t __wrap_pmm_alloc_frames(size_t count)
{
    bool event = frames_are_events();
    if (event)
        ktrace_emit("call pmm_alloc_frames count=%zu caller=%lx\n", count,
                    (unsigned long)KTRACE_CALLER);
    phys_addr_t first = __real_pmm_alloc_frames(count);
    if (event)
        end_frames("pmm_alloc_frames", first, 0);
    return first;
}

enum pmm_status __wrap_pmm_free_frames(phys_addr_t first, size_t count)
{
    bool event = frames_are_events();
    if (event)
        ktrace_emit("call pmm_free_frames phys=%lx count=%zu caller=%lx\n", (unsigned long)first,
                    count, (unsigned long)KTRACE_CALLER);
    enum pmm_status status = __real_pmm_free_frames(first, count);
    if (event)
        end_frames("pmm_free_frames", 0, (int)status);
    return status;
}
