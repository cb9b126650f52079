/* Forged results with the nonce at its local address, then spin.
 * Expect: below */
#include "cheat.h"

static void cheat(void)
{
    char hex[17];
    hex_of((const uint8_t *)CHEAT_ADDRESS_nonce, hex);
    for (size_t i = 0; i < ARRAY_SIZE(forged); i++)
        kprintf("%s nonce=%s\n", forged[i], hex);
    kprintf("# END nonce=%s\n", hex);
    for (volatile bool spin = true; spin;)
        ;
}
