"""The grading coordinator: pre-flight, dispatch to workers, record, summarise.

The coordinator finds each student's exercises notebook in ``submitted/``, skips those
already graded with the same submission and the same source (so a killed run resumes), takes
the kit from the course's cache (building it if the source changed), repairs or rejects each
submission (:mod:`course.submission`), runs the optional static ``checks`` on it, hands
the rest to a :class:`~autograder.pool.WorkerPool` and, while the workers start, records the
assignment in the gradebook if it is not there yet; then it records every result as it
arrives. It is the only process that writes the gradebook.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dateutil.parser
import nbformat
from nbformat import NotebookNode
from tqdm import tqdm

from autograder.cluster import DaskPool
from autograder.coursedir import EXERCISES, SAFE_ID, Course, CourseError, is_exercises_name
from autograder.export import clean_text
from autograder.gradebook import Recorder, recorded_results
from autograder.kit import cached_kit, source_digest
from autograder.pool import WorkerPool
from autograder.review import integrity_flags, withhold
from autograder.runtime.kernel import one_line
from autograder.runtime.sandbox import Sandbox
from autograder.tasks import FAILED, GRADED, REJECTED, GradeResult, GradeTask, unsuccessful
from course.submission import MAX_BYTES, preflight


@dataclass
class GradeOptions:
    """How to grade: parallelism, limits, kernel, and whether to regrade what is up to date.

    ``sandbox`` (from :func:`autograder.runtime.sandbox.choose`) confines every kernel;
    ``None`` runs
    the course's kernel as it is. ``scheduler`` (``tcp://host:port``) sends the tasks to a
    Dask cluster (:mod:`autograder.cluster`) instead of local worker processes.
    """

    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    cell_timeout: int | None = None
    student_timeout: float = 300.0
    kernel_name: str | None = None
    sandbox: Sandbox | None = None
    scheduler: str | None = None
    force: bool = False
    progress: bool = True


@dataclass
class Submission:
    """A student's submitted folder for one assignment and the notebook found in it."""

    assignment: str
    student: str
    path: Path | None
    digest: str
    flags: list[str] = field(default_factory=list)
    rejection: str | None = None

    def task(self, notebook: NotebookNode, flags: list[str]) -> GradeTask:
        """The grading task for this submission's repaired ``notebook``."""
        timestamp = self.timestamp()
        if timestamp is None and (self.path.parent / "timestamp.txt").is_file():
            flags = [*flags, "repaired: ignored an unreadable timestamp.txt"]
        return GradeTask(
            assignment=self.assignment,
            student=self.student,
            notebook=nbformat.writes(notebook),
            digest=self.digest,
            timestamp=timestamp,
            flags=tuple(self.flags + flags),
        )

    def timestamp(self) -> str | None:
        """The submission time from ``timestamp.txt``, if there is one nbgrader can read."""
        stamp = self.path.parent / "timestamp.txt"
        try:
            text = stamp.read_text(encoding="utf-8").strip()
            dateutil.parser.parse(text)
        except (OSError, UnicodeDecodeError, ValueError, OverflowError):
            return None
        return text


def grade(
    course: Course,
    assignments: Sequence[str] = (),
    students: Sequence[str] = (),
    options: GradeOptions | None = None,
) -> list[GradeResult]:
    """Grade the selected submissions and return every selected student's current result.

    A submission is graded unless its result is recorded for the same file and source. A
    result whose grading failed (a crashed kernel or worker) is retried; a timeout or a
    rejection stands until the file or the source changes, or ``force``.
    """
    options = options or GradeOptions()
    assignments = list(assignments) or submitted_assignments(course)
    missing = [a for a in assignments if a not in course.assignments()]
    if missing:
        raise CourseError(f"no source/{missing[0]}/{EXERCISES}.ipynb in {course.root}")
    submissions = find_submissions(course, assignments, students)
    results = recorded_results(course.db_url)
    todo = [
        s
        for s in submissions
        if options.force
        or (key := (s.assignment, s.student)) not in results
        or results[key].digest != s.digest
        or results[key].status == FAILED
    ]
    if todo:
        run(course, todo, options, results)
    return [results[(s.assignment, s.student)] for s in submissions]


def run(
    course: Course,
    todo: list[Submission],
    options: GradeOptions,
    results: dict[tuple[str, str], GradeResult],
) -> None:
    """Grade ``todo`` with a pool of workers, recording each result into ``results`` too."""
    assignments = sorted({s.assignment for s in todo})
    with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
        scratch = Path(tmp)
        worker_options = {
            "cell_timeout": options.cell_timeout,
            "kernel_name": options.kernel_name,
            "sandbox": options.sandbox,
        }
        if options.scheduler:
            pool = DaskPool(options.scheduler, worker_options)
        else:
            pool = WorkerPool(
                min(options.jobs, len(todo)), scratch, options.student_timeout, worker_options
            )
        progress = Progress(len(todo), options.progress)
        recorder = None
        try:
            kit = cached_kit(course, assignments)
            releases = {a: nbformat.read(kit.release_notebook(a), 4) for a in assignments}
            references = {a: nbformat.read(kit.source_notebook(a), 4) for a in assignments}
            rejected, tasks = [], []
            with Preparer() as preparer:
                for submission in todo:
                    a = submission.assignment
                    prepared = preparer.prepare(submission, releases[a], references[a])
                    (rejected if isinstance(prepared, GradeResult) else tasks).append(prepared)
            pool.start(kit, tasks)
            recorder = Recorder(course)
            for assignment in assignments:
                recorder.register(assignment, kit)

            def on_result(result: GradeResult) -> None:
                result = withhold(result)
                recorder.record(result)
                results[(result.assignment, result.student)] = result
                progress.update(result)

            for result in rejected:
                on_result(result)
            pool.finish(on_result)
        finally:
            pool.close()
            progress.close()
            if recorder:
                recorder.close()


