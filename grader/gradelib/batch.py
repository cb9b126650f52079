"""grade --batch: a whole class, as a course platform exported it.

For each student (layouts.py reads the export): the submission's files are
gathered in a temporary folder (archives in it unpacked), graded in a lab
copy that starts from the objects of one build made for the batch (only the
student's files compile), and the result is saved at once, atomically, as
LOGS/results/KEY.json. The grades and details files are written again after
every student. So an interrupted batch (Ctrl-C, a kill, a full disk) keeps
every finished student, and the same command run again grades only the rest.

What the instructor gets (grader/README.md, "Grading a class"):
    LOGS/KEY.log        one student's report: where each file came from, the flags
                        with their reasons, the command that reruns it, the table
    LOGS/files/KEY/     the files that were graded
    --csv FILE          the grades, in the gradebook import format (gradebook.py)
    LOGS/details.csv    every test's points and status, the first problem, the log
    LOGS/details.json   the same, with the run's metadata, the roster and copying
    LOGS/similarity.log the passages that similar files share (--similarity)"""

import concurrent.futures
import hashlib
import json
import os
import shlex
import shutil
import signal
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from dataclasses import asdict
from pathlib import Path

from . import gradebook, grading, lab, layouts, protocol, report, roster, runner, sanitize, \
    similarity, submission

STATUSES = ("full marks", "graded", "did not compile", "starter unchanged", "empty submission",
            "refused", "grader error")
RESULT_FORMAT = 1   # of LOGS/results/KEY.json: a saved result of another format is regraded
LISTED_FILES = 20   # files an empty submission's log lists
KINDS = ("lecture", "practice", "homework", "bonus")
IGNORED_IN_COPIES = (".git", "build", "__pycache__")


class Cancelled(Exception):
    """SIGINT or SIGTERM: the batch stops, keeping what is finished."""


# ---- gathering one student's files ---------------------------------------------

def stage(student, folder):
    """Copies the student's sources into `folder`: folders as they are (a
    repository without .git and build/), loose files under their own names,
    and every archive unpacked into a folder of the archive's name (one
    level: an archive inside an archive stays packed). Returns notes."""
    notes = []
    for source, name in student.sources:
        if source.is_dir():
            shutil.copytree(source, folder, symlinks=True, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(*IGNORED_IN_COPIES))
        else:
            shutil.copyfile(source, folder / (name or source.name))
    for archive in sorted(p for p in folder.rglob("*") if submission.is_archive(p)
                          and not p.is_symlink()):
        unpacked = archive.with_name(archive.name + ".unpacked")
        unpacked.mkdir()
        try:
            submission.extract(archive, unpacked)
        except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as error:
            raise submission.SubmissionError(f"{archive.name}: cannot unpack: {error}") from error
        archive.unlink()
        unpacked.rename(archive)  # the folder takes the archive's name: "work.zip/kheap.c"
        count = sum(1 for p in archive.rglob("*") if p.is_file())
        notes.append(f"unpacked {archive.relative_to(folder)} ({count} "
                     f"file{'s' if count != 1 else ''})")
    return notes


def listing(folder):
    """What a folder holds, for the log of an empty submission."""
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir())
    if not files:
        return "the submission holds no file at all"
    more = f" and {len(files) - LISTED_FILES} more" if len(files) > LISTED_FILES else ""
    return "the submission holds: " + ", ".join(files[:LISTED_FILES]) + more


def fingerprint(student, args):
    """What a saved result was graded from: the student's files (names,
    sizes, times), the lab's commit and the options that change a grade."""
    digest = hashlib.sha256()
    for source, name in student.sources:
        paths = [source] if not source.is_dir() else sorted(
            p for p in source.rglob("*") if not set(p.relative_to(source).parts)
            & set(IGNORED_IN_COPIES))
        for path in paths:
            try:
                info = path.lstat()
            except OSError:
                continue
            digest.update(f"{path}\0{name}\0{info.st_size}\0{info.st_mtime_ns}\n".encode(
                "utf-8", "surrogateescape"))
    extra = Path(args.extra_tests) if args.extra_tests else None
    for path in sorted(extra.glob("*.c")) if extra and extra.is_dir() else []:
        digest.update(path.name.encode() + hashlib.sha256(path.read_bytes()).digest())
    options = [args.lessons[0], args.emu, args.grade_bonus, args.hang_budget, args.timeout,
               args.idle_timeout, gradebook.lab_commit(), RESULT_FORMAT]
    digest.update(json.dumps(options, default=str).encode())
    return digest.hexdigest()


# ---- one student's outcome ------------------------------------------------------

