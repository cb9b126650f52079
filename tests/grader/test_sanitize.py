"""Unit tests of the sanitiser (grader/gradelib/sanitize.py): what a
submission controls reaches a terminal, a log or a spreadsheet as visible
text, never as an escape sequence, a forged line or a formula, and no byte
makes it raise."""

import csv
import io
import os
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "grader"))
from gradelib import sanitize  # noqa: E402


class SanitizeTests(unittest.TestCase):
    def test_terminal_controls_are_escaped(self):
        self.assertEqual(sanitize.text("a\x1b[2Jb\x07\r\x7f\x9bc"),
                         "a\\x1b[2Jb\\x07\\x0d\\x7f\\x9bc")

    def test_direction_marks_are_escaped(self):
        self.assertEqual(sanitize.text("kheap\u202ec.exe"), "kheap\\u202ec.exe")

    def test_one_line_fields_keep_no_newline(self):
        self.assertEqual(sanitize.text("carol\nPASS mallory 45/45"),
                         "carol\\x0aPASS mallory 45/45")

    def test_lines_get_the_prefix(self):
        self.assertEqual(sanitize.lines("one\r\ntwo\n\x1b]0;x\x07", "  | "),
                         ["  | one", "  | two", "  | \\x1b]0;x\\x07"])
        self.assertEqual(sanitize.block("a\tb\nc", "> "), "> a\tb\n> c")

    def test_bytes_that_are_not_utf8(self):
        self.assertEqual(sanitize.text(b"caf\xe9"), "caf\\xe9")
        name = os.fsdecode(b"caf\xe9")  # how os.listdir gives such a folder
        self.assertEqual(sanitize.text(name), "caf\\xe9")
        self.assertEqual(sanitize.text(Path(name)), "caf\\xe9")
        self.assertEqual(sanitize.text("lone \ud800"), "lone \\ud800")
        sanitize.text("".join(chr(c) for c in range(0, 0x110000, 7) if c not in range(0xD800, 0xE000)))
        for result in (sanitize.text(bytes(range(256))), sanitize.block(bytes(range(256)))):
            result.encode("utf-8")  # never raises

    def test_formula_cells_are_defused(self):
        for formula in ("=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
            self.assertFalse(sanitize.cell(formula).startswith(("=", "+", "-", "@", "\t", "\r")),
                             formula)
        self.assertEqual(sanitize.cell("=1+1"), "'=1+1")
        self.assertEqual(sanitize.cell("alice"), "alice")
        self.assertEqual(sanitize.cell(45), 45)
        self.assertEqual(sanitize.cell(-1.5), -1.5)
        out = io.StringIO()
        csv.writer(out).writerow([sanitize.cell("=cmd|' /C calc'!A0"), sanitize.cell("a\nb")])
        self.assertEqual(out.getvalue().splitlines(), ["'=cmd|' /C calc'!A0,a\\x0ab"])


if __name__ == "__main__":
    unittest.main()
