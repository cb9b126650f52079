"""Copying: how much of each student's file is also in another's, in the
reference's, or in an earlier term's, measured by Debian's similarity-tester
(sim_c, Dick Grune's). sim_c compares token streams, so renamed identifiers,
new comments and new layout do not hide a copy.

Text that comes from the starter file does not count: every line that is a
line of the starter (its stubs' signatures, its state, its comments) is
blanked in each file before comparing, so two students share nothing for
having both started from it. A pair above the threshold is flagged for a
look, never marked down: similar code is a reason to read both files."""

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SIM = "sim_c"
PACKAGE = "similarity-tester"
MIN_RUN = 24            # tokens in a shared run (sim_c's default)
MIN_STARTER_LINE = 8    # characters: shorter lines ("}", "return 0;") are anyone's
PASSAGE_LINES = 40      # lines of sim_c's side-by-side passages kept per pair
PERCENT = re.compile(r"^(.+) consists for (\d+) % of (.+) material$")


class Unavailable(Exception):
    pass


@dataclass
class Pair:
    file: str         # NAME.c of the lesson
    student: str      # the student's label (key)
    other: str        # another student's key, "reference" or an earlier term's path
    percent: int      # how much of the student's file is also in the other
    passages: list    # sim_c's side-by-side listing of the shared runs


def blank_starter_lines(text, starter_lines):
    """`text` with every line that is also a line of the starter emptied
    (line numbers stay, so passages point at the student's own lines)."""
    return "\n".join("" if line.strip() in starter_lines else line
                     for line in text.splitlines()) + "\n"


def starter_line_set(starter_text):
    return {line.strip() for line in starter_text.splitlines()
            if len(line.strip()) >= MIN_STARTER_LINE}


def compare(name, files, reference, earlier, starter_text, threshold):
    """Pairs above `threshold` percent for file `name`: files {student key:
    text} (this term), reference: its text or None, earlier: {label: text}
    (earlier terms). This term's files are compared with each other and with
    the others; the reference and earlier terms only with this term's."""
    if shutil.which(SIM) is None:
        raise Unavailable(f"{SIM} is not installed (Debian package {PACKAGE})")
    starter = starter_line_set(starter_text)
    with tempfile.TemporaryDirectory(prefix="grade-similarity-") as scratch:
        scratch = Path(scratch)
        paths, labels = {}, {}

        def put(group, label, text):
            path = scratch / group / f"{len(paths):04}" / name
            path.parent.mkdir(parents=True)
            path.write_text(blank_starter_lines(text, starter))
            paths[label], labels[str(path)] = path, label
        for key, text in sorted(files.items()):
            put("new", key, text)
        old = {}
        if reference is not None:
            old["reference"] = reference
        old.update(earlier)
        for label, text in old.items():
            put("old", label, text)
        new = [str(paths[k]) for k in sorted(files)]
        olds = [str(paths[k]) for k in old]
        listing = run([SIM, "-e", "-p", "-T", "-r", str(MIN_RUN), "-t", str(threshold), *new,
                       *(["/", *olds] if olds else [])])
        pairs = []
        for line in listing.splitlines():
            match = PERCENT.match(line.strip())
            if match is None or match[1] not in labels or match[3] not in labels:
                continue
            student, other = labels[match[1]], labels[match[3]]
            passages = run([SIM, "-T", "-r", str(MIN_RUN), "-w", "160", match[1], "/",
                            match[3]]).splitlines()
            pairs.append(Pair(name, student, other, int(match[2]),
                              [line.replace(match[1], f"{student}:{name}")
                                  .replace(match[3], f"{other}:{name}")
                               for line in passages if line.strip()][:PASSAGE_LINES]))
        return pairs


def run(command):
    done = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=300)
    if done.returncode != 0:
        raise Unavailable(f"{command[0]} failed: {done.stderr.strip()[:300]}")
    return done.stdout


def earlier_files(folder, name):
    """{label: text} of every file named `name` below `folder` (earlier
    terms' submissions, kept as the instructor likes: one folder a term, a
    folder a student), the label its path there."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): p.read_text(errors="replace")
            for p in sorted(folder.rglob(name)) if p.is_file() and not p.is_symlink()}
