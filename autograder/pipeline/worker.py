"""Grade one submission in the trusted runtime (the worker's side of the pipeline).

:class:`Grader` is the unit a worker process (or a Dask worker) holds: the kit's source
notebooks (the tests), a private kernelspec for the sandbox, and a scratch folder. For each
:class:`~autograder.pipeline.tasks.GradeTask` it runs a
:class:`~autograder.runtime.runner.Runner`: the student's cells in a fresh sandboxed kernel
that works in a fresh folder, every test cell in this process. It never touches a gradebook.
:func:`serve` is a local worker process's main loop; it logs through :mod:`logging` into the
worker's own log file, each line naming the student being graded.
"""

from __future__ import annotations

import functools
import gc
import logging
import os
import time
from multiprocessing.connection import Connection
from pathlib import Path

import nbformat

from autograder.pipeline.kit import Kit
from autograder.pipeline.tasks import (
    GRADED,
    Flag,
    FlagKind,
    GradeResult,
    GradeTask,
    WorkerOptions,
    crashed,
)
from autograder.runtime.kernel import KernelSession, Limits
from autograder.runtime.processes import cap_memory
from autograder.runtime.runner import Outcome, Runner, cell_kind
from autograder.runtime.sandbox import kernel_argv
from autograder.runtime.warm import WarmStart, preload_modules

log = logging.getLogger(__name__)


class Grader:
    """Grade submissions of a kit's assignments, with kernels working under ``scratch``.

    ``options.cell_timeout`` (seconds per cell) overrides the course configuration; with
    ``options.sandbox`` every kernel is confined (:func:`~autograder.runtime.sandbox.kernel_argv`)
    and may write only the folder of its own that its session makes and removes. Kernels are
    forked from a template of the grader's own when ``options`` allow it, or from ``warm``, a
    template the caller shares between graders (and closes: :meth:`close` leaves it running).
    """

    def __init__(
        self,
        kit: Kit,
        scratch: Path,
        options: WorkerOptions | None = None,
        warm: WarmStart | None = None,
    ) -> None:
        options = options or WorkerOptions()
        scratch.mkdir(parents=True, exist_ok=True)
        self.kit = kit
        self.runtime = scratch / "kernels"
        timeout = options.cell_timeout or kit.config.ExecutePreprocessor.get("timeout", 60)
        self.limits = Limits(cell_seconds=float(timeout))
        self.kernel_name = options.kernel_name or "python3"
        self.launcher = None
        if options.sandbox is not None:
            self.launcher = functools.partial(kernel_argv, options.sandbox)
        self.sources: dict[str, nbformat.NotebookNode] = {}
        self.runners: dict[str, Runner] = {}
        self.warm = warm
        self.owns_warm = warm is None
        sandbox = options.sandbox
        if warm is None and options.warm_kernels and sandbox is not None and sandbox.isolated:
            if self.kernel_name == "python3":
                preload = preload_modules([self.setup_code(a) for a in kit.assignments])
                self.warm = WarmStart(sandbox, scratch / "template", preload)

    def setup_code(self, assignment: str) -> str:
        """The code of an assignment's cells other than its test cells (what kernels run)."""
        return kernel_code(self.source(assignment))

    def new_session(self) -> KernelSession:
        """A fresh, unstarted kernel: its own folder under ``runtime``, made when it starts."""
        return KernelSession(
            self.runtime, self.limits, self.kernel_name, self.launcher, warm=self.warm
        )

    def warm_up(self) -> None:
        """Start the kernel template now, while the coordinator prepares the first tasks."""
        if self.warm is not None:
            self.warm.prepare()

    def close(self) -> None:
        """End the kernel template, if there is one and it is the grader's own."""
        if self.warm is not None and self.owns_warm:
            self.warm.close()

    def runner(self, assignment: str) -> Runner:
        """The assignment's runner, its source analysed once (each grading gets a copy)."""
        if assignment not in self.runners:
            self.runners[assignment] = Runner(self.source(assignment), self.new_session)
        return self.runners[assignment]

    def source(self, assignment: str) -> nbformat.NotebookNode:
        if assignment not in self.sources:
            self.sources[assignment] = nbformat.read(self.kit.source_notebook(assignment), 4)
        return self.sources[assignment]

    def grade(self, task: GradeTask) -> GradeResult:
        """Grade ``task``'s notebook; a failure becomes a zero-score result, never an error."""
        start = time.monotonic()
        try:
            notebook = nbformat.reads(task.notebook, as_version=4)
            outcome = self.runner(task.assignment).for_student(task.student).run(notebook)
        except Exception as exc:
            log.exception("grading %s crashed", task.student)
            return crashed(task, exc, seconds=elapsed(start))
        return GradeResult(
            assignment=task.assignment,
            student=task.student,
            status=GRADED,
            digest=task.digest,
            scores=outcome.scores,
            max_scores=outcome.max_scores,
            seconds=elapsed(start),
            flags=[*task.flags, *outcome_flags(outcome)],
            notebook=nbformat.writes(outcome.notebook),
            timestamp=task.timestamp,
            phases=phases(outcome.seconds, time.monotonic() - start),
        )


