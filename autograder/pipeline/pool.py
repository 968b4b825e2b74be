"""Long-lived worker processes that grade tasks, each bounded by a wall-clock limit.

Each worker imports its libraries (Jupyter's client, NumPy, the course's test helpers) once
and then grades one task after another, so that start-up is paid once per worker. The pool
hands a task to whichever worker is free, so the students a worker grades are disjoint from
the others'. A worker whose student runs past the
per-student limit is killed with its kernel and replaced; that student gets a timeout result
and nobody else is affected. Workers never write the course's gradebook: results come back to
the coordinator through ``on_result``.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

from autograder.pipeline.kit import Kit
from autograder.pipeline.tasks import (
    FAILED,
    TIMEOUT,
    GradeResult,
    GradeTask,
    WorkerOptions,
    unsuccessful,
)
from autograder.pipeline.worker import serve
from autograder.runtime.processes import kill_tree

POLL_SECONDS = 0.5


class Feed:
    """Tasks taken from an iterable in a thread of its own, handed out as they come.

    The coordinator's pre-flight makes the tasks; with a feed, the workers grade the first
    ones while it prepares the rest, instead of waiting for all of them. ``signal`` becomes
    readable whenever a task arrives (or the iterable ends), so a wait on the workers' pipes
    wakes for it too.
    """

    def __init__(self, tasks: Iterable[GradeTask]) -> None:
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.signal, self.wake = socket.socketpair()
        self.thread = threading.Thread(target=self.run, args=(tasks,), daemon=True)
        self.thread.start()

    def run(self, tasks: Iterable[GradeTask]) -> None:
        try:
            for task in tasks:
                self.queue.put(task)
                self.nudge()
        except BaseException as exc:  # re-raised in the coordinator's loop
            self.error = exc
        finally:
            self.done.set()
            self.nudge()

    def nudge(self) -> None:
        try:
            self.wake.send(b"x")
        except OSError:
            pass

    def take(self) -> GradeTask | None:
        """The next task, if one is ready (never waits)."""
        try:
            return self.queue.get_nowait()
        except queue.Empty:
            return None

    @property
    def exhausted(self) -> bool:
        """Whether every task has been taken; re-raises what made the tasks fail."""
        if self.error is not None and self.queue.empty():
            raise self.error
        return self.done.is_set() and self.queue.empty()

    def drain_signal(self) -> None:
        self.signal.setblocking(False)
        try:
            while self.signal.recv(4096):
                pass
        except OSError:
            pass

    def close(self) -> None:
        self.thread.join(timeout=5)
        self.signal.close()
        self.wake.close()


@dataclass
class Worker:
    """One worker process, its pipe, and the task it is grading (if any)."""

    process: multiprocessing.process.BaseProcess
    conn: Connection
    task: GradeTask | None = None
    started: float | None = None


class WorkerPool:
    """``jobs`` worker processes grading in scratch folders under ``scratch``: a
    :class:`~autograder.pipeline.tasks.GradingPool`.

    ``options`` go to each worker's :class:`~autograder.pipeline.worker.Grader`;
    ``student_timeout`` bounds the seconds one task may take. The cores are
    shared out: each worker's kernels get ``cores // jobs`` BLAS/OpenMP threads, so that
    parallel workers do not fight over cores that NumPy would otherwise take for itself.
    """

    def __init__(
        self, jobs: int, scratch: Path, student_timeout: float, options: WorkerOptions
    ) -> None:
        self.scratch = scratch
        self.student_timeout = student_timeout
        self.options = options
        self.context = multiprocessing.get_context("spawn")
        self.spawned = 0
        self.kit: Kit | None = None
        self.feed: Feed | None = None
        self.threads = max(1, (os.cpu_count() or 1) // max(1, jobs))
        self.workers = [self.spawn() for _ in range(max(1, jobs))]

    def spawn(self) -> Worker:
        """Start a worker process; it imports its libraries while the coordinator carries on."""
        self.spawned += 1
        folder = self.scratch / f"worker-{self.spawned}"
        folder.mkdir(parents=True, exist_ok=True)
        parent, child = self.context.Pipe()
        process = self.context.Process(
            target=serve,
            args=(child, str(folder), self.options, str(folder / "worker.log"), self.threads),
            daemon=True,
        )
        process.start()
        child.close()
        worker = Worker(process, parent)
        if self.kit is not None:
            parent.send(("kit", self.kit))
        return worker

    def start(self, kit: Kit, tasks: Iterable[GradeTask]) -> None:
        """Send every worker the kit, then tasks as ``tasks`` yields them (in a thread of its
        own: the workers set up and grade while the caller's iterable prepares the rest)."""
        self.kit = kit
        for worker in self.workers:
            worker.conn.send(("kit", kit))
        self.feed = Feed(tasks)

    def dispatch(self) -> None:
        """Give each idle worker the next task, if one is ready."""
        for worker in self.workers:
            if worker.task is None:
                task = self.feed.take()
                if task is None:
                    return
                worker.task = task
                worker.started = None
                worker.conn.send(("task", worker.task))

    def finish(self, on_result: Callable[[GradeResult], None]) -> None:
        """Grade every task, calling ``on_result`` in this process as each one ends."""
        try:
            self.grade_all(on_result)
        finally:
            self.feed.close()

    def grade_all(self, on_result: Callable[[GradeResult], None]) -> None:
        while not self.feed.exhausted or any(w.task for w in self.workers):
            self.feed.drain_signal()
            self.dispatch()
            ready = wait([w.conn for w in self.workers] + [self.feed.signal], POLL_SECONDS)
            for conn in ready:
                if conn is not self.feed.signal:
                    self.receive(next(w for w in self.workers if w.conn is conn), on_result)
            for worker in list(self.workers):
                spent = time.monotonic() - worker.started if worker.started else 0.0
                if worker.task and spent > self.student_timeout:
                    task = worker.task
                    self.replace(worker)
                    reason = f"stopped after the {self.student_timeout:g} s limit per student"
                    on_result(unsuccessful(task, TIMEOUT, reason, round(spent, 2)))

    def receive(self, worker: Worker, on_result: Callable[[GradeResult], None]) -> None:
        """Handle one message from ``worker``; a dead worker's task fails and it is replaced."""
        try:
            kind, payload = worker.conn.recv()
        except (EOFError, OSError):
            task = worker.task
            self.replace(worker)
            if task:
                on_result(unsuccessful(task, FAILED, "the grading worker died"))
            return
        if kind == "started":
            worker.started = time.monotonic()
        elif kind == "result":
            worker.task = None
            on_result(payload)

    def replace(self, worker: Worker) -> None:
        """Kill ``worker`` with its kernels and put a fresh one in its place."""
        kill_tree(worker.process.pid)
        worker.process.join(timeout=5)
        worker.conn.close()
        self.workers[self.workers.index(worker)] = self.spawn()

    def close(self) -> None:
        """Stop every worker, killing any that does not stop at once."""
        for worker in self.workers:
            try:
                worker.conn.send(("stop", None))
            except OSError:
                pass
        for worker in self.workers:
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                kill_tree(worker.process.pid)
                worker.process.join(timeout=5)
