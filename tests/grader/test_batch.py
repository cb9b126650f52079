"""Unit tests of the batch grader's reading and writing (grader/gradelib/
layouts.py, roster.py, gradebook.py, report.attention): the platforms'
export shapes, the roster, the import formats, and which flag a result
earns. No kernel is booted: the results are made up."""

import argparse
import csv
import importlib.util
import io
import sys
import tempfile
import unittest
import zipfile
from unittest import mock
from pathlib import Path

GRADER = Path(__file__).resolve().parent.parent.parent / "grader"
sys.path.insert(0, str(GRADER))
from gradelib import batch, gradebook, layouts, report, roster, runner  # noqa: E402
from gradelib.protocol import TestResult  # noqa: E402


class ExportTest(unittest.TestCase):
    def setUp(self):
        self.scratch = tempfile.TemporaryDirectory()
        self.folder = Path(self.scratch.name)

    def tearDown(self):
        self.scratch.cleanup()

    def write(self, *names):
        for name in names:
            (self.folder / name).parent.mkdir(parents=True, exist_ok=True)
            (self.folder / name).write_text("/* a student's file */\n")

    def read(self):
        export = layouts.read_class(self.folder)
        return export, {s.key: s for s in export.students}

    def test_moodle_folders_split_name_and_id(self):
        self.write("Alice Adams_100001_assignsubmission_file_/kheap.c",
                   "Alice Adams_100001_assignsubmission_onlinetext_/onlinetext.html")
        export, students = self.read()
        alice = students["Alice Adams_100001"]
        self.assertEqual((export.layouts, alice.name, alice.id, len(alice.sources)),
                         (["Moodle"], "Alice Adams", "100001", 1))
        self.assertIn("onlinetext", alice.notes[0])

    def test_canvas_loose_files_are_grouped_by_user(self):
        self.write("adamsalice_4242_77001_kheap.c", "adamsalice_LATE_4242_77002_kheap_freelist.c")
        export, students = self.read()
        alice = students["adamsalice_4242"]
        self.assertEqual(export.layouts, ["Canvas"])
        self.assertEqual(sorted(name for _, name in alice.sources),
                         ["kheap.c", "kheap_freelist.c"])

    def test_github_classroom_logins_lose_the_assignment_prefix(self):
        self.write("lab15-kernel-erin/.git/HEAD", "lab15-kernel-finn/.git/HEAD")
        _, students = self.read()
        self.assertEqual(sorted((s.name, s.id) for s in students.values()),
                         [("erin", "erin"), ("finn", "finn")])

    @unittest.skipIf(importlib.util.find_spec("yaml") is None, "no PyYAML (python3-yaml)")
    def test_gradescope_groups_name_every_member(self):
        self.write("submission_11/kheap.c")
        (self.folder / "submission_metadata.yml").write_text(
            "submission_11:\n  :submitters:\n  - :name: Kim\n    :sid: '7'\n    :email: k@x\n"
            "  - :name: Lee\n    :sid: '8'\n    :email: l@x\n")
        export, students = self.read()
        kim = students["submission_11"]
        self.assertEqual((kim.name, kim.id, kim.email, [m["id"] for m in kim.members]),
                         ("Kim", "7", "k@x", ["8"]))
        self.assertEqual(export.warnings, [])

    def test_duplicates_are_both_graded_and_flagged(self):
        self.write("carol/kheap.c")
        with zipfile.ZipFile(self.folder / "carol.zip", "w") as archive:
            archive.writestr("kheap.c", "")
        _, students = self.read()
        self.assertEqual(sorted(students), ["carol", "carol.zip"])
        for student in students.values():
            self.assertEqual(student.flags[0][0], "duplicate")

    def test_what_is_no_submission_gets_a_warning(self):
        self.write("index.html", ".DS_Store", "ada/kheap.c")
        export, students = self.read()
        self.assertEqual(list(students), ["ada"])
        self.assertEqual(len(export.warnings), 2)
        self.assertTrue(all("not graded" in w for w in export.warnings))


