"""Grading a student's files: a pristine temporary copy of the lab with the
submission's files laid over it.

Only the files a student may edit are taken: the manifest of lesson NN is the
Makefile's list of its student files (lab.py; for lesson 15: kheap.c and
kheap_freelist.c). Nothing else from the submission is read, and nothing in it
is run: no Makefile, no script. The kernels are built with the lab's own rules.

A submission must not borrow the answers: the copy it is graded in holds no
reference solution of its lesson or a later one (empty stand-ins keep the
names), symbolic links are never followed, an instructor's hidden tests get
names no submission can guess, and one compile pass checks each submitted
file (objcheck.check): everything it includes must be a header it may use,
its line markers may not speak for other files, and its assembly may not
pull in files (.incbin, .include) - however the source spells it (macros,
digraphs, string pasting, section names). Every program that reads a
submitted file runs in a sandbox (sandbox.py), which shows it nothing but
the system's tools and the lab copy.

Archives are unpacked within limits (extract): what is not a plain file or
folder, and everything that would cost more than a small submission does, is
refused with a reason."""

import gzip
import io
import re
import secrets
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from . import lab, objcheck, sanitize
from .runner import ROOT

LAB_PARTS = ("Makefile", "common", "lessons", "solutions", "tools")
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")
MAX_ARCHIVE_BYTES = 64 * 1024 * 1024
MAX_SOURCE_BYTES = 1024 * 1024
MAX_MEMBERS = 2000       # an LMS export of one student's lab holds a few hundred
# A whole class's export, unpacked by grade --batch: a few hundred students.
CLASS_ARCHIVE_BYTES, CLASS_MEMBERS = 16 * MAX_ARCHIVE_BYTES, 16 * MAX_MEMBERS
MAX_DEPTH = 32           # folders
MAX_NAME_BYTES = 1024    # of a member's path
HIDDEN_TEST_PREFIX = "tests_hidden_"
# How notes begin, for what reads them (grader/grade's CSV flags, and what
# students may see before grades are published).
HIDDEN_NOTE = "hidden tests: "
MISSING_NOTE = "not in the submission, the starter's version was used: "
REVIEW_NOTES = ("several files named", "renamed file")
# A browser or LMS renames a file uploaded twice: "kheap (1).c", "kheap 2.c", "kheap-1.c".
RENAMED = r"(?: ?\(\d+\)| \d+|-\d+)"



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
    that a submission that includes one is refused for it (objcheck.check)
    rather than failing to compile."""
    for folder in sorted((root / "solutions").iterdir()):
        if folder.name < lesson:
            continue
        for source in folder.glob("*.c"):
            if folder.name == lesson:
                source.write_text("/* the reference is not part of a grading copy */\n")
            else:
                source.unlink()


class Budget:
    """The bytes an archive may unpack into, counted as they come out of the
    decompressor: headers, skipped payloads and padding included, so that no
    member's declared size (or a sparse or unknown member's) can hide them."""

    def __init__(self, archive, limit=MAX_ARCHIVE_BYTES):
        self.archive, self.limit, self.used = archive, limit, 0

    def spend(self, count):
        self.used += count
        if self.used > self.limit:
            raise SubmissionError(f"{shown(self.archive.name)}: unpacks to more than "
                                  f"{self.limit >> 20} MiB")


class CountingReader(io.RawIOBase):
    """A binary stream that charges every byte read to a Budget."""

    def __init__(self, stream, budget):
        self.stream, self.budget = stream, budget

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.stream.read(len(buffer))
        self.budget.spend(len(data))
        buffer[:len(data)] = data
        return len(data)


def shown(name):
    """A name from a submission, safe to put in a message."""
    return sanitize.text(name)


def extract(archive, destination, whole_class=False):
    """Unpacks a .tar.gz/.tgz, .tar or .zip, in the format its suffix names,
    safely: only plain files and folders (a link, device, FIFO, sparse or
    unknown member is refused by name), no absolute paths, no '..', limits
    on the unpacked bytes (counted as decompressed), on the members, on the
    depth and the length of names. Every problem is a SubmissionError.

    Every member is checked here rather than by tarfile's extraction filters,
    which Python only has from 3.12 (and some 3.8-3.11 point releases: not
    Debian 12's 3.11.2). Members are written by hand, as plain files with
    ordinary permissions, so nothing of the archive's owners, modes or link
    targets reaches the disk. whole_class: a class's export, with 16 times
    one submission's limits."""
    name = archive.name.lower()
    size, members = (CLASS_ARCHIVE_BYTES, CLASS_MEMBERS) if whole_class else \
        (MAX_ARCHIVE_BYTES, MAX_MEMBERS)
    budget = Budget(archive, size)
    if archive.stat().st_size > size:
        raise SubmissionError(f"{shown(archive.name)}: larger than {size >> 20} MiB")
    try:
        if name.endswith(".zip"):
            extract_zip(archive, destination, budget, members)
        else:
            with open(archive, "rb") as raw:
                # Only the compression the suffix names: gzip for .tar.gz and
                # .tgz, none for .tar (tarfile would guess, bzip2 and xz too).
                data = gzip.GzipFile(fileobj=raw) if name.endswith((".tar.gz", ".tgz")) else raw
                with tarfile.open(fileobj=CountingReader(data, budget), mode="r|",
                                  errorlevel=2) as tarred:
                    extract_tar(archive, tarred, destination, members)
    except SubmissionError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError, OSError, EOFError,
            NotImplementedError, RuntimeError, ValueError, UnicodeError, zlib.error,
            LookupError) as error:
        raise SubmissionError(f"{shown(archive.name)}: cannot unpack: "
                              f"{shown(str(error) or type(error).__name__)}") from error


