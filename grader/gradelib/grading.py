"""Grading one lab copy: the lab itself (the starter or reference files),
or a student's submission laid over a temporary copy of the lab. What
grader/grade and the batch grader (batch.py) share."""

import argparse
import subprocess
from pathlib import Path

from . import objcheck, protocol, report, runner, submission


def first_commit_text(relative):
    """A file as the repository's first commit(s) hold it (a GitHub Classroom
    repository starts with one commit: the starter), or None."""
    git = ["git", "-C", str(runner.ROOT)]
    try:
        roots = subprocess.run(git + ["rev-list", "--max-parents=0", "HEAD"], capture_output=True,
                               text=True, timeout=30).stdout.split()
        for commit in roots:
            shown = subprocess.run(git + ["show", f"{commit}:{relative}"], capture_output=True,
                                   timeout=30)
            if shown.returncode == 0:
                return shown.stdout
    except (OSError, subprocess.TimeoutExpired):
        pass
    return None


def starter_text(lesson, name, graded_submission):
    """The starter's bytes of student file `name`: the lab's own file for a
    submission, the first commit's in a student's repository."""
    if graded_submission:
        path = runner.ROOT / "lessons" / lesson / name
        return path.read_bytes() if path.is_file() else None
    return first_commit_text(f"lessons/{lesson}/{name}")


def bonus_kernels_to_skip(lessons, args, root, graded_submission):
    """{kernel: why} for each bonus kernel whose student file is still the
    starter's. Nothing with --grade-bonus or --reference."""
    if args.grade_bonus or args.reference:
        return {}
    skip = {}
    for lesson in lessons:
        def starter(name):
            return starter_text(lesson, name, graded_submission)
        for kernel, name in runner.bonus_starter_files(lesson, root, starter).items():
            skip[kernel] = (f"{name} is still the starter's, so its bonus tests are not run "
                            "(--grade-bonus runs them)")
    return skip


def grade_lab(lessons, args, root=runner.ROOT, jobs=None, graded_submission=False):
    timeouts = runner.Timeouts(idle=args.idle_timeout, total=args.timeout, hang=args.hang_budget)
    skip = bonus_kernels_to_skip(lessons, args, root, graded_submission)
    return runner.grade_lessons(lessons, reference=args.reference, emu=args.emu,
                                timeouts=timeouts, jobs=jobs or args.jobs, root=root, skip=skip)


def lesson_maximum(lesson, extra_tests=None):
    """(maximum, bonus maximum) of `lesson`, read from its test sources and
    the hidden tests: for a submission that has no results."""
    tests = {}
    for kernel in runner.kernels_of(lesson.split("-")[0]):
        flavour = kernel.split("-", 1)[1] if "-" in kernel else ""
        tests.update(protocol.expected_tests(runner.test_files(lesson, flavour)))
    if extra_tests and Path(extra_tests).is_dir():
        tests.update(protocol.expected_tests(sorted(Path(extra_tests).glob("*.c"))))
    return (sum(t.points for t in tests.values() if t.kind != "bonus"),
            sum(t.points for t in tests.values() if t.kind == "bonus"))


def grade_submission(lesson, path, args, publish, jobs=None, seed=None):
    """Grades one student's submission and calls publish(results, notes,
    workspace) while its lab copy still exists (reports symbolise addresses
    with the kernel ELF). results is None for an empty submission. seed(root)
    gives the lab copy objects built before, so that only the student's
    files compile: by default the lab's own, where make finds them up to date."""
    workspace = submission.prepare(lesson, path, args.extra_tests)
    try:
        if path is not None and not workspace.taken:
            expected = ", ".join(submission.manifest(lesson))
            return publish(None, workspace.notes + [
                f"empty submission: none of the expected files were found ({expected}, at "
                f"the top of the submission or in lessons/{lesson}/)"], workspace)
        (seed or (lambda root: runner.seed_objects(runner.ROOT, root)))(workspace.root)
        results = grade_lab([lesson], args, workspace.root, jobs, path is not None)
        if path is not None:
            submission.make_safe(results, workspace, lesson)
        objcheck.apply(results, workspace.findings)
        review = [f"review: {reason}" for reason in objcheck.review_reasons(results,
                                                                            workspace.findings)]
        return publish(results, workspace.notes + review, workspace)
    finally:
        workspace.remove()


def check_hidden_tests(lesson, args):
    """Refuses hidden tests on which the reference does not get full marks
    (say, a test that fails on one flavour of the lesson): they would cost
    every student points. Returns None or the refusal."""
    workspace = submission.prepare(lesson, None, args.extra_tests)
    try:
        reference = argparse.Namespace(**{**vars(args), "reference": True})
        results = grade_lab([lesson], reference, workspace.root)
    finally:
        workspace.remove()
    if report.full_marks(results):
        return None
    failed = [f"{r.kernel}: {t.name} ({t.status}: {report.first_problem(t)})"
              for r in results for t in r.tests.values() if not t.passed]
    unbuilt = [r.kernel for r in results if not r.built]
    return (f"--extra-tests {args.extra_tests}: the reference does not get full marks with "
            "these tests, so no student could; fix them before grading: "
            + "; ".join(failed or [f"{k} does not compile" for k in unbuilt]))
