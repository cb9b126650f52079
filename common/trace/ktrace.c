/* ktrace.c - the trace of `make trace-lessonN`: wrappers around an
 * allocator's public functions (lesson 14's frames, lesson 15's heap,
 * lesson 16's valloc) and the page and frame calls they make, built into
 * trace kernels only (build/trace/). The student's code is not changed: the
 * link redirects every call from another file, `ld --wrap=kmalloc` turning
 * main.c's and the tests' `kmalloc` into __wrap_kmalloc here, which calls
 * the student's own (__real_kmalloc) and reports what happened.
 *
 * Each event is one line on the serial port, between the console's lines so
 * that a warning the heap prints lands between the call and its return:
 *
 *   ktrace: call kmalloc size=20 caller=ffffffff8010d913
 *   ktrace: map virt=ffffffff80200000 phys=3f5000 status=0 caller=...
 *   ktrace: ret kmalloc result=ffffffff80200000 tail=cc:28 used=64 ...
 *
 * tools/trace reads them and draws the picture. Only what the public API
 * shows is reported: the arguments and the result, the counters of
 * kheap_get_stats, kheap_last_report after a warning, the bytes just past a
 * new block (a redzone pattern, if the heap writes one), and the pages the
 * heap maps and unmaps and the frames it takes and gives back during a call.
 * A call that never returns (a crash) leaves its `call` line unanswered.
 * In lesson 14's kernel, which has no heap, the frame calls themselves are
 * the events; in lesson 16's, valloc and vfree are, with the pages they map.
 *
 * The references to the real functions are weak, so this file links into
 * any lesson's kernel: a function the kernel lacks is never called. */
#include "kheap.h"
#include "kprintf.h"
#include "paging.h"
#include "pmm.h"
#include "serial.h"
#include "vmm.h"

#define WEAK __attribute__((weak))

/* What ld --wrap calls "the real function": the student's. */
WEAK void __real_kheap_init(void);
WEAK void *__real_kmalloc(size_t size);
WEAK void *__real_kcalloc(size_t n, size_t size);
WEAK void *__real_kmalloc_aligned(size_t size, size_t align);
WEAK void __real_kfree(void *ptr);
WEAK void __real_kheap_set_debug(bool on);
WEAK enum paging_status __real_paging_map(pte_t *pml4, uintptr_t virt, phys_addr_t phys,
                                          uint64_t flags);
WEAK enum paging_status __real_paging_unmap(pte_t *pml4, uintptr_t virt, phys_addr_t *frame);
WEAK phys_addr_t __real_pmm_alloc_frame(void);
WEAK enum pmm_status __real_pmm_free_frame(phys_addr_t frame);
WEAK phys_addr_t __real_pmm_alloc_frames(size_t count);
WEAK enum pmm_status __real_pmm_free_frames(phys_addr_t first, size_t count);
WEAK void *__real_valloc(size_t npages);
WEAK enum vmm_status __real_vfree(void *ptr);
WEAK enum vmm_status __real_vmm_map(pte_t *space, uintptr_t virt, phys_addr_t phys, uint64_t flags);
WEAK enum vmm_status __real_vmm_unmap(pte_t *space, uintptr_t virt, phys_addr_t *frame);

/* Not every lesson's kernel has these: they are called only where it does. */
WEAK void kheap_get_stats(struct kheap_stats *out);
WEAK bool kheap_last_report(struct kheap_report *out);
WEAK extern struct vmm_stats vmm_stats;

/* The wrappers, defined here for the linker only. */
void __wrap_kheap_init(void);
void *__wrap_kmalloc(size_t size);
void *__wrap_kcalloc(size_t n, size_t size);
void *__wrap_kmalloc_aligned(size_t size, size_t align);
void __wrap_kfree(void *ptr);
void __wrap_kheap_set_debug(bool on);
enum paging_status __wrap_paging_map(pte_t *pml4, uintptr_t virt, phys_addr_t phys, uint64_t flags);
enum paging_status __wrap_paging_unmap(pte_t *pml4, uintptr_t virt, phys_addr_t *frame);
phys_addr_t __wrap_pmm_alloc_frame(void);
enum pmm_status __wrap_pmm_free_frame(phys_addr_t frame);
phys_addr_t __wrap_pmm_alloc_frames(size_t count);
enum pmm_status __wrap_pmm_free_frames(phys_addr_t first, size_t count);
void *__wrap_valloc(size_t npages);
enum vmm_status __wrap_vfree(void *ptr);
enum vmm_status __wrap_vmm_map(pte_t *space, uintptr_t virt, phys_addr_t phys, uint64_t flags);
enum vmm_status __wrap_vmm_unmap(pte_t *space, uintptr_t virt, phys_addr_t *frame);

