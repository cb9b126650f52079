"""What the course platforms export, read as one list of students.

    Moodle       "Download all submissions": a folder per student and plugin,
                 "Alice Adams_100001_assignsubmission_file_" (or, without
                 "download submissions in folders", files with that prefix:
                 "Alice Adams_100001_assignsubmission_file_kheap.c"); the
                 number is Moodle's participant identifier
    Canvas       "Download submissions": loose files "login_userid_attachmentid_NAME"
                 ("login_LATE_userid_..." when late), NAME the student's
                 file as uploaded ("kheap.c", "kheap-1.c", "work.zip")
    Gradescope   "Export submissions": submission_metadata.yml and a folder
                 submission_NNN per submission (a group's names all of its members)
    GitHub       GitHub Classroom's downloaded repositories: a folder per student,
    Classroom    ASSIGNMENT-LOGIN, each a clone (.git) of the student's repository
    folders      anything else: each folder or archive (.zip, .tar.gz, ...) is one
                 student, named after it

Each entry of the class folder is either part of a student's submission or
named in a warning: nothing is left out without a word."""

import re
from dataclasses import dataclass, field
from pathlib import Path

from . import sanitize, submission

MOODLE = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assign(?:submission|feedback)_"
                    r"(?P<plugin>[a-z]+)_(?P<file>.*)$")
CANVAS = re.compile(r"^(?P<login>[^_]+)_(?:LATE_|late_)?(?P<id>\d+)_(?P<attachment>\d+)_"
                    r"(?P<file>.+)$")
GRADESCOPE_METADATA = "submission_metadata.yml"
GRADESCOPE_FOLDER = re.compile(r"^submission_\d+$")
# Moodle's plugins that hold no code: the student's online text, feedback.
MOODLE_TEXT_PLUGINS = ("onlinetext", "comments")


@dataclass
class Student:
    key: str          # unique in the class: names the student's log and saved result
    name: str         # as the platform names the student
    id: str           # the platform's identifier (Moodle's participant, Canvas's user ID,
                      # Gradescope's SID, the GitHub login), or "" where there is none
    layout: str       # the export it came from (Moodle, Canvas, ...)
    sources: list = field(default_factory=list)  # (Path, name in the submission)
    email: str = ""
    members: list = field(default_factory=list)  # the others of a Gradescope group:
                                                 # [{"id", "name", "email"}]
    notes: list = field(default_factory=list)    # what reading the export said
    flags: list = field(default_factory=list)    # (word, reason) found before grading

    @property
    def label(self):
        """The student as the progress lines and the summary name them."""
        shown = sanitize.text(self.name)
        return f"{shown} ({sanitize.text(self.id)})" if self.id and self.id != self.name else shown


@dataclass
class ClassExport:
    layouts: list     # the layouts found, e.g. ["Moodle"]
    students: list
    warnings: list    # entries that are no submission


def is_hidden(path):
    return path.name.startswith(".")


