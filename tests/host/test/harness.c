/* harness.c - runs the TESTs of one test program (see harness.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

enum {
    MAX_TESTS = 256,
    TEST_TIMEOUT_SECONDS = 60,
    EXIT_FAILED = 1,      /* a check failed, or a panic */
    EXIT_KNOWN_ISSUE = 4, /* ... in a test marked KNOWN_ISSUE */
    /* a sanitizer report exits with 3 (sanitizer_options.c) */
};

static struct {
    const char *name;
    test_fn fn;
} tests[MAX_TESTS];
static size_t test_count;
static bool failed;             /* in the child: some check of this test failed */
static const char *known_issue; /* in the child: KNOWN_ISSUE's text */

void harness_register(const char *name, test_fn fn)
{
    if (test_count == MAX_TESTS) {
        fprintf(stderr, "harness: more than %d tests\n", MAX_TESTS);
        exit(2);
    }
    tests[test_count].name = name;
    tests[test_count++].fn = fn;
}

bool harness_check(bool ok, const char *file, int line, const char *expression)
{
    if (!ok) {
        printf("      %s:%d: %s is false\n", file, line, expression);
        failed = true;
    }
    return ok;
}

bool harness_check_eq(uint64_t actual, uint64_t expected, const char *file, int line,
                      const char *actual_text, const char *expected_text)
{
    if (actual != expected) {
        printf("      %s:%d: %s == %s: expected %llu (%#llx), got %llu (%#llx)\n", file, line,
               actual_text, expected_text, (unsigned long long)expected,
               (unsigned long long)expected, (unsigned long long)actual,
               (unsigned long long)actual);
        failed = true;
    }
    return actual == expected;
}

void harness_known_issue(const char *why)
{
    known_issue = why;
}

static void show_console(void)
{
    const char *text = host_console_text();
    size_t length = strlen(text);
    if (length == 0)
        return;
    printf("      console (last 1500 bytes):\n");
    const char *start = length > 1500 ? text + length - 1500 : text;
    for (const char *line = start; *line;) {
        const char *end = strchr(line, '\n');
        int n = end ? (int)(end - line) : (int)strlen(line);
        printf("        %.*s\n", n, line);
        line += n + (end != NULL);
    }
}

_Noreturn void harness_stop(void)
{
    if (known_issue != NULL) {
        printf("      known issue: %s\n", known_issue);
        fflush(stdout);
        _exit(EXIT_KNOWN_ISSUE);
    }
    show_console();
    fflush(stdout);
    _exit(EXIT_FAILED);
}

static void panic_fails_the_test(const char *message)
{
    printf("      %s\n", message);
    failed = true;
    harness_stop();
}

/* In the child: boot, run, report through the exit status. */
static _Noreturn void run_child(test_fn fn)
{
    alarm(TEST_TIMEOUT_SECONDS);
    host_set_panic_hook(panic_fails_the_test);
    host_boot();
    host_console_clear();
    fn();
    if (failed)
        harness_stop();
    if (known_issue != NULL)
        printf("      marked KNOWN_ISSUE, but passes: the marker can go (%s)\n", known_issue);
    fflush(stdout);
    _exit(0);
}

static bool selected(const char *name, int argc, char **argv)
{
    if (argc <= 1)
        return true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], name) == 0)
            return true;
    }
    return false;
}

int main(int argc, char **argv)
{
    const char *program = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    unsigned passed = 0, failures = 0, known = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t i = 0; i < test_count; i++) {
        if (!selected(tests[i].name, argc, argv))
            continue;
        fflush(stdout);
        pid_t child = fork();
        if (child < 0) {
            perror("fork");
            return 2;
        }
        if (child == 0)
            run_child(tests[i].fn);
        int status;
        waitpid(child, &status, 0);
        bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        bool xfail = WIFEXITED(status) && WEXITSTATUS(status) == EXIT_KNOWN_ISSUE;
        printf("%s  %s/%s", ok ? "PASS" : xfail ? "XFAIL" : "FAIL", program, tests[i].name);
        if (WIFSIGNALED(status))
            printf(" (killed by signal %d%s)", WTERMSIG(status),
                   WTERMSIG(status) == SIGALRM ? ": timed out" : "");
        else if (WIFEXITED(status) && WEXITSTATUS(status) > 1 && !xfail)
            printf(" (crashed: exit status %d, see the report above)", WEXITSTATUS(status));
        printf("\n");
        passed += ok || xfail;
        failures += !ok && !xfail;
        known += xfail;
    }
    if (known != 0)
        printf("%u known issue%s (XFAIL: reported, counted as passed)\n", known,
               known == 1 ? "" : "s");
    printf("%u passed, %u failed\n", passed, failures);
    return failures == 0 ? 0 : 1;
}