def optional_files(lesson):
    """The student files only bonus kernels use: not handing them in is no flag."""
    found = lab.lesson(lesson)
    main = set(found.kernels.get(f"lesson{found.number}", []))
    bonus = set()
    for kernel in list(found.kernels)[1:]:
        flavour = kernel.split("-", 1)[1]
        tests = protocol.expected_tests(runner.test_files(lesson, flavour)).values()
        if tests and all(t.kind == "bonus" for t in tests):
            bonus.update(found.kernels[kernel])
    return bonus - main


def test_records(results):
    """[{column, kernel, name, kind, points, score, status, where, problem}]."""
    records = []
    for result in results or []:
        for test in sorted(result.tests.values(), key=lambda t: t.number or 1 << 30):
            status = test.status
            if status in ("build failed", "skipped"):
                status = "not run"
            problem = "" if test.passed else report.reason(result, test) or (
                "did not compile" if not result.built else result.skipped or "")
            if test.status == "not run" and result.where:
                problem = problem or f"the kernel stopped {result.where}"
            records.append({"column": gradebook.column(result.kernel, test.name),
                            "kernel": result.kernel, "name": test.name, "kind": test.kind,
                            "points": test.points, "score": test.score, "status": status,
                            "where": test.where or (result.where if test.status == "not run"
                                                    else ""),
                            "problem": sanitize.text(problem)})
    return records


def outcome_of(student, lesson, results, notes, workspace, starter_unchanged):
    """The saved record of one graded student (see the module's docstring)."""
    files = submission.manifest(lesson)
    tests = test_records(results)
    flags = list(student.flags)
    if results is None:
        empty = any(n.startswith("empty submission") for n in notes)
        status = "empty submission" if empty else next(
            (s for s in ("grader error", "refused") if any(n.startswith(s) for n in notes)),
            "refused")
        why = next((n for n in reversed(notes) if n.startswith(("empty", "refused", "grader",
                                                                 "the submission holds"))),
                   status)
        flags.append((status if status != "empty submission" else "empty", why))
    else:
        built = all(r.built for r in results if not r.skipped)
        status = "starter unchanged" if starter_unchanged else \
            "did not compile" if not built else \
            "full marks" if report.required_passed(results) else "graded"
        if starter_unchanged:
            taken = sorted(workspace.taken)
            flags.append(("starter unchanged", f"{report.listed(taken)} "
                          f"{'is' if len(taken) == 1 else 'are'} the starter's, byte for byte: "
                          "the right file handed in?"))
        else:
            flags += report.attention(results, files)
        if not built:
            first = next((line for r in results if not r.built
                          for line in r.build_log.splitlines() if ": error" in line),
                         "see the log")
            flags.append(("did not compile", sanitize.text(first)))
        review = [n[len("review: "):] for n in notes if n.startswith("review: ")]
        review += [f"{r.kernel}: {e}" for r in results for e in r.events
                   if "differs from the lab" in e or "TAMPERED" in e]
        if review:
            flags.append(("review", sanitize.text(report.listed(dict.fromkeys(review), 2))))
        required = [n for n in workspace.missing if n not in optional_files(lesson)]
        if required and not starter_unchanged:
            flags.append(("missing", f"{report.listed(required)} not in the submission: "
                                     "the starter's was graded"))
    points = {kind: sum(t["score"] for t in tests if t["kind"] == kind) for kind in KINDS}
    return {"format": RESULT_FORMAT, "key": student.key, "name": student.name,
            "id": student.id, "email": student.email, "members": student.members,
            "layout": student.layout, "status": status,
            "score": points["lecture"] + points["practice"] + points["homework"],
            "bonus": points["bonus"], "kinds": points, "tests": tests,
            "flags": [list(f) for f in dict.fromkeys(tuple(f) for f in flags)],
            "first_problem": next((t["problem"] for t in tests if t["problem"]
                                   and t["status"] != "passed" and t["kind"] != "bonus"), ""),
            "notes": list(dict.fromkeys(notes))}


def write_log(path, student, record, rerun, table):
    lines = [f"{student.label}: {record['status']}, {record['score']} points + bonus "
             f"{record['bonus']} (export: {student.layout}; "
             + ", ".join(sanitize.text(s.name) for s, _ in student.sources) + ")"]
    lines += [f"look at this: {word}: {why}" for word, why in record["flags"]]
    lines += [sanitize.text(note) for note in record["notes"]]
    lines.append(f"to rerun this grading (the build included): {rerun}")
    if table:
        lines.append(table)
    atomic_write(path, "\n".join(lines).strip() + "\n")


