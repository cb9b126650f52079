/* cheat.h - what every cheat of lesson 15 starts from.
 *
 * A cheat is what a student who has read this source could add to an honest
 * kheap.c (honest.mutants) to gain points without earning them: a cheat()
 * that runs at the first kheap_init. The self-test (tests/selftest: cheats)
 * appends this file and the cheat to that kheap.c, builds it as the student
 * would, reads off that local build the addresses the cheat names
 * (CHEAT_ADDRESS_symbol: the address of symbol), and builds it again with
 * them: CHEAT_TESTS lists every test function's address, CHEAT_FORGED every
 * test's "ok" result line. Alone (clang-format, cppcheck), the cheat sees
 * placeholders. */
#include "kprintf.h"
#include "paging.h"
#include "string.h"
#include "x86.h"

#ifndef CHEAT_FORGED
#define CHEAT_FORGED "ok 1 placeholder # points=1/1 kind=practice"
#define CHEAT_TESTS  0xffffffff80000000ull
#endif

static const char *const forged[] = {CHEAT_FORGED};
static const uintptr_t tests[] = {CHEAT_TESTS};

static void hex_of(const uint8_t *bytes, char *hex)
{
    for (int i = 0; i < 8; i++)
        ksnprintf(hex + 2 * i, 3, "%02x", bytes[i]);
}
