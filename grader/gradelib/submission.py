"""Grading a student's files: a pristine temporary copy of the lab with the
submission's files laid over it.

Only the files a student may edit are taken: the manifest of lesson NN is the
Makefile's list of its student files (lab.py; for lesson 15: kheap.c and
kheap_freelist.c). Nothing else from the submission is read, and nothing in it
is run: no Makefile, no script. The kernels are built with the lab's own rules.

A submission must not borrow the answers: the copy it is graded in holds no
reference solution of its lesson or a later one (empty stand-ins keep the
names), symbolic links are never followed, and the compiler itself
checks each submitted file (check_sources): everything it includes must be a
header of the lab copy, and its assembly may not pull in files (.incbin,
.include) - however the source spells it (macros, digraphs, string pasting)."""

import re
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from . import lab, objcheck, toolchain
from .runner import ROOT

LAB_PARTS = ("Makefile", "common", "lessons", "solutions", "tools")
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")
MAX_ARCHIVE_BYTES = 64 * 1024 * 1024
MAX_SOURCE_BYTES = 1024 * 1024
HIDDEN_TEST_PREFIX = "tests_hidden_"
# How notes begin, for what reads them (grader/grade's CSV flags, and what
# students may see before grades are published).
HIDDEN_NOTE = "hidden tests: "
MISSING_NOTE = "not in the submission, the starter's version was used: "
REVIEW_NOTES = ("several files named", "renamed file")
# A browser or LMS renames a file uploaded twice: "kheap (1).c", "kheap 2.c", "kheap-1.c".
RENAMED = r"(?: ?\(\d+\)| \d+|-\d+)"


# Assembler directives that read other files.
FILE_DIRECTIVE = re.compile(r"^\s*\.(incbin|include)\b.*$", re.M)
CHECK_TIMEOUT = 60  # seconds for the compiler's look at one file


class SubmissionError(Exception):
    pass


@dataclass
class Workspace:
    root: Path                     # the lab copy to build in
    taken: dict = field(default_factory=dict)    # file name -> where it came from
    missing: list = field(default_factory=list)  # manifest files not in the submission
    notes: list = field(default_factory=list)
    findings: list = field(default_factory=list)  # objcheck.Finding: for the instructor

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)


def manifest(lesson):
    return sorted(lab.lesson(lesson).student)


def copy_lab(destination):
    for part in LAB_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, destination / part,
                            ignore=shutil.ignore_patterns("__pycache__", "*.o", "*.d"))
        else:
            shutil.copy2(source, destination / part)


def hide_solutions(root, lesson):
    """Removes the reference solutions of `lesson` and of every later lesson
    from a lab copy; the graded lesson keeps empty files of the same names, so
    that a submission that includes one is refused for it (check_sources)
    rather than failing to compile."""
    for folder in sorted((root / "solutions").iterdir()):
        if folder.name < lesson:
            continue
        for source in folder.glob("*.c"):
            if folder.name == lesson:
                source.write_text("/* the reference is not part of a grading copy */\n")
            else:
                source.unlink()


def extract(archive, destination):
    """Unpacks a .tar.gz/.tar/.zip safely: no absolute paths, no '..', no
    links or devices, a size limit.

    Every member is checked here rather than by tarfile's extraction filters,
    which Python only has from 3.12 (and some 3.8-3.11 point releases: not
    Debian 12's 3.11.2). Tar members are written by hand, as plain files with
    ordinary permissions, so nothing of the archive's owners, modes or link
    targets reaches the disk."""
    name = archive.name.lower()
    if name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            check_members(archive, [(m.filename, m.file_size) for m in members], destination)
            zipped.extractall(destination)
    else:
        with tarfile.open(archive) as tarred:
            members = [m for m in tarred.getmembers() if m.isfile() or m.isdir()]
            check_members(archive, [(m.name, m.size) for m in members], destination)
            for member in members:
                target = destination / member.name
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with tarred.extractfile(member) as source, open(target, "wb") as copy:
                    shutil.copyfileobj(source, copy)


