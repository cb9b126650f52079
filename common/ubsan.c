/* ubsan.c - the runtime for gcc's -fsanitize=undefined (built with SAN=1).
 *
 * The compiler inserts checks before operations whose result would be
 * undefined (a signed overflow, a shift past the width, a misaligned or NULL
 * pointer, an index past an array's end...) and calls one of the handlers
 * below when a check fails. Each handler gets a pointer to data whose first
 * member is the source location. We report the check and the location and
 * panic: inside a test run that fails the test and the run goes on.
 *
 * This file itself is compiled without the flag (see the Makefile): a check
 * inside the handler would call the handler again. */
#include "kprintf.h"
#include "panic.h"

struct source_location {
    const char *file;
    uint32_t line;
    uint32_t column;
};

struct type_mismatch_data {
    struct source_location location;
    const void *type;
    uint8_t log_alignment;
    uint8_t type_check_kind;
};

_Noreturn static void report(const struct source_location *location, const char *check)
{
    panic("undefined behaviour (%s) at %s:%u:%u", check, location->file, location->line,
          location->column);
}

/* Most checks need nothing beyond their name and place. */
#define UBSAN_HANDLER(name, check, ...)                                                            \
    void __ubsan_handle_##name(const struct source_location *location, ##__VA_ARGS__);             \
    void __ubsan_handle_##name(const struct source_location *location, ##__VA_ARGS__)              \
    {                                                                                              \
        report(location, check);                                                                   \
    }

UBSAN_HANDLER(add_overflow, "signed addition overflow", void *a, void *b)
UBSAN_HANDLER(sub_overflow, "signed subtraction overflow", void *a, void *b)
UBSAN_HANDLER(mul_overflow, "signed multiplication overflow", void *a, void *b)
UBSAN_HANDLER(negate_overflow, "signed negation overflow", void *a)
UBSAN_HANDLER(divrem_overflow, "division by zero or overflow", void *a, void *b)
UBSAN_HANDLER(shift_out_of_bounds, "shift out of bounds", void *a, void *b)
UBSAN_HANDLER(out_of_bounds, "array index out of bounds", void *index)
UBSAN_HANDLER(pointer_overflow, "pointer arithmetic overflow", void *base, void *result)
UBSAN_HANDLER(load_invalid_value, "load of an invalid value (bool or enum)", void *value)
UBSAN_HANDLER(builtin_unreachable, "__builtin_unreachable reached")
UBSAN_HANDLER(missing_return, "function ended without a return value")
UBSAN_HANDLER(vla_bound_not_positive, "variable-length array of size <= 0", void *bound)
UBSAN_HANDLER(nonnull_arg, "NULL passed as a nonnull argument")
UBSAN_HANDLER(nonnull_return_v1, "NULL returned from a returns_nonnull function", void *place)
UBSAN_HANDLER(invalid_builtin, "invalid argument to a builtin (ctz/clz of 0)")

void __ubsan_handle_type_mismatch_v1(const struct type_mismatch_data *data, uintptr_t pointer);
void __ubsan_handle_type_mismatch_v1(const struct type_mismatch_data *data, uintptr_t pointer)
{
    if (pointer == 0)
        report(&data->location, "NULL pointer dereference");
    if (pointer & ((1ull << data->log_alignment) - 1)) {
        kprintf("ubsan: address %p needs %llu-byte alignment\n", (void *)pointer,
                1ull << data->log_alignment);
        report(&data->location, "misaligned access");
    }
    report(&data->location, "object too small for its type");
}
