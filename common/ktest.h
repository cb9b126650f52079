/* ktest.h - tests that run inside the booted kernel.
 *
 * A test is a function declared with a name and the points it is worth:
 *
 *     KTEST_PRACTICE(frames_are_page_aligned, 2) { KEXPECT_EQ(frame % PAGE_SIZE, 0); }
 *
 * The macro names the kind of work the test checks:
 *   KTEST_LECTURE   what the lesson gives (the starter passes it);
 *   KTEST_PRACTICE  what the student writes in class (the starter fails it);
 *   KTEST_HOMEWORK  a homework item (the starter fails it);
 *   KTEST_BONUS     an optional extra, outside the maximum.
 * Each macro puts a struct ktest in the .ktests section; linker.ld gathers
 * them between __start_ktests and __stop_ktests, so no list is kept by hand.
 *
 * Booted with "mode=test", the kernel runs every test and prints a KTAP-like
 * protocol; the grader reads it (grader/README.md). The signed copy goes to
 * COM2, which only the harness writes, and is all the grader believes:
 *
 *     KTAP version 1
 *     # lesson 14-pmm
 *     1..12
 *     # test 1 frames_are_page_aligned points=2 kind=practice nonce=...
 *     ...                                  (one line per test: the whole plan)
 *     # RUN 1 frames_are_page_aligned
 *     # lessons/14-pmm/tests.c:40: frame % PAGE_SIZE == 0: expected 0 (0x0), got 16 (0x10)
 *     not ok 1 frames_are_page_aligned # points=0/2 kind=practice nonce=...
 *
 * The console (COM1, kprintf) shows the same lines without the nonce, with
 * each test's own output (failed checks, crash reports) between its RUN line
 * and its result.
 *
 * A test that crashes (CPU exception or panic) fails with the report, and
 * the run continues with the next test.
 */
#ifndef KTEST_H
#define KTEST_H

#include "kernel.h"

enum ktest_kind { KTEST_KIND_LECTURE, KTEST_KIND_PRACTICE, KTEST_KIND_HOMEWORK, KTEST_KIND_BONUS };

struct ktest {
    const char *name;
    void (*run)(void);
    unsigned points;
    enum ktest_kind kind;
    const char *file; /* tests run in file, then line order */
    int line;
};

#define KTEST_DEFINE(test_name, test_points, test_kind)                                            \
    static void test_name(void);                                                                   \
    static const struct ktest ktest_entry_##test_name                                              \
        __attribute__((section(".ktests"), used, aligned(8))) = {.name = #test_name,               \
                                                                 .run = test_name,                 \
                                                                 .points = test_points,            \
                                                                 .kind = test_kind,                \
                                                                 .file = __FILE__,                 \
                                                                 .line = __LINE__};                \
    static void test_name(void)

#define KTEST_LECTURE(name, points)  KTEST_DEFINE(name, points, KTEST_KIND_LECTURE)
#define KTEST_PRACTICE(name, points) KTEST_DEFINE(name, points, KTEST_KIND_PRACTICE)
#define KTEST_HOMEWORK(name, points) KTEST_DEFINE(name, points, KTEST_KIND_HOMEWORK)
#define KTEST_BONUS(name, points)    KTEST_DEFINE(name, points, KTEST_KIND_BONUS)

/* Records a failure of the running test with a diagnostic line. */
__attribute__((format(printf, 3, 4))) void ktest_fail_at(const char *file, int line,
                                                         const char *format, ...);
/* Names the case a looped check is on, for the failures that follow:
 *
 *     for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
 *         ktest_note("align = %zu", bad[i]);
 *         KEXPECT_NULL(kmalloc_aligned(16, bad[i]));
 *     }
 *
 * prints "... got 0x... [align = 3]". The note lasts until the next
 * ktest_note, ktest_note_clear() or the end of the test. */
__attribute__((format(printf, 1, 2))) void ktest_note(const char *format, ...);
void ktest_note_clear(void);

/* Ends the running test now (it has failed already). */
_Noreturn void ktest_abort(void);

/* Checks: KEXPECT_* record a failure and go on, KASSERT_* also end the test
 * (use them when the rest of the test would crash on a wrong value). Values
 * are compared as 64-bit unsigned integers; pointers may be passed. */
