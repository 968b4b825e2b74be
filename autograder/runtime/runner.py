"""The trusted test runner: walks a submission in order and judges every test cell here.

For each code cell of the (pre-flighted) submission, matched to the instructor's source
notebook by its grade id:

- an **answer cell**, and any cell the student added, runs in the sandboxed kernel;
- an **instructor cell** (setup, data, demos) runs in the kernel with the *source's* text,
  and also here, in the trusted base namespace, so both sides see ``np``, ``X``, ``y``;
- a **test cell** runs here, with the *source's* text (visible and hidden tests), in a
  fresh copy of the base namespace where only the graded names (the functions and answers
  the source's answer cells define) are bound to what the kernel holds right now: data by
  value, anything else as a :class:`~autograder.runtime.kernel.Handle`.

A test cell scores its points if and only if it raises nothing here. Before each test cell
the kernel's global random state is seeded from the cell's grade id, so a regrade scores
the same. A kernel that breaks a cap is killed: the cell it was running fails with the
reason, and a fresh kernel replays the cells that ran before for the cells that follow.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import hashlib
import io
import logging
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import nbformat
import numpy as np
from nbformat import NotebookNode

from autograder.runtime.kernel import (
    ArgumentPolicy,
    Handle,
    KernelLost,
    KernelSession,
    SubmissionError,
)
from autograder.runtime.trusted import TrustedLimit, bounded
from course.messages import one_line
from course.notebooks import CHECK_CELL

log = logging.getLogger(__name__)

MAX_RESTARTS = 3
CELL_SECONDS = 60.0
"""A cell's time limit when no kernel runs (the session's own limit otherwise)."""
STOPPED = "grading stopped this part: "


@dataclass
class Outcome:
    """Scores by test cell grade id, the failures' messages, flags and the run notebook."""

    scores: dict[str, float] = field(default_factory=dict)
    max_scores: dict[str, float] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    stopped_cells: list[str] = field(default_factory=list)
    """Why each stopped answer or scratch cell was stopped (a cap it broke)."""
    stopped_tests: dict[str, str] = field(default_factory=dict)
    """Test cells stopped by a lost kernel, by grade id, with the reason."""
    missing_tests: list[str] = field(default_factory=list)
    """Test cells that were not in the notebook (0 points)."""
    held: dict[str, list[str]] = field(default_factory=dict)
    """Test cells whose points wait for review, by grade id, with what the kernel's observer
    saw: the ``course`` reference of a graded name ran during its graded call, or
    something blinded the observer (:meth:`Runner.observation`)."""
    notebook: NotebookNode | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    """Where the time went: ``start`` (kernels), ``cells`` (kernel cells), ``tests``."""


def nbgrader_meta(cell: NotebookNode) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def cell_kind(cell: NotebookNode) -> str:
    """``test``, ``answer``, ``instructor`` or ``other`` for a cell of the source notebook."""
    meta = nbgrader_meta(cell)
    if cell.cell_type != "code" or not meta.get("grade_id"):
        return "other"
    if meta.get("solution"):
        return "answer"
    if meta.get("grade"):
        return "test"
    return "instructor"


def graded_names(source: NotebookNode) -> list[str]:
    """Names the source's answer cells define at top level: functions, classes, variables."""
    names: list[str] = []
    for cell in source.cells:
        if cell_kind(cell) != "answer":
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.append(node.name)
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names += [t.id for t in targets if isinstance(t, ast.Name)]
    return list(dict.fromkeys(names))


def argument_policies(source: NotebookNode) -> dict[str, ArgumentPolicy]:
    """What each graded function may do to its arguments: its parameters from the source's
    answer cell, and the notebook's ``course.arguments`` metadata, e.g.
    ``{"sgd_step": {"in_place": ["params"]}, "dense_backward": {"read_only": ["dout"]}}``.
    """
    declared = source.metadata.get("course", {}).get("arguments", {})
    policies = {}
    for cell in source.cells:
        if cell_kind(cell) != "answer":
            continue
        for node in ast.parse(cell.source).body:
            if not isinstance(node, ast.FunctionDef):
                continue
            spec = node.args
            names = [a.arg for a in (*spec.posonlyargs, *spec.args, *spec.kwonlyargs)]
            rules = declared.get(node.name, {})
            policies[node.name] = ArgumentPolicy(
                node.name,
                tuple(names),
                frozenset(rules.get("in_place", ())),
                frozenset(rules.get("read_only", ())),
            )
    return policies


