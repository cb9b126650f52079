/* main.c - lesson 15's kernel: the PMM, then the kernel heap on top of it,
 * and a demo that replays the lesson's example and then makes the classic
 * heap mistakes on purpose. The same demo runs on both heaps (kheap.c and,
 * with KHEAP=freelist, kheap_freelist.c); compare their reports. */
#include "exception.h"
#include "kheap.h"
#include "kprintf.h"
#include "lesson.h"
#include "pmm.h"
#include "string.h"
#include "x86.h"

enum { HEAP_FAULT_TEXT_SIZE = 200 };
enum { DEMO_INTS = 10, DEMO_STRING = 20, DEMO_ALIGNED = 100, DEMO_ALIGN = 256, DEMO_BIG = 5000 };

/* Runs before the usual page-fault report: if the address is in the heap
 * window, say what that most likely means (the report's first line says it
 * too, and so the grader's reason). */
static bool explain_heap_fault(struct interrupt_frame *frame)
{
    (void)frame;
    uint64_t address = read_cr2();
    if (address < KHEAP_START || address >= KHEAP_END)
        return false;
    char text[HEAP_FAULT_TEXT_SIZE];
    ksnprintf(text, sizeof(text),
              "kheap: %p is in the heap window (page %llu of %llu) but that page is not mapped: "
              "a pointer used past the end of its block, after its block was freed, or never "
              "returned by kmalloc",
              (void *)address, (address - KHEAP_START) / PAGE_SIZE, KHEAP_PAGES);
    kprintf("\n%s\n", text);
    exception_set_diagnosis(text);
    return false; /* the usual report follows */
}

void lesson_init(void)
{
    exception_set_handler(VECTOR_PAGE_FAULT, explain_heap_fault);
    kprintf("kheap: window %p..%p (%llu KiB), mapped page by page as it fills\n",
            (void *)KHEAP_START, (void *)KHEAP_END, KHEAP_SIZE / KiB);
}

/* Prints "call -> pointer" and the largest power of two the address is a
 * multiple of (capped at the window's own alignment). */
static void show(const char *call, const void *pointer, const char *note)
{
    kprintf("  %-32s -> ", call);
    if (pointer == NULL) {
        kprintf("NULL%s%s\n", note[0] ? "  " : "", note);
        return;
    }
    uintptr_t address = (uintptr_t)pointer;
    uintptr_t alignment = address & -address;
    alignment = MIN(alignment, (uintptr_t)KHEAP_SIZE);
    kprintf("%p  aligned to %llu%s%s%s\n", pointer,
            alignment >= KiB ? (unsigned long long)(alignment / KiB)
                             : (unsigned long long)alignment,
            alignment >= KiB ? " KiB" : " bytes", note[0] ? "; " : "", note);
}

static bool all_zero(const int *array, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (array[i] != 0)
            return false;
    }
    return true;
}

static void show_problems(void)
{
    struct kheap_stats s;
    kheap_get_stats(&s);
    kprintf("  reported so far: bad frees %zu, double frees %zu, redzone overwrites %zu, "
            "writes after free %zu\n",
            s.bad_frees, s.double_frees, s.redzone_errors, s.poison_errors);
}

/* The classic mistakes. The bump heap never reuses memory, so most of them
 * do no harm there and go unseen; the free-list heap's debug checks report
 * each one with the block's address and size. */
static void make_mistakes(char *str, int *arr)
{
    kprintf("\nMistakes, on purpose. The bump heap reuses nothing, so it only sees the "
            "misaligned pointer;\nthe free-list heap (KHEAP=freelist) in debug mode sees them "
            "all:\n");
    kprintf("  str[%d] = '!'   (one byte past the %d bytes asked for)\n", DEMO_STRING, DEMO_STRING);
    str[DEMO_STRING] = '!';
    kprintf("  kfree(str)\n");
    kfree(str);
    kprintf("  kfree(str)      (a double free)\n");
    kfree(str);
    kprintf("  str[0] = '?'    (a write after free)\n");
    str[0] = '?';
    char *again = kmalloc(DEMO_STRING);
    show("again = kmalloc(20)", again, again == str ? "str's block, reused" : "a new block");
    kprintf("  kfree((char *)arr + 1)  (not the start of a block)\n");
    kfree((char *)arr + 1);
    show_problems();
}

void lesson_demo(void)
{
    kprintf("\nLesson 15: a kernel heap. The lesson's example:\n");
    char *str = kmalloc(DEMO_STRING);
    show("str = kmalloc(20)", str, "");
    if (str == NULL) {
        kprintf("\nkmalloc is not written yet (kheap.c; kheap_freelist.c with KHEAP=freelist): "
                "it returned NULL,\nso the demo stops here. The practice tests say what to "
                "write first: make test-lesson15\n");
        return;
    }
    str[0] = 'H';
    str[1] = 'i';
    str[2] = 0;
    kprintf("  %-32s -> \"%s\"\n", "str[0..2] = \"Hi\"", str);

    int *arr = kcalloc(DEMO_INTS, sizeof(int));
    show("arr = kcalloc(10, sizeof(int))", arr, "");
    if (arr != NULL)
        kprintf("  %-32s -> %s\n", "arr[0..9]", all_zero(arr, DEMO_INTS) ? "all zero" : "NOT ZERO");

    kprintf("\nBeyond the example:\n");
    show("kmalloc_aligned(100, 256)", kmalloc_aligned(DEMO_ALIGNED, DEMO_ALIGN), "");
    show("kmalloc(0)", kmalloc(0), "a unique pointer");
    show("kmalloc(SIZE_MAX)", kmalloc(SIZE_MAX), "compared with the room left: no wrap-around");
    show("kcalloc(SIZE_MAX / 2 + 2, 2)", kcalloc(SIZE_MAX / 2 + 2, 2),
         "n * size overflows (wrapped, it would be 2)");
    show("kmalloc_aligned(64, 24)", kmalloc_aligned(64, 24), "24 is not a power of two");
    kprintf("\n");
    kheap_dump();

    if (arr != NULL)
        make_mistakes(str, arr);

    kprintf("\nA block larger than a page:\n");
    char *big = kmalloc(DEMO_BIG);
    show("big = kmalloc(5000)", big, "");
    kprintf("\n");
    kheap_dump();
    size_t frames_before = pmm_free_count();
    kfree(big);
    kprintf("\nkfree(big): PMM free frames %zu -> %zu\n", frames_before, pmm_free_count());
}