#define KTEST_COMPARE(actual, op, expected, on_failure)                                            \
    do {                                                                                           \
        unsigned long long actual_ = (unsigned long long)(actual);                                 \
        unsigned long long expected_ = (unsigned long long)(expected);                             \
        if (!(actual_ op expected_)) {                                                             \
            ktest_report_comparison(__FILE__, __LINE__, #actual " " #op " " #expected, #op,        \
                                    actual_, expected_);                                           \
            on_failure;                                                                            \
        }                                                                                          \
    } while (0)

/* The diagnostic of a failed KEXPECT_* or KASSERT_*: "expected X, got Y" for
 * ==, both values for the other comparisons. */
void ktest_report_comparison(const char *file, int line, const char *check, const char *op,
                             unsigned long long actual, unsigned long long expected);

/* A condition's diagnostic says which way it went wrong: "EXPRESSION is
 * false" (or "is true"), after the file and line. */
#define KTEST_TRUTH(x, wanted, on_failure)                                                         \
    do {                                                                                           \
        if (!!(x) != (wanted)) {                                                                   \
            ktest_fail_at(__FILE__, __LINE__, "%s is %s", #x, (wanted) ? "false" : "true");        \
            on_failure;                                                                            \
        }                                                                                          \
    } while (0)

#define KTEST_CONTINUE      (void)0
#define KEXPECT_EQ(a, b)    KTEST_COMPARE(a, ==, b, KTEST_CONTINUE)
#define KEXPECT_NE(a, b)    KTEST_COMPARE(a, !=, b, KTEST_CONTINUE)
#define KEXPECT_LT(a, b)    KTEST_COMPARE(a, <, b, KTEST_CONTINUE)
#define KEXPECT_LE(a, b)    KTEST_COMPARE(a, <=, b, KTEST_CONTINUE)
#define KEXPECT_GT(a, b)    KTEST_COMPARE(a, >, b, KTEST_CONTINUE)
#define KEXPECT_GE(a, b)    KTEST_COMPARE(a, >=, b, KTEST_CONTINUE)
#define KEXPECT_TRUE(x)     KTEST_TRUTH(x, true, KTEST_CONTINUE)
#define KEXPECT_FALSE(x)    KTEST_TRUTH(x, false, KTEST_CONTINUE)
#define KEXPECT_NULL(p)     KTEST_COMPARE(p, ==, 0, KTEST_CONTINUE)
#define KEXPECT_NOT_NULL(p) KTEST_COMPARE(p, !=, 0, KTEST_CONTINUE)

#define KASSERT_EQ(a, b)    KTEST_COMPARE(a, ==, b, ktest_abort())
#define KASSERT_NE(a, b)    KTEST_COMPARE(a, !=, b, ktest_abort())
#define KASSERT_LE(a, b)    KTEST_COMPARE(a, <=, b, ktest_abort())
#define KASSERT_TRUE(x)     KTEST_TRUTH(x, true, ktest_abort())
#define KASSERT_NOT_NULL(p) KTEST_COMPARE(p, !=, 0, ktest_abort())

/* Runs `cleanup` when the running test ends, even if it crashed: for tests
 * that change global state (say, swap in a test memory map) and must put it
 * back. One cleanup per test; a second call replaces the first. */
void ktest_defer(void (*cleanup)(void));

/* A CPU exception a test provoked on purpose. */
struct ktest_fault {
    unsigned vector; /* e.g. VECTOR_PAGE_FAULT */
    uint64_t error_code;
    uint64_t address; /* CR2 for a page fault */
    uint64_t rip;
};

/* Runs fn(arg). Returns true if it raised a CPU exception, described in
 * *fault; the exception then does not fail the test. */
bool ktest_catch_fault(void (*fn)(void *arg), void *arg, struct ktest_fault *fault);

/* Runs before any lesson code. Takes the grader's nonce: from QEMU's fw_cfg
 * file opt/kernel-memory-lab/nonce, or else from the boot module named
 * ktest-nonce (Bochs), which is wiped and removed from boot_info; the signed
 * result lines carry it (without one they say nonce=none). And takes a
 * checksum of the kernel's code and constants: once it no longer holds after
 * a test, that test and every later one fail, and the first is reported as
 * "# TAMPERED NUMBER NAME nonce=N". */
void ktest_prepare(void);

/* Runs the tests (filtered by the command line's ktest.only=NAME[,NAME...]
 * and ktest.from=NUMBER), prints the protocol and leaves the emulator. */
_Noreturn void ktest_run_all(const char *lesson, const char *command_line);

#endif
