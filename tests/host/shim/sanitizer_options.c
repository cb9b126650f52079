/* sanitizer_options.c - defaults for the sanitized host builds (the
 * environment's ASAN_OPTIONS / UBSAN_OPTIONS still override them).
 *   exitcode=3                  a sanitizer report is told apart from a
 *                               failed check (exit status 1)
 *   allow_user_segv_handler=1   memory.c's MMU model takes SIGSEGV first and
 *                               passes on the faults it cannot explain
 *   print_stacktrace=1          UBSan says where */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
    return "exitcode=3:allow_user_segv_handler=1:handle_segv=1";
}

const char *__ubsan_default_options(void)
{
    return "exitcode=3:print_stacktrace=1:halt_on_error=1";
}