def atomic_write(path, text):
    """Writes `path` whole or not at all (a full disk leaves the old file)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def rerun_command(folder, args):
    command = ["grader/grade", "--submission", str(folder)]
    if args.extra_tests:
        command += ["--extra-tests", str(args.extra_tests)]
    if args.emu != "qemu":
        command += ["--emu", args.emu]
    return " ".join(shlex.quote(part) for part in command + ["-v", args.lessons[0]])


class Batch:
    def __init__(self, args):
        self.args, self.lesson = args, args.lessons[0]
        self.logs = Path(args.logs)
        self.saved = self.logs / "results"
        self.files = self.logs / "files"
        self.cancelled = threading.Event()
        self.base = None  # the lab copy whose objects every student's copy starts from
        self.started = time.monotonic()

    # -- the build every student starts from
    def build_base(self):
        """The lesson's kernels built once in a lab copy of their own (from the
        lab's own objects where make finds them up to date)."""
        self.base = submission.prepare(self.lesson, None, self.args.extra_tests)
        runner.seed_objects(runner.ROOT, self.base.root)
        kernels = [f"{runner.BUILD}/{k}.elf" for k in runner.kernels_of(self.lesson[:2])]
        runner.run_make_all(kernels, self.args.jobs, self.base.root)

    def seed(self, root):
        """Gives a student's lab copy the base build's objects: make then
        compiles the student's files alone."""
        runner.seed_objects(self.base.root, root)

    # -- one student
    def grade(self, student):
        """Grades one student; returns its record (saved unless cancelled)."""
        if self.cancelled.is_set():
            raise Cancelled()
        started = time.monotonic()
        staging = Path(tempfile.mkdtemp(prefix="grade-student-"))
        folder = staging / safe_name(student.key)  # notes say "KEY/work.zip/kheap.c"
        folder.mkdir()
        keep = self.files / safe_name(student.key)
        notes = [f"layout: {student.layout}"] + student.notes
        table = None

        def publish(results, more, workspace):
            nonlocal table
            taken = sorted(workspace.taken)
            shutil.rmtree(keep, ignore_errors=True)
            keep.mkdir(parents=True)
            for name in taken:
                shutil.copyfile(workspace.root / "lessons" / self.lesson / name, keep / name)
            unchanged = bool(taken) and all(
                (keep / n).read_bytes() == grading.starter_text(self.lesson, n, True)
                for n in taken) and not workspace.findings
            extra = [] if workspace.taken else [listing(folder)]
            record = outcome_of(student, self.lesson, results, notes + more + extra,
                                workspace, unchanged)
            if results is not None:
                table = report.render_table(results, "submission", self.args.emu, verbose=True)
            return record

        try:
            try:
                notes += stage(student, folder)
                record = grading.grade_submission(self.lesson, folder, self.args, publish,
                                                  jobs=1, seed=self.seed)
            except submission.SubmissionError as error:
                record = outcome_of(student, self.lesson, None,
                                    notes + [f"refused: {sanitize.text(error)}"], None, False)
            except Exception as error:  # one student's trouble must not stop the class
                if self.cancelled.is_set():
                    raise Cancelled() from error
                record = outcome_of(student, self.lesson, None, notes + [
                    f"grader error: {type(error).__name__}: {sanitize.text(error)}"], None, False)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if self.cancelled.is_set():  # its emulators were killed: not a verdict
            raise Cancelled()
        record["seconds"] = round(time.monotonic() - started, 1)
        record["log"] = str(self.logs / f"{safe_name(student.key)}.log")
        record["files"] = str(keep)
        record["fingerprint"] = fingerprint(student, self.args)
        write_log(record["log"], student, record,
                  rerun_command(keep, self.args), table)
        atomic_write(self.saved / f"{safe_name(student.key)}.json",
                     json.dumps(record, indent=1) + "\n")
        return record

    def load(self, student):
        """A saved result of this student graded from the same files and
        options, or None."""
        try:
            record = json.loads((self.saved / f"{safe_name(student.key)}.json").read_text())
        except (OSError, ValueError):
            return None
        if record.get("format") != RESULT_FORMAT or \
                record.get("fingerprint") != fingerprint(student, self.args):
            return None
        return record


def safe_name(key):
    """A student's key as a file name: no separators, no control characters."""
    name = sanitize.text(key).replace("/", "_").replace("\\", "_")
    return name if name not in ("", ".", "..") else f"_{name}"


# ---- stopping: SIGINT and SIGTERM -------------------------------------------------

