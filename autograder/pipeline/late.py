"""Due dates, late policies and extensions, applied as nbgrader applies them.

- **Due date**: nbgrader's own ``Assignment.duedate`` (naive UTC), set by ``grader assignment
  A --due "2026-10-01 23:59" --timezone Europe/Berlin``; formgrader shows it too.
- **Late policy**, per assignment (``grader_assignments``, one of our tables): ``none`` (no
  penalty, as nbgrader's default ``LateSubmissionPlugin``), ``zero`` (penalty = the score, as
  nbgrader's ``zero``), ``per-day`` or ``per-hour``: ``--penalty P`` percent of the assignment's
  maximum per started day or hour late, at most ``--cap C`` percent (default 100). As in
  nbgrader, a penalty never exceeds the score.
- **Extensions**, per student (``grader_extensions``): a new due date for one student. They
  are kept in our table (a student may get one before submitting) and copied into nbgrader's
  ``SubmittedAssignment.extension``.
- **Lateness** is the submission's time (``timestamp.txt``: the exchange's, the LMS's, or for a
  plain folder the file's modification time at collect) past the student's due date. Canvas
  says only whether a file was late (``_LATE_`` in its name): a file without it is on time,
  one with it is late by at least one second (so a per-day policy takes one day) unless an
  extension covers its time.

The penalty goes into nbgrader's ``SubmittedNotebook.late_submission_penalty``, so
formgrader, ``nbgrader export`` and ``grader export`` agree. It is recomputed from the
gradebook (no regrading) whenever grades are recorded, exported or fed back, and by
``grader late``: a changed due date, extension or policy takes effect there.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from autograder.pipeline.coursedir import Course, CourseError
from autograder.pipeline.decisions import audit, changed, now
from autograder.pipeline.tables import EXTENSIONS, POLICIES, create_tables, replace_row, rows

KINDS = ("none", "zero", "per-day", "per-hour")
UNIT_SECONDS = {"per-day": 86400, "per-hour": 3600}
LMS_MARKER = "lms.json"
"""What collect learnt from an LMS about a submission (``{"lms": ..., "late": ...}``)."""
WHEN = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


@dataclass(frozen=True)
class Policy:
    """A late policy: ``kind`` (:data:`KINDS`), percent per unit, percent cap."""

    kind: str = "none"
    penalty: float = 0.0
    cap: float = 100.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise CourseError(f"late policy {self.kind!r} is not one of {', '.join(KINDS)}")
        for name, value in (("--penalty", self.penalty), ("--cap", self.cap)):
            if not (math.isfinite(value) and 0 <= value <= 100):
                raise CourseError(f"{name} {value:g} is not a percentage from 0 to 100")
        if self.kind in UNIT_SECONDS and not self.penalty:
            raise CourseError(f"late policy {self.kind} needs --penalty PERCENT")

    def describe(self) -> str:
        if self.kind in UNIT_SECONDS:
            unit = self.kind.removeprefix("per-")
            return (
                f"{self.penalty:g}% of the maximum per started {unit} late, at most {self.cap:g}%"
            )
        return {"none": "no penalty", "zero": "a late submission scores 0"}[self.kind]


def penalty(policy: Policy, score: float, max_score: float, seconds_late: float) -> float:
    """The points a submission loses: nbgrader's rule, a penalty never above the score."""
    if seconds_late <= 0 or policy.kind == "none" or score <= 0:
        return 0.0
    if policy.kind == "zero":
        return score
    units = math.ceil(seconds_late / UNIT_SECONDS[policy.kind])
    share = min(policy.penalty * units, policy.cap) / 100
    return min(score, round(max_score * share, 6))


def parse_when(text: str, zone: str | None = None) -> datetime:
    """``2026-10-01 23:59`` (in ``zone``, default UTC, unless the text has an offset) as
    naive UTC; :class:`CourseError` in one line otherwise."""
    text = text.strip()
    if not WHEN.match(text):
        raise CourseError(f"date {text!r} is not YYYY-MM-DD HH:MM (24-hour, optional :SS)")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise CourseError(f"date {text!r}: {exc}") from None
    if len(text) == 10:  # a date alone: the end of that day
        when = when.replace(hour=23, minute=59)
    if when.tzinfo is None:
        when = when.replace(tzinfo=time_zone(zone))
    return when.astimezone(timezone.utc).replace(tzinfo=None)


def time_zone(zone: str | None):
    """The ``zoneinfo`` zone named ``zone`` (UTC if none); :class:`CourseError` if unknown."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not zone:
        return timezone.utc
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CourseError(f"unknown time zone {zone!r} (e.g. Europe/Berlin, UTC)") from None


def show(when: datetime | None) -> str:
    """A naive UTC time as text."""
    return "none" if when is None else f"{when:%Y-%m-%d %H:%M} UTC"


def policies(db_url: str) -> dict[str, Policy]:
    """Each assignment's late policy (``none`` when never set)."""
    return {
        r["assignment"]: Policy(r["late_policy"], r["penalty"], r["cap"])
        for r in rows(db_url, POLICIES)
    }


def extensions(db_url: str) -> dict[tuple[str, str], dict]:
    """Every extension, by (assignment, student)."""
    return {(r["assignment"], r["student"]): r for r in rows(db_url, EXTENSIONS)}


