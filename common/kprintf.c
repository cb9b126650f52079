/* kprintf.c - a small printf for the kernel. */
#include "kprintf.h"
#include "serial.h"
#include "string.h"
#include "vga.h"
#include "x86.h"

enum {
    BOCHS_E9_PORT = 0xE9,           /* Bochs echoes bytes written here to its terminal */
    MAX_PRECISION = 64,             /* digits a precision may ask for: 2^64 has 20 decimal digits */
    MAX_DIGITS = MAX_PRECISION + 3, /* and a sign, or a 0x prefix */
};

static bool bochs_e9_present;

void console_init(void)
{
    serial_init(SERIAL_COM1);
    vga_init();
    /* With port_e9_hack enabled Bochs reads back 0xE9 here; QEMU reads 0xFF. */
    bochs_e9_present = inb(BOCHS_E9_PORT) == BOCHS_E9_PORT;
}

void console_putc(char c)
{
    serial_putc(SERIAL_COM1, c);
    vga_putc(c);
    if (bochs_e9_present)
        outb(BOCHS_E9_PORT, (uint8_t)c);
}

struct format_spec {
    bool left_align;
    bool zero_pad;
    bool alternate; /* '#': 0x before a nonzero %x, 0 before %o */
    char sign;      /* '+' or ' ': what a non-negative %d starts with; else 0 */
    int width;
    int precision; /* -1: none; %s: at most this many characters; numbers: digits */
};

/* Where formatted characters go: the consoles, or a caller's buffer. */
struct sink {
    void (*put)(struct sink *sink, char c);
    char *buffer; /* for buffer_put: */
    size_t size, length;
};

static void console_put(struct sink *sink, char c)
{
    (void)sink;
    console_putc(c);
}

/* Keeps what fits and a terminating NUL; counts the rest. */
static void buffer_put(struct sink *sink, char c)
{
    if (sink->length + 1 < sink->size)
        sink->buffer[sink->length] = c;
    sink->length++;
}

static void put_padded(struct sink *out, const char *text, size_t length,
                       const struct format_spec *spec)
{
    size_t padding = spec->width > (int)length ? (size_t)spec->width - length : 0;
    char pad = spec->zero_pad && !spec->left_align ? '0' : ' ';

    /* Zero padding goes between the sign or 0x and the digits: -0042, 0x002a. */
    size_t prefix = 0;
    if (pad == '0' && length > 0 && (text[0] == '-' || text[0] == '+' || text[0] == ' '))
        prefix = 1;
    else if (pad == '0' && length > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
        prefix = 2;
    for (size_t i = 0; i < prefix; i++)
        out->put(out, text[i]);
    text += prefix;
    length -= prefix;
    if (!spec->left_align)
        while (padding--)
            out->put(out, pad);
    for (size_t i = 0; i < length; i++)
        out->put(out, text[i]);
    if (spec->left_align)
        while (padding--)
            out->put(out, ' ');
}

static void put_number(struct sink *out, unsigned long long value, bool negative, unsigned base,
                       bool upper, const struct format_spec *spec)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buffer[MAX_DIGITS];
    size_t at = sizeof(buffer);
    int min_digits = spec->precision < 0 ? 1 : MIN(spec->precision, MAX_PRECISION);
    bool nonzero = value != 0;

    for (int count = 0; value != 0 || count < min_digits; count++) {
        buffer[--at] = digits[value % base];
        value /= base;
    }
    if (spec->alternate && base == 8 && buffer[at] != '0')
        buffer[--at] = '0';
    if (spec->alternate && base == 16 && nonzero) {
        buffer[--at] = upper ? 'X' : 'x';
        buffer[--at] = '0';
    }
    if (negative)
        buffer[--at] = '-';
    else if (spec->sign != 0)
        buffer[--at] = spec->sign;
    /* As in C, a precision turns zero padding off. */
    struct format_spec padding = *spec;
    padding.zero_pad = spec->zero_pad && spec->precision < 0;
    put_padded(out, buffer + at, sizeof(buffer) - at, &padding);
}

/* Reads the decimal digits at *p (none: 0) and moves *p past them. */
static int parse_decimal(const char **p)
{
    int value = 0;
    for (; **p >= '0' && **p <= '9'; (*p)++)
        value = value * 10 + (**p - '0');
    return value;
}

/* The size of an integer argument, from its length modifier. */
enum length {
    LENGTH_CHAR,  /* hh */
    LENGTH_SHORT, /* h */
    LENGTH_INT,   /* none */
    LENGTH_WIDE,  /* l, ll, z, j, t: 64 bits on x86_64 */
};
_Static_assert(sizeof(long) == sizeof(long long) && sizeof(size_t) == sizeof(long long) &&
               sizeof(intmax_t) == sizeof(long long) && sizeof(ptrdiff_t) == sizeof(long long));

