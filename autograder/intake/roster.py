"""Import the class list into the gradebook: ``grader roster students.csv``.

The CSV has a header and four columns: id, first name, last name, email (as an LMS exports
them; header spellings such as ``First Name`` or ``first_name`` are all accepted, and a UTF-8
byte-order mark from a spreadsheet is ignored). Each row creates the student in nbgrader's
gradebook or updates their names and email, so formgrader and the report show names, not
"None, None". Ids follow the same rule as everywhere in the grader (letters, digits, ``.``,
``_``, ``-``). A bad row is reported with its line number and skipped; the others are
imported. Importing the same roster again changes nothing.
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
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NAME_LIMIT = 128


@dataclass
class RosterReport:
    """Students created, students updated, and the rows skipped with why."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"line {problem}" for problem in self.skipped]
        lines.append(
            f"{len(self.created)} student(s) added, {len(self.updated)} updated,"
            f" {len(self.skipped)} row(s) skipped"
        )
        return "\n".join(lines)


def read_roster(raw: bytes) -> tuple[list[dict[str, str]], list[str]]:
    """The rows of a roster CSV as dicts with :data:`COLUMNS`, and the problems of bad rows."""
    if len(raw) > MAX_BYTES:
        raise CourseError(f"the roster is larger than {MAX_BYTES // 2**20} MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CourseError("the roster is not UTF-8 text (save it as CSV UTF-8)") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise CourseError("the roster is empty")
    keys = [ALIASES.get(re.sub(r"[\s-]+", "_", h.strip().lower())) for h in header]
    missing = [c for c in COLUMNS if c not in keys]
    if missing:
        raise CourseError(
            f"the roster's header has no {', '.join(missing)} column"
            " (expected: id, first name, last name, email)"
        )
    rows, problems = [], []
    seen: set[str] = set()
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        row = {k: v.strip() for k, v in zip(keys, values, strict=False) if k}
        problem = row_problem(row, seen)
        if problem:
            problems.append(f"{line}: {problem}")
            continue
        seen.add(row["id"])
        rows.append(row)
    return rows, problems


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


def import_roster(course: Course, raw: bytes) -> RosterReport:
    """Create or update the roster's students in the course gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    rows, problems = read_roster(raw)
    report = RosterReport(skipped=problems)
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
    return report
