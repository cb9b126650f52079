"""Unit tests of the two serial ports (grader/gradelib/channel.py): results
count only from COM2, the console's lines go to the tests that printed them,
and lines that no harness wrote are noticed."""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "grader"))
from gradelib.channel import feed_boot  # noqa: E402
from gradelib.protocol import RunState, TestResult  # noqa: E402

RESULTS = ["KTAP version 1", "1..2",
           "# test 1 first points=2 kind=lecture nonce=N",
           "# test 2 second points=3 kind=homework nonce=N",
           "# RUN 1 first", "not ok 1 first # points=0/2 kind=lecture nonce=N",
           "# RUN 2 second", "ok 2 second # points=3/3 kind=homework nonce=N", "# END nonce=N"]
CONSOLE = ["kernel-memory-lab: lesson 99", "KTAP version 1", "1..2",
           "# test 1 first points=2 kind=lecture", "# test 2 second points=3 kind=homework",
           "# RUN 1 first", "# tests.c:7: x == 1: expected 1, got 2",
           "not ok 1 first # points=0/2 kind=lecture",
           "# RUN 2 second", "ok 2 second # points=3/3 kind=homework", "# END"]


def fed(console, results):
    state = RunState(nonce="N", tests={"first": TestResult(0, "first", 2, "lecture"),
                                       "second": TestResult(0, "second", 3, "homework")})
    state.begin_boot()
    feed_boot(state, console, results)
    return state


class ChannelTest(unittest.TestCase):
    def test_results_come_from_com2_and_output_from_the_console(self):
        state = fed(CONSOLE, RESULTS)
        self.assertEqual(state.tests["first"].status, "failed")
        self.assertEqual(state.tests["second"].score, 3)
        self.assertEqual(state.tests["first"].output, ["# tests.c:7: x == 1: expected 1, got 2"])
        self.assertEqual(state.boot_lines, ["kernel-memory-lab: lesson 99"])
        self.assertTrue(state.ended)
        self.assertFalse(state.forged or state.spoofed)

    def test_signed_lines_on_the_console_count_for_nothing(self):
        forged = ["ok 1 first # points=2/2 kind=lecture nonce=N", "# END nonce=N"]
        state = fed(CONSOLE[:6] + forged, RESULTS[:5])
        self.assertEqual(state.tests["first"].status, "not run")
        self.assertEqual(state.running, "first")
        self.assertFalse(state.ended)
        self.assertEqual(state.spoofed, 2)

    def test_a_line_on_com2_that_the_harness_did_not_write_is_reported(self):
        state = fed(CONSOLE, RESULTS[:5] + ["hello from a student"] + RESULTS[5:])
        self.assertEqual(state.tests["second"].score, 3)
        self.assertEqual(len(state.forged), 1)
        self.assertIn("did not write", state.forged[0])

    def test_a_test_that_changed_the_kernel_is_reported(self):
        results = RESULTS[:5] + ["# TAMPERED 1 first nonce=N"] + RESULTS[5:]
        state = fed(CONSOLE, results)
        self.assertEqual(state.tests["first"].status, "failed")
        self.assertEqual(state.forged,
                         ["the kernel's code or constants changed while test first ran"])
        self.assertEqual(fed(CONSOLE, RESULTS[:5] + ["# TAMPERED 1 first nonce=X"]).forged, [])

    def test_a_crash_report_goes_to_the_running_test(self):
        state = fed(CONSOLE[:6] + ["*** EXCEPTION 14: #PF page fault"], RESULTS[:5])
        self.assertEqual(state.running, "first")
        self.assertEqual(state.tests["first"].output, ["*** EXCEPTION 14: #PF page fault"])


if __name__ == "__main__":
    unittest.main()