static enum length parse_length(const char **p)
{
    if (**p == 'h') {
        (*p)++;
        if (**p != 'h')
            return LENGTH_SHORT;
        (*p)++;
        return LENGTH_CHAR;
    }
    bool wide = false;
    for (; **p == 'l' || **p == 'z' || **p == 'j' || **p == 't'; (*p)++)
        wide = true;
    return wide ? LENGTH_WIDE : LENGTH_INT;
}

/* The next argument; char and short ones arrive promoted to int. */
static long long take_signed(va_list *args, enum length length)
{
    if (length == LENGTH_WIDE)
        return va_arg(*args, long long);
    int value = va_arg(*args, int);
    return length == LENGTH_CHAR    ? (signed char)value
           : length == LENGTH_SHORT ? (short)value
                                    : value;
}

static unsigned long long take_unsigned(va_list *args, enum length length)
{
    if (length == LENGTH_WIDE)
        return va_arg(*args, unsigned long long);
    unsigned value = va_arg(*args, unsigned);
    return length == LENGTH_CHAR    ? (unsigned char)value
           : length == LENGTH_SHORT ? (unsigned short)value
                                    : value;
}

/* A width or precision: digits, or '*' for the next int argument. */
static int parse_count(const char **p, va_list *args)
{
    if (**p != '*')
        return parse_decimal(p);
    (*p)++;
    return va_arg(*args, int);
}

static void format_to(struct sink *out, const char *format, va_list arguments)
{
    va_list args; /* a local copy, so that its address can be passed on */
    va_copy(args, arguments);
    for (const char *p = format; *p; p++) {
        if (*p != '%') {
            out->put(out, *p);
            continue;
        }
        struct format_spec spec = {.precision = -1};
        for (p++;; p++) {
            if (*p == '-')
                spec.left_align = true;
            else if (*p == '0')
                spec.zero_pad = true;
            else if (*p == '#')
                spec.alternate = true;
            else if (*p == '+' || (*p == ' ' && spec.sign != '+'))
                spec.sign = *p;
            else
                break;
        }
        spec.width = parse_count(&p, &args);
        if (spec.width < 0) { /* a negative '*' width means '-' */
            spec.left_align = true;
            spec.width = -spec.width;
        }
        if (*p == '.') {
            p++;
            int precision = parse_count(&p, &args);
            spec.precision = precision < 0 ? -1 : precision; /* a negative '*': none */
        }
        enum length length = parse_length(&p);

        switch (*p) {
        case 'c': {
            char c = (char)va_arg(args, int);
            put_padded(out, &c, 1, &spec);
            break;
        }
        case 's': {
            const char *s = va_arg(args, const char *);
            if (s == NULL)
                s = "(null)";
            size_t shown = 0; /* strnlen: with a precision, s need not end within it */
            while (s[shown] != '\0' && (spec.precision < 0 || shown < (size_t)spec.precision))
                shown++;
            put_padded(out, s, shown, &spec);
            break;
        }
        case 'd':
        case 'i': {
            long long value = take_signed(&args, length);
            unsigned long long magnitude =
                value < 0 ? 0ull - (unsigned long long)value : (unsigned long long)value;
            put_number(out, magnitude, value < 0, 10, false, &spec);
            break;
        }
        case 'u':
            spec.sign = 0;
            put_number(out, take_unsigned(&args, length), false, 10, false, &spec);
            break;
        case 'o':
            spec.sign = 0;
            put_number(out, take_unsigned(&args, length), false, 8, false, &spec);
            break;
        case 'x':
        case 'X':
            spec.sign = 0;
            put_number(out, take_unsigned(&args, length), false, 16, *p == 'X', &spec);
            break;
        case 'p': {
            struct format_spec pointer_spec = {.zero_pad = true, .width = 16, .precision = -1};
            out->put(out, '0');
            out->put(out, 'x');
            put_number(out, (uintptr_t)va_arg(args, void *), false, 16, false, &pointer_spec);
            break;
        }
        case '%':
            out->put(out, '%');
            break;
        case '\0': /* a lone % at the end */
            p--;
            break;
        default: /* an unknown conversion is printed as written */
            out->put(out, '%');
            out->put(out, *p);
            break;
        }
    }
    va_end(args);
}

void kvprintf(const char *format, va_list args)
{
    struct sink consoles = {.put = console_put};
    format_to(&consoles, format, args);
}

size_t kvsnprintf(char *buffer, size_t size, const char *format, va_list args)
{
    struct sink out = {.put = buffer_put, .buffer = buffer, .size = size};
    format_to(&out, format, args);
    if (size > 0)
        buffer[out.length < size ? out.length : size - 1] = '\0';
    return out.length;
}

size_t ksnprintf(char *buffer, size_t size, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    size_t length = kvsnprintf(buffer, size, format, args);
    va_end(args);
    return length;
}

void kprintf(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    kvprintf(format, args);
    va_end(args);
}
