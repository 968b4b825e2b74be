"""The file an LMS gradebook imports: ``grader export --lms canvas|moodle``.

- **canvas**: ``canvas-grades.csv`` in the layout of Canvas's own gradebook export, which is
  what its "Import" takes back: ``Student`` ("Last, First"), ``ID``, ``SIS User ID``, ``SIS
  Login ID``, ``Section``, then one column per assignment, named as Canvas names it
  (``Module 02 (12345)``, given with ``--lms-column 02-forward="Module 02 (12345)"``) or, with
  no Canvas id known, by the assignment's name (Canvas then creates a new column). Canvas
  matches rows by ``ID``, then the SIS ids, as the roster import stored them. A student with
  no Canvas id is written with the course id as SIS Login ID and reported.
- **moodle**: ``moodle-grades.csv`` for Moodle's "Import grades: CSV file": ``Email address``,
  ``ID number``, ``First name``, ``Last name`` and one column per assignment; map the user by
  email or ID number in Moodle's import form.

Each score is the assignment's final total (every part's final score, manual scores
included, less the late penalty); an assignment without a submission is left empty so the
import changes nothing there.
"""

from __future__ import annotations

import csv
from pathlib import Path

from autograder.outputs.export import GradeTable, read_gradebook
from autograder.pipeline.coursedir import Course, CourseError
from autograder.pipeline.lms import EXPORT_LMS, roster_entries
from autograder.text import csv_text

CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_HEADER = ["Email address", "ID number", "First name", "Last name"]


def parse_columns(pairs: list[str]) -> dict[str, str]:
    """``ASSIGNMENT=COLUMN`` options as a dict; :class:`CourseError` for a malformed one."""
    found = {}
    for pair in pairs:
        assignment, sep, column = pair.partition("=")
        if not sep or not assignment.strip() or not column.strip():
            raise CourseError(f"--lms-column {pair!r} is not ASSIGNMENT=COLUMN NAME")
        found[assignment.strip()] = column.strip()
    return found


def export_lms(
    course: Course, lms: str, folder: Path, columns: dict[str, str] | None = None
) -> tuple[Path, list[str]]:
    """Write the LMS's import file into ``folder``; return it and the problems to report."""
    if lms not in EXPORT_LMS:
        raise CourseError(f"--lms {lms!r}: grades export to {' or '.join(EXPORT_LMS)}")
    columns = columns or {}
    book = read_gradebook(course)
    unknown = sorted(set(columns) - set(book.assignments))
    if unknown:
        raise CourseError(f"--lms-column names {unknown[0]}, which the gradebook does not have")
    folder.mkdir(parents=True, exist_ok=True)
    entries = roster_entries(course.db_url)
    students = sorted(set(book.students) | {s for _, s in book.submitted})
    assignments = book.assignments
    problems = []
    path = folder / f"{lms}-grades.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if lms == "canvas":
            writer.writerow(CANVAS_HEADER + [csv_text(columns.get(a, a)) for a in assignments])
            writer.writerow(
                ["    Points Possible", "", "", "", ""]
                + [f"{book.maximum(a):g}" for a in assignments]
            )
        else:
            writer.writerow(MOODLE_HEADER + [csv_text(columns.get(a, a)) for a in assignments])
        for student in students:
            last, first, email = book.students.get(student, ("", "", ""))
            entry = entries.get(student)
            scores = [score(book, a, student) for a in assignments]
            if lms == "canvas":
                if entry is None or entry.lms != "canvas":
                    problems.append(f"{student}: no Canvas ID (import Canvas's roster first)")
                    ids = ["", "", student, ""]
                else:
                    ids = [entry.lms_user_id, entry.sis_user_id, entry.sis_login_id, entry.section]
                name = entry.display_name if entry and entry.display_name else f"{last}, {first}"
                writer.writerow([csv_text(v) for v in [name, *ids]] + scores)
            else:
                number = entry.id_number if entry and entry.id_number else student
                if not email:
                    problems.append(f"{student}: no email address; Moodle must map by ID number")
                writer.writerow([csv_text(v) for v in (email, number, first, last)] + scores)
    return path, problems


def score(book: GradeTable, assignment: str, student: str) -> str:
    """The final total of one submission, or empty when there is none."""
    if (assignment, student) not in book.submitted:
        return ""
    return f"{book.total(assignment, student):g}"
