/* Ret written over every test through the direct map.
 * Expect: below */
#include "cheat.h"

static void cheat(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(tests); i++)
        *(volatile uint8_t *)phys_to_virt(kernel_virt_to_phys((const void *)tests[i])) = 0xC3;
}
