/* vmm_report.c - what the VMM says: the names of its status codes, the
 * plain-words description of a page fault, and the page-fault handler that
 * prints it. Given with the lesson: the student's vmm.c and valloc.c
 * decide what is mapped; this file only reads the result, through the
 * public API (vmm_current, valloc_find) and the page tables themselves.
 */
#include "vmm.h"
#include "exception.h"
#include "kprintf.h"
#include "x86.h"

extern char kernel_stack_guard[]; /* boot.asm: the unmapped page below the stack */

const char *vmm_status_name(enum vmm_status status)
{
    static const char *const names[] = {
        [VMM_OK] = "ok",
        [VMM_UNALIGNED] = "address not page-aligned",
        [VMM_BAD_ADDRESS] = "address the VMM may not change",
        [VMM_BAD_FLAGS] = "flags refused",
        [VMM_ALREADY_MAPPED] = "page already mapped",
        [VMM_NOT_MAPPED] = "page not mapped",
        [VMM_NO_MEMORY] = "no frame for a page table",
        [VMM_NOT_AN_AREA] = "not the start of a valloc area",
        [VMM_BUSY] = "space in use",
        [VMM_NOT_WRITTEN] = "not written yet",
    };
    return (unsigned)status < ARRAY_SIZE(names) && names[status] ? names[status] : "unknown";
}

/* What went wrong, from the error code and the current space's entry. */
static const char *fault_cause(uintptr_t address, uint64_t error_code)
{
    if (error_code & PF_RESERVED_BIT)
        return "reserved bit set in a page-table entry";
    if (!(error_code & PF_PRESENT)) {
        return error_code & PF_FETCH   ? "instruction fetch from an unmapped page"
               : error_code & PF_WRITE ? "write to an unmapped page"
                                       : "read from an unmapped page";
    }
    /* Present: a protection violation. Only a ring-3 access to a page without
     * PTE_USER is a user/kernel one; the 2 MiB pages here are all kernel's. */
    pte_t *entry = paging_walk(vmm_current(), ALIGN_DOWN(address, PAGE_SIZE), false);
    if ((error_code & PF_USER) && (entry == NULL || !(*entry & PTE_USER)))
        return "user access to a kernel page";
    if (error_code & PF_FETCH)
        return "instruction fetch from a no-execute page";
    if (error_code & PF_WRITE)
        return "write to a read-only page";
    return "protection violation";
}

/* Which region of the address space `address` falls in, into buf. */
static void describe_region(uintptr_t address, char *buf, size_t size)
{
    struct valloc_area area;
    uintptr_t stack_guard = (uintptr_t)kernel_stack_guard;
    const char *region;
    if (valloc_find(address, &area)) {
        bool guard = address >= area.start + area.pages * PAGE_SIZE;
        ksnprintf(buf, size, "%sthe valloc area at %p (%zu page%s)",
                  guard ? "guard page after " : "", (void *)area.start, area.pages,
                  area.pages == 1 ? "" : "s");
        return;
    }
    if (address >= VALLOC_START && address < VALLOC_END)
        region = "the valloc window, in no area (freed, or never allocated)";
    else if (address >= stack_guard && address < stack_guard + PAGE_SIZE)
        region = "the kernel stack's guard page (a stack overflow?)";
    else if (address >= (uintptr_t)_text_start && address < (uintptr_t)_kernel_end)
        region = "the kernel image";
    else if (address >= DIRECT_MAP_BASE && address < DIRECT_MAP_BASE + DIRECT_MAP_SIZE)
        region = "the direct map of physical memory";
    else if (address < PAGE_SIZE)
        region = "the first page of the lower half (a NULL pointer?)";
    else if (address < VMM_USER_END)
        region = "the lower half of the current space";
    else if (address >= VMM_KERNEL_START)
        region = "the kernel half, in no region";
    else
        region = "a non-canonical address";
    ksnprintf(buf, size, "%s", region);
}

const char *vmm_describe_fault(uintptr_t address, uint64_t error_code, char *buf, size_t size)
{
    char region[VMM_FAULT_TEXT_SIZE];
    describe_region(address, region, sizeof(region));
    ksnprintf(buf, size, "%s at %p: %s", fault_cause(address, error_code), (void *)address, region);
    return buf;
}

/* Says what the fault means, then lets the default report (or the test
 * harness, for a fault a test expects) take over. A kernel that loads pages
 * on demand or grows stacks would handle some faults here and return true. */
static bool vmm_page_fault(struct interrupt_frame *frame)
{
    static bool describing; /* a fault inside vmm_describe_fault (a broken table?) */
    char text[VMM_FAULT_TEXT_SIZE];
    vmm_stats.page_faults++;
    if (describing) {
        describing = false; /* the outer call never resumes: start afresh next time */
        return false;
    }
    describing = true;
    kprintf("vmm: page fault: %s\n",
            vmm_describe_fault(read_cr2(), frame->error_code, text, sizeof(text)));
    exception_set_diagnosis(text); /* the report's first line, and the grader's reason */
    describing = false;
    return false;
}

void vmm_report_init(void)
{
    exception_set_handler(VECTOR_PAGE_FAULT, vmm_page_fault);
}
