/* ktest.c - the in-kernel test runner; the protocol is described in ktest.h
 * and grader/README.md.
 *
 * Results that hold: the protocol goes to COM2, which only this file writes,
 * each result signed with the grader's nonce. The nonce never passes through
 * memory that other code could search for it: QEMU hands it over through
 * fw_cfg (I/O ports), Bochs as a boot module that is wiped once read, and it
 * is kept here as raw bytes, which no scan can tell from any other data.
 * And the tests judged are the tests written: a checksum of the kernel's
 * code and constants, taken before any lesson code ran, must still hold
 * after each test, or that test and every later one fail, and the grader is
 * told (# TAMPERED).
 *
 * Surviving a crash: before each test the runner saves its registers with
 * kjmp_set. A CPU exception or panic inside the test prints its report and
 * then calls crash_hook, which jumps back to that saved point; the runner
 * marks the test failed and moves on. The crashed test's stack frames are
 * simply abandoned, which is safe because nothing else lives on them. */
#include "ktest.h"
#include "cmdline.h"
#include "emulator.h"
#include "exception.h"
#include "fw_cfg.h"
#include "kjmp.h"
#include "kprintf.h"
#include "multiboot2.h"
#include "serial.h"
#include "string.h"
#include "witness.h"
#include "x86.h"

extern const struct ktest __start_ktests[], __stop_ktests[]; /* linker.ld */

enum {
    MAX_DIAGNOSTICS_PER_TEST = 8, /* a failing loop must not flood the log */
    MAX_TESTS = 256,
    NONCE_BYTES = 8,
    NONCE_DIGITS = 2 * NONCE_BYTES, /* as the grader writes it: hex */
    LINE_SIZE = 256,
    NOTE_SIZE = 128,
    FILTER_SIZE = 192,
};

static struct {
    const struct ktest *test; /* the one running, or NULL */
    bool failed;
    unsigned diagnostics;
    struct kjmp_buf exit;  /* back to the runner */
    void (*cleanup)(void); /* from ktest_defer */
    char note[NOTE_SIZE];  /* from ktest_note, "" when none */
} current;

static struct {
    struct ktest_fault *fault; /* non-NULL while ktest_catch_fault waits */
    struct kjmp_buf resume;
} catcher;

static struct {
    uint8_t bytes[NONCE_BYTES];
    bool present; /* false: not booted by the grader, lines say nonce=none */
} nonce;
static uint64_t image_checksum; /* of text and rodata, from ktest_prepare */

static const char NONCE_FW_CFG_FILE[] = "opt/kernel-memory-lab/nonce"; /* QEMU */
static const char NONCE_MODULE[] = "ktest-nonce";                      /* Bochs */

static const char *const kind_names[] = {
    [KTEST_KIND_LECTURE] = "lecture",
    [KTEST_KIND_PRACTICE] = "practice",
    [KTEST_KIND_HOMEWORK] = "homework",
    [KTEST_KIND_BONUS] = "bonus",
};

void ktest_fail_at(const char *file, int line, const char *format, ...)
{
    witness_check_failed();
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
    kjmp_jump(&current.exit, 1);
}

static void on_crash(const char *reason)
{
    if (current.test == NULL)
        return;
    kprintf("# test %s crashed: %s\n", current.test->name, reason);
    current.failed = true;
    catcher.fault = NULL;
    kjmp_jump(&current.exit, 1);
}

static void on_expected_fault(const struct interrupt_frame *frame)
{
    if (catcher.fault == NULL)
        return;
    *catcher.fault = (struct ktest_fault){
        .vector = (unsigned)frame->vector,
        .error_code = frame->error_code,
        .address = frame->vector == VECTOR_PAGE_FAULT ? read_cr2() : 0,
        .rip = frame->rip,
    };
    catcher.fault = NULL;
    kjmp_jump(&catcher.resume, 1);
}

void ktest_defer(void (*cleanup)(void))
{
    current.cleanup = cleanup;
}