def descendants(pid):
    """The pids of every process below `pid` (from /proc)."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def kill_children():
    """Kills every process the grader started, and their process groups
    (make runs in a session of its own, its compilers in its group)."""
    mine = os.getpgrp()
    for pid in descendants(os.getpid()):
        try:
            group = os.getpgid(pid)
            if group != mine:
                os.killpg(group, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


# ---- the whole class ---------------------------------------------------------------

def progress_line(done, total, student, record, width, eta):
    flags = ", ".join(word for word, _ in record["flags"])
    label = student.label
    label = label if len(label) <= width else label[:width - 1] + "…"
    return (f"[{done:>{len(str(total))}}/{total}] {label:<{width}} {record['score']:>4} "
            f"+{record['bonus']:>3}  {record['status']:<17} "
            f"{'ETA ' + eta if eta else 'done':<9}" + (f"  [{flags}]" if flags else "")).rstrip()


def clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02}"


def similarity_flags(batch, students, records):
    """Pairs above the threshold: flags on the records, passages in
    LOGS/similarity.log. Returns the pairs as dictionaries."""
    args, lesson = batch.args, batch.lesson
    pairs = []
    for name in submission.manifest(lesson):
        starter = (runner.ROOT / "lessons" / lesson / name).read_text(errors="replace")
        files = {}
        for student in students:
            path = batch.files / safe_name(student.key) / name
            record = records.get(student.key)
            if record and path.is_file() and record["status"] != "starter unchanged":
                text = path.read_text(errors="replace")
                if text != starter:
                    files[student.key] = text
        reference = runner.ROOT / "solutions" / lesson / name
        earlier = similarity.earlier_files(args.earlier, name) if args.earlier else {}
        if len(files) + bool(earlier) + reference.is_file() < 2 or not files:
            continue
        pairs += similarity.compare(name, files, reference.read_text() if reference.is_file()
                                    else None, earlier, starter, args.similarity_threshold)
    names = {s.key: s.label for s in students}
    lines = []
    for pair in pairs:
        other = names.get(pair.other, f"earlier term's {pair.other}"
                          if pair.other != "reference" else "the reference")
        why = (f"{pair.percent}% of {pair.file} is also in {other}'s" if pair.other in names
               else f"{pair.percent}% of {pair.file} is also in {other}") + \
            " (passages: similarity.log)"
        records[pair.student]["flags"].append(["similar", why])
        lines += [f"{names[pair.student]}: {why}", *pair.passages, ""]
    atomic_write(batch.logs / "similarity.log", "\n".join(lines) or
                 f"no pair above {args.similarity_threshold}%\n")
    return [asdict(p) | {"passages": len(p.passages)} for p in pairs]


def class_folder(path, logs):
    """The folder of a class's export: `path` itself, or the archive at
    `path` (a platform's "download all submissions" zip) unpacked, safely,
    into LOGS/export/. It is unpacked again only when the archive changes, so
    that a second run keeps what the first graded."""
    path = Path(path)
    if path.is_dir() or not submission.is_archive(path):
        return path
    target, stamp = logs / "export", logs / "export.from"
    made_from = f"{path.resolve()} {path.stat().st_size} {path.stat().st_mtime_ns}\n"
    if not (target.is_dir() and stamp.is_file() and stamp.read_text() == made_from):
        shutil.rmtree(target, ignore_errors=True)
        stamp.unlink(missing_ok=True)
        target.mkdir()
        submission.extract(path, target, whole_class=True)
        stamp.write_text(made_from)
    # A zip of the export's folder holds one folder: the class, unless it is
    # one student's (what is inside reads as a single plain folder, or nothing).
    inside = list(target.iterdir())
    if len(inside) == 1 and inside[0].is_dir():
        nested = layouts.read_class(inside[0])
        if len(nested.students) > 1 or set(nested.layouts) - {"folders"}:
            return inside[0]
    return target


def grade_class(args):
    lesson = args.lessons[0]
    logs = Path(args.logs)
    for folder in (logs, logs / "results", logs / "files"):
        folder.mkdir(parents=True, exist_ok=True)
    if not Path(args.batch).is_dir() and not submission.is_archive(Path(args.batch)):
        print(f"grade: --batch {sanitize.text(str(args.batch))}: not a folder, nor a class's "
              f"export as {', '.join(submission.ARCHIVE_SUFFIXES)}", file=sys.stderr)
        return 2
    try:
        export = layouts.read_class(class_folder(args.batch, logs))
    except submission.SubmissionError as error:
        print(f"grade: --batch: {error}", file=sys.stderr)
        return 2
    students = export.students
    entries = roster.read(args.roster) if args.roster else None
    if args.extra_tests:
        refusal = grading.check_hidden_tests(lesson, args)
        if refusal:
            print(f"grade: {refusal}", file=sys.stderr)
            return 2
    print(f"{len(students)} students, exported by: {', '.join(export.layouts) or 'nothing'}"
          + (f"; {len(export.warnings)} entries are no submission:" if export.warnings else ""))
    for warning in export.warnings:
        print(f"  warning: {sanitize.text(warning)}")
    matched, missing, unknown = roster.match(entries, students) if entries else ({}, [], [])
    for student in students:
        if student.key in matched and not student.email:
            student.email = matched[student.key].email
    for student in unknown:
        student.flags.append(("not on the roster", "no roster entry has this ID, e-mail or name"))

    batch = Batch(args)
    records = {}
    for student in students:
        if (saved := batch.load(student)) is not None:
            records[student.key] = saved
    todo = [s for s in students if s.key not in records]
    if records:
        print(f"{len(records)} students graded before (their results are kept; "
              f"{len(todo)} to grade)")
    width = min(36, max([len(s.label) for s in students] + [8]))
    outputs = gradebook.Outputs(args, export, students, logs)
    interrupted = None

    def stop(signum, _frame):
        nonlocal interrupted
        interrupted = signum
        batch.cancelled.set()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    problems = []
    # Every temporary file of the batch, the compilers' and emulators' too, goes
    # into one folder of its own, removed at the end whatever was killed.
    private = Path(tempfile.mkdtemp(prefix="grade-batch-"))
    saved_tmpdir = os.environ.get("TMPDIR")
    os.environ["TMPDIR"], tempfile.tempdir = str(private), str(private)
    try:
        if todo:
            batch.build_base()
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = {pool.submit(batch.grade, s): s for s in todo}
            pending, graded_now, began = set(futures), 0, time.monotonic()
            while pending:
                finished, pending = concurrent.futures.wait(
                    pending, timeout=0.2, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in finished:
                    student = futures[future]
                    try:
                        record = future.result()
                    except (Cancelled, concurrent.futures.CancelledError):
                        continue
                    except OSError as error:  # a full disk: the others may still fit
                        problems.append(f"{student.label}: not saved: {error}")
                        continue
                    records[student.key], graded_now = record, graded_now + 1
                    left = len(todo) - graded_now
                    eta = clock((time.monotonic() - began) / graded_now * left) if left else ""
                    print(progress_line(len(records), len(students), student, record, width,
                                        eta), flush=True)
                    problems += outputs.write(records, matched, missing, [])
                if batch.cancelled.is_set():
                    for future in pending:
                        future.cancel()
                    kill_children()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if batch.base is not None:
            batch.base.remove()
        tempfile.tempdir = None
        if saved_tmpdir is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_tmpdir
        shutil.rmtree(private, ignore_errors=True)
    pairs = []
    if interrupted is None and (args.similarity or args.earlier):
        try:
            pairs = similarity_flags(batch, students, records)
        except similarity.Unavailable as error:
            problems.append(f"similarity: {error}")
    problems += outputs.write(records, matched, missing, pairs)
    summary(batch, students, records, missing, outputs, interrupted, problems)
    if interrupted is not None:
        return 128 + interrupted
    return 1 if problems else 0


def summary(batch, students, records, missing, outputs, interrupted, problems):
    seconds = time.monotonic() - batch.started
    graded = [records[s.key] for s in students if s.key in records]
    counts = {status: sum(r["status"] == status for r in graded) for status in STATUSES}
    print(f"\n{len(graded)} of {len(students)} students in {clock(seconds)} "
          f"({len(graded) * 60 / max(seconds, 1e-9):.1f} students a minute): "
          + ", ".join(f"{status} {n}" for status, n in counts.items() if n))
    look = [(s, records[s.key]) for s in students if s.key in records and records[s.key]["flags"]]
    if look:
        width = min(36, max(len(s.label) for s, _ in look))
        print(f"needs a look ({len(look)}):")
        for student, record in look:
            label = student.label if len(student.label) <= width else \
                student.label[:width - 1] + "…"
            for index, (word, why) in enumerate(record["flags"]):
                print(f"  {label if index == 0 else '':<{width}}  {word}: {why}")
    if missing:
        print(f"on the roster, no submission ({len(missing)}): " + ", ".join(
            sanitize.text(f"{e.name} ({e.id or e.email})") for e in missing))
    print(outputs.where())
    for problem in problems:
        print(f"grade: {sanitize.text(problem)}", file=sys.stderr)
    if interrupted is not None:
        left = len(students) - len(graded)
        print(f"interrupted: {len(graded)} students are graded and saved; the same command "
              f"grades the other {left}")