def check_members(archive, members, destination):
    """Refuses an archive whose (name, size) members would land outside
    `destination` or exceed the size limit."""
    if sum(size for _, size in members) > MAX_ARCHIVE_BYTES:
        raise SubmissionError(f"{archive.name}: larger than {MAX_ARCHIVE_BYTES >> 20} MiB")
    root = destination.resolve()
    for member, _ in members:
        target = (root / member).resolve()
        if Path(member).is_absolute() or ".." in Path(member).parts or \
                (target != root and root not in target.parents):
            raise SubmissionError(f"{archive.name}: unsafe path {member}")


def is_archive(path):
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)


def is_plain_file(path, folder):
    """A regular file below `folder` (itself already resolved) reached through
    no symbolic link below it."""
    return path.is_file() and path.resolve() == folder / path.relative_to(folder)


def is_renamed(path, name):
    """`path` is NAME as a browser or LMS renames a second upload of it."""
    stem, suffix = name.rsplit(".", 1)
    return re.fullmatch(rf"{re.escape(stem)}{RENAMED}\.{re.escape(suffix)}", path.name) is not None


def find_file(folder, lesson, name, notes=None):
    """The submission's version of `name`: lessons/LESSON/NAME in a copy of the
    repository, NAME at the top, or the only NAME anywhere else outside
    solutions/ (preferring a LESSON folder); failing that, the only file
    renamed as an LMS renames a second upload ("kheap (1).c"). Several
    copies are named in `notes` with the one taken; a choice no rule makes
    is refused."""
    notes = [] if notes is None else notes
    folder = folder.resolve()
    found = sorted(p for p in folder.rglob(name)
                   if "solutions" not in p.relative_to(folder).parts and is_plain_file(p, folder))
    chosen = next((c for c in (folder / "lessons" / lesson / name, folder / name)
                   if c in found), None)
    preferred = [p for p in found if lesson in p.relative_to(folder).parts]
    if chosen is None and len(preferred) == 1:
        chosen = preferred[0]
    if chosen is None and len(found) == 1:
        chosen = found[0]
    if len(found) > 1:
        copies = ", ".join(str(p.relative_to(folder)) for p in found)
        if chosen is None:
            raise SubmissionError(f"several files named {name} ({copies}) and no way to tell "
                                  f"which to grade: submit one, at the top or in "
                                  f"lessons/{lesson}/")
        notes.append(f"several files named {name} ({copies}): graded "
                     f"{chosen.relative_to(folder)}")
    renamed = sorted(p for p in folder.rglob("*") if is_renamed(p, name)
                     and "solutions" not in p.relative_to(folder).parts
                     and is_plain_file(p, folder))
    if chosen is None and len(renamed) == 1:
        chosen = renamed[0]
        notes.append(f"renamed file {chosen.relative_to(folder)} graded as {name}")
    elif renamed:
        copies = ", ".join(str(p.relative_to(folder)) for p in renamed)
        if chosen is None:
            raise SubmissionError(f"several renamed copies of {name} ({copies}) and no way to "
                                  f"tell which to grade: submit one, named {name}")
        notes.append(f"several files named {name} with renamed copies ({copies}): graded "
                     f"{chosen.relative_to(folder)}")
    return chosen


def prepare(lesson, submission=None, extra_tests=None):
    """A lab copy for grading `lesson`, with the submission's files (a folder
    or an archive) and the instructor's extra test files in place."""
    root = Path(tempfile.mkdtemp(prefix="grade-lab-"))
    workspace = Workspace(root)
    try:
        copy_lab(root)
        if submission is not None:
            hide_solutions(root, lesson)
            overlay(workspace, lesson, Path(submission))
        if extra_tests is not None:
            add_extra_tests(workspace, lesson, Path(extra_tests))
    except Exception:
        workspace.remove()
        raise
    return workspace


