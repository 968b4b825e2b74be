"""The course gradebook's only writer during grading, and the run's record of results.

Besides nbgrader's own tables, the gradebook gets ``grader_results``: a row per (assignment,
student) with the status, flags, time and the digest of what was graded (the submitted file
and the assignment's source), and the tables of :mod:`autograder.pipeline.decisions` and
:mod:`autograder.pipeline.late`. A row is written in the same transaction as the student's
scores: if it exists, the student's grades are complete, so a run killed half way is
finished by running it again, and a submission or test change since (a new digest) is
graded again.

**Nothing an instructor entered is lost.** A regrade updates the automatic scores of the
submission in place: nbgrader's ``manual_score``, comments and extension stay on every cell
that still exists. When a changed source removes cells, every submission of the assignment
is set aside, nbgrader records the new cells, and the submissions come back with their
scores; a manual score or comment whose cell is gone goes to ``grader_archive`` and is
listed. Every change of a score is audited (``grader_audit``).
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

from sqlalchemy.exc import SAWarning

from autograder.pipeline.coursedir import SAFE_ID, Course, CourseError
from autograder.pipeline.decisions import (
    Held,
    audit,
    changed,
    note_manual_scores,
    now,
    replace_held,
    user,
)
from autograder.pipeline.kit import Kit, create_gradebook, generate_assignment
from autograder.pipeline.tables import ARCHIVE, DECISIONS, HELD, RESULTS, create_tables, rows
from autograder.pipeline.tasks import Digest, Flag, FlagKind, GradeResult

if TYPE_CHECKING:
    from nbgrader.api import Gradebook


def recorded_results(db_url: str) -> dict[tuple[str, str], GradeResult]:
    """Every recorded result, keyed by (assignment, student); empty for a new gradebook."""
    return {
        (row["assignment"], row["student"]): row_to_result(row) for row in rows(db_url, RESULTS)
    }


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

    def __init__(self, course: Course, actor: str = "grader grade") -> None:
        from nbgrader.api import Gradebook

        self.course = course
        self.actor = actor
        create_gradebook(course.db_url)
        self.gb = Gradebook(course.db_url, course.course_id)
        create_tables(self.gb.engine)
        self.previous = recorded_results(course.db_url)
        self.archived: list[dict] = []

    def register(self, assignment: str, kit: Kit) -> None:
        """Record the assignment's cells from ``source/`` in the gradebook (release untouched).

        Nothing is done when the gradebook already holds exactly the cells of ``kit``, which
        was generated from the same source: the usual case after ``grader release``. When
        the source adds or removes cells and students have submissions, nbgrader refuses to
        change the cells, so the submissions are set aside and restored around it.
        """
        from nbgrader.api import Gradebook

        with Gradebook(kit.db_url, self.course.course_id) as generated:
            wanted = assignment_cells(generated, assignment)
        have = assignment_cells(self.gb, assignment)
        if have == wanted:
            return
        names = {cell[:3] for cell in wanted or ()}
        kept = None
        if have is not None and {cell[:3] for cell in have} != names:
            kept = self.set_aside(assignment)
        with tempfile.TemporaryDirectory(prefix="grader-register-") as tmp:
            config = self.course.nbgrader_config()
            config.CourseDirectory.release_directory = tmp
            generate_assignment(config, assignment)
        self.gb.db.expire_all()
        if kept:
            self.restore(assignment, kept)

    def set_aside(self, assignment: str) -> dict[str, dict]:
        """Remove the assignment's submissions, returning everything they hold."""
        from nbgrader.api import MissingEntry

        try:
            submissions = list(self.gb.find_assignment(assignment).submissions)
        except MissingEntry:
            return {}
        kept = {}
        for submission in submissions:
            note_manual_scores(self.gb.db, submission)
            grades, comments = {}, {}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grades[grade.name] = (grade.auto_score, grade.manual_score, grade.extra_credit)
                for comment in notebook.comments:
                    comments[comment.name] = comment.manual_comment
            kept[submission.student.id] = {
                "timestamp": submission.timestamp,
                "extension": submission.extension,
                "grades": grades,
                "comments": comments,
            }
        self.gb.db.commit()
        for student in kept:
            self.gb.remove_submission(assignment, student)
        return kept

    def restore(self, assignment: str, kept: dict[str, dict]) -> None:
        """Add the submissions back with their scores; archive what lost its cell."""
        reason = "its cell is no longer in source/ (the source changed)"
        for student, old in kept.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SAWarning)
                submission = self.gb.add_submission(
                    assignment, student, timestamp=old["timestamp"], extension=old["extension"]
                )
            present = set()
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if grade.name in old["grades"]:
                        grade.auto_score, grade.manual_score, grade.extra_credit = old["grades"][
                            grade.name
                        ]
                        present.add(grade.name)
                for comment in notebook.comments:
                    if comment.name in old["comments"]:
                        comment.manual_comment = old["comments"][comment.name]
                        present.add(comment.name)
            gone = (set(old["grades"]) | set(old["comments"])) - present
            for part in sorted(gone):
                manual = old["grades"].get(part, (None, None, None))[1]
                comment = old["comments"].get(part)
                auto = old["grades"].get(part, (None, None, None))[0]
                if manual is None and not comment:
                    if auto is not None:
                        audit(self.gb.db, self.actor, assignment, student, part, auto, None, reason)
                    continue
                row = {
                    "at": now(),
                    "assignment": assignment,
                    "student": student,
                    "part": part,
                    "manual_score": manual,
                    "comment": comment or None,
                    "reason": reason,
                }
                self.gb.db.execute(ARCHIVE.insert().values(**row))
                self.archived.append(row)
                old_score = manual if manual is not None else auto
                audit(self.gb.db, self.actor, assignment, student, part, old_score, None, reason)
        self.gb.db.commit()

    def record(self, result: GradeResult) -> None:
        """Write ``result``'s automatic scores into the student's submission, in place.

        Manual scores and comments stay; each changed score is audited; the held parts,
        the late penalty and the ``grader_results`` row follow in the same transaction.
        """
        from nbgrader.api import MissingEntry
        from nbgrader.utils import parse_utc

        gb, key = self.gb, (result.assignment, result.student)
        where = (RESULTS.c.assignment == key[0]) & (RESULTS.c.student == key[1])
        gb.db.execute(RESULTS.delete().where(where))
        gb.db.commit()
        write_autograded(self.course, result)
        gb.update_or_create_student(result.student)
        try:
            submission = gb.find_submission(*key)
            note_manual_scores(gb.db, submission)
            if result.timestamp:
                submission.timestamp = parse_utc(result.timestamp)
        except MissingEntry:
            extra = {"timestamp": result.timestamp} if result.timestamp else {}
            with warnings.catch_warnings():
                # nbgrader builds a submission's rows before adding them to the session
                warnings.simplefilter("ignore", SAWarning)
                submission = gb.add_submission(*key, **extra)
        why = self.reason(result)
        for notebook in submission.notebooks:
            notebook.flagged = result.needs_attention
            for grade in notebook.grades:
                new = result.scores.setdefault(grade.name, 0.0)
                if changed(grade.auto_score, new):
                    audit(gb.db, self.actor, *key, grade.name, grade.auto_score, new, why)
                grade.auto_score = new
                grade.needs_manual_grade = False
                result.max_scores[grade.name] = float(grade.max_score)
        replace_held(gb.db, *key, held_parts(result))
        self.apply_late(submission)
        gb.db.execute(RESULTS.insert().values(**result_row(result)))
        gb.db.commit()

    def apply_late(self, submission) -> None:
        """Recompute the submission's late penalty (due date, extension, policy)."""
        from autograder.pipeline.late import Policy, apply_late, extensions, policies

        name, student = submission.assignment.name, submission.student.id
        policy = policies(self.course.db_url).get(name, Policy())
        extension = extensions(self.course.db_url).get((name, student))
        apply_late(self.course, submission, policy, extension, self.gb.db, self.actor)

    def reason(self, result: GradeResult) -> str:
        """Why the submission is graded now, for the audit."""
        before = self.previous.get((result.assignment, result.student))
        if before is None:
            return f"graded ({result.status})"
        if before.digest.file != result.digest.file:
            return f"regraded: a new submission ({result.status})"
        if before.digest.source != result.digest.source:
            return f"regraded: the source changed ({result.status})"
        if before.status != result.status and before.status == "failed":
            return f"regraded: the earlier grading failed ({result.status})"
        return f"regraded (--force) ({result.status})"

    def close(self) -> None:
        """Close the gradebook connection."""
        self.gb.close()


