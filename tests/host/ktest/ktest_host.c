/* ktest_host.c - common/ktest.h for a Linux process: the lesson's own tests
 * (lessons/NN-name/tests*.c), built with the student's files for the host
 * under AddressSanitizer and UndefinedBehaviorSanitizer (make test-lessonN
 * HOST=1; tests/host/README.md).
 *
 * It prints what the kernel's runner (common/ktest.c) prints on the
 * console: the plan, a RUN line per test, the failed checks' lines and an
 * ok / not ok line with the points, in the kernel's order (file, then line).
 * No nonce and no checksum: the verdict is the kernel run's; this is the
 * fast loop before it.
 *
 * Each test runs in a child process of its own, on a freshly booted host
 * machine (host_boot, then the lessons' inits and main.c's lesson_init), so a crash or a
 * sanitizer report ends that test only. A test whose meaning the host does
 * not have (kernel_only.c) is not run: it is reported as "kernel only",
 * never as passed. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exception.h"
#include "host.h"
#include "kernel_only.h"
#include "kprintf.h"
#include "ktest.h"
#include "lesson.h"

#ifndef LESSON_NAME
#error "LESSON_NAME must be defined by the build (e.g. -DLESSON_NAME=\"15-kheap\")"
#endif

#ifndef LESSON_INITS
#error "LESSON_INITS(CALL) must be defined by the build, as for common/main.c"
#endif

extern const struct ktest __start_ktests[], __stop_ktests[]; /* ktest.ld */

/* The lessons' init functions, as common/main.c declares and calls them. */
#define DECLARE_INIT(init) void init(void);
LESSON_INITS(DECLARE_INIT)
#define CALL_INIT(init) init();

const char lesson_name[] = LESSON_NAME;

enum {
    MAX_DIAGNOSTICS_PER_TEST = 8, /* as in the kernel: a failing loop must not flood */
    MAX_TESTS = 256,
    NOTE_SIZE = 128,
    TEST_TIMEOUT_SECONDS = 30,
    EXIT_PASSED = 0,
    EXIT_FAILED = 1,
    EXIT_SANITIZER = 3, /* sanitizer_options.c */
};

static const char *const kind_names[] = {
    [KTEST_KIND_LECTURE] = "lecture",
    [KTEST_KIND_PRACTICE] = "practice",
    [KTEST_KIND_HOMEWORK] = "homework",
    [KTEST_KIND_BONUS] = "bonus",
};

/* In the child: the test running. */
static struct {
    const struct ktest *test;
    bool failed;
    unsigned diagnostics;
    sigjmp_buf exit; /* back to run_child */
    void (*cleanup)(void);
    char note[NOTE_SIZE];
} current;

/* ---- ktest.h -------------------------------------------------------------- */

void ktest_fail_at(const char *file, int line, const char *format, ...)
{
    current.failed = true;
    if (++current.diagnostics > MAX_DIAGNOSTICS_PER_TEST) {
        if (current.diagnostics == MAX_DIAGNOSTICS_PER_TEST + 1)
            kprintf("# (more failures of this test not shown)\n");
        return;
    }
    va_list args;
    va_start(args, format);
    kprintf("# %s:%d: ", file, line);
    kvprintf(format, args);
    kprintf(current.note[0] ? " [%s]\n" : "\n", current.note);
    va_end(args);
}

void ktest_note(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    kvsnprintf(current.note, sizeof(current.note), format, args);
    va_end(args);
}

void ktest_note_clear(void)
{
    current.note[0] = '\0';
}

void ktest_report_comparison(const char *file, int line, const char *check, const char *op,
                             unsigned long long actual, unsigned long long expected)
{
    if (strcmp(op, "==") == 0)
        ktest_fail_at(file, line, "%s: expected %llu (0x%llx), got %llu (0x%llx)", check, expected,
                      expected, actual, actual);
    else
        ktest_fail_at(file, line, "%s is false: left is %llu (0x%llx), right is %llu (0x%llx)",
                      check, actual, actual, expected, expected);
}

_Noreturn void ktest_abort(void)
{
    siglongjmp(current.exit, 1);
}

void ktest_defer(void (*cleanup)(void))
{
    current.cleanup = cleanup;
}

static _Noreturn void crashed(const char *reason)
{
    kprintf("# test %s crashed: %s\n", current.test->name, reason);
    current.failed = true;
    siglongjmp(current.exit, 1);
}

/* A fault inside fn is a SIGSEGV on a page the page tables do not allow
 * (tests/host/shim/memory.c): described as the CPU would. A panic inside it
 * is a crash, as in the kernel. */
bool ktest_catch_fault(void (*fn)(void *arg), void *arg, struct ktest_fault *fault)
{
    switch (host_try(fn, arg)) {
    case HOST_RETURNED:
        return false;
    case HOST_PANICKED:
        crashed(host_last_panic());
    case HOST_FAULTED:
        break;
    }
    struct host_fault last = host_last_fault();
    *fault = (struct ktest_fault){
        .vector = VECTOR_PAGE_FAULT,
        .error_code = (last.present ? PF_PRESENT : 0) | (last.write ? PF_WRITE : 0),
        .address = last.address,
    };
    return true;
}

void ktest_prepare(void) {}

