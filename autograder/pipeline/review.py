"""Points held back for the instructor's review, and flags that explain them.

While a submission is graded, the kernel's observer reports which ``course`` functions ran
during each graded call (``autograder.runtime.agent.Observer``): the runner holds a test cell
whose graded function reached the reference of its own name, or whose call could not be
watched, with a :attr:`~FlagKind.REVIEW` flag naming that cell. Before the run,
:func:`integrity_flags` adds the one static rule left (:mod:`autograder.pipeline.integrity`:
code that reaches for the observer). After the run, :func:`withhold` records the held cells
as 0 and says, in a :attr:`~FlagKind.WITHHELD` flag, how many points they earned, so a
reviewer who clears the student can restore them. Every other cell keeps its score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from nbformat import NotebookNode

from autograder.pipeline import integrity
from autograder.pipeline.decisions import OVERRIDE, Decision
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


def withhold(result: GradeResult, decided: Mapping[str, Decision] | None = None) -> GradeResult:
    """``result`` with the scores of reviewed test cells set to 0, saying what they earned.

    ``decided`` holds the instructor's decisions on this submission's parts (``grader
    review``). A decision made on the same file is applied: a released part keeps what it
    earned, an overridden one gets the instructor's score, and a review flag whose parts are
    all decided becomes a :attr:`~FlagKind.RELEASED` note. A decision made on an earlier file
    is stale: the points stay held and a review flag says so.
    """
    held = held_tests(result) & set(result.scores)
    if result.status != GRADED or not held:
        return result
    decided = decided or {}
    current = {t: d for t, d in decided.items() if t in held and d.file == result.digest.file}
    stale = {t: d for t, d in decided.items() if t in held and t not in current}
    earned = {t: result.scores[t] for t in held}
    scores = dict(result.scores)
    flags = []
    for flag in result.flags:
        if flag.kind is FlagKind.REVIEW and flag.tests and set(flag.tests) <= set(current):
            what = "; ".join(current[t].describe() for t in flag.tests)
            flags.append(Flag(FlagKind.RELEASED, f"{what} (was: {flag.text})", flag.tests))
        else:
            flags.append(flag)
    for test, decision in current.items():
        if decision.action == OVERRIDE and decision.score is not None:
            scores[test] = decision.score
    still = held - set(current)
    for test in still:
        scores[test] = 0.0
    if still:
        got = sum(earned[t] for t in still)
        maximum = sum(result.max_scores.get(t, 0.0) for t in still)
        flags.append(
            Flag(
                FlagKind.WITHHELD,
                f"{got:g} of {maximum:g} points on {', '.join(sorted(still))} "
                "held back until the flags are reviewed (grader review)",
            )
        )
    for _test, decision in sorted(stale.items()):
        flags.append(
            Flag(
                FlagKind.REVIEW,
                f"a new file since {decision.describe()}: that decision no longer applies",
            )
        )
    return replace(result, scores=scores, flags=flags, held=earned)
