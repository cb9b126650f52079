"""Unit tests of what the grader tells students and instructors
(grader/gradelib/report.py, the submission's files):
reasons, exit status, rerun hints, compile errors, hidden tests, renamed and
duplicated files. No kernel is booted: the results are made up."""

import re
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

GRADER = Path(__file__).resolve().parent.parent.parent / "grader"
sys.path.insert(0, str(GRADER))
from gradelib import report, runner, submission  # noqa: E402
from gradelib.protocol import TestResult  # noqa: E402


def test(name, kind="homework", status="passed", points=2, output=(), number=1, hidden=False):
    result = TestResult(number, name, points, kind, status=status, hidden=hidden,
                        output=list(output))
    result.score = points if status == "passed" else 0
    return result


def kernel(tests, kernel_name="lesson15", flavour="", build_log="", skipped=""):
    return runner.KernelResult("15-kheap", kernel_name, flavour, {t.name: t for t in tests},
                               build_log=build_log, root=Path("/nonexistent"), skipped=skipped)


class ReasonTest(unittest.TestCase):
    def test_a_failed_check_beats_an_expected_warning(self):
        failed = test("t", status="failed", output=[
            "kheap: warning: kfree(0xffffffff80200010): not the start of a block",
            "# lessons/15-kheap/tests.c:313: stats_now().bad_frees == 2: expected 2, got 1"])
        self.assertEqual(report.first_problem(failed), "lessons/15-kheap/tests.c:313: "
                         "stats_now().bad_frees == 2: expected 2, got 1")

    def test_an_exception_says_where_it_happened(self):
        crashed = test("t", status="failed", output=[
            "kheap: warning: something expected", "", "*** EXCEPTION 0: #DE divide error ***",
            "  error code: 0x0", "  RIP=0xffffffff80104a2c RSP=0xffffffff80120f40",
            "  faulting instruction at 0xffffffff80104a2c",
            "# test t crashed: CPU exception"])
        self.assertEqual(report.first_problem(crashed),
                         "EXCEPTION 0: #DE divide error at 0xffffffff80104a2c")

    def test_a_page_fault_leads_with_address_access_and_diagnosis(self):
        crashed = test("t", status="failed", output=[
            "kheap: 0xffffffff80201000 is in the heap window (page 1 of 512) but that page is "
            "not mapped",
            "*** EXCEPTION 14: #PF page fault: write to 0xffffffff80201000 (page not present): "
            "kheap: 0xffffffff80201000 is in the heap window ***",
            "  faulting address (CR2): 0xffffffff80201000",
            "  faulting instruction at 0xffffffff8010c004",
            "# test t crashed: #PF page fault"])
        self.assertEqual(report.first_problem(crashed),
                         "EXCEPTION 14: #PF page fault: write to 0xffffffff80201000 (page not "
                         "present): kheap: 0xffffffff80201000 is in the heap window; "
                         "instruction at 0xffffffff8010c004")

    def test_a_hang_says_how_the_boot_ended(self):
        hung = test("t", status="hung", output=[
            "kheap: note",
            "no output for 1.2 s of the emulator's CPU time (1.3 s) after '# RUN 3 t'"])
        self.assertTrue(report.first_problem(hung).startswith("no output for 1.2 s"))


class ExitStatusTest(unittest.TestCase):
    def test_a_failed_bonus_does_not_fail_the_grade(self):
        results = [kernel([test("a", "lecture"), test("b", "homework")]),
                   kernel([test("c", "bonus", status="failed")], "lesson15-freelist", "freelist")]
        self.assertTrue(report.required_passed(results))
        self.assertFalse(report.full_marks(results))
        self.assertIn("every required test passes", report.render_table(results, "s", "qemu"))

    def test_a_failed_homework_test_does(self):
        self.assertFalse(report.required_passed([kernel([test("b", status="failed")])]))


class HintTest(unittest.TestCase):
    def test_every_failed_test_gets_a_hint_or_is_counted(self):
        failed = [test(f"t{i}", status="failed", number=i + 1) for i in range(report.MAX_HINTS + 3)]
        hints = report.rerun_hints(kernel(failed))
        self.assertEqual(sum("ONLY=" in h for h in hints), report.MAX_HINTS)
        self.assertIn("and 3 more failed tests", hints[-1])

    def test_a_skipped_bonus_kernel_is_one_line(self):
        skipped = kernel([test(f"fl{i}", "bonus", status="skipped") for i in range(18)],
                         "lesson15-freelist", "freelist",
                         skipped="kheap_freelist.c is the starter's")
        table = report.render_table([kernel([test("a")]), skipped], "s", "qemu")
        self.assertEqual(sum("freelist" in line for line in table.splitlines()), 1)
        self.assertNotIn("SKIPPED", table)


