/* tests.c - lesson 16's in-kernel tests. Each exists because a plausible
 * wrong VMM fails it; the name says what is being proved. Lecture: what
 * vmm_report.c gives. Practice 1: spaces and pages (vmm.c). Practice 2:
 * valloc. Homework 1: vfree; 2: vmm_destroy; 3: the flag rules, vmm_protect.
 *
 * Tests that switch spaces or take memory hold it in `held`: a cleanup
 * (ktest_defer) switches back to the kernel's space and gives everything
 * back even when a test crashes, so the next test starts from a sane
 * kernel. */
#include "exception.h"
#include "ktest.h"
#include "kprintf.h"
#include "paging.h"
#include "pmm.h"
#include "string.h"
#include "vmm.h"
#include "x86.h"

#define USER_PAGE     0x400000ull                  /* a lower-half page the tests map */
#define USER_TOP_PAGE 0x00007FFFFFFFF000ull        /* the last page of the lower half */
#define NON_CANONICAL 0x0000800000000000ull        /* the first address of the hole */
#define UNSHARED_SLOT 0xFFFF808000000000ull        /* kernel half, PML4 entry 257: absent */
#define DIRECT_2MIB   (DIRECT_MAP_BASE + 0x200000) /* inside a 2 MiB page */
/* A kernel-half page no one uses: PML4 entry 511 (since boot), its last GiB. */
#define KERNEL_TEST_PAGE 0xFFFFFFFFC0000000ull

enum {
    HELD_SPACES = 2,
    HELD_FRAMES = 4,
    HELD_AREAS = 3,
    SCARCE_FRAMES = 40, /* what the out-of-memory test leaves free */
    LARGE_AREA = 600,   /* pages: more than one page table's 512 */
    HEX_SIZE = 19,      /* "0x" + 16 digits + '\0' */
    TEXT_SIZE = 64,
};

/* ---- what a test holds, given back when it ends ----------------------------- */

static struct {
    pte_t *spaces[HELD_SPACES];
    phys_addr_t frames[HELD_FRAMES];
    void *areas[HELD_AREAS];
    size_t space_count, frame_count, area_count;
    uintptr_t kernel_page; /* a page a test mapped by hand in the kernel half */
    phys_addr_t hog;       /* frames taken to make memory scarce, chained */
} held;

static void give_back(void)
{
    vmm_switch(vmm_kernel_space());
    if (held.kernel_page != 0)
        vmm_unmap(vmm_kernel_space(), held.kernel_page, NULL);
    for (size_t i = 0; i < held.space_count; i++)
        vmm_destroy(held.spaces[i]);
    for (size_t i = 0; i < held.area_count; i++)
        vfree(held.areas[i]);
    for (size_t i = 0; i < held.frame_count; i++)
        pmm_free_frame(held.frames[i]);
    while (held.hog != PMM_NO_FRAME) {
        phys_addr_t next = *(phys_addr_t *)phys_to_virt(held.hog);
        pmm_free_frame(held.hog);
        held.hog = next;
    }
    memset(&held, 0, sizeof(held));
}

/* A new space, NULL if out of memory (the caller checks). */
static pte_t *new_space(void)
{
    ktest_defer(give_back);
    KASSERT_LE(held.space_count + 1, HELD_SPACES);
    return held.spaces[held.space_count++] = vmm_create();
}

/* A frame whose first bytes hold `text`, the rest zero. */
static phys_addr_t new_frame(const char *text)
{
    ktest_defer(give_back);
    KASSERT_LE(held.frame_count + 1, HELD_FRAMES);
    phys_addr_t frame = pmm_alloc_frame();
    KASSERT_NE(frame, PMM_NO_FRAME);
    memset(phys_to_virt(frame), 0, PAGE_SIZE);
    memcpy(phys_to_virt(frame), text, strlen(text) + 1);
    return held.frames[held.frame_count++] = frame;
}

static void *new_area(size_t npages)
{
    ktest_defer(give_back);
    KASSERT_LE(held.area_count + 1, HELD_AREAS);
    void *area = valloc(npages);
    KASSERT_NOT_NULL(area);
    return held.areas[held.area_count++] = area;
}

/* Takes frames until only `left` are free, chaining them through their
 * first word. */
static void hog_all_but(size_t left)
{
    ktest_defer(give_back);
    while (pmm_free_count() > left) {
        phys_addr_t frame = pmm_alloc_frame();
        if (frame == PMM_NO_FRAME)
            break;
        *(phys_addr_t *)phys_to_virt(frame) = held.hog;
        held.hog = frame;
    }
}