_Noreturn void ktest_run_all(const char *lesson, const char *command_line)
{
    (void)lesson;
    (void)command_line;
    fprintf(stderr, "ktest_run_all: the host runs its tests from main()\n");
    abort();
}

/* ---- running one test: in a child process -------------------------------- */

/* What common/main.c does once the machine is up (host_boot gives it). */
static void lesson_boot(void)
{
    LESSON_INITS(CALL_INIT)
    if (lesson_init != NULL)
        lesson_init();
}

static void panic_crashes_the_test(const char *message)
{
    crashed(message);
}

static _Noreturn void run_child(const struct ktest *test, unsigned number)
{
    alarm(TEST_TIMEOUT_SECONDS);
    host_console_echo(false); /* the boot's lines were shown once, by main */
    host_boot();
    lesson_boot();
    host_console_clear();
    host_console_echo_to_stdout();
    host_set_panic_hook(panic_crashes_the_test);
    current.test = test;
    if (sigsetjmp(current.exit, 1) == 0)
        test->run();
    void (*cleanup)(void) = current.cleanup;
    current.cleanup = NULL; /* a crash inside cleanup comes back here once */
    if (cleanup != NULL && sigsetjmp(current.exit, 1) == 0)
        cleanup();
    kprintf("%s %u %s # points=%u/%u kind=%s\n", current.failed ? "not ok" : "ok", number,
            test->name, current.failed ? 0 : test->points, test->points, kind_names[test->kind]);
    fflush(stdout);
    _exit(current.failed ? EXIT_FAILED : EXIT_PASSED);
}

/* What the parent says of a child that ended without its result line. */
static void describe_crash(const struct ktest *test, int status)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SANITIZER)
        printf("# test %s crashed: a sanitizer report (above; the first frame in your file is "
               "the line to read)\n",
               test->name);
    else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        printf("# test %s crashed: still running after %d s (a hang?)\n", test->name,
               TEST_TIMEOUT_SECONDS);
    else if (WIFSIGNALED(status))
        printf("# test %s crashed: %s\n", test->name, strsignal(WTERMSIG(status)));
    else
        printf("# test %s crashed: exit status %d\n", test->name, WEXITSTATUS(status));
}

/* Runs test `number` in a child; true if it passed. */
static bool run_one(const struct ktest *test, unsigned number)
{
    fflush(stdout);
    fflush(stderr);
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        exit(2);
    }
    if (child == 0)
        run_child(test, number);
    int status;
    if (waitpid(child, &status, 0) != child) {
        perror("waitpid");
        exit(2);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) <= EXIT_FAILED)
        return WEXITSTATUS(status) == EXIT_PASSED;
    describe_crash(test, status);
    printf("not ok %u %s # points=0/%u kind=%s\n", number, test->name, test->points,
           kind_names[test->kind]);
    return false;
}

/* ---- the run ---------------------------------------------------------------- */

static bool runs_before(const struct ktest *a, const struct ktest *b)
{
    int by_file = strcmp(a->file, b->file);
    return by_file != 0 ? by_file < 0 : a->line < b->line;
}

static unsigned collect_tests(const struct ktest **tests)
{
    size_t defined = ((uintptr_t)__stop_ktests - (uintptr_t)__start_ktests) / sizeof(struct ktest);
    unsigned count = 0;
    for (size_t i = 0; i < defined && count < MAX_TESTS; i++) {
        const struct ktest *t = &__start_ktests[i];
        unsigned at = count++;
        for (; at > 0 && runs_before(t, tests[at - 1]); at--)
            tests[at] = tests[at - 1];
        tests[at] = t;
    }
    return count;
}

static bool is_picked(const char *name, int argc, char **argv)
{
    if (argc < 2)
        return true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], name) == 0)
            return true;
    }
    return false;
}

/* Usage: PROGRAM [TEST...] runs those tests (every test by default). */
int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0); /* test lines and sanitizer reports in order */
    host_console_echo_to_stdout();
    host_boot(); /* the machine, once: each child boots it afresh */
    lesson_boot();

    static const struct ktest *tests[MAX_TESTS];
    unsigned count = collect_tests(tests);
    unsigned passed = 0, failed = 0, kernel_only = 0;
    printf("KTAP version 1\n# lesson %s (host build: AddressSanitizer, "
           "UndefinedBehaviorSanitizer)\n1..%u\n",
           LESSON_NAME, count);
    for (unsigned number = 1; number <= count; number++)
        printf("# test %u %s points=%u kind=%s\n", number, tests[number - 1]->name,
               tests[number - 1]->points, kind_names[tests[number - 1]->kind]);
    for (unsigned number = 1; number <= count; number++) {
        const struct ktest *test = tests[number - 1];
        if (!is_picked(test->name, argc, argv))
            continue;
        const char *why = kernel_only_reason(test->name);
        if (why != NULL) {
            printf("# KERNEL ONLY %u %s: %s\n", number, test->name, why);
            kernel_only++;
            continue;
        }
        printf("# RUN %u %s\n", number, test->name);
        if (run_one(test, number))
            passed++;
        else
            failed++;
    }
    printf("# %u passed, %u failed, %u kernel only (run them with make test-lessonN, "
           "without HOST=1)\n",
           passed, failed, kernel_only);
    return failed == 0 ? 0 : 1;
}
