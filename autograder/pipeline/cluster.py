"""Grading on a Dask cluster: the same grading tasks, on remote workers.

:class:`DaskPool` is a :class:`~autograder.pipeline.tasks.GradingPool`, like the local
:class:`~autograder.pipeline.pool.WorkerPool`: it packs the kit (``source/``, ``release/`` and
the kit's gradebook: a few hundred kB) into a tar archive, sends it once to every Dask
worker, and submits one :func:`grade_remotely` call per task. Each Dask worker process
unpacks the kit once and grades in a local grading process of its own (a one-worker
:class:`~autograder.pipeline.pool.WorkerPool`), one task at a time: so every limit binds
there as on the coordinator's machine (the trusted code's time and memory limits in the
grading process's main thread, the per-cell and per-student time limits, the kernel's caps),
and a submission that hangs is killed without stopping the cluster. Start workers with
``--nthreads 1``, as many ``--nworkers`` as cores, and ``DASK_DISTRIBUTED__WORKER__DAEMON=False``
(a daemonic process may not start the grading process). Results come back to the
coordinator, which alone writes the gradebook. Workers need the same repository and
environment as the coordinator (the course's source travels with the kit). The kit's folder
(hidden tests included) and the grading process's scratch are removed when a new kit
replaces them and when the Dask worker process exits.
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing.util
import tarfile
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from autograder.pipeline.coursedir import ensure_tools_on_path
from autograder.pipeline.kit import Kit
from autograder.pipeline.pool import WorkerPool
from autograder.pipeline.tasks import (
    FAILED,
    GradeResult,
    GradeTask,
    WorkerOptions,
    crashed,
    unsuccessful,
)
from autograder.runtime.processes import remove_tree

_pools: dict[str, tuple[Kit, WorkerPool, Path]] = {}
"""This Dask worker process's grading pool, by kit: one local worker process, in a folder
that holds the unpacked kit and the pool's scratch."""
_lock = threading.Lock()
DAEMON_HINT = (
    "this Dask worker cannot start grading processes (it is a daemon): start the workers "
    "with DASK_DISTRIBUTED__WORKER__DAEMON=False"
)


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
    archive: bytes, kit: Kit, task: GradeTask, options: WorkerOptions, student_timeout: float
) -> GradeResult:
    """Grade ``task`` on a Dask worker, in a local grading process kept for the same kit.

    The grading process is a :class:`~autograder.pipeline.pool.WorkerPool` worker, exactly as
    on the coordinator's machine: the trusted code runs in its main thread under the test
    cell's limits, the per-student wall-clock limit kills a submission that runs past it,
    and the worker is replaced afterwards. One task at a time per Dask worker process.
    """
    import multiprocessing

    if multiprocessing.current_process().daemon:
        return unsuccessful(task, FAILED, DAEMON_HINT)
    key = hashlib.sha256(archive).hexdigest()
    with _lock:
        try:
            if key not in _pools:
                ensure_tools_on_path()
                close_pools()
                folder = Path(tempfile.mkdtemp(prefix="grader-dask-"))
                local = unpack(archive, kit, folder)
                pool = WorkerPool(1, folder / "workers", student_timeout, options)
                _pools[key] = (local, pool, folder)
            local, pool, _ = _pools[key]
            results: list[GradeResult] = []
            pool.start(local, [task])
            pool.finish(results.append)
            return results[0]
        except Exception as exc:
            return crashed(task, exc, " on a Dask worker")


def close_pools() -> None:
    """Stop this process's grading pools and remove their folders (the kit: hidden tests)."""
    for _, pool, folder in _pools.values():
        pool.close()
        remove_tree(str(folder))
    _pools.clear()


# and when this process exits (a Dask worker process is a multiprocessing child: its exit runs
# multiprocessing's finalizers, not always atexit's)
multiprocessing.util.Finalize(None, close_pools, exitpriority=10)


class DaskPool:
    """Grade tasks on the Dask cluster whose scheduler listens at ``address``."""

    def __init__(self, address: str, options: WorkerOptions, student_timeout: float) -> None:
        from distributed import Client

        self.client = Client(address, timeout="30s")
        self.options = options
        self.student_timeout = student_timeout
        self.futures: dict = {}

    def start(self, kit: Kit, tasks: Iterable[GradeTask]) -> None:
        """Send the kit to every Dask worker and submit one grading call per task."""
        archive = self.client.scatter(pack(kit), broadcast=True)
        self.futures = {
            self.client.submit(
                grade_remotely, archive, kit, task, self.options, self.student_timeout, pure=False
            ): task
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
