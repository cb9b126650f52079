/* Tests' pages made writable in the page tables, then ret over them.
 * Expect: below zero */
#include "cheat.h"

static void cheat(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(tests); i++) {
        uintptr_t page = ALIGN_DOWN(tests[i], PAGE_SIZE);
        pte_t *entry = paging_walk(paging_kernel_pml4(), page, false);
        if (entry == NULL)
            continue;
        *entry |= PTE_WRITABLE;
        invlpg(page);
        *(volatile uint8_t *)tests[i] = 0xC3;
    }
}