def held_parts(result: GradeResult) -> list[Held]:
    """The parts whose points ``result`` holds, with what they earned (from the review)."""
    found = []
    for flag in [*result.flags_of(FlagKind.REVIEW), *result.flags_of(FlagKind.RELEASED)]:
        finding = flag.text
        if flag.kind is FlagKind.RELEASED and " (was: " in finding:
            finding = finding.split(" (was: ", 1)[1].removesuffix(")")
        for part in flag.tests:
            if part in result.held:
                found.append(
                    Held(
                        result.assignment,
                        result.student,
                        part,
                        result.held[part],
                        result.max_scores.get(part, 0.0),
                        finding[:1000],
                        result.digest.file,
                    )
                )
    unique = {h.part: h for h in found}
    return list(unique.values())


def withdraw(course: Course, assignment: str, student: str) -> list[str]:
    """Remove one submission: its gradebook rows, its files, its results; audit it.

    Returns what was removed, one line each; :class:`CourseError` if there is nothing.
    """
    import shutil

    from nbgrader.api import Gradebook, MissingEntry

    removed = []
    create_gradebook(course.db_url)
    with Gradebook(course.db_url, course.course_id) as gb:
        create_tables(gb.engine)
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            submission = None
        if submission is not None:
            note_manual_scores(gb.db, submission)
            total = float(submission.score or 0)
            gb.remove_submission(assignment, student)
            audit(
                gb.db,
                f"grader withdraw by {user()}",
                assignment,
                student,
                "total",
                total,
                None,
                "submission withdrawn",
            )
            removed.append(f"gradebook: {student}'s submission of {assignment} ({total:g} points)")
        key = (RESULTS.c.assignment == assignment) & (RESULTS.c.student == student)
        if gb.db.execute(RESULTS.delete().where(key)).rowcount:
            removed.append("grader_results row")
        gb.db.execute(
            HELD.delete().where((HELD.c.assignment == assignment) & (HELD.c.student == student))
        )
        gb.db.execute(
            DECISIONS.delete().where(
                (DECISIONS.c.assignment == assignment) & (DECISIONS.c.student == student)
            )
        )
        gb.db.commit()
    for step in ("submitted", "autograded", "feedback"):
        folder = course.exercises_path(step, assignment, student).parent
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
            removed.append(f"{step}/{student}/{assignment}/")
    if not removed:
        raise CourseError(f"no submission of {assignment} by {student} to withdraw")
    return removed