class RosterTest(unittest.TestCase):
    def test_missing_and_unknown_students(self):
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "roster.csv"
            path.write_text("Email address,ID number,First name,Last name\n"
                            "ann@x,100001,Ann,Archer\nzoe@x,100099,Zoe,Zhu\n")
            entries = roster.read(path)
        students = [layouts.Student("a", "Ann Archer", "100001", "Moodle"),
                    layouts.Student("b", "Bea Nobody", "100002", "Moodle")]
        matched, missing, unknown = roster.match(entries, students)
        self.assertEqual(matched["a"].email, "ann@x")
        self.assertEqual([e.name for e in missing], ["Zoe Zhu"])
        self.assertEqual([s.key for s in unknown], ["b"])

    def test_a_roster_without_an_id_or_email_column_is_refused(self):
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "roster.csv"
            path.write_text("colour\nblue\n")
            with self.assertRaisesRegex(roster.RosterError, "no ID or e-mail column"):
                roster.read(path)


def record(key, id_, name, score, email=""):
    return {"key": key, "id": id_, "name": name, "email": email, "members": [],
            "score": score, "bonus": 3, "status": "graded", "kinds": {}, "tests": [],
            "flags": [], "first_problem": "", "log": ""}


class GradesCsvTest(unittest.TestCase):
    """The header and rows of each import format (grader/README.md)."""

    def outputs(self, layout, form=None, **options):
        args = argparse.Namespace(**{"csv": None, "csv_format": form, "lessons": ["15-kheap"],
                                     "extra_tests": None, "bonus_in_score": False,
                                     "assignment": None, **options})
        export = layouts.ClassExport([layout], [], [])
        students = [layouts.Student("a", "Ann Archer", "100001", layout),
                    layouts.Student("b", "=cmd|' /C calc'!A0", "100002", layout)]
        out = gradebook.Outputs(args, export, students, Path("/nonexistent"))
        records = {"a": record("a", "100001", "Ann Archer", 40, "ann@x"),
                   "b": record("b", "100002", "=cmd|' /C calc'!A0", 7)}
        return out, list(csv.reader(io.StringIO(out.grades_csv(records))))

    def test_moodle_grading_worksheet(self):
        out, rows = self.outputs("Moodle")
        self.assertEqual(rows[0], ["Identifier", "Full name", "Email address", "Grade",
                                   "Maximum Grade", "Last modified (grade)"])
        self.assertEqual(rows[1][:5], ["Participant 100001", "Ann Archer", "ann@x", "40",
                                       str(out.maximum)])
        self.assertEqual(len(rows), 3)  # no row but the students'
        self.assertTrue(rows[2][1].startswith("'="))  # a formula is defused

    def test_canvas_gradebook_import(self):
        _, rows = self.outputs("Canvas", assignment=None)
        self.assertEqual(rows[0], ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                                   "Lesson 15-kheap"])
        self.assertEqual(rows[1], ["Ann Archer", "100001", "", "", "", "40"])
        self.assertEqual(len(rows), 3)

    def test_plain_and_the_bonus_on_request(self):
        out, rows = self.outputs("folders")
        self.assertEqual(rows[0], ["ID", "Name", "Email", "Score", "Maximum"])
        out.args.bonus_in_score = True
        self.assertEqual(out.score(record("a", "1", "A", 40)), 43)