enum {
    LINE_SIZE = 512, /* a `ret` line with every counter at its largest fits */
    /* A test that fills the heap makes 130 000 calls: the trace stops here
     * (and says so) rather than flood the serial port for minutes. */
    MAX_EVENTS = 20000,
};

static size_t events;
static bool in_traced_call; /* page and frame calls are traced only inside one */

#define CALLER ((uintptr_t)__builtin_return_address(0))

/* Writes one event line on the serial port only (not on the screen). */
__attribute__((format(printf, 1, 2))) static void emit(const char *format, ...)
{
    if (events > MAX_EVENTS)
        return;
    char line[LINE_SIZE];
    size_t length = 0;
    if (++events > MAX_EVENTS) {
        length = ksnprintf(line, sizeof(line), "ktrace: truncated after %d events\n", MAX_EVENTS);
    } else {
        va_list args;
        va_start(args, format);
        length = ksnprintf(line, sizeof(line), "ktrace: ");
        length += kvsnprintf(line + length, sizeof(line) - length, format, args);
        va_end(args);
    }
    if (length >= sizeof(line) - 1) { /* cut short: it must still end its line */
        length = sizeof(line) - 1;
        line[length - 1] = '\n';
    }
    for (size_t i = 0; i < length; i++)
        serial_putc(SERIAL_COM1, line[i]);
}

static struct kheap_stats stats_before;

static size_t problems(const struct kheap_stats *s)
{
    return s->bad_frees + s->double_frees + s->redzone_errors + s->poison_errors;
}

