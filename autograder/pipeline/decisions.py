"""What the instructor decided and what changed a score: the grader's own gradebook tables.

nbgrader's tables hold the scores; these four, created with SQLAlchemy next to
``grader_results`` (SQLite or PostgreSQL alike), hold what nbgrader has no place for:

- ``grader_audit``: one row per change of a score: when, who or what (``grader grade``,
  ``grader review by <user>``, ``formgrader (manual)``, ``grader late``, ``grader withdraw``),
  assignment, student, part, old and new value, and why. Rows are only ever added.
- ``grader_held``: the points a review flag holds back, per test cell, with what they
  earned and the file they were earned by (``grader review`` lists them).
- ``grader_decisions``: the instructor's decision on held points (release them, or set a
  score) with the reason, for the file it was made on. Every later grading of the same file
  applies it; a new file makes it stale, which the summary and the report say.
- ``grader_archive``: a manual score or comment entered in formgrader on a cell that a
  changed source removed: kept here, listed by ``grade`` and in the report, never dropped.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import (
    create_engine,
)

from autograder.pipeline.tables import (
    ARCHIVE,
    AUDIT,
    DECISIONS,
    HELD,
    create_tables,
    rows,
)

RELEASE, OVERRIDE = "release", "override"
"""A decision's action: give the held points as earned, or set the part's score."""
MANUAL_ACTOR = "formgrader (manual)"


def now() -> datetime:
    """The current time, naive UTC (as nbgrader stores times)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def user() -> str:
    """Who runs the command, for the audit."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class Decision:
    """An instructor's decision on one held part of one submission's file."""

    assignment: str
    student: str
    part: str
    action: str
    score: float | None
    reason: str
    by: str
    at: datetime
    file: str

    def describe(self) -> str:
        """``released by alice (2026-10-03): reason`` or ``set to 1 by ...``."""
        what = "released" if self.action == RELEASE else f"set to {self.score:g}"
        return f"{self.part} {what} by {self.by} ({self.at:%Y-%m-%d}): {self.reason}"


@dataclass(frozen=True)
class Held:
    """Points one test cell earned that a review flag holds back."""

    assignment: str
    student: str
    part: str
    earned: float
    max_score: float
    finding: str
    file: str


def decisions(db_url: str) -> dict[tuple[str, str], dict[str, Decision]]:
    """Every decision, by (assignment, student) and part."""
    found: dict[tuple[str, str], dict[str, Decision]] = {}
    for row in rows(db_url, DECISIONS):
        found.setdefault((row["assignment"], row["student"]), {})[row["part"]] = Decision(**row)
    return found


def held(db_url: str) -> list[Held]:
    """Every part whose points are held now, sorted."""
    found = [Held(**row) for row in rows(db_url, HELD)]
    return sorted(found, key=lambda h: (h.assignment, h.student, h.part))


def audit_rows(db_url: str) -> list[dict]:
    """The audit, oldest first."""
    return sorted(rows(db_url, AUDIT), key=lambda row: row["id"])


def archived(db_url: str, since: datetime | None = None) -> list[dict]:
    """Manual scores and comments set aside because their cell is gone (since ``since``)."""
    found = rows(db_url, ARCHIVE, *([ARCHIVE.c.at >= since] if since else []))
    return sorted(found, key=lambda row: row["id"])


def describe_archived(row: dict) -> str:
    """One line about an archived manual score or comment."""
    kept = []
    if row["manual_score"] is not None:
        kept.append(f"manual score {row['manual_score']:g}")
    if row["comment"]:
        kept.append(f"comment {row['comment'][:80]!r}")
    return (
        f"{row['student']} {row['assignment']}:{row['part']}: {' and '.join(kept)} kept in the"
        f" archive ({row['reason']})"
    )


def audit(
    conn,
    actor: str,
    assignment: str,
    student: str,
    part: str,
    old: float | None,
    new: float | None,
    reason: str,
) -> None:
    """Add one audit row on ``conn`` (a connection or session, committed by the caller)."""
    conn.execute(
        AUDIT.insert().values(
            at=now(),
            actor=actor,
            assignment=assignment,
            student=student,
            part=part,
            old=old,
            new=new,
            reason=reason[:1000],
        )
    )


def changed(old: float | None, new: float | None) -> bool:
    """Whether a score changed (``None`` is no score)."""
    if old is None or new is None:
        return (old is None) != (new is None)
    return abs(float(old) - float(new)) > 1e-9


def replace_held(conn, assignment: str, student: str, parts: Iterable[Held]) -> None:
    """The held parts of one submission are now ``parts``."""
    conn.execute(
        HELD.delete().where((HELD.c.assignment == assignment) & (HELD.c.student == student))
    )
    for part in parts:
        conn.execute(HELD.insert().values(**part.__dict__))


def note_manual_scores(conn, submission) -> None:
    """Audit manual scores entered in formgrader since the grader last looked.

    ``submission`` is nbgrader's ``SubmittedAssignment``. The last manual value the audit
    knows for each part is compared with the gradebook's; a difference is formgrader's.
    """
    assignment, student = submission.assignment.name, submission.student.id
    seen: dict[str, float | None] = {}
    query = (
        AUDIT.select()
        .where(
            (AUDIT.c.assignment == assignment)
            & (AUDIT.c.student == student)
            & (AUDIT.c.actor == MANUAL_ACTOR)
        )
        .order_by(AUDIT.c.id)
    )
    for row in conn.execute(query).mappings():
        seen[row["part"]] = row["new"]
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            manual = None if grade.manual_score is None else float(grade.manual_score)
            before = seen.get(grade.name)
            if changed(before, manual):
                old = before if grade.name in seen else grade.auto_score
                audit(
                    conn,
                    MANUAL_ACTOR,
                    assignment,
                    student,
                    grade.name,
                    old,
                    manual,
                    "manual score entered in formgrader" if manual is not None else "cleared",
                )


def record_decision(db_url: str, decision: Decision) -> None:
    """Store ``decision`` (replacing an earlier one on the same part)."""
    engine = create_engine(db_url)
    try:
        create_tables(engine)
        key = (
            (DECISIONS.c.assignment == decision.assignment)
            & (DECISIONS.c.student == decision.student)
            & (DECISIONS.c.part == decision.part)
        )
        with engine.begin() as conn:
            conn.execute(DECISIONS.delete().where(key))
            conn.execute(DECISIONS.insert().values(**decision.__dict__))
    finally:
        engine.dispose()