def overlay(workspace, lesson, submission):
    if not submission.exists():
        raise SubmissionError(f"{submission}: no such file or folder")
    unpacked = None
    try:
        folder = submission.resolve()
        if is_archive(submission):
            unpacked = Path(tempfile.mkdtemp(prefix="grade-unpack-"))
            try:
                extract(submission, unpacked)
            except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as error:
                raise SubmissionError(f"{submission.name}: cannot unpack: {error}") from error
            folder = unpacked.resolve()
        elif not submission.is_dir():
            raise SubmissionError(f"{submission}: not a folder or a .tar.gz/.zip archive")
        for name in manifest(lesson):
            source = find_file(folder, lesson, name, workspace.notes)
            if source is None:
                workspace.missing.append(name)
                continue
            if source.stat().st_size > MAX_SOURCE_BYTES:
                raise SubmissionError(f"{name}: larger than {MAX_SOURCE_BYTES >> 10} KiB")
            shutil.copyfile(source, workspace.root / "lessons" / lesson / name)
            workspace.taken[name] = str(source.relative_to(folder))
            origin = f"{submission.name}:" if unpacked is not None else f"{submission.name}/"
            workspace.notes.append(f"{name} taken from {origin}{workspace.taken[name]}")
    finally:
        if unpacked is not None:
            shutil.rmtree(unpacked, ignore_errors=True)
    if workspace.missing:
        workspace.notes.append(MISSING_NOTE + ", ".join(workspace.missing))
    check_sources(workspace, lesson)
    workspace.findings = objcheck.check(workspace.root, lesson, workspace.taken)


def check_sources(workspace, lesson):
    """Lets the compiler say what each submitted file reads: its headers must
    all be the lab copy's own (common/ and lessons/), and its assembly may not
    include files. A file that does not compile is left for the build to
    report."""
    root = workspace.root.resolve()
    flags = objcheck.compiler_flags(root)
    allowed = (root / "common", root / "lessons")
    compiler = [*toolchain.compiler(), *flags]
    for name in workspace.taken:
        path = f"lessons/{lesson}/{name}"
        try:
            deps = subprocess.run([*compiler, "-MM", path], cwd=root, capture_output=True,
                                  text=True, timeout=CHECK_TIMEOUT)
            listing = [*compiler, *toolchain.listing_flags(), "-S", "-o", "-", path]
            assembly = subprocess.run(listing, cwd=root, capture_output=True, text=True,
                                      timeout=CHECK_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise SubmissionError(f"{name}: the compiler needed more than {CHECK_TIMEOUT} s")
        if deps.returncode != 0:
            continue
        for dependency in deps.stdout.replace("\\\n", " ").split(":", 1)[-1].split():
            resolved = (root / dependency).resolve()
            if not any(resolved.is_relative_to(folder) for folder in allowed):
                raise SubmissionError(f"{name} includes {dependency}: a submission may include "
                                      "only the lab's headers (common/, lessons/)")
        if (match := FILE_DIRECTIVE.search(assembly.stdout)) is not None:
            raise SubmissionError(f"{name}: '{match.group(0).strip()}' is not allowed: "
                                  "a submission may not pull other files in")


def add_extra_tests(workspace, lesson, folder):
    """Hidden tests: every NAME.c of `folder` joins the lesson's tests as
    tests_hidden_NAME.c. The Makefile builds tests_hidden_*_F.c, F one of the
    lesson's flavours, into that flavour's kernel, and the others into the
    lesson's main kernel."""
    files = sorted(folder.glob("*.c")) if folder.is_dir() else []
    if not files:
        raise SubmissionError(f"--extra-tests {folder}: no .c files there")
    for source in files:
        shutil.copyfile(source, workspace.root / "lessons" / lesson /
                        f"{HIDDEN_TEST_PREFIX}{source.name}")
    workspace.notes.append(f"{HIDDEN_NOTE}{len(files)} file(s) from {folder}")
