"""Submissions: found in ``submitted/``, then prepared for grading.

:func:`find_submissions` locates each student's exercises notebook (accepting one renamed
copy) with the :class:`~autograder.pipeline.tasks.Digest` of what would be graded.
:func:`prepare_notebook` is the one chain that turns a submitted file into something to
grade: the pre-flight (:func:`course.submission.preflight`: repaired against the release,
or rejected with the reason) and the review rule of :mod:`autograder.pipeline.review`. It
gives a :class:`~autograder.pipeline.tasks.GradeTask`, or a rejected
:class:`~autograder.pipeline.tasks.GradeResult`. ``grader grade`` runs it in a
:class:`Preparer` (a separate process under memory and time limits); the tests'
:func:`autograder.testing.autograde` runs it directly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dateutil.parser
import nbformat
from nbformat import NotebookNode

from autograder.pipeline.coursedir import SAFE_ID, Course, CourseError
from autograder.pipeline.exchange import TIMESTAMP
from autograder.pipeline.kit import source_digest
from autograder.pipeline.review import integrity_flags
from autograder.pipeline.tasks import (
    REJECTED,
    Digest,
    Flag,
    FlagKind,
    GradeResult,
    GradeTask,
    unsuccessful,
)
from autograder.runtime.processes import cap_memory
from course.messages import one_line
from course.notebooks import EXERCISES, is_exercises_name
from course.submission import MAX_BYTES, preflight

NO_FILE = "none"
"""The file part of the digest of a submission with no notebook to grade."""


@dataclass
class Submission:
    """A student's submitted folder for one assignment and the notebook found in it."""

    assignment: str
    student: str
    path: Path | None
    digest: Digest
    flags: list[Flag] = field(default_factory=list)
    rejection: str | None = None

    def placeholder(self) -> GradeTask:
        """A task with this submission's identity and no notebook yet."""
        return GradeTask(self.assignment, self.student, "", self.digest, self.timestamp())

    def timestamp(self) -> str | None:
        """The submission time from ``timestamp.txt``, if there is one nbgrader can read."""
        if self.path is None:
            return None
        try:
            text = (self.path.parent / TIMESTAMP).read_text(encoding="utf-8").strip()
            dateutil.parser.parse(text)
        except (OSError, UnicodeDecodeError, ValueError, OverflowError):
            return None
        return text


def prepare(
    submission: Submission,
    release: NotebookNode,
    reference: NotebookNode,
    history: Sequence[NotebookNode] = (),
):
    """A task to grade ``submission``, or its rejected result with the reason."""
    task = submission.placeholder()
    if submission.rejection or submission.path is None:
        return unsuccessful(task, REJECTED, submission.rejection or "no notebook")
    if submission.path.stat().st_size > MAX_BYTES:
        return unsuccessful(task, REJECTED, f"the file is larger than {MAX_BYTES >> 20} MB")
    flags = list(submission.flags)
    if task.timestamp is None and (submission.path.parent / TIMESTAMP).is_file():
        flags.append(Flag(FlagKind.REPAIRED, f"ignored an unreadable {TIMESTAMP}"))
    task = GradeTask(task.assignment, task.student, "", task.digest, task.timestamp, tuple(flags))
    return prepare_notebook(submission.path.read_bytes(), release, reference, task, history)


def prepare_notebook(
    raw: bytes,
    release: NotebookNode,
    reference: NotebookNode,
    task: GradeTask,
    history: Sequence[NotebookNode] = (),
) -> GradeTask | GradeResult:
    """``task`` with the notebook ``raw`` repaired and reviewed, or its rejected result.

    The file is repaired against the ``release``, then its graded functions are reviewed
    under the rule of the instructor's ``reference`` notebook (:mod:`~.integrity`). A file
    stamped as another assignment's release is rejected. ``history`` holds the releases the
    student may have had before the current one: the repairs reported are those against the
    release the file is closest to, so that an instructor's edit of the source is never
    reported as the student's repair (the file is still graded as repaired against
    ``release``).
    """
    stamped = release_stamp(raw)
    if stamped and stamped != task.assignment:
        reason = f"released for {stamped}, not {task.assignment}: another assignment's notebook"
        return unsuccessful(task, REJECTED, reason)
    checked = preflight(raw, release)
    if checked.notebook is None:
        return unsuccessful(task, REJECTED, checked.rejection or "unreadable")
    repairs = checked.repairs
    for earlier in history:
        if not repairs:
            break
        other = preflight(raw, earlier)
        if other.notebook is not None and len(other.repairs) < len(repairs):
            repairs = other.repairs
    flags = [
        *task.flags,
        *(Flag(FlagKind.REPAIRED, note) for note in repairs),
        *integrity_flags(checked.notebook, reference),
    ]
    return GradeTask(
        task.assignment,
        task.student,
        nbformat.writes(checked.notebook),
        task.digest,
        task.timestamp,
        tuple(flags),
    )