def tested_names(source: NotebookNode) -> dict[str, tuple[str, ...]]:
    """The graded functions and classes each test cell grades: those of the answer cell
    before it."""
    out: dict[str, tuple[str, ...]] = {}
    current: tuple[str, ...] = ()
    for cell in source.cells:
        kind = cell_kind(cell)
        if kind == "answer":
            body = ast.parse(cell.source).body
            defined = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            current = tuple(n.name for n in body if isinstance(n, defined))
        elif kind == "test":
            out[nbgrader_meta(cell)["grade_id"]] = current
    return out


def helper_names(source: NotebookNode) -> frozenset[str]:
    """Names of the tests' own helpers: functions, classes and ``_``-names test cells bind.

    They must not reach a student: an error a helper raises is told without its name. A
    method is hidden by its class's name, so method names (``fit``, ``predict``) and dunder
    names are not helpers; nor is a word the test cells' own messages use (a helper ``folds``
    beside "the same folds"), so a test's message reaches the student as written.
    """
    names, words = set(), set()
    for cell in source.cells:
        if cell_kind(cell) != "test":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        methods = {
            id(item)
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef)
            for item in node.body
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                if id(node) not in methods:
                    names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                if node.id.startswith("_"):
                    names.add(node.id)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if id(node) not in docstrings:  # a message, not a helper's own description
                    words.update(re.findall(r"\w+", node.value))
    return frozenset(n for n in names if len(n) > 1 and not n.startswith("__") and n not in words)


def cell_seed(grade_id: str) -> int:
    """The seed of the kernel's global random state before the test cell ``grade_id``."""
    return int.from_bytes(hashlib.sha256(grade_id.encode()).digest()[:4], "big")


def fresh_namespace(base: dict) -> dict:
    """A copy of ``base`` in which arrays, lists and dicts are copies too."""
    out = {}
    for name, value in base.items():
        if isinstance(value, np.ndarray | list | dict):
            try:
                value = copy.deepcopy(value)
            except Exception:
                pass
        out[name] = value
    return out


class GradingError(Exception):
    """The first kernel of a submission did not start: a fault of the machine, not the student."""


class Backend:
    """What ``course.grading`` asks for while a test cell runs here."""

    def __init__(self, student: str, session: KernelSession) -> None:
        self.student = student
        self.session = session

    def random_state(self):
        return self.session.random_state()

    def call_limit(self, seconds: float):
        return self.session.call_limit(seconds)

    def as_estimator(self, obj):

        from autograder.runtime.rebuild import rebuild

        if not isinstance(obj, Handle):
            raise AssertionError("the model is plain data, not a scikit-learn estimator")
        return rebuild(self.session.describe(obj), root=obj)

    def is_fitted(self, obj) -> bool:

        from autograder.runtime.rebuild import any_fitted

        return isinstance(obj, Handle) and any_fitted(self.session.describe(obj))


