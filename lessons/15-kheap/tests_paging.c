/* tests_paging.c - the lab's own paging rules that the heap relies on: no
 * page is both writable and executable, and the kernel image's code and
 * constants cannot be written through any mapping, the direct map included.
 * They check common/paging.c, not the student's heap, so they score nothing;
 * a failure still costs full marks, since then the tests themselves could be
 * rewritten by the code they judge. */
#include "exception.h"
#include "ktest.h"
#include "paging.h"
#include "pmm.h"

/* A page of the kernel image's page directory that nothing else maps: the
 * last 4 KiB below KERNEL_VMA + 1 GiB. */
#define PROBE_PAGE (KERNEL_VMA + GiB - PAGE_SIZE)

static const uint8_t read_only_constant = 0x5A; /* in .rodata */

/* Writes back the byte already there: should the write succeed, nothing
 * changes but the verdict. */
static void rewrite_byte(void *address)
{
    volatile uint8_t *byte = address;
    uint8_t value = *byte;
    *byte = value;
}

/* Does writing the byte at `address` fault as a write to a read-only page? */
static bool write_is_refused(const void *address)
{
    struct ktest_fault fault = {0};
    if (!ktest_catch_fault(rewrite_byte, (void *)address, &fault))
        return false;
    return fault.vector == VECTOR_PAGE_FAULT && fault.address == (uintptr_t)address &&
           (fault.error_code & (PF_PRESENT | PF_WRITE)) == (PF_PRESENT | PF_WRITE);
}

KTEST_LECTURE(paging_map_refuses_writable_executable_pages, 0)
{
    phys_addr_t frame = pmm_alloc_frame();
    KASSERT_NE(frame, PMM_NO_FRAME);
    phys_addr_t mapped;
    KEXPECT_EQ(paging_map(paging_kernel_pml4(), PROBE_PAGE, frame, PTE_WRITABLE),
               PAGING_WRITABLE_EXECUTABLE);
    KEXPECT_EQ(paging_translate(paging_kernel_pml4(), PROBE_PAGE, &mapped), PAGING_NOT_MAPPED);

    /* Writable data, or executable code that cannot be written, are fine. */
    static const uint64_t allowed[] = {PTE_WRITABLE | PTE_NO_EXECUTE, 0, PTE_NO_EXECUTE};
    for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
        ktest_note("flags = 0x%llx", (unsigned long long)allowed[i]);
        KEXPECT_EQ(paging_map(paging_kernel_pml4(), PROBE_PAGE, frame, allowed[i]), PAGING_OK);
        KEXPECT_EQ(paging_unmap(paging_kernel_pml4(), PROBE_PAGE, NULL), PAGING_OK);
    }
    pmm_free_frame(frame);
}

/* A writable alias of the kernel's own code or constants, however harmless
 * its other flags look (no-execute), would let code rewrite the kernel. */
KTEST_LECTURE(paging_map_refuses_writable_kernel_image_frames, 0)
{
    const phys_addr_t frames[] = {kernel_virt_to_phys((const void *)rewrite_byte),
                                  kernel_virt_to_phys(&read_only_constant)};
    phys_addr_t mapped;
    for (size_t i = 0; i < ARRAY_SIZE(frames); i++) {
        phys_addr_t frame = ALIGN_DOWN(frames[i], PAGE_SIZE);
        ktest_note("frame = 0x%llx", (unsigned long long)frame);
        KEXPECT_EQ(
            paging_map(paging_kernel_pml4(), PROBE_PAGE, frame, PTE_WRITABLE | PTE_NO_EXECUTE),
            PAGING_KERNEL_IMAGE);
        KEXPECT_EQ(paging_translate(paging_kernel_pml4(), PROBE_PAGE, &mapped), PAGING_NOT_MAPPED);
        /* Read-only, the same frame maps (a debugger's view of the code). */
        KEXPECT_EQ(paging_map(paging_kernel_pml4(), PROBE_PAGE, frame, PTE_NO_EXECUTE), PAGING_OK);
        KEXPECT_EQ(paging_unmap(paging_kernel_pml4(), PROBE_PAGE, NULL), PAGING_OK);
    }
}

KTEST_LECTURE(kernel_code_is_read_only_through_every_mapping, 0)
{
    const void *code = (const void *)rewrite_byte;
    KEXPECT_TRUE(write_is_refused(code));
    KEXPECT_TRUE(write_is_refused(phys_to_virt(kernel_virt_to_phys(code))));
    phys_addr_t last = kernel_virt_to_phys(_text_end) - 1;
    KEXPECT_TRUE(write_is_refused(phys_to_virt(last)));
}

KTEST_LECTURE(kernel_constants_are_read_only_through_every_mapping, 0)
{
    KEXPECT_TRUE(write_is_refused(&read_only_constant));
    KEXPECT_TRUE(write_is_refused(phys_to_virt(kernel_virt_to_phys(&read_only_constant))));
    /* The test list itself: rewriting it would change what is run. */
    phys_addr_t last = kernel_virt_to_phys(_rodata_end) - 1;
    KEXPECT_TRUE(write_is_refused(phys_to_virt(last)));
}
