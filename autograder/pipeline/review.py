"""Points held back for the instructor's review, and flags that explain them.

Before a submission runs, :func:`integrity_flags` applies the one static rule of
:mod:`autograder.pipeline.integrity` (read from the instructor's source notebook): a graded
function that uses the ``course`` reference of its name, a named library equivalent or
reflection. Each finding becomes a :attr:`~FlagKind.REVIEW` flag naming the test cells of
that function. After the run, :func:`withhold` records those cells as 0 and says, in a
:attr:`~FlagKind.WITHHELD` flag, how many points they earned, so a reviewer who clears the
student can restore them. Every other cell keeps its score.
"""

from __future__ import annotations

from dataclasses import replace

from nbformat import NotebookNode

from autograder.pipeline import integrity
from autograder.pipeline.tasks import GRADED, Flag, FlagKind, GradeResult


def integrity_flags(submission: NotebookNode, reference: NotebookNode) -> list[Flag]:
    """One review flag per finding, holding back the test cells of that function."""
    return [
        Flag(FlagKind.REVIEW, str(finding), tuple(finding.tests))
        for finding in integrity.findings(submission, reference)
    ]


def held_tests(result: GradeResult) -> set[str]:
    """The test cells whose points a review flag holds back."""
    return {test for flag in result.flags_of(FlagKind.REVIEW) for test in flag.tests}


def withhold(result: GradeResult) -> GradeResult:
    """``result`` with the scores of reviewed test cells set to 0, saying what they earned."""
    held = held_tests(result) & set(result.scores)
    if result.status != GRADED or not held:
        return result
    earned = sum(result.scores[t] for t in held)
    maximum = sum(result.max_scores.get(t, 0.0) for t in held)
    note = Flag(
        FlagKind.WITHHELD,
        f"{earned:g} of {maximum:g} points on {', '.join(sorted(held))} "
        "held back until the flags are reviewed",
    )
    scores = {k: (0.0 if k in held else v) for k, v in result.scores.items()}
    return replace(result, scores=scores, flags=[*result.flags, note])
