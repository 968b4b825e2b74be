"""The unit of grading work and its result: plain, picklable data.

A :class:`GradeTask` holds everything a worker needs besides the kit (the submission's
repaired notebook as JSON text), so it can be sent to a local worker process or to a Dask
worker alike. A :class:`GradeResult` is what the coordinator records. Both carry
:class:`Flag`\\ s, each of one :class:`FlagKind`, and the :class:`Digest` of what was graded.
:class:`WorkerOptions` is how every worker grades, and :class:`GradingPool` is what both
pools (local processes, a Dask cluster) offer the coordinator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from autograder.pipeline.kit import Kit
    from autograder.runtime.sandbox import Sandbox

GRADED, FAILED, TIMEOUT, REJECTED = "graded", "failed", "timeout", "rejected"
"""A result's status: graded, or one of the three ways to score zero without grading."""
CRASHED = "grading crashed"
"""The reason of a failed result whose grading raised (the grader's fault, retried)."""
REASON_LIMIT = 300


class FlagKind(Enum):
    """What a flag says; its value is the word shown before the flag's text."""

    RENAMED = "renamed"
    """The notebook was found under another name and graded as ``exercises.ipynb``."""
    REPAIRED = "repaired"
    """The pre-flight restored something (metadata, a deleted cell) before grading."""
    REJECTED = "rejected"
    """The file was not graded: it scored 0 (unreadable, not this assignment's notebook)."""
    FAILED = "failed"
    """Grading itself failed (a crashed kernel or worker): retried by the next run."""
    TIMEOUT = "timeout"
    """The student's notebook ran past the per-student limit: 0 points."""
    STOPPED = "stopped"
    """A cell or test cell broke a cap (time, memory, output) and was stopped."""
    MISSING = "missing"
    """A test cell was not in the notebook: its points are 0."""
    REVIEW = "review"
    """A graded function's points are held back for the instructor's review."""
    WITHHELD = "withheld"
    """How many points the held-back test cells earned, to restore after review."""
    RELEASED = "released"
    """Held points the instructor released or set after review (``grader review``)."""
    MANUAL = "manual"
    """An instructor's manual score overrides the grader's (written at export)."""
    TAMPERED = "tampered"
    """A score in the gradebook that neither the grader nor an instructor wrote (export)."""

    @property
    def is_note(self) -> bool:
        """Whether a flag of this kind only informs: the submission was graded as intended."""
        return self in NOTES


NOTES = frozenset({FlagKind.RENAMED, FlagKind.REPAIRED, FlagKind.RELEASED})
STATUS_FLAGS = {REJECTED: FlagKind.REJECTED, FAILED: FlagKind.FAILED, TIMEOUT: FlagKind.TIMEOUT}


@dataclass(frozen=True)
class Flag:
    """One thing the instructor is told about a submission.

    ``tests`` names the test cells a :attr:`FlagKind.REVIEW` flag holds back. A flag is
    stored as a small JSON object (:meth:`to_json`), never as text to be parsed back.
    """

    kind: FlagKind
    text: str
    tests: tuple[str, ...] = ()

    def __str__(self) -> str:
        held = f"{','.join(self.tests)}: " if self.tests else ""
        return f"{self.kind.value}: {held}{self.text}"

    def to_json(self) -> dict:
        """The flag as stored in the gradebook."""
        data = {"kind": self.kind.value, "text": self.text}
        if self.tests:
            data["tests"] = list(self.tests)
        return data

    @classmethod
    def from_json(cls, data: object) -> Flag:
        """A stored flag; ``ValueError`` if it is not one.

        Gradebooks written before flags were typed hold ``"kind: text"`` strings; those are
        read once here, by their first word.
        """
        if isinstance(data, str):
            kind, _, text = data.partition(": ")
            return cls(FlagKind(kind), text)
        if not isinstance(data, dict):
            raise ValueError("a stored flag is not an object")
        tests = data.get("tests", [])
        if not isinstance(tests, list) or not all(isinstance(t, str) for t in tests):
            raise ValueError("a stored flag's tests are not a list of names")
        return cls(FlagKind(data.get("kind")), str(data.get("text", "")), tuple(tests))


