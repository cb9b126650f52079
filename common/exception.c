/* exception.c - the IDT and the default exception handler: name the
 * exception, decode the error code, show where it happened and how we got
 * there, then stop (or hand control back to the test harness). */
#include "exception.h"
#include "emulator.h"
#include "gdt.h"
#include "kprintf.h"
#include "witness.h"
#include "x86.h"

struct __attribute__((packed)) idt_entry {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attributes;
    uint16_t offset_middle;
    uint32_t offset_high;
    uint32_t reserved;
};

struct __attribute__((packed)) idt_pointer {
    uint16_t limit;
    uint64_t base;
};

#define IDT_INTERRUPT_GATE 0x8E /* present, ring 0, interrupts stay disabled */

extern const uint64_t isr_table[EXCEPTION_VECTORS];    /* isr.asm */
extern char kernel_stack_bottom[], kernel_stack_top[]; /* boot.asm */

static struct idt_entry idt[EXCEPTION_VECTORS];
static exception_handler_t handlers[EXCEPTION_VECTORS];

enum { DIAGNOSIS_SIZE = 256 };
static char diagnosis[DIAGNOSIS_SIZE]; /* for the exception being handled; "" if none */
void (*crash_hook)(const char *reason);
void (*expected_fault_hook)(const struct interrupt_frame *frame);

static const char *const exception_names[EXCEPTION_VECTORS] = {
    "#DE divide error",
    "#DB debug",
    "NMI",
    "#BP breakpoint",
    "#OF overflow",
    "#BR bound range exceeded",
    "#UD invalid opcode",
    "#NM device not available",
    "#DF double fault",
    "coprocessor segment overrun",
    "#TS invalid TSS",
    "#NP segment not present",
    "#SS stack-segment fault",
    "#GP general protection fault",
    "#PF page fault",
    "reserved (15)",
    "#MF x87 floating-point error",
    "#AC alignment check",
    "#MC machine check",
    "#XM SIMD floating-point error",
    "#VE virtualization exception",
    "#CP control protection",
    "reserved (22)",
    "reserved (23)",
    "reserved (24)",
    "reserved (25)",
    "reserved (26)",
    "reserved (27)",
    "#HV hypervisor injection",
    "#VC VMM communication",
    "#SX security exception",
    "reserved (31)",
};

const char *exception_name(unsigned vector)
{
    return vector < EXCEPTION_VECTORS ? exception_names[vector] : "interrupt";
}

void idt_init(void)
{
    for (unsigned vector = 0; vector < EXCEPTION_VECTORS; vector++) {
        uint64_t handler = isr_table[vector];
        idt[vector] = (struct idt_entry){
            .offset_low = handler & 0xFFFF,
            .selector = GDT_KERNEL_CODE,
            .ist = vector == VECTOR_DOUBLE_FAULT ? IST_DOUBLE_FAULT : 0,
            .type_attributes = IDT_INTERRUPT_GATE,
            .offset_middle = (handler >> 16) & 0xFFFF,
            .offset_high = handler >> 32,
        };
    }
    struct idt_pointer pointer = {.limit = sizeof(idt) - 1, .base = (uint64_t)idt};
    __asm__ volatile("lidt %0" : : "m"(pointer));
}

void exception_set_handler(unsigned vector, exception_handler_t handler)
{
    if (vector < EXCEPTION_VECTORS)
        handlers[vector] = handler;
}

/* A frame pointer is followed only while it points into the kernel stack, so
 * a corrupted chain ends the backtrace instead of faulting inside it. */
static bool is_stack_frame(uint64_t rbp)
{
    return rbp >= (uint64_t)kernel_stack_bottom && rbp + 16 <= (uint64_t)kernel_stack_top &&
           IS_ALIGNED(rbp, sizeof(uint64_t));
}

enum { BACKTRACE_MAX_FRAMES = 16 };

