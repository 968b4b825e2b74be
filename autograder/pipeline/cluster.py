"""Grading on a Dask cluster: the same grading tasks, on remote workers.

:class:`DaskPool` is a :class:`~autograder.pipeline.tasks.GradingPool`, like the local
:class:`~autograder.pipeline.pool.WorkerPool`: it packs the kit (``source/``, ``release/`` and
the kit's gradebook: a few hundred kB) into a tar archive, sends it once to every Dask
worker, and submits one :func:`grade_remotely` call per task. Each worker process unpacks
the kit once and keeps one :class:`~autograder.pipeline.worker.Grader` in a scratch folder
of its own; a grader runs one kernel and one test cell at a time, so a process grades one
task at a time, under a lock (start workers with ``--nthreads 1`` and as many
``--nworkers`` as cores). Results
come back to the coordinator, which alone writes the gradebook. Workers need the same
repository and environment as the coordinator (the course's source travels with the kit).
The per-cell timeout and the kernel's CPU cap bound a task; the per-student wall-clock limit
is the local pool's alone.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from autograder.pipeline.coursedir import ensure_tools_on_path
from autograder.pipeline.kit import Kit
from autograder.pipeline.tasks import (
    FAILED,
    GradeResult,
    GradeTask,
    WorkerOptions,
    crashed,
    unsuccessful,
)
from autograder.pipeline.worker import Grader

_graders: dict[str, Grader] = {}
_lock = threading.Lock()


def pack(kit: Kit) -> bytes:
    """The kit's folder as a gzipped tar archive."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(kit.root, arcname="kit")
    return buffer.getvalue()


def unpack(archive: bytes, kit: Kit, folder: Path) -> Kit:
    """``kit`` unpacked from ``archive`` under ``folder``, its root pointing there."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        tar.extractall(folder, filter="data")
    return replace(kit, root=folder / "kit")


def grade_remotely(
    archive: bytes, kit: Kit, task: GradeTask, options: WorkerOptions
) -> GradeResult:
    """Grade ``task`` on a Dask worker, reusing this process's grader for the same kit."""
    key = hashlib.sha256(archive).hexdigest()
    with _lock:
        try:
            grader = _graders.get(key)
            if grader is None:
                ensure_tools_on_path()
                folder = Path(tempfile.mkdtemp(prefix="grader-dask-"))
                local = unpack(archive, kit, folder)
                grader = _graders[key] = Grader(local, folder / "worker", options)
            return grader.grade(task)
        except Exception as exc:
            return crashed(task, exc, " on a Dask worker")


class DaskPool:
    """Grade tasks on the Dask cluster whose scheduler listens at ``address``."""

    def __init__(self, address: str, options: WorkerOptions) -> None:
        from distributed import Client

        self.client = Client(address, timeout="30s")
        self.options = options
        self.futures: dict = {}

    def start(self, kit: Kit, tasks: Iterable[GradeTask]) -> None:
        """Send the kit to every Dask worker and submit one grading call per task."""
        archive = self.client.scatter(pack(kit), broadcast=True)
        self.futures = {
            self.client.submit(grade_remotely, archive, kit, task, self.options, pure=False): task
            for task in tasks
        }

    def finish(self, on_result: Callable[[GradeResult], None]) -> None:
        """Wait for every submitted task, calling ``on_result`` here as each one finishes."""
        from distributed import as_completed

        for future in as_completed(self.futures):
            try:
                result = future.result()
            except Exception as exc:
                task = self.futures[future]
                result = unsuccessful(task, FAILED, f"the Dask task failed: {exc!r}")
            on_result(result)

    def close(self) -> None:
        """Disconnect from the cluster (the cluster keeps running)."""
        self.client.close()
