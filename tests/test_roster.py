"""``grader roster``: the class list into the gradebook, with names, and bad rows told."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from support import grader

pytestmark = pytest.mark.autograder

ROSTER = (
    "\ufeffStudent ID,First Name,Last Name,Email\n"
    "ada,Ada,Lovelace,ada@example.org\n"
    "alan,Alan,Turing,\n"
    "\n"
    "../bob,Bob,Escape,bob@example.org\n"
    "ada,Ada,Again,ada2@example.org\n"
    "eve,Eve,Mallory,not-an-address\n"
)


def students(course: Path) -> dict[str, tuple]:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "nn-course") as gb:
        return {s.id: (s.first_name, s.last_name, s.email) for s in gb.students}


def test_roster_creates_students_with_names_and_reports_bad_rows(
    course: Path, tmp_path: Path
) -> None:
    roster = tmp_path / "students.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    done = grader(course, "roster", str(roster))
    assert done.returncode == 1, done.stderr
    assert students(course) == {
        "ada": ("Ada", "Lovelace", "ada@example.org"),
        "alan": ("Alan", "Turing", None),
    }
    lines = done.stdout.splitlines()
    assert lines[-1] == "2 student(s) added, 0 updated, 3 row(s) skipped"
    assert [ln.split(":")[0] for ln in lines[:-1]] == ["line 5", "line 6", "line 7"]
    assert "is listed twice" in lines[1] and "not an email address" in lines[2]

    roster.write_text("id,first_name,last_name,email\nada,Ada,King,ada@example.org\n")
    again = grader(course, "roster", str(roster))
    assert again.returncode == 0
    assert again.stdout.strip() == "0 student(s) added, 1 updated, 0 row(s) skipped"
    assert students(course)["ada"] == ("Ada", "King", "ada@example.org")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"id,first name,email\nada,Ada,a@b.org\n", "has no last_name column"),
        (b"", "the roster is empty"),
        (b"\xff\xfe\x00i\x00d", "not UTF-8"),
    ],
    ids=["missing-column", "empty", "utf16"],
)
def test_a_bad_roster_is_one_line_and_imports_nothing(
    course: Path, tmp_path: Path, content: bytes, message: str
) -> None:
    roster = tmp_path / "students.csv"
    roster.write_bytes(content)
    done = grader(course, "roster", str(roster))
    assert done.returncode == 2
    # the course line every command starts with (issue 19), then the error in one line
    course_line, error = done.stderr.splitlines(keepends=True)
    assert course_line == f"course: {course}\n"
    assert error.count("\n") == 1 and message in error
    assert not (course / "gradebook.db").exists() or students(course) == {}
