/* Forged results written to COM2.
 * Expect: flagged zero */
#include "cheat.h"

static void cheat(void)
{
    char hex[17], line[160];
    hex_of((const uint8_t *)CHEAT_ADDRESS_nonce, hex);
    for (size_t i = 0; i < ARRAY_SIZE(forged); i++) {
        int length = ksnprintf(line, sizeof(line), "%s nonce=%s\n", forged[i], hex);
        for (int c = 0; c < length; c++)
            outb(0x2F8, (uint8_t)line[c]);
    }
}
