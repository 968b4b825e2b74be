"""The course gradebook's only writer during grading, and the run's record of results.

Besides nbgrader's own tables, the gradebook gets one table, ``grader_results``: a row per
(assignment, student) with the status, flags, time and the digest of what was graded (the
submitted file and the assignment's source). A row is written in the same transaction as the
student's scores, after the old submission is removed: if it exists, the student's grades are
complete, so a run killed half way is finished by running it again, and a submission or test
change since (a new digest) is graded again.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Column, DateTime, Float, MetaData, String, Table, Text, create_engine
from sqlalchemy import inspect as sql_inspect
from sqlalchemy.exc import SAWarning

from autograder.pipeline.coursedir import SAFE_ID, Course
from autograder.pipeline.kit import Kit, create_gradebook, generate_assignment
from autograder.pipeline.tasks import Digest, Flag, FlagKind, GradeResult

if TYPE_CHECKING:
    from nbgrader.api import Gradebook

RESULTS = Table(
    "grader_results",
    MetaData(),
    Column("assignment", String(128), primary_key=True),
    Column("student", String(128), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("scores", Text, nullable=False),
    Column("max_scores", Text, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("flags", Text, nullable=False),
    Column("graded_at", DateTime, nullable=False),
)


def recorded_results(db_url: str) -> dict[tuple[str, str], GradeResult]:
    """Every recorded result, keyed by (assignment, student); empty for a new gradebook."""
    engine = create_engine(db_url)
    try:
        if not sql_inspect(engine).has_table(RESULTS.name):
            return {}
        with engine.connect() as conn:
            rows = conn.execute(RESULTS.select()).mappings().all()
    finally:
        engine.dispose()
    return {(row["assignment"], row["student"]): row_to_result(row) for row in rows}


def selected_results(
    course: Course, assignments: Sequence[str] = (), students: Sequence[str] = ()
) -> list[tuple[str, str, GradeResult]]:
    """(assignment, student, result) of the recorded results asked for, in order.

    Only safe ids are returned: a path is never built from an id the grader did not check
    (an edited gradebook).
    """
    return [
        (assignment, student, result)
        for (assignment, student), result in sorted(recorded_results(course.db_url).items())
        if (not assignments or assignment in assignments)
        and (not students or student in students)
        and SAFE_ID.match(assignment)
        and SAFE_ID.match(student)
    ]


def row_to_result(row: dict) -> GradeResult:
    """A stored row as a :class:`GradeResult` (without the notebook)."""
    return GradeResult(
        assignment=row["assignment"],
        student=row["student"],
        status=row["status"],
        digest=Digest.from_text(row["digest"]),
        scores=json.loads(row["scores"]),
        max_scores=json.loads(row["max_scores"]),
        seconds=row["seconds"],
        flags=[stored_flag(flag) for flag in json.loads(row["flags"])],
    )


def stored_flag(data: object) -> Flag:
    """A flag as the gradebook holds it; one the grader cannot have written is told as such."""
    try:
        return Flag.from_json(data)
    except ValueError:
        return Flag(FlagKind.TAMPERED, f"a flag the grader did not write: {str(data)[:200]}")


class Recorder:
    """Writes results into the course's gradebook; the only process that does during a run."""

    def __init__(self, course: Course) -> None:
        from nbgrader.api import Gradebook

        self.course = course
        create_gradebook(course.db_url)
        self.gb = Gradebook(course.db_url, course.course_id)
        RESULTS.metadata.create_all(self.gb.engine)

    def register(self, assignment: str, kit: Kit) -> None:
        """Record the assignment's cells from ``source/`` in the gradebook (release untouched).

        Nothing is done when the gradebook already holds exactly the cells of ``kit``, which
        was generated from the same source: the usual case after ``grader release``.
        """
        from nbgrader.api import Gradebook

        with Gradebook(kit.db_url, self.course.course_id) as generated:
            if assignment_cells(self.gb, assignment) == assignment_cells(generated, assignment):
                return
        with tempfile.TemporaryDirectory(prefix="grader-register-") as tmp:
            config = self.course.nbgrader_config()
            config.CourseDirectory.release_directory = tmp
            generate_assignment(config, assignment)

    def record(self, result: GradeResult) -> None:
        """Replace the student's submission with ``result``'s scores, then mark it recorded."""
        from nbgrader.api import MissingEntry

        gb, key = self.gb, (result.assignment, result.student)
        where = (RESULTS.c.assignment == key[0]) & (RESULTS.c.student == key[1])
        gb.db.execute(RESULTS.delete().where(where))
        gb.db.commit()
        write_autograded(self.course, result)
        gb.update_or_create_student(result.student)
        try:
            gb.remove_submission(*key)
        except MissingEntry:
            pass
        extra = {"timestamp": result.timestamp} if result.timestamp else {}
        with warnings.catch_warnings():
            # nbgrader builds a submission's rows before adding them to the session
            warnings.simplefilter("ignore", SAWarning)
            submission = gb.add_submission(*key, **extra)
        for notebook in submission.notebooks:
            notebook.flagged = result.needs_attention
            for grade in notebook.grades:
                grade.auto_score = result.scores.setdefault(grade.name, 0.0)
                grade.needs_manual_grade = False
                result.max_scores[grade.name] = float(grade.max_score)
        gb.db.execute(RESULTS.insert().values(**result_row(result)))
        gb.db.commit()

    def close(self) -> None:
        """Close the gradebook connection."""
        self.gb.close()


def assignment_cells(gb: Gradebook, assignment: str) -> frozenset[tuple] | None:
    """What ``generate_assignment`` records of an assignment: notebooks and cells, by kind."""
    from nbgrader.api import MissingEntry

    try:
        notebooks = gb.find_assignment(assignment).notebooks
    except MissingEntry:
        return None
    cells = set()
    for nb in notebooks:
        cells.add(("notebook", nb.name))
        cells.update(("grade", nb.name, c.name, c.cell_type, c.max_score) for c in nb.grade_cells)
        cells.update(("task", nb.name, c.name, c.cell_type, c.max_score) for c in nb.task_cells)
        cells.update(("solution", nb.name, c.name) for c in nb.solution_cells)
        cells.update(
            ("source", nb.name, c.name, c.cell_type, c.locked, c.checksum) for c in nb.source_cells
        )
    return frozenset(cells)


def result_row(result: GradeResult) -> dict:
    """The ``grader_results`` row for ``result``."""
    return {
        "assignment": result.assignment,
        "student": result.student,
        "digest": result.digest.to_text(),
        "status": result.status,
        "scores": json.dumps(result.scores, sort_keys=True),
        "max_scores": json.dumps(result.max_scores, sort_keys=True),
        "seconds": result.seconds,
        "flags": json.dumps([flag.to_json() for flag in result.flags]),
        "graded_at": datetime.now(timezone.utc).replace(tzinfo=None),
    }


def write_autograded(course: Course, result: GradeResult) -> None:
    """Store the executed notebook in ``autograded/``, or remove a stale one if there is none."""
    path = autograded_path(course, result.assignment, result.student)
    if result.notebook is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(result.notebook, encoding="utf-8")
    os.replace(partial, path)


def autograded_path(course: Course, assignment: str, student: str) -> Path:
    """Where the executed notebook of a graded student is kept."""
    return course.exercises_path("autograded", assignment, student)
