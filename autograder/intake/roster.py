"""Import the class list into the gradebook: ``grader roster students.csv``.

Three kinds of CSV are read, told apart by their header (a UTF-8 byte-order mark from a
spreadsheet is ignored):

- **Canvas**'s gradebook export (Grades, Export): ``Student`` ("Last, First"), ``ID`` (Canvas's
  internal number), ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per
  assignment; its "Points Possible" row is skipped. The course's student id is the SIS
  Login ID (its part before ``@`` if it is an email address), else the SIS User ID.
- **Moodle**'s participants download (``First name``, ``Last name``, ``ID number``, ``Email
  address``, ...) or an assignment's grading worksheet (``Identifier`` "Participant 12",
  ``Full name``, ``Email address``, ...). The student id is the ID number, else the
  username, else the part of the email address before ``@``.
- Any other class list with id, first name, last name and (optionally) email columns (header
  spellings such as ``First Name`` or ``first_name`` are all accepted).

``--id-column NAME`` names the column that holds the course's student id instead. The id
must be the one students were told to type (modules 07 and 08 derive numbers from it).
Each row creates the student in nbgrader's gradebook or updates their names and email, so
formgrader and the report show names, not "None, None"; the LMS's own ids go into
``grader_roster`` (:mod:`autograder.pipeline.lms`) for ``collect --lms`` and ``export
--lms``. Ids follow the same rule as everywhere in the grader (letters, digits, ``.``, ``_``,
``-``). A bad row is reported with its line number and skipped; the others are imported.
Importing the same roster again changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from autograder.pipeline.coursedir import Course, CourseError, check_id
from autograder.pipeline.kit import create_gradebook
from autograder.text import clean_text

MAX_BYTES = 5 * 2**20
COLUMNS = ("id", "first_name", "last_name", "email")
REQUIRED = ("id", "first_name", "last_name")
ALIASES = {
    "id": "id",
    "student_id": "id",
    "student": "id",
    "username": "id",
    "first_name": "first_name",
    "firstname": "first_name",
    "given_name": "first_name",
    "last_name": "last_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "email": "email",
    "e_mail": "email",
    "email_address": "email",
}
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NAME_LIMIT = 128


@dataclass
class RosterReport:
    """Students created, students updated, and the rows skipped with why."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    kind: str = "class list"

    def render(self) -> str:
        lines = [f"line {problem}" for problem in self.skipped]
        lines.append(
            f"{len(self.created)} student(s) added, {len(self.updated)} updated,"
            f" {len(self.skipped)} row(s) skipped"
        )
        return "\n".join(lines)


def key_of(header: str) -> str:
    return re.sub(r"[\s-]+", "_", header.strip().lower())