bool ktest_catch_fault(void (*fn)(void *arg), void *arg, struct ktest_fault *fault)
{
    if (kjmp_set(&catcher.resume) != 0)
        return true;
    catcher.fault = fault;
    fn(arg);
    catcher.fault = NULL;
    return false;
}

/* Overwrites `size` bytes so that the compiler cannot drop the stores as
 * dead: copies of the nonce's text must not outlive their use. */
static void wipe(void *memory, size_t size)
{
    volatile uint8_t *bytes = memory;
    for (size_t i = 0; i < size; i++)
        bytes[i] = 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Takes the nonce from its NONCE_DIGITS hex digits. */
static bool parse_nonce(const char *text, size_t length)
{
    if (length < NONCE_DIGITS)
        return false;
    for (size_t i = 0; i < NONCE_BYTES; i++) {
        int high = hex_digit(text[2 * i]), low = hex_digit(text[2 * i + 1]);
        if (high < 0 || low < 0)
            return false;
        nonce.bytes[i] = (uint8_t)(high << 4 | low);
    }
    return true;
}

/* Under Bochs: the module named NONCE_MODULE, wiped and then dropped from
 * boot_info, as if it had never been loaded. GRUB 2.06 reads a module
 * straight to where it loads it: a search of all usable memory after the
 * wipe found no other copy of its contents. */
static bool take_nonce_module(void)
{
    for (size_t i = 0; i < boot_info.module_count; i++) {
        const struct boot_module *module = &boot_info.modules[i];
        if (strcmp(module->name, NONCE_MODULE) != 0)
            continue;
        char *text = phys_to_virt(module->start);
        size_t length = module->end - module->start;
        bool parsed = parse_nonce(text, length);
        wipe(text, length);
        boot_info.module_count--;
        memmove(&boot_info.modules[i], &boot_info.modules[i + 1],
                (boot_info.module_count - i) * sizeof(boot_info.modules[0]));
        return parsed;
    }
    return false;
}

/* FNV-1a over the kernel's code and constants (the test table included),
 * a word at a time: any byte changed changes it. */
static uint64_t checksum_image(void)
{
    static const uint64_t FNV_OFFSET = 0xCBF29CE484222325ull, FNV_PRIME = 0x100000001B3ull;
    uint64_t hash = FNV_OFFSET;
    for (uintptr_t at = (uintptr_t)_text_start; at < (uintptr_t)_rodata_end; at += sizeof(hash))
        hash = (hash ^ *(const uint64_t *)at) * FNV_PRIME;
    return hash;
}

void ktest_prepare(void)
{
    char text[NONCE_DIGITS];
    size_t length = fw_cfg_read_file(NONCE_FW_CFG_FILE, text, sizeof(text));
    nonce.present = length > 0 ? parse_nonce(text, length) : take_nonce_module();
    wipe(text, sizeof(text));
    image_checksum = checksum_image();
}

/* ---- the protocol --------------------------------------------------------- */

static void results_write(const char *text)
{
    while (*text)
        serial_putc(SERIAL_COM2, *text++);
}

static void results_write_nonce(void)
{
    static const char digits[] = "0123456789abcdef";
    if (!nonce.present) {
        results_write("none");
        return;
    }
    for (size_t i = 0; i < NONCE_BYTES; i++) {
        serial_putc(SERIAL_COM2, digits[nonce.bytes[i] >> 4]);
        serial_putc(SERIAL_COM2, digits[nonce.bytes[i] & 0xF]);
    }
}

/* One line of the protocol: on the console as people read it, and on the
 * results channel with " nonce=N" added if `signed_line`. */
__attribute__((format(printf, 2, 3))) static void report(bool signed_line, const char *format, ...)
{
    char line[LINE_SIZE];
    va_list args;
    va_start(args, format);
    kvsnprintf(line, sizeof(line), format, args);
    va_end(args);
    kprintf("%s\n", line);
    results_write(line);
    if (signed_line) {
        results_write(" nonce=");
        results_write_nonce();
    }
    results_write("\n");
}

/* Runs one test; afterwards current.failed says how it went. Kept apart
 * from the loop so that no local variable lives across kjmp_set. */
static void run_one(const struct ktest *test)
{
    current.test = test;
    current.failed = false;
    current.diagnostics = 0;
    current.cleanup = NULL;
    ktest_note_clear();
    if (kjmp_set(&current.exit) == 0)
        ktest_call(test->run);
    catcher.fault = NULL; /* a test that ended inside ktest_catch_fault */
    void (*cleanup)(void) = current.cleanup;
    current.cleanup = NULL; /* a crash inside cleanup comes back here once */
    if (cleanup != NULL)
        cleanup();
    current.test = NULL;
}

/* Is `name` one of the comma-separated names in `list`? */
static bool list_contains(const char *list, const char *name)
{
    size_t length = strlen(name);
    for (const char *at = list; *at;) {
        const char *end = at;
        while (*end && *end != ',')
            end++;
        if ((size_t)(end - at) == length && strncmp(at, name, length) == 0)
            return true;
        at = *end ? end + 1 : end;
    }
    return false;
}

static unsigned parse_unsigned(const char *text)
{
    unsigned value = 0;
    while (*text >= '0' && *text <= '9')
        value = value * 10 + (unsigned)(*text++ - '0');
    return value;
}

/* The linker keeps the tests of one file together but not in source order:
 * sort them by file and line so that numbers match what a reader sees. */
static bool runs_before(const struct ktest *a, const struct ktest *b)
{
    int by_file = strcmp(a->file, b->file);
    return by_file != 0 ? by_file < 0 : a->line < b->line;
}

static unsigned collect_tests(const struct ktest **tests)
{
    /* Integer arithmetic: comparing pointers to two different objects (the
     * two linker symbols) would be undefined behaviour in C. */
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

_Noreturn void ktest_run_all(const char *lesson, const char *command_line)
{
    char only[FILTER_SIZE] = "", from[FILTER_SIZE] = "";
    cmdline_get(command_line, "ktest.only", only, sizeof(only));
    cmdline_get(command_line, "ktest.from", from, sizeof(from));
    unsigned first = from[0] ? parse_unsigned(from) : 1;

    serial_init(SERIAL_COM2);
    crash_hook = on_crash;
    expected_fault_hook = on_expected_fault;

    static const struct ktest *tests[MAX_TESTS];
    unsigned count = collect_tests(tests);
    unsigned passed = 0, failed = 0, tampered_in = 0;
    report(false, "KTAP version 1");
    report(false, "# lesson %s", lesson);
    report(false, "1..%u", count);
    for (unsigned number = 1; number <= count; number++)
        report(true, "# test %u %s points=%u kind=%s", number, tests[number - 1]->name,
               tests[number - 1]->points, kind_names[tests[number - 1]->kind]);
    for (unsigned number = 1; number <= count; number++) {
        const struct ktest *test = tests[number - 1];
        if (number < first || (only[0] && !list_contains(only, test->name)))
            continue;

        report(false, "# RUN %u %s", number, test->name);
        run_one(test);
        if (checksum_image() != image_checksum) {
            /* No later result can be trusted either: they all fail. */
            if (tampered_in == 0) {
                tampered_in = number;
                report(true, "# TAMPERED %u %s", number, test->name);
            }
            kprintf("# the kernel's code or constants were changed (during test %u)\n",
                    tampered_in);
            current.failed = true;
        }
        report(true, "%s %u %s # points=%u/%u kind=%s", current.failed ? "not ok" : "ok", number,
               test->name, current.failed ? 0 : test->points, test->points, kind_names[test->kind]);
        if (current.failed)
            failed++;
        else
            passed++;
    }
    report(false, "# %u passed, %u failed", passed, failed);
    report(true, "# END");
    emulator_exit(failed == 0);
}