def extract_tar(archive, tarred, destination, most=MAX_MEMBERS):
    # Streaming mode reads the archive once, in order, through the budget:
    # each member is checked and written before the next header is read.
    count = 0
    for member in tarred:
        count += 1
        check_member(archive, member.name, destination, count, most)
        if member.sparse is not None or not (member.isfile() or member.isdir()) or \
                member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE):
            raise SubmissionError(f"{shown(archive.name)}: {shown(member.name)} is "
                                  f"{tar_kind(member)}: only plain files and folders are taken")
        target = destination / member.name
        if member.isdir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with tarred.extractfile(member) as source, open(target, "wb") as copy:
            shutil.copyfileobj(source, copy)


def tar_kind(member):
    kinds = {tarfile.SYMTYPE: "a symbolic link", tarfile.LNKTYPE: "a hard link",
             tarfile.CHRTYPE: "a device", tarfile.BLKTYPE: "a device",
             tarfile.FIFOTYPE: "a FIFO", tarfile.GNUTYPE_SPARSE: "a sparse file"}
    if member.sparse is not None:
        return "a sparse file"
    return kinds.get(member.type, f"of an unknown type ({shown(member.type.decode('latin-1'))})")


def extract_zip(archive, destination, budget, most=MAX_MEMBERS):
    with zipfile.ZipFile(archive) as zipped:
        members = zipped.infolist()
        if len(members) > most:
            raise SubmissionError(f"{shown(archive.name)}: more than {most} members")
        for count, member in enumerate(members, 1):
            check_member(archive, member.filename, destination, count, most)
            kind = stat.S_IFMT(member.external_attr >> 16)
            if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                label = "a symbolic link" if kind == stat.S_IFLNK else "not a plain file"
                raise SubmissionError(f"{shown(archive.name)}: {shown(member.filename)} is "
                                      f"{label}: only plain files and folders are taken")
            if member.flag_bits & 0x1:
                raise SubmissionError(f"{shown(archive.name)}: {shown(member.filename)} is "
                                      "encrypted: submit it without a password")
            if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise SubmissionError(f"{shown(archive.name)}: {shown(member.filename)} is "
                                      f"compressed with method {member.compress_type}: only "
                                      "stored and deflated members are taken")
            target = destination / member.filename
            if member.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zipped.open(member) as source, open(target, "wb") as copy:
                while chunk := source.read(65536):
                    budget.spend(len(chunk))
                    copy.write(chunk)


