"""Making untrusted text safe to show: one place for everything that a
submission controls (its file and folder names, its compiler diagnostics,
what its kernel prints) before the grader prints, logs or writes it into a
CSV, JSON or JUnit file.

- A terminal must not take the text for commands: control characters (C0,
  DEL, C1, of which 0x9b starts an escape sequence on its own) and the
  Unicode marks that reorder or break lines are written as escapes (\\x1b,
  \\u202e), so the reader sees them and the terminal does not act on them.
- A line of the text must not pass for a line of the grader's own: text of
  several lines is split on its newlines, and every line gets a prefix.
- A spreadsheet must not run a cell: a cell that starts with = + - @, a tab
  or a carriage return starts with ' instead, as OWASP's "CSV Injection"
  page advises.
- Nothing here raises on odd bytes: bytes that are not UTF-8 (a class folder
  unpacked from an LMS export, a name Python read as surrogate escapes)
  become \\xNN escapes (backslash-replace)."""

import os

# Unicode's invisible direction and line marks (the "Trojan Source" ones, and
# the line and paragraph separators that some viewers break lines at).
UNICODE_MARKS = {0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F),
                 *range(0x2066, 0x206A)}
# What a spreadsheet reads as the start of a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def decode(value):
    """`value` (str, bytes or a path) as a str that encodes to UTF-8: bytes
    that are not UTF-8, and a str's surrogates (how Python reads such bytes
    in file names), become backslash escapes."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            value = value.encode("utf-8", "surrogateescape" if is_surrogate_escaped(value)
                                 else "backslashreplace")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "backslashreplace")
    return str(value)


def is_surrogate_escaped(value):
    """All surrogates of `value` are what os.fsdecode makes of a byte that is
    not UTF-8 (U+DC80..U+DCFF)."""
    return all(0xDC80 <= ord(char) <= 0xDCFF for char in value if 0xD800 <= ord(char) <= 0xDFFF)


def escape(char):
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def is_unsafe(char, keep_tab=False):
    code = ord(char)
    if char == "\t":
        return not keep_tab
    return code < 0x20 or 0x7F <= code <= 0x9F or code in UNICODE_MARKS or \
        0xD800 <= code <= 0xDFFF


def text(value, keep_tab=False):
    """`value` as one safe line: every control character, newlines included,
    written as an escape. For names, reasons, cells and single-line fields."""
    return "".join(escape(char) if is_unsafe(char, keep_tab) else char
                   for char in decode(value))


def lines(value, prefix=""):
    """`value` (text of any number of lines) as a list of safe lines, each
    starting with `prefix`, split on its newlines ("\\r\\n" counts as one)."""
    return [prefix + text(line.removesuffix("\r"), keep_tab=True)
            for line in decode(value).split("\n")]


def block(value, prefix=""):
    """lines(), joined by newlines: a safe multi-line text for a log or a report."""
    return "\n".join(lines(value, prefix))


def cell(value):
    """A CSV cell: numbers as they are, text made safe and defused as a formula."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    safe = text(value)
    return "'" + safe if safe.startswith(FORMULA_STARTS) else safe