@dataclass(frozen=True)
class Digest:
    """What a grade was computed from: the submitted file and the assignment's source.

    Either changing makes a recorded grade stale. ``file`` is ``"none"`` when the submission
    had no notebook to grade. Stored as one text column (:meth:`to_text`).
    """

    file: str
    source: str

    def to_text(self) -> str:
        return f"{self.file}-{self.source}"

    @classmethod
    def from_text(cls, text: str) -> Digest:
        """A stored digest (the one place its text form is read)."""
        file, _, source = text.partition("-")
        return cls(file, source)


@dataclass(frozen=True)
class GradeTask:
    """One student's repaired exercises notebook, to be autograded."""

    assignment: str
    student: str
    notebook: str
    digest: Digest
    timestamp: str | None = None
    flags: tuple[Flag, ...] = ()


@dataclass
class GradeResult:
    """The outcome for one student: status, score per grade id, flags, autograded notebook."""

    assignment: str
    student: str
    status: str
    digest: Digest
    scores: dict[str, float] = field(default_factory=dict)
    max_scores: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    flags: list[Flag] = field(default_factory=list)
    notebook: str | None = None
    timestamp: str | None = None
    held: dict[str, float] = field(default_factory=dict)
    """What each part held back for review earned (its recorded score is 0 until released)."""
    memory_mb: float = 0.0
    """The peak memory (resident) of the grading process that graded it, when it did."""
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds its grading spent starting kernels, running the notebook's cells, running the
    test cells, on the rest, and in all (when it was graded)."""

    @property
    def score(self) -> float:
        """Total points earned."""
        return sum(self.scores.values())

    @property
    def needs_attention(self) -> bool:
        """True unless the submission was graded and every flag is a mere note."""
        return self.status != GRADED or any(not flag.kind.is_note for flag in self.flags)

    def flags_of(self, kind: FlagKind) -> list[Flag]:
        """The flags of one kind."""
        return [flag for flag in self.flags if flag.kind is kind]


def unsuccessful(task: GradeTask, status: str, reason: str, seconds: float = 0.0) -> GradeResult:
    """A result that scores zero: the task failed, timed out or was rejected."""
    return GradeResult(
        assignment=task.assignment,
        student=task.student,
        status=status,
        digest=task.digest,
        seconds=seconds,
        flags=[*task.flags, Flag(STATUS_FLAGS[status], reason[:REASON_LIMIT])],
        timestamp=task.timestamp,
    )


def crashed(task: GradeTask, error: BaseException, where: str = "", seconds: float = 0.0):
    """The failed result of a task whose grading raised ``error`` (the grader's fault)."""
    return unsuccessful(task, FAILED, f"{CRASHED}{where}: {error!r}", seconds)


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker grades, the same on every worker of a run.

    ``cell_timeout`` (seconds per cell) overrides the course configuration; ``kernel_name``
    names a kernelspec to run submissions in; a ``sandbox`` confines every kernel;
    ``warm_kernels`` forks confined kernels from a template where that confines as much
    (:mod:`~autograder.runtime.warm`), else every kernel starts cold.
    """

    cell_timeout: int | None = None
    kernel_name: str | None = None
    sandbox: Sandbox | None = None
    warm_kernels: bool = True


class GradingPool(Protocol):
    """Workers that grade tasks and hand each result to the coordinator as it comes."""

    def start(self, kit: Kit, tasks: Iterable[GradeTask]) -> None:
        """Hand out the kit and the tasks; grading begins while the caller goes on."""

    def finish(self, on_result: Callable[[GradeResult], None]) -> None:
        """Wait for every task, calling ``on_result`` in the caller's process for each."""

    def close(self) -> None:
        """Release the workers (processes stopped, or a cluster's client disconnected)."""