class ClassArchiveTest(unittest.TestCase):
    """grade --batch EXPORT.zip: a platform's "download all submissions"
    archive is unpacked safely into LOGS/export/, once."""

    def setUp(self):
        self.scratch = tempfile.TemporaryDirectory()
        self.folder = Path(self.scratch.name)
        self.logs = self.folder / "logs"
        self.logs.mkdir()

    def tearDown(self):
        self.scratch.cleanup()

    def archive(self, names):
        path = self.folder / "export.zip"
        with zipfile.ZipFile(path, "w") as zipped:
            for name in names:
                zipped.writestr(name, "/* a student's file */\n")
        return path

    def students(self, path):
        return sorted(s.key for s in layouts.read_class(batch.class_folder(path, self.logs)).students)

    def test_students_at_the_top(self):
        path = self.archive(["Ann Archer_100001_assignsubmission_file_/kheap.c",
                             "Ben Baker_100002_assignsubmission_file_/kheap.c"])
        self.assertEqual(self.students(path), ["Ann Archer_100001", "Ben Baker_100002"])

    def test_the_exports_own_folder_at_the_top(self):
        path = self.archive(["Lab 15/Ann Archer_100001_assignsubmission_file_/kheap.c"])
        self.assertEqual(self.students(path), ["Ann Archer_100001"])

    def test_one_students_folder_is_not_taken_for_the_class(self):
        path = self.archive(["ann/kheap.c"])
        self.assertEqual(self.students(path), ["ann"])

    def test_unpacked_once_so_that_a_rerun_keeps_what_was_graded(self):
        path = self.archive(["Ann Archer_100001_assignsubmission_file_/kheap.c"])
        first = batch.class_folder(path, self.logs)
        times = [p.stat().st_mtime_ns for p in sorted(first.rglob("*"))]
        second = batch.class_folder(path, self.logs)
        self.assertEqual(times, [p.stat().st_mtime_ns for p in sorted(second.rglob("*"))])

    def test_an_unsafe_member_refuses_the_archive(self):
        path = self.archive(["../outside.c"])
        with self.assertRaises(batch.submission.SubmissionError):
            batch.class_folder(path, self.logs)
        self.assertFalse((self.folder / "outside.c").exists())


class AtomicWriteTest(unittest.TestCase):
    def test_a_full_disk_leaves_the_last_complete_file(self):
        import errno
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "grades.csv"
            batch.atomic_write(path, "the first version\n")
            full = OSError(errno.ENOSPC, "No space left on device")
            with mock.patch.object(Path, "write_text", side_effect=full), \
                    self.assertRaises(OSError):
                batch.atomic_write(path, "a second version\n")
            self.assertEqual(path.read_text(), "the first version\n")
            self.assertEqual([p.name for p in Path(scratch).iterdir()], ["grades.csv"])


def test(name, status="passed", output=(), kind="homework", number=1):
    result = TestResult(number, name, 2, kind, status=status, output=list(output))
    result.score = 2 if status == "passed" else 0
    return result


def kernel(tests, **fields):
    return runner.KernelResult("15-kheap", "lesson15", "", {t.name: t for t in tests},
                               root=Path("/nonexistent"), **fields)


class FlagTest(unittest.TestCase):
    FILES = ["kheap.c", "kheap_freelist.c"]

    def flags_for_a_fault_in(self, place):
        faulted = test("t", "failed", ["*** EXCEPTION 14: #PF page fault ***"])
        with mock.patch.object(report, "reason", return_value="EXCEPTION 14: #PF page fault "
                               f"at 0xffffffff80104a2c{place}"):
            return [w for w, _ in report.attention([kernel([faulted])], self.FILES)]

    def test_a_fault_in_the_students_code_is_a_crash(self):
        self.assertEqual(self.flags_for_a_fault_in(
            " <kcalloc at lessons/15-kheap/kheap.c:12>"), ["CRASHED"])
        self.assertEqual(self.flags_for_a_fault_in(""), ["CRASHED"])  # no place: a look

    def test_a_test_that_faults_in_its_own_code_only_failed(self):
        self.assertEqual(self.flags_for_a_fault_in(" <t at lessons/15-kheap/tests.c:98>"), [])

    def test_hangs_say_where_once(self):
        hung = [test(f"h{i}", "hung", number=i) for i in range(1, 4)]
        hung[0].where = "in test h1, after '# RUN 1 h1'"
        flags = report.attention([kernel(hung)], self.FILES)
        self.assertEqual(flags, [("HUNG", "in test h1, after '# RUN 1 h1' (and 2 more)")])
        at_boot = kernel([test("a", "not run")], boot_status="hung",
                         where="at boot, before any test")
        self.assertIn("at boot", report.attention([at_boot], self.FILES)[0][1])

    def test_one_reason_shared_by_every_test_is_one_line(self):
        tests = [test(f"t{i}", "not run", ["did not run: no output"], number=i)
                 for i in range(1, 8)]
        runs = report.runs_of_one_reason(kernel(tests))
        self.assertEqual([len(r) for r in runs], [7])


if __name__ == "__main__":
    unittest.main()
