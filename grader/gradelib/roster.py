"""The class list an instructor exports from the platform (a CSV of ID,
name and e-mail), set beside the submissions: who handed nothing in, and
which submission belongs to nobody on the list.

The columns are found by their headers, whatever their order and case:
the ID is the first of "id", "identifier", "student id", "sid", "id number",
"user id", "username", "login", "github_username"; the name "name", "full
name" or "first name" with "last name"/"surname"; the e-mail "email",
"e-mail", "email address". A submission matches a roster entry by ID, else
by e-mail, else by name (case and spacing ignored). Moodle's "Participant
100001" identifiers match 100001."""

import csv
import re
from dataclasses import dataclass

ID_HEADERS = ("id", "identifier", "student id", "sid", "id number", "idnumber", "user id",
              "username", "login", "github_username", "github username")
NAME_HEADERS = ("name", "full name", "fullname", "student", "student name")
FIRST_HEADERS = ("first name", "firstname", "given name")
LAST_HEADERS = ("last name", "lastname", "surname", "family name")
EMAIL_HEADERS = ("email", "e-mail", "email address", "e-mail address", "mail")


class RosterError(Exception):
    pass


@dataclass
class Entry:
    id: str
    name: str
    email: str


def normal(text):
    """For matching: case, spacing and Moodle's "Participant " ignored."""
    text = re.sub(r"\s+", " ", str(text)).strip().lower()
    return re.sub(r"^participant ", "", text)


def read(path):
    """The roster's entries, in its order."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as source:
            rows = list(csv.reader(source))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise RosterError(f"--roster {path}: cannot read it: {error}") from error
    if not rows:
        raise RosterError(f"--roster {path}: empty")
    header = [normal(cell) for cell in rows[0]]

    def column(names):
        return next((header.index(n) for n in names if n in header), None)
    id_, name, first, last, email = (column(names) for names in (
        ID_HEADERS, NAME_HEADERS, FIRST_HEADERS, LAST_HEADERS, EMAIL_HEADERS))
    if id_ is None and email is None:
        raise RosterError(f"--roster {path}: no ID or e-mail column (the header is "
                          f"{', '.join(rows[0])}; grader/README.md lists the names taken)")

    def get(row, index):
        return row[index].strip() if index is not None and index < len(row) else ""
    entries = []
    for row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        full = get(row, name) or " ".join(p for p in (get(row, first), get(row, last)) if p)
        entries.append(Entry(get(row, id_), full, get(row, email)))
    return entries


def match(entries, students):
    """Pairs submissions with roster entries: (matched {student key: Entry},
    roster entries with no submission, students not on the roster)."""
    by = {kind: {} for kind in ("id", "email", "name")}
    for entry in entries:
        for kind in by:
            if getattr(entry, kind):
                by[kind].setdefault(normal(getattr(entry, kind)), entry)
    matched, used = {}, set()
    for student in students:
        people = [{"id": student.id, "name": student.name, "email": student.email},
                  *student.members]
        for person in people:
            found = next((by[kind][normal(person[kind])] for kind in by
                          if person[kind] and normal(person[kind]) in by[kind]), None)
            if found is not None:
                matched.setdefault(student.key, found)
                used.add(id(found))
    missing = [e for e in entries if id(e) not in used]
    unknown = [s for s in students if s.key not in matched]
    return matched, missing, unknown
