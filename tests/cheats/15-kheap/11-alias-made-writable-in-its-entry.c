/* A read-only alias of the tests' frames made writable in its page-table entry, then ret.
 * Expect: below */
#include "cheat.h"

/* Pages of the kernel image's page directory that nothing else maps. */
#define ALIAS_BASE (KERNEL_VMA + GiB - 64 * PAGE_SIZE)

static void cheat(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(tests); i++) {
        uintptr_t alias = ALIAS_BASE + i * PAGE_SIZE;
        phys_addr_t frame = ALIGN_DOWN(kernel_virt_to_phys((const void *)tests[i]), PAGE_SIZE);
        if (paging_map(paging_kernel_pml4(), alias, frame, PTE_NO_EXECUTE) != PAGING_OK)
            continue;
        pte_t *entry = paging_walk(paging_kernel_pml4(), alias, false);
        *entry |= PTE_WRITABLE;
        invlpg(alias);
        *(volatile uint8_t *)(alias + tests[i] % PAGE_SIZE) = 0xC3;
    }
}
