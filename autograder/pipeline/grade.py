"""The grading coordinator: pre-flight, dispatch to workers, record, summarise.

The coordinator finds each student's exercises notebook in ``submitted/``, skips those
already graded with the same submission and the same source (so a killed run resumes), takes
the kit from the course's cache (building it if the source changed), prepares each submission
(:mod:`autograder.pipeline.submissions`: repaired or rejected, then reviewed), hands the
tasks to a :class:`~autograder.pipeline.tasks.GradingPool` (local worker processes, or a Dask
cluster) and, while the workers start, records the assignment in the gradebook if it is not
there yet; then it records every result as it arrives. It is the only process that writes
the gradebook.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from tqdm import tqdm

from autograder.pipeline.cluster import DaskPool
from autograder.pipeline.coursedir import Course, CourseError
from autograder.pipeline.decisions import decisions
from autograder.pipeline.gradebook import Recorder, recorded_results
from autograder.pipeline.kit import cached_kit
from autograder.pipeline.pool import WorkerPool
from autograder.pipeline.release import earlier_releases
from autograder.pipeline.review import withhold
from autograder.pipeline.submissions import (
    Preparer,
    Submission,
    find_submissions,
    submitted_assignments,
)
from autograder.pipeline.tasks import (
    FAILED,
    GRADED,
    REJECTED,
    TIMEOUT,
    FlagKind,
    GradeResult,
    GradingPool,
    WorkerOptions,
)
from autograder.runtime.sandbox import Sandbox
from autograder.text import clean_text

log = logging.getLogger(__name__)


@dataclass
class GradeOptions:
    """How to grade: parallelism, limits, kernel, and whether to regrade what is up to date.

    ``sandbox`` (from :func:`autograder.runtime.sandbox.choose`) confines every kernel;
    ``None`` runs
    the course's kernel as it is. ``scheduler`` (``tcp://host:port``) sends the tasks to a
    Dask cluster (:mod:`autograder.pipeline.cluster`) instead of local worker processes.
    """

    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    cell_timeout: int | None = None
    student_timeout: float = 300.0
    kernel_name: str | None = None
    sandbox: Sandbox | None = None
    scheduler: str | None = None
    force: bool = False
    progress: bool = True
    warm_kernels: bool = True


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
        path = course.exercises_path("source", missing[0]).relative_to(course.root)
        raise CourseError(f"no {path} in {course.root}")
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
        worker_options = WorkerOptions(
            options.cell_timeout, options.kernel_name, options.sandbox, options.warm_kernels
        )
        pool: GradingPool
        if options.scheduler:
            pool = DaskPool(options.scheduler, worker_options, options.student_timeout)
        else:
            pool = WorkerPool(
                min(options.jobs, len(todo)), scratch, options.student_timeout, worker_options
            )
        progress = Progress(len(todo), options.progress)
        opening = ThreadPoolExecutor(1, thread_name_prefix="gradebook")
        recorder: Future[Recorder] | None = None
        unrecorded: list[GradeResult] = []
        try:
            kit = cached_kit(course, assignments)
            releases = {a: nbformat.read(kit.release_notebook(a), 4) for a in assignments}
            references = {a: nbformat.read(kit.source_notebook(a), 4) for a in assignments}
            history = {a: earlier_releases(course, a) for a in assignments}
            decided = decisions(course.db_url)
            rejected: list[GradeResult] = []

            def tasks():
                """Each submission's pre-flight, as the workers take them; rejections aside."""
                with Preparer() as preparer:
                    for submission in todo:
                        a = submission.assignment
                        prepared = preparer.prepare(
                            submission, releases[a], references[a], history[a]
                        )
                        if isinstance(prepared, GradeResult):
                            rejected.append(prepared)
                        else:
                            yield prepared

            # the gradebook opens (nbgrader's import, the cells' registration) while the
            # workers grade; results wait in ``unrecorded`` until it is open
            recorder = opening.submit(open_recorder, course, assignments, kit)
            pool.start(kit, tasks())

            def on_result(result: GradeResult) -> None:
                result = withhold(result, decided.get((result.assignment, result.student)))
                results[(result.assignment, result.student)] = result
                progress.update(result)
                unrecorded.append(result)
                if recorder.done():
                    record_all(recorder.result(), unrecorded)

            pool.finish(on_result)
            for result in rejected:
                on_result(result)
            record_all(recorder.result(), unrecorded)
        finally:
            pool.close()
            progress.close()
            opening.shutdown(wait=True)
            if recorder is not None and recorder.done() and not recorder.exception():
                with contextlib.suppress(Exception):  # what was graded before a failure
                    record_all(recorder.result(), unrecorded)
                recorder.result().close()


def open_recorder(course: Course, assignments: list[str], kit) -> Recorder:
    """The course's gradebook, open for recording, with ``assignments`` registered."""
    recorder = Recorder(course)
    for assignment in assignments:
        recorder.register(assignment, kit)
    return recorder


def record_all(recorder: Recorder, unrecorded: list[GradeResult]) -> None:
    """Record the results waiting in ``unrecorded``, in order, emptying it."""
    while unrecorded:
        recorder.record(unrecorded[0])
        unrecorded.pop(0)


OUTCOMES = ("graded", "flagged", "held", "rejected", "failed", "timeout")
"""The words of the progress bar and the summary, as the README defines them."""


def outcome(result: GradeResult) -> str:
    """One word for a result: graded (nothing to look at), flagged (graded, with a flag to
    read), held (graded, points held for review), rejected (the file was not graded),
    failed (grading itself failed: retried next run), timeout (past the per-student limit)."""
    if result.status == REJECTED:
        return "rejected"
    if result.status == TIMEOUT:
        return "timeout"
    if result.status != GRADED:
        return "failed"
    if result.flags_of(FlagKind.WITHHELD) or result.flags_of(FlagKind.REVIEW):
        return "held"
    return "flagged" if result.needs_attention else "graded"


def outcome_counts(results: Sequence[GradeResult]) -> str:
    """``graded 3, flagged 0, held 1, rejected 1, failed 0, timeout 0``."""
    counts = dict.fromkeys(OUTCOMES, 0)
    for result in results:
        counts[outcome(result)] += 1
    return ", ".join(f"{word} {n}" for word, n in counts.items())


class Progress:
    """A tqdm bar counting students graded, flagged, held, rejected, failed, timed out."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.counts = dict.fromkeys(OUTCOMES, 0)
        self.bar = tqdm(total=total, unit="student", file=sys.stderr, disable=not enabled)

    def update(self, result: GradeResult) -> None:
        """Count one finished student."""
        self.counts[outcome(result)] += 1
        self.bar.set_postfix({k: v for k, v in self.counts.items() if v}, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        """Finish the bar."""
        self.bar.close()


def summary_table(results: Sequence[GradeResult]) -> str:
    """A plain-text table: student, assignment, score, max, seconds, flags."""
    rows = [("student", "assignment", "score", "max", "time", "flags")]
    for r in sorted(results, key=lambda r: (r.assignment, r.student)):
        flags = "; ".join(map(str, r.flags)) or ("" if r.status == GRADED else r.status)
        maximum = sum(r.max_scores.values())
        student, flags = clean_text(r.student), clean_text(flags)  # no terminal escapes
        rows.append(
            (student, r.assignment, f"{r.score:g}", f"{maximum:g}", f"{r.seconds:.1f}s", flags)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    padded = ["  ".join(c.ljust(w) for c, w in zip(row[:5], widths, strict=True)) for row in rows]
    return "\n".join(f"{left}  {row[5]}".rstrip() for left, row in zip(padded, rows, strict=True))
