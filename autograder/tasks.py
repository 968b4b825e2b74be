"""The unit of grading work and its result: plain, picklable data.

A :class:`GradeTask` holds everything a worker needs besides the kit (the submission's
repaired notebook as JSON text), so it can be sent to a local worker process today and to a
remote one (Dask) later. A :class:`GradeResult` is what the coordinator records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GRADED, FAILED, TIMEOUT, REJECTED = "graded", "failed", "timeout", "rejected"
NOTE_KINDS = ("repaired", "renamed")
"""Flags that inform without needing the instructor: the submission was graded as intended."""


@dataclass(frozen=True)
class GradeTask:
    """One student's repaired exercises notebook, to be autograded."""

    assignment: str
    student: str
    notebook: str
    digest: str
    timestamp: str | None = None
    flags: tuple[str, ...] = ()


@dataclass
class GradeResult:
    """The outcome for one student: status, score per grade id, flags, autograded notebook."""

    assignment: str
    student: str
    status: str
    digest: str
    scores: dict[str, float] = field(default_factory=dict)
    max_scores: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    flags: list[str] = field(default_factory=list)
    notebook: str | None = None
    timestamp: str | None = None

    @property
    def score(self) -> float:
        """Total points earned."""
        return sum(self.scores.values())

    @property
    def needs_attention(self) -> bool:
        """True unless the submission was graded and every flag is a mere note."""
        return self.status != GRADED or any(not flag.startswith(NOTE_KINDS) for flag in self.flags)


def unsuccessful(task: GradeTask, status: str, reason: str, seconds: float = 0.0) -> GradeResult:
    """A result that scores zero: the task failed, timed out or was rejected."""
    return GradeResult(
        assignment=task.assignment,
        student=task.student,
        status=status,
        digest=task.digest,
        seconds=seconds,
        flags=[*task.flags, f"{status}: {reason}"],
        timestamp=task.timestamp,
    )