static void begin(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* The `call` line; remembers the counters to compare with at the return. */
static void begin(const char *format, ...)
{
    char line[LINE_SIZE];
    va_list args;
    va_start(args, format);
    kvsnprintf(line, sizeof(line), format, args);
    va_end(args);
    emit("call %s\n", line);
    kheap_get_stats(&stats_before);
    in_traced_call = true;
}

/* The bytes just past a new block, up to the end of their page: the value
 * of the first one and how many in a row repeat it ("cc:28"). A heap with
 * redzones writes its pattern there; nothing else is read. */
static void describe_tail(const void *block, size_t size, char *out, size_t out_size)
{
    uintptr_t tail = (uintptr_t)block + size;
    uintptr_t page_end = ALIGN_DOWN(tail, PAGE_SIZE) + PAGE_SIZE;
    phys_addr_t phys;
    out[0] = 0;
    if (size > KHEAP_SIZE || tail < (uintptr_t)block ||
        paging_translate(paging_kernel_pml4(), ALIGN_DOWN(tail, PAGE_SIZE), &phys) != PAGING_OK)
        return;
    const uint8_t *bytes = (const uint8_t *)tail;
    size_t run = 1;
    while (tail + run < page_end && bytes[run] == bytes[0])
        run++;
    ksnprintf(out, out_size, " tail=%02x:%zu", bytes[0], run);
}

/* The `ret` line: the result, the counters, and the warning if one came. */
static void end(const char *function, const void *result, size_t size)
{
    in_traced_call = false;
    char tail[LINE_SIZE / 4] = "";
    if (result != NULL)
        describe_tail(result, size, tail, sizeof(tail));
    struct kheap_stats s;
    kheap_get_stats(&s);
    emit("ret %s result=%lx%s used=%zu requested=%zu allocations=%zu frees=%zu failures=%zu "
         "pages=%zu bad=%zu double=%zu redzone=%zu poison=%zu\n",
         function, (unsigned long)(uintptr_t)result, tail, s.used, s.requested, s.allocations,
         s.frees, s.failures, s.pages_mapped, s.bad_frees, s.double_frees, s.redzone_errors,
         s.poison_errors);
    struct kheap_report report;
    if (problems(&s) != problems(&stats_before) && kheap_last_report(&report))
        emit("report problem=%d block=%lx size=%zu address=%lx\n", (int)report.problem,
             (unsigned long)report.block, report.size, (unsigned long)report.address);
}

/* ---- the heap's public functions ----------------------------------------- */

void __wrap_kheap_init(void)
{
    begin("kheap_init caller=%lx", (unsigned long)CALLER);
    __real_kheap_init();
    emit("window start=%lx end=%lx\n", (unsigned long)KHEAP_START, (unsigned long)KHEAP_END);
    end("kheap_init", NULL, 0);
}

void __wrap_kheap_set_debug(bool on)
{
    begin("kheap_set_debug on=%d caller=%lx", on, (unsigned long)CALLER);
    __real_kheap_set_debug(on);
    end("kheap_set_debug", NULL, 0);
}

void *__wrap_kmalloc(size_t size)
{
    begin("kmalloc size=%zu caller=%lx", size, (unsigned long)CALLER);
    void *block = __real_kmalloc(size);
    end("kmalloc", block, size);
    return block;
}

void *__wrap_kcalloc(size_t n, size_t size)
{
    begin("kcalloc n=%zu size=%zu caller=%lx", n, size, (unsigned long)CALLER);
    void *block = __real_kcalloc(n, size);
    size_t bytes;
    end("kcalloc", block, __builtin_mul_overflow(n, size, &bytes) ? SIZE_MAX : bytes);
    return block;
}

void *__wrap_kmalloc_aligned(size_t size, size_t align)
{
    begin("kmalloc_aligned size=%zu align=%zu caller=%lx", size, align, (unsigned long)CALLER);
    void *block = __real_kmalloc_aligned(size, align);
    end("kmalloc_aligned", block, size);
    return block;
}

void __wrap_kfree(void *ptr)
{
    begin("kfree ptr=%lx caller=%lx", (unsigned long)(uintptr_t)ptr, (unsigned long)CALLER);
    __real_kfree(ptr);
    end("kfree", NULL, 0);
}

/* ---- what the heap asks of the page tables and the PMM ------------------ */

/* A page mapped or unmapped inside a traced call (paging_* or vmm_*);
 * `caller` is the heap's or valloc's code that asked. */
static void note_page(const char *what, uintptr_t virt, phys_addr_t phys, int status,
                      uintptr_t caller)
{
    if (in_traced_call)
        emit("%s virt=%lx phys=%lx status=%d caller=%lx\n", what, (unsigned long)virt,
             (unsigned long)phys, status, (unsigned long)caller);
}

enum paging_status __wrap_paging_map(pte_t *pml4, uintptr_t virt, phys_addr_t phys, uint64_t flags)
{
    enum paging_status status = __real_paging_map(pml4, virt, phys, flags);
    note_page("map", virt, phys, (int)status, CALLER);
    return status;
}

enum paging_status __wrap_paging_unmap(pte_t *pml4, uintptr_t virt, phys_addr_t *frame)
{
    phys_addr_t unmapped = 0;
    enum paging_status status = __real_paging_unmap(pml4, virt, &unmapped);
    if (frame != NULL)
        *frame = unmapped;
    /* kheap_init tries every page of the window: only real unmaps count. */
    if (status != PAGING_NOT_MAPPED)
        note_page("unmap", virt, unmapped, (int)status, CALLER);
    return status;
}

/* ---- lesson 14: the frame calls, events of their own in a kernel with no heap */

/* The PMM's counters, for a frame call's `ret` line. */
static void end_frames(const char *function, phys_addr_t result, int status)
{
    struct pmm_stats s;
    pmm_get_stats(&s);
    emit("ret %s result=%lx status=%d free=%zu allocated=%zu freed=%zu failures=%zu "
         "rejected=%zu\n",
         function, (unsigned long)result, status, s.free_frames, s.frames_allocated, s.frames_freed,
         s.failed_allocations, s.rejected_frees);
}

/* Frame calls are events of their own only in lesson 14's kernel: later
 * lessons' kernels have a heap, and there they are what the heap asked for. */
static bool frames_are_events(void)
{
    return __real_kheap_init == NULL && !in_traced_call;
}

phys_addr_t __wrap_pmm_alloc_frame(void)
{
    uintptr_t caller = CALLER;
    if (frames_are_events()) {
        emit("call pmm_alloc_frame caller=%lx\n", (unsigned long)caller);
        phys_addr_t frame = __real_pmm_alloc_frame();
        end_frames("pmm_alloc_frame", frame, 0);
        return frame;
    }
    phys_addr_t frame = __real_pmm_alloc_frame();
    if (in_traced_call)
        emit("frame-alloc phys=%lx caller=%lx\n", (unsigned long)frame, (unsigned long)caller);
    return frame;
}

enum pmm_status __wrap_pmm_free_frame(phys_addr_t frame)
{
    uintptr_t caller = CALLER;
    if (frames_are_events()) {
        emit("call pmm_free_frame phys=%lx caller=%lx\n", (unsigned long)frame,
             (unsigned long)caller);
        enum pmm_status status = __real_pmm_free_frame(frame);
        end_frames("pmm_free_frame", 0, (int)status);
        return status;
    }
    enum pmm_status status = __real_pmm_free_frame(frame);
    if (in_traced_call)
        emit("frame-free phys=%lx status=%d caller=%lx\n", (unsigned long)frame, (int)status,
             (unsigned long)caller);
    return status;
}

phys_addr_t __wrap_pmm_alloc_frames(size_t count)
{
    bool event = frames_are_events();
    if (event)
        emit("call pmm_alloc_frames count=%zu caller=%lx\n", count, (unsigned long)CALLER);
    phys_addr_t first = __real_pmm_alloc_frames(count);
    if (event)
        end_frames("pmm_alloc_frames", first, 0);
    return first;
}

enum pmm_status __wrap_pmm_free_frames(phys_addr_t first, size_t count)
{
    bool event = frames_are_events();
    if (event)
        emit("call pmm_free_frames phys=%lx count=%zu caller=%lx\n", (unsigned long)first, count,
             (unsigned long)CALLER);
    enum pmm_status status = __real_pmm_free_frames(first, count);
    if (event)
        end_frames("pmm_free_frames", 0, (int)status);
    return status;
}

/* ---- lesson 16: valloc areas and the pages they map ---------------------- */

/* The valloc counters and the PMM's free frames, for valloc's `ret` line. */
static void end_valloc(const char *function, const void *result, int status)
{
    in_traced_call = false;
    emit("ret %s result=%lx status=%d areas=%zu area_pages=%zu warnings=%zu free=%zu\n", function,
         (unsigned long)(uintptr_t)result, status, vmm_stats.areas, vmm_stats.area_pages,
         vmm_stats.warnings, pmm_free_count());
}

void *__wrap_valloc(size_t npages)
{
    emit("call valloc npages=%zu caller=%lx\n", npages, (unsigned long)CALLER);
    emit("window start=%lx end=%lx\n", (unsigned long)VALLOC_START, (unsigned long)VALLOC_END);
    in_traced_call = true;
    void *area = __real_valloc(npages);
    end_valloc("valloc", area, 0);
    return area;
}

enum vmm_status __wrap_vfree(void *ptr)
{
    emit("call vfree ptr=%lx caller=%lx\n", (unsigned long)(uintptr_t)ptr, (unsigned long)CALLER);
    in_traced_call = true;
    enum vmm_status status = __real_vfree(ptr);
    end_valloc("vfree", NULL, (int)status);
    return status;
}

enum vmm_status __wrap_vmm_map(pte_t *space, uintptr_t virt, phys_addr_t phys, uint64_t flags)
{
    enum vmm_status status = __real_vmm_map(space, virt, phys, flags);
    note_page("map", virt, phys, (int)status, CALLER);
    return status;
}

enum vmm_status __wrap_vmm_unmap(pte_t *space, uintptr_t virt, phys_addr_t *frame)
{
    phys_addr_t unmapped = 0;
    enum vmm_status status = __real_vmm_unmap(space, virt, &unmapped);
    if (frame != NULL)
        *frame = unmapped;
    if (status != VMM_NOT_MAPPED)
        note_page("unmap", virt, unmapped, (int)status, CALLER);
    return status;
}
