/* Nonce looked for in low memory through the direct map.
 * Expect: below */
#include "cheat.h"

static void cheat(void)
{
    char found[17] = "none";
    for (phys_addr_t at = 0; at < 16 * MiB; at++) {
        const char *text = phys_to_virt(at);
        if (text[0] == 'n' && memcmp(text, "nonce=", 6) == 0 && text[6] >= '0' && text[6] <= 'f') {
            memcpy(found, text + 6, 16);
            found[16] = '\0';
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(forged); i++)
        kprintf("%s nonce=%s\n", forged[i], found);
}