def kernel_code(notebook: nbformat.NotebookNode) -> str:
    """The code of a source notebook's cells other than its test cells (what kernels run)."""
    cells = notebook.cells
    return "\n".join(c.source for c in cells if c.cell_type == "code" and cell_kind(c) != "test")


def settle() -> None:
    """Move everything this process holds now (its libraries, the kit) out of the garbage
    collector's sight: each test cell ends with a full collection, which then walks only
    what grading made since, not every object of NumPy, Jupyter and nbformat (a tenth of a
    second per cell otherwise)."""
    gc.collect()
    gc.freeze()


def phases(seconds: dict[str, float], total: float) -> dict[str, float]:
    """The runner's seconds per phase, with the rest and the total of one grading."""
    spent = {name: round(value, 4) for name, value in seconds.items()}
    other = round(max(0.0, total - sum(spent.values())), 4)
    return {**spent, "other": other, "total": round(total, 4)}


def outcome_flags(outcome: Outcome) -> list[Flag]:
    """The flags of what the runtime stopped or missed while grading."""
    flags = [Flag(FlagKind.STOPPED, f"a cell was stopped ({why})") for why in outcome.stopped_cells]
    flags += [Flag(FlagKind.STOPPED, f"{gid}: {why}") for gid, why in outcome.stopped_tests.items()]
    flags += [
        Flag(FlagKind.MISSING, f"test cell {gid} was not in the notebook")
        for gid in outcome.missing_tests
    ]
    flags += [
        Flag(FlagKind.REVIEW, text, (gid,)) for gid, texts in outcome.held.items() for text in texts
    ]
    return flags


def peak_memory_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes there, kB here


def elapsed(start: float) -> float:
    """Seconds since ``start`` (a ``time.monotonic()`` reading)."""
    return round(time.monotonic() - start, 2)


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
WORKER_MEMORY_BYTES = 2 * 2**30
"""A worker's own address-space cap: what a kernel sends cannot exhaust the machine."""
LOG_FORMAT = "%(asctime)s %(levelname)s worker %(process)d: %(message)s"


def serve(conn: Connection, scratch: str, options: WorkerOptions, log_path: str, threads: int):
    """A worker process: receive a kit, then tasks; send back ``started`` and ``result``.

    Messages in: ``("kit", Kit)``, ``("task", GradeTask)``, ``("stop", None)``. Messages out:
    ``("ready", pid)``, ``("started", student)``, ``("result", GradeResult)``. The process's
    stdout and stderr (and its kernels') go to ``log_path`` so nothing a student prints can
    reach the coordinator's terminal or its pipe; the worker's own log lines go there too,
    with their level. Its kernels use at most ``threads`` threads for NumPy's linear
    algebra, unless the environment already says otherwise.
    """
    for variable in THREAD_VARIABLES:
        os.environ.setdefault(variable, str(threads))
    cap_memory(WORKER_MEMORY_BYTES)
    output = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(output, 1)
    os.dup2(output, 2)
    logging.basicConfig(filename=log_path, level=logging.INFO, format=LOG_FORMAT, force=True)
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
            log.info("stopping")
            if grader is not None:
                grader.close()
            return
        if kind == "kit":
            if grader is not None:
                grader.close()
            grader = Grader(payload, Path(scratch), options)
            log.info("grading kit %s", payload.root.name)
            grader.warm_up()
            settle()
            continue
        conn.send(("started", payload.student))
        log.info("grading %s, %s", payload.student, payload.assignment)
        try:
            result = grader.grade(payload)
        except Exception as exc:
            log.exception("grading %s crashed", payload.student)
            result = crashed(payload, exc)
        result.memory_mb = peak_memory_mb()
        log.info(
            "graded %s: %s, %g points, peak memory %.0f MB",
            payload.student,
            result.status,
            result.score,
            result.memory_mb,
        )
        conn.send(("result", result))