def prepare(submission: Submission, release: NotebookNode, reference: NotebookNode):
    """Pre-flight a submission: a task to grade, or a rejected result with the reason.

    The submission is repaired against the ``release`` and reviewed under the one static
    rule of the instructor's ``reference`` notebook (:mod:`autograder.integrity`).
    """
    placeholder = GradeTask(submission.assignment, submission.student, "", submission.digest)
    if submission.rejection or submission.path is None:
        return unsuccessful(placeholder, REJECTED, submission.rejection or "no notebook")
    if submission.path.stat().st_size > MAX_BYTES:
        return unsuccessful(placeholder, REJECTED, f"the file is larger than {MAX_BYTES >> 20} MB")
    checked = preflight(submission.path.read_bytes(), release)
    if checked.notebook is None:
        return unsuccessful(placeholder, REJECTED, checked.rejection or "unreadable")
    flags = [f"repaired: {note}" for note in checked.repairs]
    flags += integrity_flags(checked.notebook, reference)
    return submission.task(checked.notebook, flags)


def limit_preparer(memory_bytes: int) -> None:
    """Runs in the pre-flight process: cap its memory, so a hostile file cannot exhaust ours."""
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    except (ValueError, OSError):
        pass


class Preparer:
    """Pre-flight and review in a separate process with memory and time limits.

    A submission that makes them crash, loop or exhaust memory is rejected with a one-line
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

    def prepare(self, submission: Submission, release: NotebookNode, reference: NotebookNode):
        import multiprocessing

        if self.pool is None:
            context = multiprocessing.get_context("spawn")
            self.pool = context.Pool(1, initializer=limit_preparer, initargs=(self.memory,))
        placeholder = GradeTask(submission.assignment, submission.student, "", submission.digest)
        try:
            pending = self.pool.apply_async(prepare, (submission, release, reference))
            return pending.get(timeout=self.seconds)
        except multiprocessing.TimeoutError:
            self.close()
            reason = f"pre-flight took longer than {self.seconds:g} s (or ran out of memory)"
        except MemoryError:
            reason = "pre-flight ran out of memory on this file"
        except Exception as exc:
            reason = f"pre-flight failed: {one_line(exc)}"
        return unsuccessful(placeholder, REJECTED, reason)


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


def locate_notebook(folder: Path, assignment: str, student: str, digest_tail: str) -> Submission:
    """The exercises notebook in a submitted folder, accepting one renamed copy.

    ``digest_tail`` identifies the assignment's source; it ends every submission's digest.
    """
    notebooks = sorted(folder.glob("*.ipynb"))
    exact = folder / f"{EXERCISES}.ipynb"
    candidates = [exact] if exact.is_file() else [p for p in notebooks if is_exercises_name(p.name)]
    if not SAFE_ID.match(student):
        return Submission(assignment, student, None, digest_tail, rejection="unsafe student id")
    if len(candidates) != 1:
        names = ", ".join(p.name for p in notebooks) or "none"
        reason = f"no single {EXERCISES}.ipynb in the submission (notebooks: {names})"
        return Submission(assignment, student, None, f"none-{digest_tail}", rejection=reason)
    path = candidates[0]
    digest = f"{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}-{digest_tail}"
    flags = [] if path == exact else [f"renamed: graded {path.name} as {EXERCISES}.ipynb"]
    return Submission(assignment, student, path, digest, flags)


class Progress:
    """A tqdm bar counting students done, failed and flagged."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.counts = {"done": 0, "failed": 0, "flagged": 0}
        self.bar = tqdm(total=total, unit="student", file=sys.stderr, disable=not enabled)

    def update(self, result: GradeResult) -> None:
        """Count one finished student."""
        if result.status != GRADED:
            self.counts["failed"] += 1
        elif result.needs_attention:
            self.counts["flagged"] += 1
        else:
            self.counts["done"] += 1
        self.bar.set_postfix(self.counts, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        """Finish the bar."""
        self.bar.close()


def summary_table(results: Sequence[GradeResult]) -> str:
    """A plain-text table: student, assignment, score, max, seconds, flags."""
    rows = [("student", "assignment", "score", "max", "time", "flags")]
    for r in sorted(results, key=lambda r: (r.assignment, r.student)):
        flags = "; ".join(r.flags) or ("" if r.status == GRADED else r.status)
        maximum = sum(r.max_scores.values())
        student, flags = clean_text(r.student), clean_text(flags)  # no terminal escapes
        rows.append(
            (student, r.assignment, f"{r.score:g}", f"{maximum:g}", f"{r.seconds:.1f}s", flags)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    padded = ["  ".join(c.ljust(w) for c, w in zip(row[:5], widths, strict=True)) for row in rows]
    return "\n".join(f"{left}  {row[5]}".rstrip() for left, row in zip(padded, rows, strict=True))
