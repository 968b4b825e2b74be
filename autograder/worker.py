"""Grade one submission with nbgrader in a private scratch course (the worker's side).

:class:`Grader` is the unit a worker process (or, later, a remote worker) holds: a scratch
copy of the kit's gradebook, in which it autograds one :class:`~autograder.tasks.GradeTask`
at a time and reads back the scores. It never touches the course's own gradebook.
:func:`serve` is a worker process's main loop.
"""

from __future__ import annotations

import copy
import os
import shutil
import time
import warnings
from multiprocessing.connection import Connection
from pathlib import Path

import nbformat
from sqlalchemy.exc import SAWarning

from autograder.coursedir import EXERCISES, ensure_tools_on_path
from autograder.kit import Kit, last_error_line
from autograder.review import score_flags
from autograder.sandbox import Sandbox, ipc_config
from autograder.sandbox import install as install_kernelspec
from autograder.tasks import FAILED, GRADED, GradeResult, GradeTask, unsuccessful

KNOWN_FAILURES = {
    "DeadKernelError": "the kernel died (os._exit, a crash or too much memory)",
    "UnresponsiveKernelError": "the kernel stopped responding",
}


class Grader:
    """Autograde submissions of a kit's assignments in the scratch course ``scratch``.

    ``cell_timeout`` (seconds per cell) and ``kernel_name`` override the course
    configuration; a ``sandbox`` runs every kernel in a private sandboxed kernelspec
    (:mod:`autograder.sandbox`) that may write only the scratch ``autograded/`` folder.
    """

    def __init__(
        self,
        kit: Kit,
        scratch: Path,
        cell_timeout: int | None = None,
        kernel_name: str | None = None,
        sandbox: Sandbox | None = None,
    ) -> None:
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        scratch.mkdir(parents=True, exist_ok=True)
        self.scratch = scratch
        self.db_url = f"sqlite:///{scratch / 'gradebook.db'}"
        shutil.copyfile(kit.db_path, scratch / "gradebook.db")
        source = scratch / "source"
        if not source.exists():
            source.symlink_to(kit.root / "source", target_is_directory=True)
        self.config = copy.deepcopy(kit.config)
        self.config.CourseDirectory.root = str(scratch)
        self.config.CourseDirectory.db_url = self.db_url
        self.cell_timeout = int(cell_timeout or self.config.ExecutePreprocessor.get("timeout", 30))
        self.config.Execute.timeout = self.cell_timeout
        # Once the notebook has run, its kernel has nothing left to send: killing it at once
        # saves the 0.3-0.4 s (measured) that a graceful shutdown waits for it to exit.
        self.config.Execute.shutdown_kernel = "immediate"
        if kernel_name:
            self.config.Execute.kernel_name = kernel_name
        if sandbox is not None:
            self.config.merge(install_kernelspec(sandbox, scratch, scratch / "autograded")[1])
        elif os.name == "posix":
            self.config.merge(ipc_config(scratch / "runtime"))
        self.course_id = self.config.CourseDirectory.get("course_id", "default_course")
        self.api = NbGraderAPI(coursedir=CourseDirectory(config=self.config), config=self.config)

    def grade(self, task: GradeTask) -> GradeResult:
        """Autograde ``task``'s notebook; a failure becomes a zero-score result, never an error."""
        start = time.monotonic()
        folder = self.scratch / "submitted" / task.student / task.assignment
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{EXERCISES}.ipynb").write_text(task.notebook, encoding="utf-8")
        if task.timestamp:
            (folder / "timestamp.txt").write_text(task.timestamp, encoding="utf-8")
        try:
            with warnings.catch_warnings():
                # nbgrader builds a submission's rows before adding them to the session
                warnings.simplefilter("ignore", SAWarning)
                outcome = self.api.autograde(task.assignment, task.student, force=True, create=True)
            if not outcome["success"]:
                return unsuccessful(task, FAILED, failure_reason(outcome), elapsed(start))
            return self.collect(task, elapsed(start))
        finally:
            for step in ("submitted", "autograded"):
                shutil.rmtree(self.scratch / step / task.student, ignore_errors=True)
            empty_folder(self.scratch / "autograded")

    def collect(self, task: GradeTask, seconds: float) -> GradeResult:
        """Read the scores nbgrader recorded and the executed notebook for ``task``."""
        from nbgrader.api import Gradebook

        scores, max_scores, audit = {}, {}, []
        with Gradebook(self.db_url, self.course_id) as gb:
            for notebook in gb.find_submission(task.assignment, task.student).notebooks:
                for grade in notebook.grades:
                    # the autograder's own score: a manual one can only come from the submission
                    scores[grade.name] = float(grade.auto_score or 0.0)
                    max_scores[grade.name] = float(grade.max_score)
                    audit += score_flags(
                        grade.name, grade.auto_score, grade.manual_score, grade.max_score
                    )
        path = self.scratch / "autograded" / task.student / task.assignment / f"{EXERCISES}.ipynb"
        text = path.read_text(encoding="utf-8")
        return GradeResult(
            assignment=task.assignment,
            student=task.student,
            status=GRADED,
            digest=task.digest,
            scores=scores,
            max_scores=max_scores,
            seconds=seconds,
            flags=[
                *task.flags,
                *cell_timeouts(nbformat.reads(text, as_version=4), self.cell_timeout),
                *audit,
            ],
            notebook=text,
            timestamp=task.timestamp,
        )