def read_roster(
    raw: bytes, id_column: str | None = None
) -> tuple[list[dict[str, str]], list[str], str]:
    """The rows of a roster CSV as dicts with :data:`COLUMNS` (and the LMS's ids), the
    problems of bad rows, and the kind of roster (``canvas``, ``moodle`` or ``""``)."""
    if len(raw) > MAX_BYTES:
        raise CourseError(f"the roster is larger than {MAX_BYTES // 2**20} MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CourseError("the roster is not UTF-8 text (save it as CSV UTF-8)") from None
    try:
        table = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise CourseError(f"the roster is not a readable CSV file: {exc}") from None
    if not table or not table[0]:
        raise CourseError("the roster is empty")
    header = [h.strip() for h in table[0]]
    if id_column is not None and id_column not in header:
        raise CourseError(f"the roster has no column {id_column!r} (--id-column)")
    if {"SIS User ID", "SIS Login ID"} & set(header) and "Student" in header:
        kind, reader = "canvas", canvas_row
    elif {"Email address", "ID number", "Identifier"} & set(header):
        kind, reader = "moodle", moodle_row
    else:
        kind, reader = "", plain_row
        keys = [ALIASES.get(key_of(h)) for h in header]
        missing = [c for c in REQUIRED if c not in keys and not (c == "id" and id_column)]
        if missing:
            raise CourseError(
                f"the roster's header has no {', '.join(missing)} column"
                " (expected: id, first name, last name, email; or Canvas's or Moodle's export)"
            )
    rows, problems = [], []
    seen: set[str] = set()
    for line, values in enumerate(table[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        cells = {h: v.strip() for h, v in zip(header, values, strict=False)}
        try:
            row = reader(cells)
        except ValueError as exc:
            problems.append(f"{line}: {clean_text(str(exc))}")
            continue
        if row is None:
            continue
        if id_column is not None:
            row["id"] = email_local(cells.get(id_column, ""))
        problem = row_problem(row, seen)
        if problem:
            problems.append(f"{line}: {problem}")
            continue
        seen.add(row["id"])
        rows.append(row)
    return rows, problems, kind


def email_local(value: str) -> str:
    """An id as it is, or the part of an email address before ``@``."""
    return value.split("@", 1)[0] if EMAIL.match(value) else value


def split_name(name: str) -> tuple[str, str]:
    """(first, last) of ``Last, First`` or ``First Middle Last``."""
    if "," in name:
        last, _, first = name.partition(",")
        return first.strip(), last.strip()
    first, _, last = name.strip().rpartition(" ")
    return (first, last) if first else (last, "")


def canvas_row(cells: dict[str, str]) -> dict[str, str] | None:
    """A row of Canvas's gradebook export (``None`` for its "Points Possible" row)."""
    name = cells.get("Student", "")
    if name.strip().lower() == "points possible" or not (name.strip() or cells.get("ID")):
        return None
    first, last = split_name(name)
    login, sis = cells.get("SIS Login ID", ""), cells.get("SIS User ID", "")
    student = email_local(login) if login else sis
    if not student:
        raise ValueError(f"{name or 'a student'} has neither SIS Login ID nor SIS User ID")
    return {
        "id": student,
        "first_name": first,
        "last_name": last,
        "email": login if EMAIL.match(login) else "",
        "lms": "canvas",
        "lms_user_id": cells.get("ID", ""),
        "sis_user_id": sis,
        "sis_login_id": login,
        "section": cells.get("Section", ""),
        "display_name": name,
    }


def moodle_row(cells: dict[str, str]) -> dict[str, str] | None:
    """A row of Moodle's participants download or of an assignment's grading worksheet."""
    email = cells.get("Email address", "")
    first, last = cells.get("First name", ""), cells.get("Last name", "")
    full = cells.get("Full name", "")
    if full and not (first or last):
        first, last = split_name(full)
    number = cells.get("ID number", "")
    student = number or cells.get("Username", "") or email_local(email)
    if not student:
        raise ValueError(f"{full or first or 'a student'} has no ID number, username or email")
    participant = re.sub(r"\D", "", cells.get("Identifier", ""))
    return {
        "id": student,
        "first_name": first,
        "last_name": last,
        "email": email,
        "lms": "moodle",
        "lms_user_id": participant,
        "sis_login_id": cells.get("Username", ""),
        "display_name": full or f"{first} {last}".strip(),
        "id_number": number,
    }


def plain_row(cells: dict[str, str]) -> dict[str, str]:
    """A row of a plain class list: id, first name, last name, email."""
    row = {}
    for header, value in cells.items():
        key = ALIASES.get(key_of(header))
        if key and key not in row:
            row[key] = value
    return {c: row.get(c, "") for c in COLUMNS}


def row_problem(row: dict[str, str], seen: set[str]) -> str | None:
    """Why a roster row cannot be imported, or ``None``."""
    try:
        check_id("student", row.get("id", ""))
    except CourseError as exc:
        return clean_text(str(exc))
    if row["id"] in seen:
        return f"student {row['id']} is listed twice"
    if any(len(row.get(c, "")) > NAME_LIMIT for c in COLUMNS):
        return f"a field of student {row['id']} is longer than {NAME_LIMIT} characters"
    if row.get("email") and not EMAIL.match(row["email"]):
        return f"student {row['id']}: {clean_text(row['email'])!r} is not an email address"
    return None


def import_roster(course: Course, raw: bytes, id_column: str | None = None) -> RosterReport:
    """Create or update the roster's students in the course gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    from autograder.pipeline.lms import LmsEntry, store_entries

    rows, problems, kind = read_roster(raw, id_column)
    report = RosterReport(skipped=problems, kind=kind or "class list")
    create_gradebook(course.db_url)
    with Gradebook(course.db_url, course.course_id) as gb:
        for row in rows:
            try:
                gb.find_student(row["id"])
                report.updated.append(row["id"])
            except MissingEntry:
                report.created.append(row["id"])
            gb.update_or_create_student(
                row["id"],
                first_name=clean_text(row["first_name"]) or None,
                last_name=clean_text(row["last_name"]) or None,
                email=row["email"] or None,
            )
    store_entries(
        course.db_url,
        [
            LmsEntry(
                student=row["id"],
                **{
                    k: clean_text(row.get(k, ""))
                    for k in LmsEntry.__dataclass_fields__
                    if k != "student"
                },
            )
            for row in rows
        ],
    )
    return report
