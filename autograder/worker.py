"""Grade one submission in the trusted runtime (the worker's side of the pipeline).

:class:`Grader` is the unit a worker process (or a Dask worker) holds: the kit's source
notebooks (the tests), a private kernelspec for the sandbox, and a scratch folder. For each
:class:`~autograder.tasks.GradeTask` it runs a :class:`~autograder.runtime.runner.Runner`:
the student's cells in a fresh sandboxed kernel that works in a fresh folder, every test
cell in this process. It never touches a gradebook; :func:`serve` is a worker process's
main loop.
"""

from __future__ import annotations

import os
import shutil
import time
from multiprocessing.connection import Connection
from pathlib import Path

import nbformat

from autograder.kit import Kit
from autograder.runtime.kernel import KernelSession, Limits
from autograder.runtime.runner import Runner
from autograder.runtime.sandbox import Sandbox
from autograder.runtime.sandbox import install as install_kernelspec
from autograder.tasks import FAILED, GRADED, GradeResult, GradeTask, unsuccessful


class Grader:
    """Grade submissions of a kit's assignments, with kernels working under ``scratch``.

    ``cell_timeout`` (seconds per cell) overrides the course configuration; a ``sandbox``
    runs every kernel in a private sandboxed kernelspec that may write only its own folder.
    """

    def __init__(
        self,
        kit: Kit,
        scratch: Path,
        cell_timeout: int | None = None,
        kernel_name: str | None = None,
        sandbox: Sandbox | None = None,
    ) -> None:
        scratch.mkdir(parents=True, exist_ok=True)
        self.kit = kit
        self.scratch = scratch
        self.work = scratch / "autograded"
        self.runtime = scratch / "runtime"
        timeout = cell_timeout or kit.config.ExecutePreprocessor.get("timeout", 60)
        self.limits = Limits(cell_seconds=float(timeout))
        self.kernel_name = kernel_name or "python3"
        if sandbox is not None:
            self.kernel_name, _ = install_kernelspec(sandbox, scratch, self.work)
        self.sources: dict[str, nbformat.NotebookNode] = {}

    def source(self, assignment: str) -> nbformat.NotebookNode:
        if assignment not in self.sources:
            self.sources[assignment] = nbformat.read(self.kit.source_notebook(assignment), 4)
        return self.sources[assignment]

    def grade(self, task: GradeTask) -> GradeResult:
        """Grade ``task``'s notebook; a failure becomes a zero-score result, never an error."""
        start = time.monotonic()
        folder = self.work / "student"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        try:
            notebook = nbformat.reads(task.notebook, as_version=4)
            runner = Runner(
                self.source(task.assignment),
                lambda: KernelSession(self.kernel_name, folder, self.runtime, self.limits),
                student=task.student,
            )
            outcome = runner.run(notebook)
        except Exception as exc:
            return unsuccessful(task, FAILED, f"grading crashed: {exc!r}"[:300], elapsed(start))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return GradeResult(
            assignment=task.assignment,
            student=task.student,
            status=GRADED,
            digest=task.digest,
            scores=outcome.scores,
            max_scores=outcome.max_scores,
            seconds=elapsed(start),
            flags=[*task.flags, *outcome.flags],
            notebook=nbformat.writes(outcome.notebook),
            timestamp=task.timestamp,
        )


def elapsed(start: float) -> float:
    """Seconds since ``start`` (a ``time.monotonic()`` reading)."""
    return round(time.monotonic() - start, 2)


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
WORKER_MEMORY_MB = 2048


def cap_memory(megabytes: int | None) -> None:
    """Cap this worker's address space: what a kernel sends cannot exhaust the machine."""
    import resource

    if not megabytes:
        return
    limit = int(megabytes) * 2**20
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):  # macOS refuses RLIMIT_AS
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


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
    cap_memory(options.pop("worker_memory_mb", WORKER_MEMORY_MB))
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    import jupyter_client  # noqa: F401

    import course.grading  # noqa: F401  (the tests' imports, paid once per worker)

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