void print_backtrace(uint64_t rbp)
{
    kprintf("backtrace:\n");
    for (int depth = 0; depth < BACKTRACE_MAX_FRAMES && is_stack_frame(rbp); depth++) {
        const uint64_t *frame = (const uint64_t *)rbp;
        if (frame[1] == 0)
            break;
        kprintf("  #%d %p\n", depth, (void *)frame[1]);
        rbp = frame[0];
    }
}

static void print_page_fault_cause(uint64_t error_code)
{
    kprintf("  cause: %s during %s in %s mode%s%s\n",
            error_code & PF_PRESENT ? "protection violation" : "page not present",
            error_code & PF_FETCH   ? "an instruction fetch"
            : error_code & PF_WRITE ? "a write"
                                    : "a read",
            error_code & PF_USER ? "user" : "kernel",
            error_code & PF_RESERVED_BIT ? ", reserved bit set in a page-table entry" : "",
            (error_code & (PF_FETCH | PF_PRESENT)) == (PF_FETCH | PF_PRESENT)
                ? " (the page is no-execute)"
                : "");
}

void exception_set_diagnosis(const char *text)
{
    ksnprintf(diagnosis, sizeof(diagnosis), "%s", text);
}

/* "write to 0x...(page not present)": a page fault's access, as the first
 * line of the report gives it. */
static void print_page_fault_access(uint64_t error_code)
{
    kprintf(": %s %p (%s)",
            error_code & PF_FETCH   ? "instruction fetch at"
            : error_code & PF_WRITE ? "write to"
                                    : "read from",
            (void *)read_cr2(),
            error_code & PF_PRESENT ? "protection violation" : "page not present");
}

static void print_exception_report(const struct interrupt_frame *frame)
{
    witness_crash_report();
    /* The first line says it all: the grader quotes it as the test's reason. */
    kprintf("\n*** EXCEPTION %llu: %s", (unsigned long long)frame->vector,
            exception_name((unsigned)frame->vector));
    if (frame->vector == VECTOR_PAGE_FAULT)
        print_page_fault_access(frame->error_code);
    if (diagnosis[0] != '\0')
        kprintf(": %s", diagnosis);
    kprintf(" ***\n");
    kprintf("  error code: 0x%llx\n", (unsigned long long)frame->error_code);
    if (frame->vector == VECTOR_PAGE_FAULT) {
        kprintf("  faulting address (CR2): %p\n", (void *)read_cr2());
        print_page_fault_cause(frame->error_code);
    }
    if (frame->vector == VECTOR_DOUBLE_FAULT)
        kprintf("  (a fault while handling a fault: often a kernel stack overflow)\n");
    kprintf("  RIP=%p RSP=%p RFLAGS=%p\n", (void *)frame->rip, (void *)frame->rsp,
            (void *)frame->rflags);
    kprintf("  RAX=%p RBX=%p RCX=%p RDX=%p\n", (void *)frame->rax, (void *)frame->rbx,
            (void *)frame->rcx, (void *)frame->rdx);
    kprintf("  RSI=%p RDI=%p RBP=%p R8 =%p\n", (void *)frame->rsi, (void *)frame->rdi,
            (void *)frame->rbp, (void *)frame->r8);
    kprintf("  R9 =%p R10=%p R11=%p R12=%p\n", (void *)frame->r9, (void *)frame->r10,
            (void *)frame->r11, (void *)frame->r12);
    kprintf("  R13=%p R14=%p R15=%p CR3=%p\n", (void *)frame->r13, (void *)frame->r14,
            (void *)frame->r15, (void *)read_cr3());
    kprintf("  faulting instruction at %p\n", (void *)frame->rip);
    print_backtrace(frame->rbp);
}

void exception_dispatch(struct interrupt_frame *frame)
{
    exception_handler_t handler = handlers[frame->vector];
    diagnosis[0] = '\0'; /* a handler may give one for this exception */
    if (handler != NULL && handler(frame))
        return;
    if (expected_fault_hook != NULL)
        expected_fault_hook(frame);

    print_exception_report(frame);
    if (crash_hook != NULL)
        crash_hook(exception_name((unsigned)frame->vector));
    kprintf("kernel: halted after an exception\n");
    emulator_exit(false);
}