class Preparer:
    """:func:`prepare` in a separate process with memory and time limits.

    A submission that makes it crash, loop or exhaust memory is rejected with a one-line
    reason; the process is replaced and the run goes on with the next submission.
    """

    def __init__(self, seconds: float = 60.0, memory_mb: int = 1024) -> None:
        self.seconds = seconds
        self.memory = memory_mb * 2**20
        self.pool = None

    def __enter__(self) -> Preparer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None

    def prepare(
        self,
        submission: Submission,
        release: NotebookNode,
        reference: NotebookNode,
        history: Sequence[NotebookNode] = (),
    ):
        import multiprocessing

        if self.pool is None:
            context = multiprocessing.get_context("spawn")
            self.pool = context.Pool(1, initializer=cap_memory, initargs=(self.memory,))
        try:
            pending = self.pool.apply_async(prepare, (submission, release, reference, history))
            return pending.get(timeout=self.seconds)
        except multiprocessing.TimeoutError:
            self.close()
            reason = f"pre-flight took longer than {self.seconds:g} s (or ran out of memory)"
        except MemoryError:
            reason = "pre-flight ran out of memory on this file"
        except Exception as exc:
            reason = f"pre-flight failed: {one_line(exc)}"
        return unsuccessful(submission.placeholder(), REJECTED, reason)


def release_stamp(raw: bytes) -> str | None:
    """The assignment a notebook says it was released for (``metadata.course.assignment``).

    ``None`` for a file that has no readable stamp (the pre-flight judges it then).
    """
    import json

    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    metadata = data.get("metadata") if isinstance(data, dict) else None
    stamp = metadata.get("course") if isinstance(metadata, dict) else None
    name = stamp.get("assignment") if isinstance(stamp, dict) else None
    return name if isinstance(name, str) and SAFE_ID.match(name) else None


def submitted_assignments(course: Course) -> list[str]:
    """Assignments that at least one student has a folder for in ``submitted/``."""
    submitted = course.step_dir("submitted")
    if not submitted.is_dir():
        return []
    return sorted(
        {a.name for s in submitted.iterdir() if s.is_dir() for a in s.iterdir() if a.is_dir()}
    )


def find_submissions(
    course: Course, assignments: Sequence[str], students: Sequence[str]
) -> list[Submission]:
    """Each selected student's submission of each assignment, with the notebook to grade."""
    submitted = course.step_dir("submitted")
    folders = sorted(p for p in submitted.iterdir() if p.is_dir()) if submitted.is_dir() else []
    unknown = set(students) - {p.name for p in folders}
    if unknown:
        raise CourseError(f"no submissions for student {sorted(unknown)[0]} in {submitted}")
    sources = {a: source_digest(course, a) for a in assignments}
    return [
        locate_notebook(folder / assignment, assignment, folder.name, sources[assignment])
        for folder in folders
        if not students or folder.name in students
        for assignment in assignments
        if (folder / assignment).is_dir()
    ]


def locate_notebook(folder: Path, assignment: str, student: str, source: str) -> Submission:
    """The exercises notebook in a submitted folder, accepting one renamed copy.

    ``source`` is the digest of the assignment's source, the second half of the submission's.
    """
    notebooks = sorted(folder.glob("*.ipynb"))
    exact = folder / f"{EXERCISES}.ipynb"
    candidates = [exact] if exact.is_file() else [p for p in notebooks if is_exercises_name(p.name)]
    nothing = Digest(NO_FILE, source)
    if not SAFE_ID.match(student):
        return Submission(assignment, student, None, nothing, rejection="unsafe student id")
    if len(candidates) != 1:
        names = ", ".join(p.name for p in notebooks) or "none"
        reason = f"no single {EXERCISES}.ipynb in the submission (notebooks: {names})"
        return Submission(assignment, student, None, nothing, rejection=reason)
    path = candidates[0]
    digest = Digest(hashlib.sha256(path.read_bytes()).hexdigest()[:16], source)
    renamed = Flag(FlagKind.RENAMED, f"graded {path.name} as {EXERCISES}.ipynb")
    return Submission(assignment, student, path, digest, [] if path == exact else [renamed])