def empty_folder(folder: Path) -> None:
    """Remove everything in ``folder``: what a kernel left must not reach the next student."""
    for path in folder.iterdir() if folder.is_dir() else ():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def cell_timeouts(notebook: nbformat.NotebookNode, timeout: int) -> list[str]:
    """One flag per cell that nbgrader stopped at the per-cell timeout."""
    flags = []
    for index, cell in enumerate(notebook.cells):
        if any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])):
            name = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index}")
            flags.append(f"cell-timeout: {name} was stopped after {timeout} s")
    return flags


def failure_reason(outcome: dict) -> str:
    """A one-line reason for a failed autograde call."""
    text = outcome.get("error", "") + outcome.get("log", "")
    for name, reason in KNOWN_FAILURES.items():
        if name in text:
            return reason
    return last_error_line(outcome)


def elapsed(start: float) -> float:
    """Seconds since ``start`` (a ``time.monotonic()`` reading)."""
    return round(time.monotonic() - start, 2)


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def serve(conn: Connection, scratch: str, options: dict, log_path: str, threads: int) -> None:
    """A worker process: receive a kit, then tasks; send back ``started`` and ``result``.

    Messages in: ``("kit", Kit)``, ``("task", GradeTask)``, ``("stop", None)``. Messages out:
    ``("ready", pid)``, ``("started", student)``, ``("result", GradeResult)``. The process's
    stdout and stderr (and its kernels') go to ``log_path`` so nothing a student prints can
    reach the coordinator's terminal or its pipe. Its kernels use at most ``threads`` threads
    for NumPy's linear algebra, unless the environment already says otherwise.
    """
    for variable in THREAD_VARIABLES:
        os.environ.setdefault(variable, str(threads))
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    ensure_tools_on_path()
    import nbgrader.apps  # noqa: F401  (paid once per worker, before the first task)

    conn.send(("ready", os.getpid()))
    grader = None
    while True:
        try:
            kind, payload = conn.recv()
        except EOFError:
            return
        if kind == "stop":
            return
        if kind == "kit":
            grader = Grader(payload, Path(scratch), **options)
            continue
        conn.send(("started", payload.student))
        try:
            result = grader.grade(payload)
        except Exception as exc:
            result = unsuccessful(payload, FAILED, f"grading crashed: {exc!r}"[:300])
        conn.send(("result", result))
