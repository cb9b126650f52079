"""The files a batch writes for the instructor: the grades in a format a
gradebook imports as it is, and the details beside them.

Grades (--csv FILE, --csv-format; grader/README.md shows each):
    moodle   Moodle's assignment grading worksheet ("Upload grading worksheet",
             the "Offline grading worksheet" feedback type): Identifier
             ("Participant 100001", the number in Moodle's folder names), Full
             name, Email address, Grade, Maximum Grade, Last modified (grade)
    canvas   Canvas's gradebook import: Student, ID (Canvas's user ID, the
             number in its file names), SIS User ID, SIS Login ID, Section, and
             the assignment's column (--assignment, "Name (assignment id)")
    plain    ID, Name, Email, Score, Maximum (GitHub Classroom, Gradescope, folders)
One row per student (each member of a group); the maximum is a column,
never a row; no other row or column.

Details (LOGS/details.csv and LOGS/details.json): every test's points and
status (passed, failed, hung, crashed, not run; forged and review where the
grader says so), each student's status, flags with their reasons, first
problem and log, and the run's metadata (date, lab commit, options, grader
version); the JSON adds the roster's and copying's findings."""

import csv
import io
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from . import grading, runner, sanitize

FORMATS = ("moodle", "canvas", "plain")
LAYOUT_FORMATS = {"Moodle": "moodle", "Canvas": "canvas"}
MOODLE_HEADER = ["Identifier", "Full name", "Email address", "Grade", "Maximum Grade",
                 "Last modified (grade)"]
MOODLE_PARTICIPANT = "Participant "
CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
PLAIN_HEADER = ["ID", "Name", "Email", "Score", "Maximum"]


def column(kernel, test):
    """A test's column in the details: '15:name', '15-freelist:name'."""
    return f"{kernel.replace('lesson', '', 1)}:{test}"


def git(*arguments):
    try:
        done = subprocess.run(["git", "-C", str(runner.ROOT), *arguments], capture_output=True,
                              text=True, timeout=30)
        return done.stdout.strip() if done.returncode == 0 else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


def lab_commit():
    """The lab's commit, '+changes' if its tracked files differ from it."""
    commit = git("rev-parse", "--short=12", "HEAD") or "unknown (not a git repository)"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return commit + (" +changes" if dirty else "")


def grader_version():
    """The last commit that changed grader/, '+changes' if it has changed since."""
    commit = git("log", "-1", "--format=%h %cs", "--", "grader") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "grader")
    return commit + (" +changes" if dirty else "")


def people(student, record):
    """(id, name, email) of everyone a record grades: a group's members too."""
    return [(record["id"], record["name"], record["email"])] + [
        (m["id"], m["name"], m["email"]) for m in record.get("members", [])]


class Outputs:
    def __init__(self, args, export, students, logs):
        self.args, self.students, self.logs = args, students, Path(logs)
        self.format = args.csv_format or next(
            (LAYOUT_FORMATS[layout] for layout in export.layouts if layout in LAYOUT_FORMATS),
            "plain")
        self.grades = Path(args.csv) if args.csv else self.logs / "grades.csv"
        self.maximum, self.bonus_maximum = grading.lesson_maximum(args.lessons[0],
                                                                  args.extra_tests)
        self.export = export
        self.run = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "lab_commit": lab_commit(), "grader_version": grader_version(),
                    "options": " ".join(sys.argv[1:]), "lesson": args.lessons[0],
                    "layouts": export.layouts, "grades_format": self.format}

    def score(self, record):
        return record["score"] + (record["bonus"] if self.args.bonus_in_score else 0)

    def rows(self, records):
        """(student, record) in the export's order, for the records there are."""
        return [(s, records[s.key]) for s in self.students if s.key in records]

    # -- the grades
    def grades_csv(self, records):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        date = self.run["date"].replace("T", " ")
        if self.format == "moodle":
            writer.writerow(MOODLE_HEADER)
            for student, record in self.rows(records):
                for id_, name, email in people(student, record):
                    writer.writerow([MOODLE_PARTICIPANT + id_, sanitize.cell(name),
                                     sanitize.cell(email), self.score(record), self.maximum,
                                     date])
        elif self.format == "canvas":
            writer.writerow(CANVAS_HEADER + [self.args.assignment or
                                             f"Lesson {self.args.lessons[0]}"])
            for student, record in self.rows(records):
                for id_, name, _ in people(student, record):
                    writer.writerow([sanitize.cell(name), sanitize.cell(id_), "", "", "",
                                     self.score(record)])
        else:
            writer.writerow(PLAIN_HEADER)
            for student, record in self.rows(records):
                for id_, name, email in people(student, record):
                    writer.writerow([sanitize.cell(id_), sanitize.cell(name),
                                     sanitize.cell(email), self.score(record), self.maximum])
        return out.getvalue()

    # -- the details
    def test_columns(self, records):
        columns = {}
        for _, record in self.rows(records):
            for test in record["tests"]:
                columns.setdefault(test["column"], test["points"])
        return columns

    def details_csv(self, records):
        columns = self.test_columns(records)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        header = ["key", "id", "name", "email", "status", "score", "maximum", "bonus",
                  "bonus maximum", "lecture", "practice", "homework", "flags", "first problem",
                  "log"]
        for name in columns:
            header += [name, f"{name} status"]
        writer.writerow(header + ["run date", "lab commit", "grader version", "options"])
        for _, record in self.rows(records):
            tests = {t["column"]: t for t in record["tests"]}
            row = [record["key"], record["id"], record["name"], record["email"],
                   record["status"], record["score"], self.maximum, record["bonus"],
                   self.bonus_maximum, record["kinds"]["lecture"], record["kinds"]["practice"],
                   record["kinds"]["homework"],
                   "; ".join(f"{word}: {why}" for word, why in record["flags"]),
                   record["first_problem"], record["log"]]
            for name in columns:
                test = tests.get(name)
                row += [test["score"], test["status"]] if test else [0, "not run"]
            row += [self.run["date"], self.run["lab_commit"], self.run["grader_version"],
                    self.run["options"]]
            writer.writerow([sanitize.cell(cell) for cell in row])
        return out.getvalue()

    def details_json(self, records, matched, missing, pairs):
        return json.dumps({
            "run": self.run, "maximum": self.maximum, "bonus_maximum": self.bonus_maximum,
            "tests": self.test_columns(records),
            "warnings": self.export.warnings,
            "students": [{k: v for k, v in record.items() if k != "fingerprint"}
                         | {"roster": matched[s.key].__dict__ if s.key in matched else None}
                         for s, record in self.rows(records)],
            "roster_without_submission": [e.__dict__ for e in missing],
            "similar": pairs}, indent=1) + "\n"

    def write(self, records, matched, missing, pairs):
        """Writes all three, each atomically; returns what could not be written."""
        from .batch import atomic_write
        problems = []
        for path, text in ((self.grades, lambda: self.grades_csv(records)),
                           (self.logs / "details.csv", lambda: self.details_csv(records)),
                           (self.logs / "details.json",
                            lambda: self.details_json(records, matched, missing, pairs))):
            try:
                atomic_write(path, text())
            except OSError as error:
                problems.append(f"{path}: not written: {error}")
        return problems

    def where(self):
        name = {"moodle": "Moodle's grading worksheet", "canvas": "Canvas's gradebook import",
                "plain": "ID, name, score"}[self.format]
        return (f"grades: {self.grades} ({name}; maximum {self.maximum}"
                + (f", bonus up to {self.bonus_maximum} more" if self.bonus_maximum else "")
                + f"); details: {self.logs}/details.csv and details.json; reports: {self.logs}/")
