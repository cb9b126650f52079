/* The harness's own report function called at its local address.
 * Expect: flagged */
#include "cheat.h"

typedef void (*report_fn)(bool signed_line, const char *format, ...);
static void cheat(void)
{
    report_fn report = (report_fn)CHEAT_ADDRESS_report;
    for (size_t i = 0; i < ARRAY_SIZE(forged); i++)
        report(true, "%s", forged[i]);
}
