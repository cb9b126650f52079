"""Mutants: small deliberate bugs in a lesson's reference solution, the kind
a student might write. They live beside the reference they break, in
solutions/NN-name/mutants/*.mutants, so a lesson brings its own; each must
build (a mutant the compiler rejects proves nothing about the tests), lose
points, and fail the tests it names.

A .mutants file names the file it breaks, then lists mutants:

    # Why these mutants exist (comment lines start with #).
    file: pmm.c

    mutant: free does not count the frame
    caught by: free_makes_the_frame_available_again
    -    clear_bit(pmm.used, frame);
    -    pmm.stats.free_frames++;
    +    clear_bit(pmm.used, frame);

`file:` is relative to the lesson's solutions/NN-name/ folder (or, with a
slash in it, to the lab: common/paging.c). The `-` lines are the anchor:
consecutive lines of code, found by their code alone (comments and
spacing aside, lines holding only a comment or nothing skipped), so that
rewording a comment of the reference breaks no mutant. The anchor must
match exactly once; the lines it spans are replaced by the `+` lines, as
written. No `+` line deletes the anchor."""

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What can hide a comment's start or end: a string or character literal; or a comment's start.
LITERAL_OR_COMMENT = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|//|/\*')


class MutantError(ValueError):
    pass


def code_lines(text):
    """[(line number, the line's code: no comments, spaces collapsed)] of
    every line of `text` that holds some code."""
    found, in_comment = [], False
    for number, line in enumerate(text.splitlines()):
        code, at = [], 0
        while at < len(line):
            if in_comment:
                end = line.find("*/", at)
                in_comment, at = end < 0, len(line) if end < 0 else end + 2
                continue
            token = LITERAL_OR_COMMENT.search(line, at)
            code.append(line[at:token.start() if token else len(line)])
            if token is None or token.group() == "//":
                break
            in_comment = token.group() == "/*"
            code.append("" if in_comment else token.group())
            at = token.end()
        squeezed = " ".join("".join(code).split())
        if squeezed:
            found.append((number, squeezed))
    return found


@dataclass
class Mutant:
    name: str
    lesson: str          # "14-pmm"
    path: str            # the file it breaks, relative to the lab
    anchor: list         # the code lines it finds
    replacement: list    # the lines that replace them
    caught_by: list = field(default_factory=list)  # tests that must fail
    source: str = ""     # where it is written: FILE:LINE
    # As the self-test's other cases (tests/cases.py) say it: a mutant
    # breaks a reference, graded under QEMU, and must build.
    kernel = "solution"
    emu = "qemu"
    verdict = ""
    must_build = True
    same_score_as_starter = False

    def apply(self, text):
        """`text` (the file it breaks) with the mutant in; MutantError if its
        anchor does not match exactly once."""
        lines = text.splitlines(keepends=True)
        code = code_lines(text)
        wanted = [" ".join(line.split()) for line in self.anchor]
        starts = [i for i in range(len(code) - len(wanted) + 1)
                  if [c for _, c in code[i:i + len(wanted)]] == wanted]
        if len(starts) != 1:
            raise MutantError(f"{self.source}: the anchor of '{self.name}' matches {len(starts)} "
                              f"times in {self.path}, not once")
        first, last = code[starts[0]][0], code[starts[0] + len(wanted) - 1][0]
        return "".join(lines[:first] + [line + "\n" for line in self.replacement]
                       + lines[last + 1:])


def parse(path, root=ROOT, lesson=None):
    """The mutants of one .mutants file of solutions/NN-name/mutants/ (or
    elsewhere, of `lesson`)."""
    path = Path(path)
    lesson = lesson or path.parent.parent.name
    target, mutants = None, []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        where = f"{path.relative_to(root)}:{number}"
        key, _, value = line.partition(": ")
        if not line.strip() or line.startswith("#"):
            continue
        if key == "file":
            target = value if "/" in value else f"solutions/{lesson}/{value}"
        elif key == "mutant":
            if target is None:
                raise MutantError(f"{where}: a mutant before the file: line")
            mutants.append(Mutant(value, lesson, target, [], [], source=where))
        elif not mutants:
            raise MutantError(f"{where}: {line!r} before the first mutant: line")
        elif key == "caught by":
            mutants[-1].caught_by += value.replace(",", " ").split()
        elif line.startswith("-"):
            if re.search(r"//|/\*", line):
                raise MutantError(f"{where}: an anchor line with a comment: anchor on code")
            mutants[-1].anchor.append(line[1:])
        elif line.startswith("+"):
            mutants[-1].replacement.append(line[1:])
        else:
            raise MutantError(f"{where}: cannot read {line!r}")
    for mutant in mutants:
        if not mutant.anchor:
            raise MutantError(f"{mutant.source}: '{mutant.name}' has no anchor (- lines)")
    return mutants


def load(root=ROOT):
    """Every mutant of every lesson of the lab at `root`, lesson by lesson."""
    return [mutant for path in sorted(Path(root).glob("solutions/*/mutants/*.mutants"))
            for mutant in parse(path, root)]