class Runner:
    """Grade submissions of one assignment against its ``source`` notebook.

    ``new_session()`` returns a fresh, unstarted :class:`KernelSession` for each kernel.
    """

    def __init__(
        self,
        source: NotebookNode,
        new_session: Callable[[], KernelSession],
        student: str = "student",
    ) -> None:
        self.source = source
        self.new_session = new_session
        self.student = student
        self.cells = {
            nbgrader_meta(c)["grade_id"]: c for c in source.cells if cell_kind(c) != "other"
        }
        self.names = graded_names(source)
        self.tested = tested_names(source)
        equivalents = source.metadata.get("course", {}).get("equivalents", {})
        self.equivalents = {str(k): [str(p) for p in v] for k, v in equivalents.items()}
        self.policies = argument_policies(source)
        self.cell_seconds = CELL_SECONDS
        self.private = helper_names(source)
        self.points = {
            gid: float(nbgrader_meta(c).get("points", 0) or 0)
            for gid, c in self.cells.items()
            if cell_kind(c) == "test"
        }

    def for_student(self, student: str) -> Runner:
        """A runner for ``student`` that shares this one's reading of the source (which no
        run changes) and nothing else: the source is analysed once per assignment."""
        runner = copy.copy(self)
        runner.student = student
        return runner

    def run(self, submission: NotebookNode) -> Outcome:
        """Grade ``submission``; never raises for anything the submission does."""
        self.session: KernelSession | None = None
        self.replay: list[str] = []
        self.restarts = 0
        self.base: dict = {"__name__": "__main__", "__builtins__": __builtins__}
        outcome = Outcome(max_scores=dict(self.points))
        self.seconds = outcome.seconds = {"start": 0.0, "cells": 0.0, "tests": 0.0}
        notebook = copy.deepcopy(submission)
        done: set[str] = set()
        try:
            for cell in notebook.cells:
                if cell.cell_type != "code":
                    continue
                gid = nbgrader_meta(cell).get("grade_id")
                if gid == CHECK_CELL and gid in self.cells:  # the student's check: not grading
                    cell.source, cell.outputs = self.cells[gid].source, []
                    continue
                kind = cell_kind(self.cells[gid]) if gid in self.cells else "other"
                log.info("%s: %s cell %s", self.student, kind, gid or "(the student's own)")
                if kind == "test":
                    cell.source = self.cells[gid].source
                    cell.outputs = []
                    if gid in done:
                        continue
                    done.add(gid)
                    with self.timed("tests"):
                        failure = self.run_test(gid)
                    if self.session is not None:
                        held = self.observation(gid, self.session.take_observed())
                        if held:
                            outcome.held[gid] = held
                    outcome.scores[gid] = 0.0 if failure else self.points[gid]
                    if failure:
                        outcome.failures[gid] = failure
                        cell.outputs = [failure_output(failure)]
                        if failure.startswith(STOPPED):
                            outcome.stopped_tests[gid] = failure[len(STOPPED) :]
                elif kind == "instructor":
                    cell.source = self.cells[gid].source
                    with self.timed("cells"):
                        cell.outputs = self.run_in_kernel(cell.source, outcome)
                        self.run_trusted(cell.source)
                else:
                    with self.timed("cells"):
                        cell.outputs = self.run_in_kernel(cell.source, outcome)
        finally:
            if self.session is not None:
                self.session.kill()
        for gid in self.points:
            if gid not in outcome.scores:
                outcome.scores[gid] = 0.0
                outcome.failures[gid] = "this test cell is missing from the notebook"
                outcome.missing_tests.append(gid)
        outcome.notebook = notebook
        return outcome

    # -- the kernel ------------------------------------------------------------------------
    def kernel(self) -> KernelSession:
        """The live kernel, restarted (with the earlier cells replayed) if it was lost."""
        if self.session is not None and self.session.alive:
            return self.session
        if self.session is not None:
            self.restarts += 1
            if self.restarts > MAX_RESTARTS:
                raise KernelLost(f"the kernel was lost more than {MAX_RESTARTS} times")
        first = self.session is None
        self.session = self.new_session()
        self.session.scrub = self.scrub
        self.cell_seconds = self.session.limits.cell_seconds
        began = time.monotonic()
        try:
            self.session.start()
        except KernelLost as exc:
            if first:
                raise GradingError(str(exc)) from None
            raise
        identify = f"__import__('os').environ['COURSE_STUDENT_ID'] = {self.student!r}"
        self.session.execute(identify, silent=True)
        with contextlib.suppress(Exception):  # before any of the student's code runs
            self.session.watch(self.equivalents)
        self.seconds["start"] += time.monotonic() - began
        for source in self.replay:
            run = self.session.execute(source)
            if run.stopped:
                raise KernelLost(f"replaying the earlier cells failed: {run.stopped}")
        return self.session

    def run_in_kernel(self, source: str, outcome: Outcome) -> list:
        """Run a cell in the kernel; a cell that breaks a cap is dropped from the replay."""
        if not source.strip():
            return []
        try:
            session = self.kernel()
        except KernelLost as exc:
            return [stream_output(f"[not run: {exc}]")]
        run = session.execute(source)
        if run.stopped:
            outcome.stopped_cells.append(run.stopped)
            return [*run.outputs, stream_output(f"[grading stopped this cell: {run.stopped}]")]
        self.replay.append(source)
        return run.outputs

    # -- the trusted side --------------------------------------------------------------------
    def run_trusted(self, source: str) -> None:
        """Run an instructor cell in the base namespace (its errors are the kernel's to show).

        It runs under the test cell's limits (:func:`~autograder.runtime.trusted.bounded`):
        an instructor's demo on the kernel's data may not outlast a cell or outgrow the budget.
        """
        try:
            session = self.kernel()
        except KernelLost:
            session = None
        code = compile(source, "<instructor cell>", "exec")
        seconds = session.limits.cell_seconds if session else self.cell_seconds
        try:
            with bounded(seconds), self.quiet(), contextlib.suppress(Exception):
                if session is None:
                    exec(code, self.base)
                    return
                with session.serving_cell():
                    bound = self.bind(session, self.base)
                    try:
                        exec(code, self.base)
                    finally:
                        for name in bound:
                            if self.base.get(name) is bound[name]:
                                del self.base[name]
        except (TrustedLimit, MemoryError):
            if session is not None:
                session.kill()  # it may have been answering a request: start afresh

    def run_test(self, gid: str) -> str | None:
        """Run the test cell ``gid`` here; the failure message, or ``None`` if it passed.

        The cell, and everything it calls back or fits, runs within the cell's time limit and
        memory budget (:func:`~autograder.runtime.trusted.bounded`); past either, the cell
        fails with the reason, the kernel is replaced, and grading goes on.
        """
        import course.grading as grading

        namespace = fresh_namespace(self.base)
        code = compile(self.cells[gid].source, f"<test cell {gid}>", "exec")
        session = None
        try:
            session = self.kernel()
            session.take_observed()  # what ran before this cell is not this cell's
            with bounded(session.limits.cell_seconds), session.serving_cell(), self.quiet():
                session.seed(cell_seed(gid))
                self.bind(session, namespace)
                with grading.grading_backend(Backend(self.student, session)):
                    exec(code, namespace)
        except KernelLost as exc:
            return f"{STOPPED}{exc}"
        except TrustedLimit as exc:
            session.kill()
            return f"{STOPPED}{exc}"
        except MemoryError:
            if session is not None:
                session.kill()
            return f"{STOPPED}the test cell needed more memory than grading allows"
        except SubmissionError as exc:
            return self.scrub(f"your code raised {one_line(exc, with_type=False)}")
        except RecursionError:
            return "RecursionError: maximum recursion depth exceeded"
        except Exception as exc:  # the test failed: its own message says what
            return self.scrub(one_line(exc))
        return None

    def observation(self, gid: str, observed: list[tuple[str, str, str, str]]) -> list[str]:
        """Why the test cell ``gid`` waits for review, from what the kernel's observer saw.

        Only the ``course`` reference (or a named equivalent) of the *same* name as a function
        the cell grades counts, however the student's code reached it; any alarm (something
        that blinds the observer, or a missing report) holds the cell too. What the student
        wrote or ran outside the graded calls never matters.
        """
        names = self.tested.get(gid, ())
        if not names:
            return []
        out = []
        for kind, ran, what, line in observed:
            if kind == "alarm":
                text = f"{', '.join(names)}: grading could not watch the call: {line}"
            elif any(ran == n or ran.startswith(n + ".") for n in names):
                where = f"called from {line}" if line else "the graded name is bound to it"
                text = f"{ran}: `{what}` ran during the graded call ({where})"
            else:
                continue
            if text not in out:
                out.append(text)
        return out[:10]

    def scrub(self, text: str) -> str:
        """``text`` with the names of the tests' own helpers replaced by a neutral word."""
        if not self.private:
            return text
        pattern = r"\b(?:" + "|".join(sorted(map(re.escape, self.private))) + r")\b"
        return re.sub(pattern, "a helper of the test", text)

    @contextlib.contextmanager
    def timed(self, phase: str):
        """Add the block's time to ``phase``, less any kernel start inside it."""
        began, starts = time.monotonic(), self.seconds["start"]
        try:
            yield
        finally:
            spent = time.monotonic() - began - (self.seconds["start"] - starts)
            self.seconds[phase] += spent

    def bind(self, session: KernelSession, namespace: dict) -> dict:
        """Bind the graded names the kernel defines into ``namespace``; return them."""
        found = session.lookup(self.names)
        for name, value in found.items():
            if isinstance(value, Handle) and name in self.policies:
                object.__setattr__(value, "_policy", self.policies[name])
        namespace.update(found)
        return found

    @contextlib.contextmanager
    def quiet(self):
        """Drop what trusted code prints: feedback shows messages, never output."""
        sink = io.StringIO()
        with (
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            yield


def failure_output(message: str) -> NotebookNode:
    name, _, value = message.partition(": ")
    return nbformat.v4.new_output("error", ename=name, evalue=value, traceback=[message])


def stream_output(text: str) -> NotebookNode:
    return nbformat.v4.new_output("stream", name="stderr", text=text + "\n")
