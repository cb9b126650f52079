/* ktrace.c - the trace's common part (ktrace.h): the event lines, whether a
 * traced call is running, and the page calls of common/paging.c, which every
 * lesson's allocator makes. Built into trace kernels only (build/trace/);
 * each lesson wraps its own functions in lessons/NN-name/trace.c. */
#include "trace/ktrace.h"
#include "kprintf.h"
#include "paging.h"
#include "serial.h"

/* What ld --wrap calls "the real function". */
enum paging_status __real_paging_map(pte_t *pml4, uintptr_t virt, phys_addr_t phys, uint64_t flags);
enum paging_status __real_paging_unmap(pte_t *pml4, uintptr_t virt, phys_addr_t *frame);

/* The wrappers, defined here for the linker only. */
enum paging_status __wrap_paging_map(pte_t *pml4, uintptr_t virt, phys_addr_t phys, uint64_t flags);
enum paging_status __wrap_paging_unmap(pte_t *pml4, uintptr_t virt, phys_addr_t *frame);

enum {
    LINE_SIZE = 512, /* a `ret` line with every counter at its largest fits */
    /* A test that fills the heap makes 130 000 calls: the trace stops here
     * (and says so) rather than flood the serial port for minutes. */
    MAX_EVENTS = 20000,
};

static size_t events;
static bool in_traced_call; /* page and frame calls are traced only inside one */

void ktrace_emit(const char *format, ...)
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

void ktrace_enter(void)
{
    in_traced_call = true;
}

void ktrace_leave(void)
{
    in_traced_call = false;
}

bool ktrace_inside(void)
{
    return in_traced_call;
}

void ktrace_note_page(const char *what, uintptr_t virt, phys_addr_t phys, int status,
                      uintptr_t caller)
{
    if (in_traced_call)
        ktrace_emit("%s virt=%lx phys=%lx status=%d caller=%lx\n", what, (unsigned long)virt,
                    (unsigned long)phys, status, (unsigned long)caller);
}

enum paging_status __wrap_paging_map(pte_t *pml4, uintptr_t virt, phys_addr_t phys, uint64_t flags)
{
    enum paging_status status = __real_paging_map(pml4, virt, phys, flags);
    ktrace_note_page("map", virt, phys, (int)status, KTRACE_CALLER);
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
        ktrace_note_page("unmap", virt, unmapped, (int)status, KTRACE_CALLER);
    return status;
}