def final_scores(course: Course, assignment: str, student: str) -> dict[str, tuple[float, bool]]:
    """nbgrader's score of each part (manual over automatic) and whether it is manual."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url, course.course_id) as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            return {}
        return {
            grade.name: (float(grade.score or 0), grade.manual_score is not None)
            for notebook in submission.notebooks
            for grade in notebook.grades
        }


def late_penalty(course: Course, assignment: str, student: str) -> float:
    """nbgrader's late penalty of one submission (0 when none)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url, course.course_id) as gb:
        try:
            return float(gb.find_submission(assignment, student).late_submission_penalty or 0)
        except MissingEntry:
            return 0.0


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


def apply_review(course: Course, assignment: str, student: str, actor: str) -> list[str]:
    """Apply the stored review decisions to one recorded submission now, without regrading.

    The recorded result gets back what its held parts earned, then the review rule runs
    again with the decisions (:func:`autograder.pipeline.review.withhold`); changed scores
    go into the gradebook with an audit line. Returns one line per change.
    """
    from dataclasses import replace

    from nbgrader.api import Gradebook

    from autograder.pipeline.decisions import decisions, held
    from autograder.pipeline.review import withhold

    key = (assignment, student)
    result = recorded_results(course.db_url).get(key)
    if result is None:
        raise CourseError(f"no graded submission of {assignment} by {student}")
    parts = [h for h in held(course.db_url) if (h.assignment, h.student) == key]
    earned = {h.part: h.earned for h in parts}
    findings = {h.part: h.finding for h in parts}
    flags = []
    for flag in result.flags:
        if flag.kind is FlagKind.RELEASED and flag.tests:  # decided before: held again
            flags.append(Flag(FlagKind.REVIEW, findings.get(flag.tests[0], flag.text), flag.tests))
        elif flag.kind is not FlagKind.WITHHELD and not (
            flag.kind is FlagKind.REVIEW and not flag.tests
        ):
            flags.append(flag)
    restored = replace(result, scores={**result.scores, **earned}, flags=flags)
    new = withhold(restored, decisions(course.db_url).get(key))
    changes = []
    with Gradebook(course.db_url, course.course_id) as gb:
        create_tables(gb.engine)
        submission = gb.find_submission(assignment, student)
        for notebook in submission.notebooks:
            notebook.flagged = new.needs_attention
            for grade in notebook.grades:
                value = new.scores.get(grade.name, 0.0)
                if changed(grade.auto_score, value):
                    audit(
                        gb.db,
                        actor,
                        assignment,
                        student,
                        grade.name,
                        grade.auto_score,
                        value,
                        "review decision",
                    )
                    changes.append(
                        f"{student} {assignment}:{grade.name} {grade.auto_score:g} -> {value:g}"
                    )
                    grade.auto_score = value
        replace_held(gb.db, assignment, student, held_parts(new))
        where = (RESULTS.c.assignment == assignment) & (RESULTS.c.student == student)
        gb.db.execute(RESULTS.delete().where(where))
        row = result_row(new)
        row["seconds"] = result.seconds
        gb.db.execute(RESULTS.insert().values(**row))
        gb.db.commit()
    return changes