def check_member(archive, member, destination, count, most=MAX_MEMBERS):
    """Refuses a member that is one too many, nested too deep, named too long
    or would land outside `destination`."""
    if count > most:
        raise SubmissionError(f"{shown(archive.name)}: more than {most} members")
    parts = Path(member).parts
    if len(member.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES or \
            any(len(part.encode("utf-8", "surrogateescape")) > 255 for part in parts):
        raise SubmissionError(f"{shown(archive.name)}: a member's name is longer than "
                              f"{MAX_NAME_BYTES} bytes: {shown(member[:80])}...")
    if len(parts) > MAX_DEPTH:
        raise SubmissionError(f"{shown(archive.name)}: {shown(member[:80])}... is nested more "
                              f"than {MAX_DEPTH} folders deep")
    root = destination.resolve()
    if Path(member).is_absolute() or ".." in parts or "\0" in member:
        raise SubmissionError(f"{shown(archive.name)}: unsafe path {shown(member)}")
    target = (root / member).resolve()
    if target != root and root not in target.parents:
        raise SubmissionError(f"{shown(archive.name)}: unsafe path {shown(member)}")


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
            extract(submission, unpacked)
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
            workspace.notes.append(f"{name} taken from {shown(origin + workspace.taken[name])}")
    finally:
        if unpacked is not None:
            shutil.rmtree(unpacked, ignore_errors=True)
    if workspace.missing:
        workspace.notes.append(MISSING_NOTE + ", ".join(workspace.missing))
    try:
        workspace.findings = objcheck.check(workspace.root, lesson, workspace.taken)
    except objcheck.Refused as refusal:
        raise SubmissionError(str(refusal)) from None


def add_extra_tests(workspace, lesson, folder):
    """Hidden tests: every NAME.c of `folder` joins the lesson's tests as
    tests_hidden_TOKEN_NAME.c. The Makefile builds tests_hidden_*_F.c, F one
    of the lesson's flavours, into that flavour's kernel, and the others into
    the lesson's main kernel. TOKEN is random: a submission cannot name the
    file, so it can neither include it nor ask the preprocessor whether it
    exists (__has_include)."""
    files = sorted(folder.glob("*.c")) if folder.is_dir() else []
    if not files:
        raise SubmissionError(f"--extra-tests {folder}: no .c files there")
    for source in files:
        shutil.copyfile(source, workspace.root / "lessons" / lesson /
                        f"{HIDDEN_TEST_PREFIX}{secrets.token_hex(8)}_{source.name}")
    workspace.notes.append(f"{HIDDEN_NOTE}{len(files)} file(s) from {folder}")


# Where a compiler or linker message says what it is about: "FILE:LINE:...",
# "FILE: In function ...", "In file included from FILE:LINE".
MESSAGE_FILE = re.compile(r"^(?:In file included from |\s+from )?([^\s:][^:]*):(?:\d+|\s)")
UNDEFINED = re.compile(r"undefined reference to [`'‘]([^'’]+)['’]")


def student_build_log(log, lesson, names):
    """A build log as a submission's author may see it: only the messages
    about their own files (`names` of lessons/LESSON/), safe to print. A
    message about another file (a header, the lab's tests, an instructor's
    hidden test, quoted by the compiler) is left out and counted; an
    undefined function that the lab's code calls is named without its caller."""
    own = {f"lessons/{lesson}/{name}" for name in names}
    shown, hidden, undefined, keep = [], 0, [], False
    for line in log.splitlines():
        if (where := MESSAGE_FILE.match(line)) is not None:
            keep = any(where.group(1).endswith(path) for path in own)
        elif line.startswith(("make", "ld:", "ld.lld:")) or not line.startswith(" "):
            keep = False
        if keep:
            shown.append(sanitize.text(line, keep_tab=True))
            continue
        if (missing := UNDEFINED.search(line)) and missing.group(1) not in undefined:
            undefined.append(missing.group(1))
        if not line.startswith("make"):
            hidden += 1
    shown += [f"the lab's code calls {sanitize.text(symbol)}, which the submission does not "
              "define" for symbol in undefined]
    if hidden:
        shown.append(f"({hidden} lines of messages about the lab's own files are not shown)")
    return "\n".join(shown) or "make failed"


def make_safe(results, workspace, lesson):
    """A submission's results as everyone may read them: its build logs cut
    to its own files' messages, and every line its kernel printed made safe
    to print, log and store (sanitize.text)."""
    for result in results or []:
        if result.build_log:
            result.build_log = student_build_log(result.build_log, lesson, workspace.taken)
        result.events = [sanitize.text(event) for event in result.events]
        result.where = sanitize.text(getattr(result, "where", ""))
        result.boot_output = [sanitize.text(line) for line in result.boot_output]
        for test in result.tests.values():
            test.output = [sanitize.text(line) for line in test.output]
