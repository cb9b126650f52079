/* Ret written over every test with CR0.WP cleared.
 * Expect: below flagged */
#include "cheat.h"

static void cheat(void)
{
    uint64_t cr0 = read_cr0();
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0 & ~(1ull << 16)));
    for (size_t i = 0; i < ARRAY_SIZE(tests); i++)
        *(volatile uint8_t *)tests[i] = 0xC3;
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0));
}