/* ---- other helpers ------------------------------------------------------- */

/* What a test runs under ktest_catch_fault, where a fault is the good news. */
static void read_byte(void *address)
{
    (void)*(volatile uint8_t *)address;
}

static void write_byte(void *address)
{
    *(volatile uint8_t *)address = 0x5A;
}

static void execute(void *address)
{
    ((void (*)(void))address)();
}

static bool contains(const char *text, const char *part)
{
    size_t length = strlen(part);
    for (; *text; text++) {
        if (strncmp(text, part, length) == 0)
            return true;
    }
    return length == 0;
}

#define KEXPECT_CONTAINS(text, part)                                                               \
    do {                                                                                           \
        if (!contains((text), (part)))                                                             \
            ktest_fail_at(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", (text), (part));   \
    } while (0)

/* `address` as kprintf's %p writes it. */
static const char *hex(uintptr_t address, char out[HEX_SIZE])
{
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 16; i++)
        out[2 + i] = "0123456789abcdef"[(address >> (60 - 4 * i)) & 0xF];
    out[18] = '\0';
    return out;
}

/* "<prefix>0x...": what a description must contain to name an area. */
static const char *naming(const char *prefix, uintptr_t address, char out[TEXT_SIZE])
{
    char digits[HEX_SIZE];
    size_t length = strlen(prefix);
    memcpy(out, prefix, length + 1);
    memcpy(out + length, hex(address, digits), HEX_SIZE);
    return out;
}

/* ---- lecture: what vmm_report.c gives ------------------------------------------ */

static const uint8_t read_only_byte[16] = {1}; /* in .rodata */

KTEST_LECTURE(fault_description_names_cause_and_place, 2)
{
    struct ktest_fault fault = {0};
    char text[VMM_FAULT_TEXT_SIZE];
    KASSERT_TRUE(ktest_catch_fault(write_byte, (void *)read_only_byte, &fault));
    KEXPECT_EQ(fault.error_code & (PF_PRESENT | PF_WRITE), PF_PRESENT | PF_WRITE);
    vmm_describe_fault(fault.address, fault.error_code, text, sizeof(text));
    KEXPECT_CONTAINS(text, "write to a read-only page");
    KEXPECT_CONTAINS(text, "the kernel image");

    /* Ring 3 cannot run here; the description is judged from the error code. */
    vmm_describe_fault(DIRECT_MAP_BASE + 0x5000, PF_PRESENT | PF_USER, text, sizeof(text));
    KEXPECT_CONTAINS(text, "user access to a kernel page");
    KEXPECT_CONTAINS(text, "the direct map");

    char small[8 + 1];
    small[8] = '!';
    vmm_describe_fault(0x10, 0, small, 8);
    KEXPECT_EQ(strlen(small), 7);
    KEXPECT_EQ(small[8], '!');
}

KTEST_LECTURE(null_pointer_fault_is_counted_and_named, 1)
{
    size_t faults = vmm_stats.page_faults;
    struct ktest_fault fault = {0};
    KASSERT_TRUE(ktest_catch_fault(read_byte, (void *)0x10, &fault));
    KEXPECT_EQ(fault.vector, VECTOR_PAGE_FAULT);
    KEXPECT_EQ(fault.address, 0x10);
    KEXPECT_EQ(vmm_stats.page_faults, faults + 1); /* the VMM's handler saw it */
    char text[VMM_FAULT_TEXT_SIZE];
    vmm_describe_fault(fault.address, fault.error_code, text, sizeof(text));
    KEXPECT_CONTAINS(text, "read from an unmapped page at 0x0000000000000010");
    KEXPECT_CONTAINS(text, "NULL pointer");
}

/* ---- practice 1: address spaces ------------------------------------------------ */

/* Copies the string at USER_PAGE, as `space` sees it. */
static void read_in(pte_t *space, char out[TEXT_SIZE])
{
    vmm_switch(space);
    memcpy(out, (const char *)USER_PAGE, TEXT_SIZE);
    out[TEXT_SIZE - 1] = '\0';
    vmm_switch(vmm_kernel_space());
}

KTEST_PRACTICE(two_spaces_see_different_data_at_one_address, 3)
{
    pte_t *a = new_space(), *b = new_space();
    KASSERT_NOT_NULL(a);
    KASSERT_NOT_NULL(b);
    KEXPECT_NE(a, b);
    phys_addr_t frame_a = new_frame("space A"), frame_b = new_frame("space B");
    uint64_t flags = PTE_WRITABLE | PTE_NO_EXECUTE;
    KASSERT_EQ(vmm_map(a, USER_PAGE, frame_a, flags), VMM_OK);
    KASSERT_EQ(vmm_map(b, USER_PAGE, frame_b, flags), VMM_OK);

    char seen[TEXT_SIZE];
    read_in(a, seen);
    KEXPECT_EQ(strcmp(seen, "space A"), 0);
    read_in(b, seen);
    KEXPECT_EQ(strcmp(seen, "space B"), 0);
    read_in(a, seen); /* and back: the switch, not the order, decides */
    KEXPECT_EQ(strcmp(seen, "space A"), 0);

    /* A write through B's mapping lands in B's frame. */
    vmm_switch(b);
    KEXPECT_EQ(vmm_current(), b);
    *(volatile char *)USER_PAGE = 'X';
    vmm_switch(vmm_kernel_space());
    KEXPECT_EQ(*(char *)phys_to_virt(frame_b), 'X');
    KEXPECT_EQ(*(char *)phys_to_virt(frame_a), 's');
}

KTEST_PRACTICE(kernel_half_is_identical_in_every_space, 2)
{
    KEXPECT_NE(vmm_kernel_space()[page_table_index(VALLOC_START, 4)] & PTE_PRESENT, 0);
    size_t spaces = vmm_stats.spaces;
    pte_t *space = new_space();
    KASSERT_NOT_NULL(space);
    KEXPECT_EQ(vmm_stats.spaces, spaces + 1);
    const pte_t *kernel = vmm_kernel_space();
    for (unsigned i = 0; i < PAGE_TABLE_ENTRIES; i++) {
        ktest_note("PML4 entry %u", i);
        if (i >= VMM_KERNEL_SLOT)
            KEXPECT_EQ(space[i], kernel[i]);
        else
            KEXPECT_EQ(space[i], 0);
    }
    ktest_note_clear();

    /* A kernel mapping made after the space was created is seen in it too. */
    phys_addr_t frame = new_frame("made later");
    held.kernel_page = KERNEL_TEST_PAGE;
    KASSERT_EQ(vmm_map(vmm_kernel_space(), KERNEL_TEST_PAGE, frame, PTE_NO_EXECUTE), VMM_OK);
    vmm_switch(space);
    char seen[TEXT_SIZE];
    memcpy(seen, (const char *)KERNEL_TEST_PAGE, sizeof(seen));
    vmm_switch(vmm_kernel_space());
    KEXPECT_EQ(strcmp(seen, "made later"), 0);
}

/* ---- practice 1: pages in a space ---------------------------------------------- */

KTEST_PRACTICE(map_translate_unmap_round_trip, 2)
{
    pte_t *space = new_space();
    KASSERT_NOT_NULL(space);
    phys_addr_t frame = new_frame("round trip"), phys = 0, unmapped = 0;
    KEXPECT_EQ(vmm_map(space, USER_PAGE, frame, PTE_NO_EXECUTE), VMM_OK);
    /* One frame may be mapped at two pages. */
    KEXPECT_EQ(vmm_map(space, USER_TOP_PAGE, frame, PTE_NO_EXECUTE), VMM_OK);
    KEXPECT_EQ(vmm_translate(space, USER_PAGE + 0x123, &phys), VMM_OK);
    KEXPECT_EQ(phys, frame + 0x123);
    KEXPECT_EQ(vmm_translate(space, USER_TOP_PAGE + 0xFFF, &phys), VMM_OK);
    KEXPECT_EQ(phys, frame + 0xFFF);
    KEXPECT_EQ(vmm_translate(vmm_kernel_space(), USER_PAGE, &phys), VMM_NOT_MAPPED);

    size_t free_before = pmm_free_count();
    KEXPECT_EQ(vmm_unmap(space, USER_PAGE, &unmapped), VMM_OK);
    KEXPECT_EQ(unmapped, frame);
    KEXPECT_EQ(vmm_translate(space, USER_PAGE, &phys), VMM_NOT_MAPPED);
    KEXPECT_EQ(vmm_unmap(space, USER_TOP_PAGE, NULL), VMM_OK);
    KEXPECT_EQ(vmm_translate(space, USER_TOP_PAGE, &phys), VMM_NOT_MAPPED);
    KEXPECT_EQ(pmm_free_count(), free_before); /* unmapping frees neither frame nor table */
}

KTEST_PRACTICE(unmap_is_visible_at_once, 3)
{
    struct ktest_fault user_fault = {0}, kernel_fault = {0};
    /* A lower-half page of the current space: the TLB holds it after a read. */
    pte_t *space = new_space();
    KASSERT_NOT_NULL(space);
    KASSERT_EQ(vmm_map(space, USER_PAGE, new_frame("cached"), PTE_NO_EXECUTE), VMM_OK);
    phys_addr_t kernel_frame = new_frame("kernel half");
    held.kernel_page = KERNEL_TEST_PAGE;
    KASSERT_EQ(vmm_map(vmm_kernel_space(), KERNEL_TEST_PAGE, kernel_frame, PTE_NO_EXECUTE), VMM_OK);
    vmm_switch(space);
    read_byte((void *)USER_PAGE);
    KEXPECT_EQ(vmm_unmap(space, USER_PAGE, NULL), VMM_OK);
    ktest_note("a page of the current space, read, unmapped, read again: the second read "
               "still reached it through a stale TLB entry");
    bool faulted = ktest_catch_fault(read_byte, (void *)USER_PAGE, &user_fault);
    KEXPECT_TRUE(faulted);
    KEXPECT_EQ(user_fault.address, USER_PAGE);

    /* A kernel-half page, unmapped through the kernel's space while another
     * space is current: the current one shares that page, so it must not
     * keep seeing it either. */
    read_byte((void *)KERNEL_TEST_PAGE);
    KEXPECT_EQ(vmm_unmap(vmm_kernel_space(), KERNEL_TEST_PAGE, NULL), VMM_OK);
    ktest_note("a kernel-half page, unmapped through the kernel's space while another space is "
               "current: the current space still reached it through a stale TLB entry");
    faulted = ktest_catch_fault(read_byte, (void *)KERNEL_TEST_PAGE, &kernel_fault);
    KEXPECT_TRUE(faulted);
    KEXPECT_EQ(kernel_fault.address, KERNEL_TEST_PAGE);
    ktest_note_clear();
}

KTEST_PRACTICE(map_and_unmap_reject_bad_input, 3)
{
    pte_t *space = new_space();
    KASSERT_NOT_NULL(space);
    pte_t *kernel = vmm_kernel_space();
    phys_addr_t frame = new_frame("first"), other = new_frame("second"), phys;
    uint64_t flags = PTE_NO_EXECUTE;
    KEXPECT_EQ(vmm_map(space, USER_PAGE + 8, frame, flags), VMM_UNALIGNED);
    KEXPECT_EQ(vmm_map(space, USER_PAGE, frame + 8, flags), VMM_UNALIGNED);
    KEXPECT_EQ(vmm_map(space, NON_CANONICAL, frame, flags), VMM_BAD_ADDRESS);
    KEXPECT_EQ(vmm_map(space, UNSHARED_SLOT, frame, flags), VMM_BAD_ADDRESS);
    KEXPECT_EQ(space[page_table_index(UNSHARED_SLOT, 4)], 0); /* nothing made there */
    KEXPECT_EQ(vmm_translate(space, USER_PAGE, &phys), VMM_NOT_MAPPED);

    KEXPECT_EQ(vmm_map(space, USER_PAGE, frame, flags), VMM_OK);
    KEXPECT_EQ(vmm_map(space, USER_PAGE, other, flags), VMM_ALREADY_MAPPED);
    KEXPECT_EQ(vmm_translate(space, USER_PAGE, &phys), VMM_OK);
    KEXPECT_EQ(phys, frame); /* the first mapping stands */
    KEXPECT_EQ(vmm_map(kernel, DIRECT_2MIB, other, flags), VMM_ALREADY_MAPPED);

    KEXPECT_EQ(vmm_unmap(space, USER_PAGE + PAGE_SIZE, NULL), VMM_NOT_MAPPED);
    KEXPECT_EQ(vmm_unmap(space, USER_PAGE + 8, NULL), VMM_UNALIGNED);
    KEXPECT_EQ(vmm_unmap(space, NON_CANONICAL, NULL), VMM_BAD_ADDRESS);
    KEXPECT_EQ(vmm_unmap(kernel, DIRECT_2MIB, NULL), VMM_BAD_ADDRESS);
    KEXPECT_EQ(vmm_translate(kernel, DIRECT_2MIB + 0x1234, &phys), VMM_OK);
    KEXPECT_EQ(phys, 0x201234); /* the direct map is intact */
    KEXPECT_EQ(vmm_translate(space, NON_CANONICAL, &phys), VMM_BAD_ADDRESS);
}

/* ---- practice 2: valloc ------------------------------------------------------------ */

KTEST_PRACTICE(valloc_memory_is_aligned_mapped_zeroed_writable, 3)
{
    enum { PAGES = 4 };
    /* Dirty some free frames: the PMM hands freed frames out first, so
     * zeroed pages prove that valloc zeroes, not that memory was clean. */
    phys_addr_t dirty[PAGES];
    for (int i = 0; i < PAGES; i++) {
        dirty[i] = pmm_alloc_frame();
        KASSERT_NE(dirty[i], PMM_NO_FRAME);
        memset(phys_to_virt(dirty[i]), 0xAA, PAGE_SIZE);
    }
    for (int i = 0; i < PAGES; i++)
        pmm_free_frame(dirty[i]);

    size_t areas = vmm_stats.areas, area_pages = vmm_stats.area_pages;
    uint8_t *area = new_area(PAGES);
    KEXPECT_EQ(vmm_stats.areas, areas + 1);
    KEXPECT_EQ(vmm_stats.area_pages, area_pages + PAGES);
    KEXPECT_EQ((uintptr_t)area % PAGE_SIZE, 0);
    KEXPECT_GE((uintptr_t)area, VALLOC_START);
    KEXPECT_LE((uintptr_t)area + PAGES * PAGE_SIZE, VALLOC_END);
    phys_addr_t frames[PAGES];
    for (int i = 0; i < PAGES; i++) {
        ktest_note("page %d", i);
        KEXPECT_EQ(vmm_translate(vmm_current(), (uintptr_t)area + i * PAGE_SIZE, &frames[i]),
                   VMM_OK);
        for (int j = 0; j < i; j++)
            KEXPECT_NE(frames[i], frames[j]);
    }
    ktest_note_clear();
    size_t nonzero = 0;
    for (size_t i = 0; i < PAGES * PAGE_SIZE; i++)
        nonzero += area[i] != 0;
    KEXPECT_EQ(nonzero, 0);
    for (size_t i = 0; i < PAGES * PAGE_SIZE; i++)
        area[i] = (uint8_t)i;
    size_t wrong = 0;
    for (size_t i = 0; i < PAGES * PAGE_SIZE; i++)
        wrong += area[i] != (uint8_t)i;
    KEXPECT_EQ(wrong, 0);
}

KTEST_PRACTICE(valloc_areas_are_apart_with_a_guard_page, 2)
{
    uint8_t *a = new_area(2), *b = new_area(3);
    uintptr_t a_end = (uintptr_t)a + 3 * PAGE_SIZE, b_end = (uintptr_t)b + 4 * PAGE_SIZE;
    KEXPECT_TRUE(a_end <= (uintptr_t)b || b_end <= (uintptr_t)a); /* guards included */
    phys_addr_t phys;
    KEXPECT_EQ(vmm_translate(vmm_current(), (uintptr_t)a + 2 * PAGE_SIZE, &phys), VMM_NOT_MAPPED);
    KEXPECT_EQ(vmm_translate(vmm_current(), (uintptr_t)b + 3 * PAGE_SIZE, &phys), VMM_NOT_MAPPED);
    memset(a, 0xFF, 2 * PAGE_SIZE);
    size_t changed = 0;
    for (size_t i = 0; i < 3 * PAGE_SIZE; i++)
        changed += b[i] != 0;
    KEXPECT_EQ(changed, 0);
}

KTEST_PRACTICE(guard_page_write_faults_and_is_named, 3)
{
    uint8_t *area = new_area(3);
    uint8_t *guard = area + 3 * PAGE_SIZE;
    area[3 * PAGE_SIZE - 1] = 1; /* the last byte of the area is fine */
    struct ktest_fault fault = {0};
    KASSERT_TRUE(ktest_catch_fault(write_byte, guard, &fault));
    KEXPECT_EQ(fault.vector, VECTOR_PAGE_FAULT);
    KEXPECT_EQ(fault.address, guard);
    KEXPECT_EQ(fault.error_code & (PF_PRESENT | PF_WRITE | PF_USER), PF_WRITE);
    char text[VMM_FAULT_TEXT_SIZE], name[TEXT_SIZE];
    vmm_describe_fault(fault.address, fault.error_code, text, sizeof(text));
    KEXPECT_CONTAINS(text, "write to an unmapped page");
    KEXPECT_CONTAINS(text, naming("guard page after the valloc area at ", (uintptr_t)area, name));
    KEXPECT_CONTAINS(text, "(3 pages)");
    vmm_describe_fault((uintptr_t)area + PAGE_SIZE, PF_PRESENT, text, sizeof(text));
    KEXPECT_CONTAINS(text, naming(": the valloc area at ", (uintptr_t)area, name));
}

KTEST_PRACTICE(valloc_memory_is_not_executable, 1)
{
    uint8_t *area = new_area(1);
    area[0] = 0xC3; /* ret: if the page were executable, the call would return */
    struct ktest_fault fault = {0};
    KASSERT_TRUE(ktest_catch_fault(execute, area, &fault));
    KEXPECT_EQ(fault.address, area);
    KEXPECT_EQ(fault.error_code & (PF_PRESENT | PF_FETCH), PF_PRESENT | PF_FETCH);
    char text[VMM_FAULT_TEXT_SIZE], name[TEXT_SIZE];
    vmm_describe_fault(fault.address, fault.error_code, text, sizeof(text));
    KEXPECT_CONTAINS(text, "instruction fetch from a no-execute page");
    KEXPECT_CONTAINS(text, naming("the valloc area at ", (uintptr_t)area, name));
}

KTEST_PRACTICE(valloc_rejects_bad_sizes, 2)
{
    size_t free_before = pmm_free_count(), areas = vmm_stats.areas;
    /* Not libc's valloc(bytes): ours counts pages, and 0 pages is the bad input. */
    static const size_t bad[] = {
        0,                        /* nothing to allocate */
        SIZE_MAX,                 /* (n + 1) * PAGE_SIZE wraps */
        SIZE_MAX / PAGE_SIZE + 1, /* n * PAGE_SIZE wraps */
        VALLOC_PAGES,             /* no room for the guard page */
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        ktest_note("npages = %zu", bad[i]);
        KEXPECT_NULL(valloc(bad[i]));
        KEXPECT_EQ(pmm_free_count(), free_before);
        KEXPECT_EQ(vmm_stats.areas, areas);
    }
    ktest_note_clear();
    void *area = new_area(1); /* and valloc still works */
    KEXPECT_NOT_NULL(area);
}

/* ---- homework 1: vfree ------------------------------------------------------------- */

KTEST_HOMEWORK(vfree_gives_back_frames_and_tables, 3)
{
    size_t free_before = pmm_free_count(), areas = vmm_stats.areas;
    size_t area_pages = vmm_stats.area_pages;
    uint8_t *area = valloc(LARGE_AREA);
    KASSERT_NOT_NULL(area);
    KEXPECT_LE(pmm_free_count(), free_before - LARGE_AREA - 1); /* at least one PT */
    for (size_t i = 0; i < LARGE_AREA; i++)
        area[i * PAGE_SIZE] = 1;
    KEXPECT_EQ(vfree(area), VMM_OK);
    KEXPECT_EQ(pmm_free_count(), free_before);
    KEXPECT_EQ(vmm_stats.areas, areas);
    KEXPECT_EQ(vmm_stats.area_pages, area_pages);
    phys_addr_t phys;
    KEXPECT_EQ(vmm_translate(vmm_current(), (uintptr_t)area, &phys), VMM_NOT_MAPPED);
    KEXPECT_EQ(vmm_translate(vmm_current(), (uintptr_t)area + (LARGE_AREA - 1) * PAGE_SIZE, &phys),
               VMM_NOT_MAPPED);
}

KTEST_HOMEWORK(vfree_rejects_bad_pointers, 2)
{
    uint8_t *area = valloc(2);
    KASSERT_NOT_NULL(area);
    area[0] = 7;
    size_t warnings = vmm_stats.warnings, areas = vmm_stats.areas;
    int local;
    void *const bad[] = {
        area + PAGE_SIZE,     /* inside */
        area + 1,             /* inside, not page-aligned */
        area + 2 * PAGE_SIZE, /* its guard page */
        &local,               /* not in the window */
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        ktest_note("vfree(%p)", bad[i]);
        KEXPECT_EQ(vfree(bad[i]), VMM_NOT_AN_AREA);
        KEXPECT_EQ(vmm_stats.warnings, warnings + i + 1);
    }
    ktest_note_clear();
    KEXPECT_EQ(vmm_stats.areas, areas);
    KEXPECT_EQ(area[0], 7); /* still mapped, still ours */
    KEXPECT_EQ(vfree(area), VMM_OK);
    KEXPECT_EQ(vfree(area), VMM_NOT_AN_AREA); /* freed already */
    KEXPECT_EQ(vmm_stats.warnings, warnings + ARRAY_SIZE(bad) + 1);
    KEXPECT_EQ(vfree(NULL), VMM_OK);
    KEXPECT_EQ(vmm_stats.warnings, warnings + ARRAY_SIZE(bad) + 1); /* NULL is no mistake */
}

KTEST_HOMEWORK(freed_area_faults_and_is_reused, 2)
{
    uint8_t *area = valloc(2);
    KASSERT_NOT_NULL(area);
    KEXPECT_EQ(vfree(area), VMM_OK);
    /* A use after free faults, and the report says where. */
    struct ktest_fault fault = {0};
    KEXPECT_TRUE(ktest_catch_fault(read_byte, area + PAGE_SIZE, &fault));
    char text[VMM_FAULT_TEXT_SIZE];
    vmm_describe_fault((uintptr_t)area + PAGE_SIZE, 0, text, sizeof(text));
    KEXPECT_CONTAINS(text, "read from an unmapped page");
    KEXPECT_CONTAINS(text, "the valloc window, in no area");
    /* First fit: the same gap is the lowest one again. */
    uint8_t *again = valloc(2);
    KEXPECT_EQ(again, area);
    vfree(again);
}

KTEST_HOMEWORK(valloc_out_of_memory_gives_back_every_frame, 2)
{
    hog_all_but(SCARCE_FRAMES);
    KASSERT_EQ(pmm_free_count(), SCARCE_FRAMES);
    size_t areas = vmm_stats.areas;
    KEXPECT_NULL(valloc(SCARCE_FRAMES + 1)); /* runs out half-way */
    KEXPECT_EQ(pmm_free_count(), SCARCE_FRAMES);
    KEXPECT_EQ(vmm_stats.areas, areas);
    void *area = valloc(1); /* and valloc still works */
    KEXPECT_NOT_NULL(area);
    KEXPECT_EQ(vfree(area), VMM_OK);
    KEXPECT_EQ(pmm_free_count(), SCARCE_FRAMES);
}

/* ---- homework 2: vmm_destroy ---------------------------------------------------------- */

KTEST_HOMEWORK(destroy_frees_every_table_of_the_space, 3)
{
    /* Pages far apart need their own tables: 0x1000 and 1 GiB share a PDPT
     * but not a PD; 512 GiB and the top need a PDPT each. */
    static const uintptr_t pages[] = {0x1000, 0x40000000, 0x8000000000, USER_TOP_PAGE};
    enum { TABLES = 1 + 5 + 3 + 3 }; /* PML4; PDPT + 2 PDs + 2 PTs; 2 x (PDPT + PD + PT) */
    pte_t saved_kernel_half[PAGE_TABLE_ENTRIES - VMM_KERNEL_SLOT];
    memcpy(saved_kernel_half, vmm_kernel_space() + VMM_KERNEL_SLOT, sizeof(saved_kernel_half));

    phys_addr_t frame = new_frame("mapped four times");
    size_t free_before = pmm_free_count(), spaces = vmm_stats.spaces;
    pte_t *space = new_space();
    KASSERT_NOT_NULL(space);
    for (size_t i = 0; i < ARRAY_SIZE(pages); i++) {
        ktest_note("page %p", (void *)pages[i]);
        KASSERT_EQ(vmm_map(space, pages[i], frame, PTE_NO_EXECUTE), VMM_OK);
    }
    ktest_note_clear();
    KEXPECT_EQ(free_before - pmm_free_count(), TABLES);

    held.spaces[0] = NULL; /* destroyed here, not by the cleanup */
    KEXPECT_EQ(vmm_destroy(space), VMM_OK);
    KEXPECT_EQ(vmm_stats.spaces, spaces);
    /* Exactly the tables come back: not the mapped frame (the caller's),
     * not a table of the shared half (those would make the count larger). */
    KEXPECT_EQ(pmm_free_count(), free_before);
    KEXPECT_EQ(
        memcmp(saved_kernel_half, vmm_kernel_space() + VMM_KERNEL_SLOT, sizeof(saved_kernel_half)),
        0);
    KEXPECT_EQ(strcmp(phys_to_virt(frame), "mapped four times"), 0);
}

KTEST_HOMEWORK(destroy_refuses_kernel_and_current_space, 1)
{
    size_t warnings = vmm_stats.warnings;
    KEXPECT_EQ(vmm_destroy(vmm_kernel_space()), VMM_BUSY);
    KEXPECT_EQ(vmm_stats.warnings, warnings + 1);
    pte_t *space = new_space();
    KASSERT_NOT_NULL(space);
    vmm_switch(space);
    KEXPECT_EQ(vmm_destroy(space), VMM_BUSY);
    KEXPECT_EQ(vmm_stats.warnings, warnings + 2);
    KEXPECT_EQ(vmm_current(), space); /* still there, still in use */
    vmm_switch(vmm_kernel_space());
    KEXPECT_EQ(vmm_destroy(NULL), VMM_OK);
    KEXPECT_EQ(vmm_stats.warnings, warnings + 2);
}

/* ---- homework 3: permissions ------------------------------------------------------------ */

KTEST_HOMEWORK(protect_changes_permissions_at_once, 3)
{
    uint8_t *area = new_area(1);
    pte_t *kernel = vmm_kernel_space();
    phys_addr_t frame = 0, phys = 0;
    KASSERT_EQ(vmm_translate(kernel, (uintptr_t)area, &frame), VMM_OK);
    area[0] = 1; /* the TLB now holds a writable translation */
    KEXPECT_EQ(vmm_protect(kernel, (uintptr_t)area, PTE_NO_EXECUTE), VMM_OK);
    struct ktest_fault fault = {0};
    ktest_note("a page written, then made read-only: the next write went through a stale "
               "writable TLB entry");
    bool faulted = ktest_catch_fault(write_byte, area, &fault);
    KASSERT_TRUE(faulted);
    ktest_note_clear();
    KEXPECT_EQ(fault.error_code & (PF_PRESENT | PF_WRITE), PF_PRESENT | PF_WRITE);
    char text[VMM_FAULT_TEXT_SIZE], name[TEXT_SIZE];
    vmm_describe_fault(fault.address, fault.error_code, text, sizeof(text));
    KEXPECT_CONTAINS(text, "write to a read-only page");
    KEXPECT_CONTAINS(text, naming("the valloc area at ", (uintptr_t)area, name));
    KEXPECT_EQ(area[0], 1); /* still readable, data kept */

    KEXPECT_EQ(vmm_protect(kernel, (uintptr_t)area, VALLOC_PAGE_FLAGS), VMM_OK);
    KEXPECT_FALSE(ktest_catch_fault(write_byte, area, &fault));
    KEXPECT_EQ(vmm_translate(kernel, (uintptr_t)area, &phys), VMM_OK);
    KEXPECT_EQ(phys, frame); /* same frame throughout */
}

KTEST_HOMEWORK(map_refuses_unsafe_flags, 2)
{
    pte_t *space = new_space();
    KASSERT_NOT_NULL(space);
    pte_t *kernel = vmm_kernel_space();
    phys_addr_t frame = new_frame("flags"), phys;
    static const uint64_t unsafe[] = {
        PTE_WRITABLE,                  /* writable and executable */
        PTE_WRITABLE | PTE_USER,       /* the same, for ring 3 */
        PTE_HUGE | PTE_NO_EXECUTE,     /* PAT in a PT, not a page size */
        0x5000 | PTE_NO_EXECUTE,       /* address bits */
        PTE_ACCESSED | PTE_NO_EXECUTE, /* the CPU's bit, not a flag */
    };
    for (size_t i = 0; i < ARRAY_SIZE(unsafe); i++) {
        ktest_note("flags = %p", (void *)unsafe[i]);
        KEXPECT_EQ(vmm_map(space, USER_PAGE, frame, unsafe[i]), VMM_BAD_FLAGS);
        KEXPECT_EQ(vmm_translate(space, USER_PAGE, &phys), VMM_NOT_MAPPED);
    }
    ktest_note_clear();

    uint8_t *area = new_area(1);
    uintptr_t guard = (uintptr_t)area + PAGE_SIZE;
    held.kernel_page = guard; /* unmapped by the cleanup if this is accepted */
    KEXPECT_EQ(vmm_map(kernel, guard, frame, PTE_USER | PTE_NO_EXECUTE), VMM_BAD_FLAGS);
    KEXPECT_EQ(vmm_translate(kernel, guard, &phys), VMM_NOT_MAPPED);

    uint64_t user_data = PTE_USER | PTE_WRITABLE | PTE_NO_EXECUTE;
    KEXPECT_EQ(vmm_map(space, USER_PAGE, frame, user_data | PTE_PRESENT), VMM_OK);
    KEXPECT_EQ(vmm_protect(space, USER_PAGE, PTE_WRITABLE), VMM_BAD_FLAGS);
    KEXPECT_EQ(vmm_protect(space, USER_PAGE, PTE_USER), VMM_OK); /* read-only, executable */
    KEXPECT_EQ(vmm_protect(space, USER_PAGE + PAGE_SIZE, PTE_NO_EXECUTE), VMM_NOT_MAPPED);
    KEXPECT_EQ(vmm_protect(space, USER_PAGE + 8, PTE_NO_EXECUTE), VMM_UNALIGNED);
    KEXPECT_EQ(vmm_protect(kernel, (uintptr_t)area, PTE_USER | PTE_NO_EXECUTE), VMM_BAD_FLAGS);
    KEXPECT_EQ(vmm_protect(kernel, DIRECT_2MIB, PTE_NO_EXECUTE), VMM_BAD_ADDRESS);
}
