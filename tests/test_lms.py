"""LMS download names, rosters and the late-penalty arithmetic, case by case (issue 19).

The layouts are described from each LMS's documentation (the ``search`` tool found no
primary page for them, so they are written from the documentation as remembered and said
so here):

- Canvas, "How do I download all student submissions for an assignment?" (Canvas Instructor
  Guide, community.canvaslms.com): a zip of files named ``<name>_<user id>_<submission
  id>_<file>``, ``<name>_LATE_<user id>_...`` for late ones, and ``-1``, ``-2`` appended to a
  resubmitted file's name; "How do I import grades in the Gradebook?" and "How do I export
  grades in the Gradebook?": the CSV's ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``,
  ``Section`` columns, a "Points Possible" row, assignment columns ``Name (id)``.
- Moodle, "Assignment settings" / "Using Assignment" (docs.moodle.org): "Download all
  submissions" gives ``Full Name_<participant id>_assignsubmission_file_/`` folders
  ("Download submissions in folders"; older versions prefix each file instead); the grading
  worksheet's ``Identifier`` column reads "Participant N"; "Import grades" (CSV) maps users by
  email address, ID number or username.
- Blackboard Learn, "Download Assignments" (help.blackboard.com): files named
  ``<Assignment>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>_<file>`` with a ``.txt`` receipt.
- D2L Brightspace, "Download assignment submissions" (documentation.brightspace.com): entries
  ``<submission id>-<id> - <First Last> - <Mon D, YYYY H:MM AM>`` (the time without its colon
  in file names).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from autograder.intake.lms import NotLms, parse_path, student_of
from autograder.intake.roster import read_roster
from autograder.pipeline.coursedir import CourseError
from autograder.pipeline.late import Policy, parse_when, penalty
from autograder.pipeline.lms import LmsEntry, name_key

pytestmark = pytest.mark.autograder


@pytest.mark.parametrize(
    ("lms", "path", "key", "filename", "late", "attempt"),
    [
        ("canvas", "lovelaceada_1001_5001_exercises.ipynb", "1001", "exercises.ipynb", False, 0),
        (
            "canvas",
            "lovelaceada_LATE_1001_5001_exercises.ipynb",
            "1001",
            "exercises.ipynb",
            True,
            0,
        ),
        ("canvas", "lovelaceada_1001_5001_exercises-2.ipynb", "1001", "exercises.ipynb", False, 2),
        ("canvas", "sub/ada_7_8_exercises (1).ipynb", "7", "exercises (1).ipynb", False, 0),
        ("canvas", "ada_7_8_my_exercises.ipynb", "7", "my_exercises.ipynb", False, 0),
        (
            "moodle",
            "Ada Lovelace_301_assignsubmission_file_/exercises.ipynb",
            "301",
            "exercises.ipynb",
            None,
            0,
        ),
        (
            "moodle",
            "Ada_Lovelace_301_assignsubmission_file_exercises.ipynb",
            "301",
            "exercises.ipynb",
            None,
            0,
        ),
        (
            "blackboard",
            "Module 00_ada_attempt_2026-10-01-08-15-30_exercises.ipynb",
            "ada",
            "exercises.ipynb",
            None,
            0,
        ),
        (
            "brightspace",
            "12-34 - Ada Lovelace - Oct 1, 2026 8:15 AM/exercises.ipynb",
            "Ada Lovelace",
            "exercises.ipynb",
            None,
            0,
        ),
        (
            "brightspace",
            "12-34 - Ada Lovelace- Oct 1, 2026 815 AM - exercises.ipynb",
            "Ada Lovelace",
            "exercises.ipynb",
            None,
            0,
        ),
    ],
)
def test_download_names_parse(lms, path, key, filename, late, attempt) -> None:
    found = parse_path(lms, path)
    assert (found.key, found.filename, found.late, found.attempt) == (key, filename, late, attempt)


@pytest.mark.parametrize(
    ("lms", "path", "reason"),
    [
        ("canvas", "ada_exercises.ipynb", "not a Canvas download name"),
        ("canvas", "ada_x1_5_exercises.ipynb", "not a Canvas download name"),
        ("moodle", "ada_exercises.ipynb", "not a Moodle download"),
        ("moodle", "Ada_3_assignsubmission_onlinetext_/x.ipynb", "onlinetext submission"),
        ("blackboard", "Module_ada_attempt_2026-13-01-08-15-30_exercises.ipynb", "not a date"),
        ("blackboard", "Module_ada_attempt_2026-10-01-08-15-30.txt", "receipt"),
        ("blackboard", "ada_exercises.ipynb", "not a Blackboard download name"),
        ("brightspace", "Ada - exercises.ipynb", "not a Brightspace download"),
        ("brightspace", "1-2 - Ada - Feb 30, 2026 8:15 AM/exercises.ipynb", "not a date"),
        ("nowhere", "x.ipynb", "unknown LMS"),
    ],
)
def test_bad_download_names_are_told(lms, path, reason) -> None:
    with pytest.raises(NotLms, match=reason):
        parse_path(lms, path)


def test_times_in_names_are_read_in_the_given_zone() -> None:
    from zoneinfo import ZoneInfo

    name = "A_ada_attempt_2026-10-01-08-15-30_exercises.ipynb"
    berlin = parse_path("blackboard", name, ZoneInfo("Europe/Berlin")).when
    assert berlin == datetime(2026, 10, 1, 6, 15, 30, tzinfo=timezone.utc)
    assert parse_path("blackboard", name).when == datetime(
        2026, 10, 1, 8, 15, 30, tzinfo=timezone.utc
    )
    afternoon = parse_path("brightspace", "1-2 - Ada - Oct 1, 2026 1:05 PM/exercises.ipynb").when
    assert afternoon.hour == 13 and afternoon.minute == 5


ROSTER = {
    "ada": LmsEntry("ada", "canvas", "1001", display_name="Lovelace, Ada"),
    "ben": LmsEntry("ben", "moodle", "301", display_name="Ben Babbage"),
    "bob": LmsEntry("bob", "", sis_login_id="bob.b"),
}
NAMES = {"adalovelace": ["ada"], "benbabbage": ["ben"], "samesame": ["s1", "s2"]}


@pytest.mark.parametrize(
    ("lms", "path", "student"),
    [
        ("canvas", "x_1001_1_exercises.ipynb", "ada"),
        ("canvas", "x_1002_1_exercises.ipynb", None),  # not on the roster
        ("moodle", "Whoever_301_assignsubmission_file_/exercises.ipynb", "ben"),
        ("moodle", "Ben Babbage_999_assignsubmission_file_/exercises.ipynb", "ben"),  # by name
        ("moodle", "Same Same_998_assignsubmission_file_/exercises.ipynb", None),  # ambiguous
        ("blackboard", "A_bob.b_attempt_2026-10-01-08-15-30_exercises.ipynb", "bob"),
        ("blackboard", "A_zoe_attempt_2026-10-01-08-15-30_exercises.ipynb", "zoe"),
        ("brightspace", "1-2 - Lovelace, Ada - Oct 1, 2026 8:15 AM/exercises.ipynb", "ada"),
        ("brightspace", "1-2 - Nobody - Oct 1, 2026 8:15 AM/exercises.ipynb", None),
    ],
)
def test_lms_ids_map_to_course_ids(lms, path, student) -> None:
    found = parse_path(lms, path)
    if student is None:
        with pytest.raises(NotLms):
            student_of(found, ROSTER, NAMES)
    else:
        assert student_of(found, ROSTER, NAMES) == student


def test_name_keys_ignore_order_case_and_punctuation() -> None:
    assert name_key("Lovelace, Ada") == name_key("ada LOVELACE") == "adalovelace"


CANVAS = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Module 00 (777)\n"
    "    Points Possible,,,,,5\n"
    '"Lovelace, Ada",1001,S-1,ada@uni.example,Mon,3\n'
    '"Babbage, Ben",1002,S-2,,Mon,\n'
    '"Nobody, No",1003,,,Mon,\n'
    '"Evil, Eve",1004,S-4,../eve,Mon,\n'
)
MOODLE_WORKSHEET = (
    "Identifier,Full name,Email address,Status,Grade\n"
    "Participant 301,Ben Babbage,ben@uni.example,Submitted,\n"
    "Participant 302,Cy Young,,Submitted,\n"
)


def test_canvas_roster_ids_are_logins_not_canvas_numbers() -> None:
    rows, problems, kind = read_roster(CANVAS.encode())
    assert kind == "canvas"
    by_id = {r["id"]: r for r in rows}
    assert set(by_id) == {"ada", "S-2"}  # the login's local part, else the SIS User ID
    assert (by_id["ada"]["first_name"], by_id["ada"]["last_name"]) == ("Ada", "Lovelace")
    assert by_id["ada"]["lms_user_id"] == "1001" and by_id["ada"]["email"] == "ada@uni.example"
    assert [p.split(":")[0] for p in problems] == ["5", "6"]


def test_moodle_worksheet_keeps_participant_numbers() -> None:
    rows, problems, kind = read_roster(MOODLE_WORKSHEET.encode())
    assert kind == "moodle"
    assert rows[0]["id"] == "ben" and rows[0]["lms_user_id"] == "301"
    assert rows[0]["last_name"] == "Babbage"
    assert problems and problems[0].startswith("3: ")  # Cy has no id of any kind


def test_id_column_option_and_its_control() -> None:
    rows, _, _ = read_roster(CANVAS.encode(), id_column="SIS User ID")
    assert {r["id"] for r in rows} == {"S-1", "S-2", "S-4"}
    with pytest.raises(CourseError, match="no column"):
        read_roster(CANVAS.encode(), id_column="Login")


# -- the late penalty --------------------------------------------------------------------------
HOUR, DAY = 3600.0, 86400.0


@pytest.mark.parametrize(
    ("policy", "score", "maximum", "late", "expected"),
    [
        (Policy("none"), 5, 5, 10 * DAY, 0.0),  # nbgrader's default: no penalty
        (Policy("zero"), 4, 5, 1.0, 4.0),  # nbgrader's "zero": the whole score
        (Policy("zero"), 4, 5, 0.0, 0.0),  # on time
        (Policy("per-day", 10), 5, 5, 1.0, 0.5),  # one second: one started day
        (Policy("per-day", 10), 5, 5, DAY, 0.5),  # exactly one day
        (Policy("per-day", 10), 5, 5, DAY + 1, 1.0),  # into the second day
        (Policy("per-day", 10, cap=25), 5, 5, 9 * DAY, 1.25),  # capped at 25 %
        (Policy("per-hour", 2), 10, 10, 3 * HOUR, 0.6),
        (Policy("per-day", 50), 1, 10, 2 * DAY, 1.0),  # never more than the score
        (Policy("per-day", 10), 0, 5, 2 * DAY, 0.0),  # nothing to take
    ],
)
def test_penalty_arithmetic(policy, score, maximum, late, expected) -> None:
    assert penalty(policy, score, maximum, late) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "weekly"}, "is not one of"),
        ({"kind": "per-day"}, "needs --penalty"),
        ({"kind": "per-day", "penalty": 120}, "not a percentage"),
        ({"kind": "per-hour", "penalty": 5, "cap": -1}, "not a percentage"),
        ({"kind": "per-hour", "penalty": float("nan")}, "not a percentage"),
    ],
)
def test_bad_policies_are_one_line(kwargs, message) -> None:
    with pytest.raises(CourseError, match=message):
        Policy(**kwargs)


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2026-10-01 23:59", None, datetime(2026, 10, 1, 23, 59)),
        ("2026-10-02 01:59", "Europe/Berlin", datetime(2026, 10, 1, 23, 59)),
        ("2026-01-02 01:59", "Europe/Berlin", datetime(2026, 1, 2, 0, 59)),  # winter time
        ("2026-10-01", None, datetime(2026, 10, 1, 23, 59)),  # a date alone: end of the day
        ("2026-10-01T12:00+02:00", "America/New_York", datetime(2026, 10, 1, 10, 0)),
        ("2026-10-01 12:00Z", None, datetime(2026, 10, 1, 12, 0)),
    ],
)
def test_dates(text, zone, expected) -> None:
    assert parse_when(text, zone) == expected


@pytest.mark.parametrize(
    ("text", "zone", "message"),
    [
        ("01/10/2026", None, "not YYYY-MM-DD"),
        ("tomorrow", None, "not YYYY-MM-DD"),
        ("2026-02-30 10:00", None, "out of range"),
        ("2026-10-01 25:00", None, "hour must be"),
        ("2026-10-01 10:00", "Mars/Olympus", "unknown time zone"),
        ("2026-10-01 10:00", "../../etc/passwd", "unknown time zone"),
    ],
)
def test_bad_dates_are_one_line(text, zone, message) -> None:
    with pytest.raises(CourseError, match=message):
        parse_when(text, zone)
