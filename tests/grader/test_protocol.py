"""Unit tests of the protocol parser (grader/gradelib/protocol.py): what
counts, what is ignored, and what is condemned as forged."""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "grader"))
from gradelib.protocol import RunState, TestResult  # noqa: E402

PLAN = ["KTAP version 1", "1..2",
        "# test 1 first points=2 kind=lecture nonce=N",
        "# test 2 second points=3 kind=homework nonce=N"]


def state_after(lines):
    state = RunState(nonce="N", tests={"first": TestResult(0, "first", 2, "lecture"),
                                       "second": TestResult(0, "second", 3, "homework")})
    state.begin_boot()
    for line in PLAN + lines:
        state.feed(line)
    return state


class ProtocolTest(unittest.TestCase):
    def test_results_with_the_nonce_count(self):
        state = state_after(["# RUN 1 first", "ok 1 first # points=2/2 kind=lecture nonce=N",
                             "# RUN 2 second", "# tests.c:9: expected 1, got 2",
                             "not ok 2 second # points=0/3 kind=homework nonce=N", "# END nonce=N"])
        self.assertEqual(state.tests["first"].score, 2)
        self.assertEqual(state.tests["second"].status, "failed")
        self.assertEqual(state.tests["second"].output, ["# tests.c:9: expected 1, got 2"])
        self.assertTrue(state.ended)

    def test_lines_without_the_nonce_are_ignored(self):
        state = state_after(["ok 2 second # points=3/3 kind=homework nonce=none"])
        self.assertEqual(state.tests["second"].status, "not run")
        self.assertEqual(state.spoofed, 1)

    def test_a_second_result_condemns_the_test(self):
        state = state_after(["ok 2 second # points=3/3 kind=homework nonce=N",
                             "not ok 2 second # points=0/3 kind=homework nonce=N"])
        self.assertEqual(state.tests["second"].status, "forged")
        self.assertEqual(state.tests["second"].score, 0)

    def test_a_result_under_another_number_condemns_the_test(self):
        state = state_after(["ok 7 second # points=3/3 kind=homework nonce=N"])
        self.assertEqual(state.tests["second"].status, "forged")

    def test_a_test_declared_twice_is_condemned(self):
        state = state_after(["# test 3 second points=3 kind=homework nonce=N",
                             "ok 2 second # points=3/3 kind=homework nonce=N"])
        self.assertEqual(state.tests["second"].score, 0)

    def test_points_come_from_the_sources_not_the_kernel(self):
        state = state_after(["# test 3 extra points=99 kind=lecture nonce=N",
                             "ok 3 extra # points=99/99 kind=lecture nonce=N"])
        self.assertNotIn("extra", state.tests)
        self.assertEqual(sum(t.score for t in state.tests.values()), 0)

    def test_a_retry_boot_may_print_the_plan_again(self):
        state = state_after(["ok 1 first # points=2/2 kind=lecture nonce=N"])
        state.begin_boot()
        for line in PLAN + ["ok 2 second # points=3/3 kind=homework nonce=N"]:
            state.feed(line)
        self.assertEqual([t.status for t in state.tests.values()], ["passed", "passed"])


if __name__ == "__main__":
    unittest.main()