class GradescopeTest(unittest.TestCase):
    def test_a_compile_error_is_shown_once(self):
        log = "lessons/15-kheap/kheap.c:12: error: expected ';'"
        broken = kernel([test(f"t{i}", status="build failed") for i in range(5)], build_log=log)
        data = report.gradescope_json([broken], 1.0)
        shown = data["output"].count(log) + sum(t["output"].count(log) for t in data["tests"])
        self.assertEqual(shown, 1)
        self.assertEqual(data["max_score"], 10)

    def test_hidden_tests_stay_out_of_what_students_see(self):
        secret = test("hidden_secret_check", status="hung", hidden=True, output=["hung"])
        result = kernel([test("a"), secret])
        result.events.append("test hidden_secret_check: no output for 1.2 s")
        data = report.gradescope_json([result], 1.0)
        visible = data["output"] + "".join(t["name"] + t["output"] for t in data["tests"]
                                           if t["visibility"] == "visible")
        self.assertNotIn("hidden_secret_check", visible)
        self.assertEqual([t["visibility"] for t in data["tests"]], ["visible", "after_published"])
        self.assertEqual(report.rerun_hints(result), [])


class SubmissionFilesTest(unittest.TestCase):
    def setUp(self):
        self.scratch = tempfile.TemporaryDirectory()
        self.folder = Path(self.scratch.name)

    def tearDown(self):
        self.scratch.cleanup()

    def write(self, *names):
        for name in names:
            (self.folder / name).parent.mkdir(parents=True, exist_ok=True)
            (self.folder / name).write_text("/* a student's file */\n")

    def test_a_renamed_upload_is_taken_and_said(self):
        self.write("kheap (1).c")
        notes = []
        found = submission.find_file(self.folder, "15-kheap", "kheap.c", notes)
        self.assertEqual(found.name, "kheap (1).c")
        self.assertIn("renamed file kheap (1).c graded as kheap.c", notes)

    def test_two_copies_are_named_with_the_one_graded(self):
        self.write("kheap.c", "old/kheap.c")
        notes = []
        found = submission.find_file(self.folder, "15-kheap", "kheap.c", notes)
        self.assertEqual(found, (self.folder / "kheap.c").resolve())
        self.assertEqual(notes, ["several files named kheap.c (kheap.c, old/kheap.c): graded "
                                 "kheap.c"])

    def test_a_renamed_copy_beside_the_file_is_named(self):
        self.write("kheap.c", "kheap (1).c")
        notes = []
        found = submission.find_file(self.folder, "15-kheap", "kheap.c", notes)
        self.assertEqual(found.name, "kheap.c")
        self.assertIn("kheap (1).c", notes[0])
        self.write("other/kheap (2).c")
        (self.folder / "kheap.c").unlink()
        with self.assertRaisesRegex(submission.SubmissionError, "several renamed copies"):
            submission.find_file(self.folder, "15-kheap", "kheap.c", [])

    def test_two_copies_and_no_rule_to_choose_are_refused(self):
        self.write("a/kheap.c", "b/kheap.c")
        with self.assertRaisesRegex(submission.SubmissionError, "a/kheap.c, b/kheap.c"):
            submission.find_file(self.folder, "15-kheap", "kheap.c", [])

    def test_hidden_tests_go_into_the_main_kernel_or_the_flavour_named(self):
        # The lab's own Makefile and lesson.mk files say which kernel takes which test.
        shutil.copyfile(runner.ROOT / "Makefile", self.folder / "Makefile")
        for lesson_mk in runner.ROOT.glob("lessons/*/lesson.mk"):
            (self.folder / lesson_mk.parent.relative_to(runner.ROOT)).mkdir(parents=True)
            shutil.copyfile(lesson_mk, self.folder / lesson_mk.relative_to(runner.ROOT))
        lesson = self.folder / "lessons" / "15-kheap"
        for other in runner.ROOT.glob("lessons/15-kheap/tests*.c"):  # declaring nothing here
            (lesson / other.name).write_text("")
        (lesson / "tests.c").write_text("KTEST_LECTURE(plain, 1)\n")
        (lesson / "tests_freelist.c").write_text("KTEST_BONUS(flavoured, 1)\n")
        hidden = self.folder / "hidden"
        hidden.mkdir()
        (hidden / "main.c").write_text("KTEST_HOMEWORK(hidden_main, 2)\n")
        (hidden / "heap_freelist.c").write_text("KTEST_BONUS(hidden_flavour, 1)\n")
        submission.add_extra_tests(submission.Workspace(self.folder), "15-kheap", hidden)

        def tests_of(flavour):
            files = runner.test_files("15-kheap", flavour, self.folder)
            return sorted(name for f in files for name in
                          re.findall(r"KTEST_\w+\((\w+)", f.read_text()))
        self.assertEqual(tests_of(""), ["hidden_main", "plain"])
        self.assertEqual(tests_of("freelist"), ["flavoured", "hidden_flavour"])


if __name__ == "__main__":
    unittest.main()