def read_class(folder):
    """The students of a class folder, whatever exported it."""
    folder = Path(folder)
    entries = sorted(folder.iterdir(), key=lambda p: p.name)
    students, warnings, taken = {}, [], set()
    layouts = []

    def student(layout, key, name, id_):
        if key not in students:
            students[key] = Student(key, name, id_, layout)
            if layout not in layouts:
                layouts.append(layout)
        return students[key]

    if (folder / GRADESCOPE_METADATA).is_file():
        read_gradescope(folder, student, taken, warnings)
    for entry in entries:
        if entry in taken:
            continue
        if entry.is_symlink():
            warnings.append(f"{entry.name}: a symbolic link, not followed (not graded)")
        elif (match := MOODLE.match(entry.name)) is not None:
            one = student("Moodle", f"{match['name']}_{match['id']}", match["name"], match["id"])
            if match["plugin"] in MOODLE_TEXT_PLUGINS:
                held = ", ".join(sorted(p.name for p in entry.iterdir())) if entry.is_dir() \
                    else entry.name
                one.notes.append(f"Moodle's {match['plugin']} ({held}) is not graded")
            elif entry.is_dir():
                one.sources.append((entry, ""))
            else:  # a flat export: the rest of the name is the file's own
                one.sources.append((entry, match["file"] or entry.name))
        elif entry.is_file() and (match := CANVAS.match(entry.name)) is not None:
            one = student("Canvas", f"{match['login']}_{match['id']}", match["login"],
                          match["id"])
            one.sources.append((entry, match["file"]))
        elif entry.is_dir() and (entry / ".git").exists():
            one = student("GitHub Classroom", entry.name, entry.name, entry.name)
            one.sources.append((entry, ""))
        elif entry.is_dir() and not is_hidden(entry) or submission.is_archive(entry):
            stem = strip_archive_suffix(entry.name)
            key = stem if stem not in students else entry.name
            one = student("folders", key, stem, stem)
            one.sources.append((entry, ""))
        else:
            kind = "a hidden file" if is_hidden(entry) else \
                "a folder" if entry.is_dir() else "a file that is no archive"
            warnings.append(f"{entry.name}: {kind}, no student's submission (not graded)")
    classroom_logins(students.values())
    flag_duplicates(students.values())
    return ClassExport(layouts, list(students.values()), warnings)


def strip_archive_suffix(name):
    for suffix in submission.ARCHIVE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[:-len(suffix)]
    return name


def classroom_logins(students):
    """GitHub Classroom names each repository ASSIGNMENT-LOGIN: the login is
    what follows the prefix all of them share."""
    repositories = [s for s in students if s.layout == "GitHub Classroom"]
    if len(repositories) < 2:
        return
    names = [s.name for s in repositories]
    common = names[0]
    for name in names[1:]:
        while not name.startswith(common):
            common = common[:-1]
    prefix = common[:common.rfind("-") + 1]
    for one in repositories:
        one.name = one.id = one.name[len(prefix):] or one.name


def flag_duplicates(students):
    """Two entries of one name in a folder export (carol/ and carol.zip):
    both are graded, each under its own key, and both flagged."""
    by_name = {}
    for one in students:
        if one.layout == "folders":
            by_name.setdefault(one.name, []).append(one)
    for name, same in by_name.items():
        if len(same) < 2:
            continue
        entries = ", ".join(sanitize.text(s.sources[0][0].name) for s in same)
        for one in same:
            one.id = one.sources[0][0].name
            one.flags.append(("duplicate", f"{len(same)} entries named {sanitize.text(name)} "
                                           f"({entries}): which one counts?"))


def read_gradescope(folder, student, taken, warnings):
    """Gradescope's submission_metadata.yml: submission_NNN: {:submitters:
    [{:name:, :sid:, :email:}], ...}."""
    try:
        import yaml
    except ImportError as error:
        raise SystemExit("grade: reading a Gradescope export needs PyYAML "
                         "(Debian package python3-yaml)") from error
    taken.add(folder / GRADESCOPE_METADATA)
    metadata = yaml.safe_load((folder / GRADESCOPE_METADATA).read_text(errors="replace")) or {}
    for key, record in sorted(metadata.items()):
        entry = folder / str(key)
        submitters = [{"id": str(s.get(":sid") or ""), "name": str(s.get(":name") or ""),
                       "email": str(s.get(":email") or "")}
                      for s in (record or {}).get(":submitters") or []]
        if not entry.is_dir():
            warnings.append(f"{GRADESCOPE_METADATA} names {key}, which is not in the export")
            continue
        if not submitters:
            submitters = [{"id": "", "name": str(key), "email": ""}]
        first = submitters[0]
        one = student("Gradescope", str(key), first["name"], first["id"])
        one.email, one.members = first["email"], submitters[1:]
        one.sources.append((entry, ""))
        taken.add(entry)
    for entry in sorted(folder.iterdir()):
        if GRADESCOPE_FOLDER.match(entry.name) and entry not in taken:
            warnings.append(f"{entry.name}: not in {GRADESCOPE_METADATA} (not graded)")
            taken.add(entry)
