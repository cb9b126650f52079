/* trace.c - lesson 15's trace points (make trace-lesson15; common/trace/ktrace.h):
 * the heap's public functions. Each `ret` line has the counters of
 * kheap_get_stats, kheap_last_report after a warning, and the bytes just
 * past a new block (a redzone pattern, if the heap writes one). */
#include "kheap.h"
#include "kprintf.h"
#include "paging.h"
#include "trace/ktrace.h"

/* What ld --wrap calls "the real function": the student's. */
void __real_kheap_init(void);
void *__real_kmalloc(size_t size);
void *__real_kcalloc(size_t n, size_t size);
void *__real_kmalloc_aligned(size_t size, size_t align);
void __real_kfree(void *ptr);
/* Only the free-list heap has it: weak, so that the bump heap's kernels link. */
void __real_kheap_set_debug(bool on) __attribute__((weak));

/* The wrappers, defined here for the linker only. */
void __wrap_kheap_init(void);
void *__wrap_kmalloc(size_t size);
void *__wrap_kcalloc(size_t n, size_t size);
void *__wrap_kmalloc_aligned(size_t size, size_t align);
void __wrap_kfree(void *ptr);
void __wrap_kheap_set_debug(bool on);

enum { LINE_SIZE = 512 };

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
    ktrace_emit("call %s\n", line);
    kheap_get_stats(&stats_before);
    ktrace_enter();
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
    ktrace_leave();
    char tail[LINE_SIZE / 4] = "";
    if (result != NULL)
        describe_tail(result, size, tail, sizeof(tail));
    struct kheap_stats s;
    kheap_get_stats(&s);
    ktrace_emit("ret %s result=%lx%s used=%zu requested=%zu allocations=%zu frees=%zu "
                "failures=%zu pages=%zu bad=%zu double=%zu redzone=%zu poison=%zu\n",
                function, (unsigned long)(uintptr_t)result, tail, s.used, s.requested,
                s.allocations, s.frees, s.failures, s.pages_mapped, s.bad_frees, s.double_frees,
                s.redzone_errors, s.poison_errors);
    struct kheap_report report;
    if (problems(&s) != problems(&stats_before) && kheap_last_report(&report))
        ktrace_emit("report problem=%d block=%lx size=%zu address=%lx\n", (int)report.problem,
                    (unsigned long)report.block, report.size, (unsigned long)report.address);
}

void __wrap_kheap_init(void)
{
    begin("kheap_init caller=%lx", (unsigned long)KTRACE_CALLER);
    __real_kheap_init();
    ktrace_emit("window start=%lx end=%lx\n", (unsigned long)KHEAP_START, (unsigned long)KHEAP_END);
    end("kheap_init", NULL, 0);
}

void __wrap_kheap_set_debug(bool on)
{
    begin("kheap_set_debug on=%d caller=%lx", on, (unsigned long)KTRACE_CALLER);
    __real_kheap_set_debug(on);
    end("kheap_set_debug", NULL, 0);
}

void *__wrap_kmalloc(size_t size)
{
    begin("kmalloc size=%zu caller=%lx", size, (unsigned long)KTRACE_CALLER);
    void *block = __real_kmalloc(size);
    end("kmalloc", block, size);
    return block;
}

void *__wrap_kcalloc(size_t n, size_t size)
{
    begin("kcalloc n=%zu size=%zu caller=%lx", n, size, (unsigned long)KTRACE_CALLER);
    void *block = __real_kcalloc(n, size);
    size_t bytes;
    end("kcalloc", block, __builtin_mul_overflow(n, size, &bytes) ? SIZE_MAX : bytes);
    return block;
}

void *__wrap_kmalloc_aligned(size_t size, size_t align)
{
    begin("kmalloc_aligned size=%zu align=%zu caller=%lx", size, align,
          (unsigned long)KTRACE_CALLER);
    void *block = __real_kmalloc_aligned(size, align);
    end("kmalloc_aligned", block, size);
    return block;
}

void __wrap_kfree(void *ptr)
{
    begin("kfree ptr=%lx caller=%lx", (unsigned long)(uintptr_t)ptr, (unsigned long)KTRACE_CALLER);
    __real_kfree(ptr);
    end("kfree", NULL, 0);
}
