"""What each lesson's kernels are made of, as the Makefile says it (`make
print-lab`, from each lesson's lists): the files a student edits, each
kernel's student and test files, where `make gdb-lessonN` stops. The one
source of truth is the Makefile; this module only asks it, once per lab
(and once for all its copies)."""

import hashlib
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class Lesson:
    name: str                                     # "15-kheap"
    student: list = field(default_factory=list)   # the files a student edits
    gdb_break: str = "lesson_demo"
    kernels: dict = field(default_factory=dict)   # "lesson15-freelist" -> its student files
    tests: dict = field(default_factory=dict)     # "lesson15-freelist" -> its test files

    @property
    def number(self):
        return self.name.split("-")[0]


def lessons(root=ROOT):
    """{lesson folder name: Lesson} of the lab at `root`. An instructor's
    hidden tests change the answer, so they are part of what is cached."""
    found = {}
    for line in ask_make(root, "print-lab").splitlines():
        head, _, values = line.partition(":")
        key, name, *kernel = head.split()
        lesson = found.setdefault(name, Lesson(name))
        if key == "student":
            lesson.student = values.split()
        elif key == "gdb-break":
            lesson.gdb_break = values.strip()
        elif key == "kernel":
            lesson.kernels[kernel[0]] = values.split()
        elif key == "tests":
            lesson.tests[kernel[0]] = values.split()
    return found


def fingerprint(root):
    """What make's answers about the lab at `root` depend on: its makefiles
    and the names of its lessons' files (a lab copy made for one submission
    has the lab's; an instructor's hidden tests add names)."""
    root = Path(root)
    digest = hashlib.sha256()
    for path in sorted([root / "Makefile", *root.glob("*.mk"), *root.glob("*/*.mk"),
                        *root.glob("*/*/*.mk")]):
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    for path in sorted(root.glob("lessons/*/*")):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
    return digest.hexdigest()


_ANSWERS = {}


def ask_make(root, target):
    """`make TARGET`'s output (a print-* target) in the lab at `root`, asked
    once per process for every lab copy of the same makefiles and files: a
    make run costs a few tenths of a second, and a class asks for each
    student. The environment (LLVM=1, SAN=1...) is part of the question."""
    key = (fingerprint(root), target, tuple(sorted(os.environ.items())))
    if key not in _ANSWERS:
        made = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(root), target],
                              capture_output=True, text=True, timeout=120)
        if made.returncode != 0:
            raise RuntimeError(f"make {target} failed in {root}:\n{made.stderr}")
        _ANSWERS[key] = made.stdout
    return _ANSWERS[key]


def lesson(name, root=ROOT):
    """The Lesson of folder `name` ("15-kheap") or number ("15")."""
    for found in lessons(root).values():
        if name in (found.name, found.number):
            return found
    raise KeyError(f"no lesson {name} in {root}/lessons")
