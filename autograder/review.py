"""Flags for the instructor's review, and scores withheld until then.

Before a submission runs, :func:`integrity_flags` applies the static policy of
:mod:`autograder.integrity` (read from the instructor's source notebook, never from the
submission) to every cell the student wrote: the answer cells, and any code cell they added.
After it ran, :func:`score_flags` flags scores above a cell's maximum, manual scores (the
autograder never writes one, so any manual score in a scratch gradebook was written by the
submission) and cells left ungraded. A result with an ``integrity`` flag is recorded with
every score of that notebook set to 0 (:func:`withhold`): the points it would have earned
are stated in a ``withheld`` flag, so a reviewer who clears the student can restore them.
"""

from __future__ import annotations

import copy
from dataclasses import replace

from nbformat import NotebookNode

from autograder import integrity
from autograder.tasks import GRADED, GradeResult

INTEGRITY, WITHHELD = "integrity", "withheld"


def student_code(submission: NotebookNode, release: NotebookNode) -> NotebookNode:
    """``submission`` with every code cell the student added marked as an answer cell.

    nbgrader runs unmarked cells as they are, so a cell that is not in the release is
    checked like an answer; unmarked cells the release itself has are left alone.
    """
    own = {c.source.strip() for c in release.cells if c.cell_type == "code"}
    marked = copy.deepcopy(submission)
    added = 0
    for cell in marked.cells:
        if cell.cell_type != "code" or "nbgrader" in cell.metadata:
            continue
        if cell.source.strip() not in own:
            added += 1
            cell.metadata["nbgrader"] = {"solution": True, "grade_id": f"added cell {added}"}
    return marked


def integrity_flags(
    submission: NotebookNode, reference: NotebookNode, release: NotebookNode
) -> list[str]:
    """One ``integrity`` flag per policy violation in the code the student wrote."""
    violations = integrity.check(student_code(submission, release), reference)
    return [f"{INTEGRITY}: {violation}" for violation in violations]


def score_flags(
    grade_id: str, auto: float | None, manual: float | None, maximum: float
) -> list[str]:
    """Flags for one graded cell read back from nbgrader's scratch gradebook."""
    flags = []
    if manual is not None:
        flags.append(
            f"{INTEGRITY}: a manual score ({manual:g}) the grader did not write on {grade_id}"
        )
    if auto is None:
        flags.append(f"ungraded: {grade_id} was not graded")
    elif auto > maximum:
        flags.append(f"{INTEGRITY}: {grade_id} scored {auto:g}, above its maximum {maximum:g}")
    return flags


def is_flagged(result: GradeResult) -> bool:
    """Whether ``result`` has an integrity flag."""
    return any(flag.startswith(f"{INTEGRITY}:") for flag in result.flags)


def withhold(result: GradeResult) -> GradeResult:
    """``result`` with its scores set to 0 if it has an integrity flag, saying what it earned."""
    if result.status != GRADED or not is_flagged(result):
        return result
    earned, maximum = result.score, sum(result.max_scores.values())
    note = f"{WITHHELD}: {earned:g} of {maximum:g} points held back until the flags are reviewed"
    return replace(
        result,
        scores=dict.fromkeys(result.scores, 0.0),
        flags=[*result.flags, note],
    )
