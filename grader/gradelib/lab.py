"""What each lesson's kernels are made of, as the Makefile says it (`make
print-lab`, from each lesson's lists): the files a student edits, each
kernel's student and test files, where `make gdb-lessonN` stops. The one
source of truth is the Makefile; this module only asks it, once per lab."""

import functools
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
    hidden = tuple(sorted(str(p) for p in Path(root).glob("lessons/*/tests_hidden_*.c")))
    return _ask_make(str(Path(root).resolve()), hidden)


@functools.lru_cache(maxsize=None)
def _ask_make(root, hidden):
    made = subprocess.run(["make", "-s", "--no-print-directory", "-C", root, "print-lab"],
                          capture_output=True, text=True, timeout=120)
    if made.returncode != 0:
        raise RuntimeError(f"make print-lab failed in {root}:\n{made.stderr}")
    found = {}
    for line in made.stdout.splitlines():
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


def lesson(name, root=ROOT):
    """The Lesson of folder `name` ("15-kheap") or number ("15")."""
    for found in lessons(root).values():
        if name in (found.name, found.number):
            return found
    raise KeyError(f"no lesson {name} in {root}/lessons")