def set_policy(db_url: str, assignment: str, policy: Policy) -> None:
    replace_row(
        db_url,
        POLICIES,
        POLICIES.c.assignment == assignment,
        {
            "assignment": assignment,
            "late_policy": policy.kind,
            "penalty": policy.penalty,
            "cap": policy.cap,
        },
    )


def set_extension(
    db_url: str, assignment: str, student: str, until: datetime, reason: str, by: str
) -> None:
    key = (EXTENSIONS.c.assignment == assignment) & (EXTENSIONS.c.student == student)
    values = {
        "assignment": assignment,
        "student": student,
        "until": until,
        "reason": reason,
        "by": by,
        "at": now(),
    }
    replace_row(db_url, EXTENSIONS, key, values)


@dataclass(frozen=True)
class Lateness:
    """One submission's lateness and penalty as last computed."""

    assignment: str
    student: str
    due: datetime | None
    submitted: datetime | None
    seconds_late: float
    penalty: float
    note: str = ""

    def describe(self) -> str:
        if self.seconds_late <= 0:
            return "on time"
        hours = self.seconds_late / 3600
        late = f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} h"
        return f"late by {late} (due {show(self.due)}): -{self.penalty:g} points" + (
            f"; {self.note}" if self.note else ""
        )


def lms_marker(course: Course, assignment: str, student: str) -> dict:
    """What collect learnt from an LMS about the submitted file, if anything."""
    path: Path = course.exercises_path("submitted", assignment, student).parent / LMS_MARKER
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def apply_late(
    course: Course,
    submission,
    policy: Policy,
    extension: dict | None,
    conn,
    actor: str,
) -> Lateness:
    """Set nbgrader's extension and late penalty of ``submission`` (``SubmittedAssignment``).

    The score the penalty is taken from is nbgrader's (manual scores override automatic
    ones). A changed penalty is audited on ``conn`` (part ``late_penalty``).
    """
    assignment, student = submission.assignment.name, submission.student.id
    due = submission.assignment.duedate
    note = ""
    if extension is not None and due is not None:
        submission.extension = max(extension["until"] - due, timedelta(0))
    elif extension is None:
        submission.extension = None
    seconds = float(submission.total_seconds_late) if due is not None else 0.0
    marker = lms_marker(course, assignment, student)
    if marker.get("lms") == "canvas" and due is not None:
        if not marker.get("late"):
            seconds, note = 0.0, "" if not seconds else "on time by Canvas"
        elif seconds <= 0 and extension is None:
            seconds, note = 1.0, "late by Canvas (_LATE_; its time is unknown)"
    notebooks = list(submission.notebooks)
    score = sum(float(g.score or 0) for nb in notebooks for g in nb.grades)
    maximum = sum(float(g.max_score or 0) for nb in notebooks for g in nb.grades)
    points = penalty(policy, score, maximum, seconds)
    old = sum(float(nb.late_submission_penalty or 0) for nb in notebooks)
    for i, nb in enumerate(notebooks):
        nb.late_submission_penalty = points if i == 0 else 0.0
    if changed(old, points):
        why = f"{policy.describe()}; {seconds / 3600:.2f} h late" if points else "not late"
        audit(conn, actor, assignment, student, "late_penalty", old, points, why)
    due_for_student = submission.duedate if due is not None else None
    return Lateness(
        assignment, student, due_for_student, submission.timestamp, seconds, points, note
    )


def recompute(
    course: Course, assignments: list[str] | tuple[str, ...] = (), actor: str = "grader late"
) -> list[Lateness]:
    """Recompute every recorded submission's extension and penalty; no regrading."""
    from nbgrader.api import Gradebook

    from autograder.pipeline.kit import create_gradebook

    create_gradebook(course.db_url)
    found = []
    rules = policies(course.db_url)
    granted = extensions(course.db_url)
    with Gradebook(course.db_url, course.course_id) as gb:
        create_tables(gb.engine)
        for assignment in gb.assignments:
            if assignments and assignment.name not in assignments:
                continue
            policy = rules.get(assignment.name, Policy())
            for submission in assignment.submissions:
                key = (assignment.name, submission.student.id)
                found.append(apply_late(course, submission, policy, granted.get(key), gb.db, actor))
        gb.db.commit()
    return sorted(found, key=lambda x: (x.assignment, x.student))


def set_due(course: Course, assignment: str, due: datetime | None) -> None:
    """Set (or with ``None`` clear) nbgrader's due date of ``assignment``."""
    from nbgrader.api import Gradebook

    from autograder.pipeline.kit import create_gradebook

    create_gradebook(course.db_url)
    with Gradebook(course.db_url, course.course_id) as gb:
        gb.update_or_create_assignment(assignment, duedate=due)


def due_dates(course: Course) -> dict[str, datetime | None]:
    """nbgrader's due date of every assignment in the gradebook."""
    from nbgrader.api import Gradebook

    from autograder.pipeline.kit import create_gradebook

    create_gradebook(course.db_url)
    with Gradebook(course.db_url, course.course_id) as gb:
        return {a.name: a.duedate for a in gb.assignments}
