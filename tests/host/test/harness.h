/* harness.h - unit tests for the host build, in the manner of the kernel's
 * ktest.h: TEST(name) { ... } declares a test; CHECK(condition) and
 * CHECK_EQ(actual, expected) report a failed check with its file, line,
 * expression and values, and the test goes on. Every test runs in a child
 * process of its own, on a freshly booted host (host_boot), so whatever a
 * test breaks or leaves behind is gone for the next one; a crash or a panic
 * fails that test only. harness.c prints one line per test and a final
 * 'N passed, M failed'; arguments to the program pick tests by name.
 *
 * KNOWN_ISSUE("why") in a test says the reference is known to fail it (a
 * bug reported, not fixed yet): its failure then shows as XFAIL and does not
 * fail the run; once it passes, the line says the marker can go. */
#ifndef HARNESS_H
#define HARNESS_H

#include "host.h"

typedef void (*test_fn)(void);

void harness_register(const char *name, test_fn fn);
bool harness_check(bool ok, const char *file, int line, const char *expression);
bool harness_check_eq(uint64_t actual, uint64_t expected, const char *file, int line,
                      const char *actual_text, const char *expected_text);

#define TEST(name)                                                                                 \
    static void name(void);                                                                        \
    __attribute__((constructor)) static void register_##name(void)                                 \
    {                                                                                              \
        harness_register(#name, name);                                                             \
    }                                                                                              \
    static void name(void)

#define CHECK(condition) harness_check((condition), __FILE__, __LINE__, #condition)
#define CHECK_EQ(actual, expected)                                                                 \
    harness_check_eq((uint64_t)(actual), (uint64_t)(expected), __FILE__, __LINE__, #actual,        \
                     #expected)

/* Stops the test here if a check failed (when going on would only crash). */
#define REQUIRE(condition)                                                                         \
    do {                                                                                           \
        if (!CHECK(condition))                                                                     \
            harness_stop();                                                                        \
    } while (0)

_Noreturn void harness_stop(void);

#define KNOWN_ISSUE(why) harness_known_issue(why)
void harness_known_issue(const char *why);

#endif
