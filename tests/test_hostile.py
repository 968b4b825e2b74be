"""Hostile submissions graded in one run beside clean students, on the fixture course.

Every attack edits the ``relu`` answer (or the notebook around it) so that the cheat, if it
worked, would earn the relu test's point with a wrong ``relu`` (or ``mse``'s with a result
object). Test cells run in the grader's process, so whole classes of attacks gain nothing by
construction; each class is tried with submissions of our own (``tests/attacks.py``):

- **re-tagged or skipped cells**: test cells turned into raw, markdown or answer cells, given
  execution-skipping tags, renamed and repointed, or deleted; the answer tagged as setup;
- **reaching IPython, sys, os or frames** from allowed modules, and rewriting later cells;
- **patching modules**: NumPy, ``numpy.testing``, ``course``, ``course.grading``,
  ``sys.modules``;
- **result objects** with a lying ``__array__`` or ``__eq__``, a generator, huge or deeply
  nested results, and an always-equal answer;
- **the boundary itself**: a kernel that answers garbage, a malformed ``.npy``, nothing, or
  ``True`` to everything;
- **files and the machine** (stopped by the sandbox): reading the hidden tests or another
  student, writing the gradebook or outside, planting symlinks, replacing the kernel's
  connection file, filling the disk, exiting, looping, exhausting memory.

A graded function observed running the ``course`` reference of its own name, by any route
(``REVIEWED``), has its test cells held for review; code that reaches for the observer holds
every cell (``BLINDING``). Honest students in the same run score exactly as in a clean run.
"""

from __future__ import annotations

import contextlib
import csv
import re
import sqlite3
from pathlib import Path

import nbformat
import pytest
from attacks import (
    ALWAYS_EQUAL,
    BOUNDARY,
    REACH_AND_PATCH,
    RESULT_OBJECTS,
    REVIEWED,
    runtime_attacks,
    tampered,
    with_cell,
    with_relu,
)
from support import (
    ASSIGNMENT,
    FULL,
    grader,
    new_course,
    notebook,
    require_sandbox,
    results,
    submit,
)

from autograder import samples
from autograder.runtime.codec import Decoder, Encoder
from autograder.runtime.kernel import KernelSession, Limits
from autograder.runtime.runner import Runner, helper_names
from course.messages import one_line

pytestmark = [pytest.mark.autograder, pytest.mark.xdist_group("hostile")]

CHEATED = {**FULL, "test_relu": 0.0}
GRADE_ARGS = ("grade", "--jobs", "2", "--timeout", "5", "--cpu-seconds", "20")
ATTACKS = {**REACH_AND_PATCH, **RESULT_OBJECTS, **BOUNDARY}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory):
    """One grading run: two clean students and every attack; then an export."""
    require_sandbox()
    course = new_course(tmp_path_factory.mktemp("hostile") / "course")
    source = notebook(course, "source")
    submit(course, "ref", samples.to_bytes(source))
    submit(course, "bug-mse", samples.to_bytes(samples.mutants(source)["sum-instead-of-mean"]))
    for student, code in {**ATTACKS, **runtime_attacks(course), **REVIEWED}.items():
        submit(course, student, with_relu(source, code))
    submit(course, "always-equal", with_cell(source, "mse", ALWAYS_EQUAL))
    for student, data in tampered(source).items():
        submit(course, student, data)
    proc = grader(course, *GRADE_ARGS, "--student-timeout", "120")
    export = grader(course, "export")
    assert export.returncode == 0, export.stderr
    return course, proc


@pytest.fixture(scope="module")
def clean_scores(graded_clean) -> dict[str, dict]:
    """The same two clean students graded without attackers: the session's clean course."""
    course, proc = graded_clean
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = results(course)
    return {s: found[s]["scores"] for s in ("ref", "bug-mse")}


def test_clean_students_score_as_in_a_clean_run(hostile_run, clean_scores) -> None:
    course, proc = hostile_run
    found = results(course)
    assert {s: found[s]["scores"] for s in clean_scores} == clean_scores, proc.stdout
    assert clean_scores["ref"] == FULL
    assert not found["ref"]["flags"]


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_attack_gains_nothing(hostile_run, student: str) -> None:
    found = results(hostile_run[0])[student]
    assert found["status"] == "graded", found
    # an attack that breaks the kernel's side (an input transformer, a fake agent) is replayed
    # into every fresh kernel, so it may lose more than the part it aimed at, never gain
    assert all(found["scores"][k] <= v for k, v in CHEATED.items()), found
    if student in RESULT_OBJECTS or student.startswith("patch-"):
        assert found["scores"] == CHEATED, found
    held = any(f.startswith("review: ") for f in found["flags"])
    assert held == (student in BLINDING), found


BLINDING = {"frames", *BOUNDARY}
"""Attacks that reach for what observes the graded calls (frames, the grader's agent): besides
gaining nothing, they are held for review, by the static tripwire or by a missing report."""


def test_always_equal_answer_scores_nothing(hostile_run) -> None:
    found = results(hostile_run[0])["always-equal"]
    assert found["scores"] == {**FULL, "test_mse": 0.0}, found


@pytest.mark.parametrize("student", sorted(REVIEWED))
def test_using_the_reference_holds_back_that_part_only(hostile_run, student: str) -> None:
    found = results(hostile_run[0])[student]
    assert any(f.startswith("review: test_relu: relu: ") for f in found["flags"]), found
    assert any(f.startswith("withheld: 1 of 1 points on test_relu") for f in found["flags"]), found
    assert found["scores"] == CHEATED, found


def test_report_shows_the_offending_line(hostile_run) -> None:
    course, proc = hostile_run
    report = (course / "reports" / "report.html").read_text(encoding="utf-8")
    assert "return ca.relu(z)" in report
    assert "return ca.relu(z)" in proc.stdout  # the summary table
    with (course / "reports" / "grades.csv").open(encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert float(rows["wrap-ref"]["total"]) == sum(CHEATED.values())
    assert "withheld" in rows["wrap-ref"]["flags"]


@pytest.mark.parametrize(
    "student",
    [
        "read-source", "read-other", "write-gradebook", "write-outside",
        "plant-symlinks", "poison-connection-file", "fill-disk",
    ],
)  # fmt: skip
def test_sandbox_stops_file_attacks(hostile_run, student: str) -> None:
    require_sandbox()
    found = results(hostile_run[0])[student]
    assert found["status"] == "graded", found
    assert found["scores"] == CHEATED, found


def test_nothing_was_written_outside_scratch(hostile_run) -> None:
    require_sandbox()
    course = hostile_run[0]
    assert not (course / "planted.txt").exists()
    with sqlite3.connect(course / "gradebook.db") as db:
        manual = db.execute("select count(*) from grade where manual_score is not null")
        assert manual.fetchone()[0] == 0
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize(
    ("student", "scores"),
    [
        ("sys-exit", CHEATED),
        ("os-exit", CHEATED),
        ("loop", CHEATED),
        ("loop-ignoring-sigint", CHEATED),
        ("memory-bomb", FULL),
    ],
)
def test_machine_attacks_cost_only_their_author(hostile_run, student: str, scores) -> None:
    found = results(hostile_run[0])[student]
    assert found["status"] == "graded", found
    assert found["scores"] == scores, found


def test_memory_bomb_hits_the_cap(hostile_run) -> None:
    autograded = hostile_run[0] / "autograded" / "memory-bomb" / ASSIGNMENT / "exercises.ipynb"
    text = autograded.read_text(encoding="utf-8")
    assert "MemoryError" in text


RETAGGED = [
    "test-as-raw", "test-as-markdown", "test-as-answer", "test-skip-tags",
    "test-renamed-and-repointed", "relu-tagged-as-setup", "test-deleted",
]  # fmt: skip


@pytest.mark.parametrize("student", RETAGGED)
def test_retagged_or_skipped_cells_gain_nothing(hostile_run, student: str) -> None:
    found = results(hostile_run[0])[student]
    assert found["scores"] == CHEATED, found


# -- the names of the tests' own helpers never reach a student (no kernel) --------------------
HELPERS = """
class Memorizer:
    def __init__(self):
        self.table = {}

    def fit(self, X, y):
        return self


class Spy:
    log = []


def _knn(k):
    return k


_cache = {}
expected = 1
_ = 0
for _row in range(2):
    pass
"""
"""Helpers a test cell defines for itself, named like module 06's."""


def helpers_source(test: str = HELPERS) -> nbformat.NotebookNode:
    """A source notebook: setup, one graded function, a test cell ``test``, a broken test."""

    def cell(kind: str, gid: str, source: str) -> nbformat.NotebookNode:
        meta = {"grade_id": gid, "schema_version": 3, "task": False, "points": 1}
        meta |= {"solution": kind == "answer", "grade": kind == "test", "locked": kind != "answer"}
        return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        cell("setup", "setup", "import numpy as np\n_seed = 0\n\ndef make_data():\n    return 1\n"),
        cell("answer", "kfold_score", "def kfold_score(X, y):\n    _mine = 1\n    return _mine\n"),
        cell("test", "test_kfold_score", test),
        cell("test", "test_broken", "def (:\n"),
    ]
    return notebook


class NoKernel:
    """Stands in for a kernel where a test cell calls nothing of the submission's."""

    limits = Limits(cell_seconds=10.0)

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: None

    def serving_cell(self):
        return contextlib.nullcontext()

    def lookup(self, names: list[str]) -> dict:
        return {}


def failure_of(test: str, scrub: bool = True) -> str | None:
    """What the runner tells the student of the test cell ``test``, run here without a kernel
    (with ``scrub=False``, as it would without scrubbing: the control)."""
    runner = Runner(helpers_source(test), new_session=NoKernel)
    runner.base = {"__name__": "__main__", "__builtins__": __builtins__}
    runner.kernel = NoKernel
    if not scrub:
        runner.scrub = str
    return runner.run_test("test_kfold_score")


HELPER_NAME = re.compile(r"\b(?:Memorizer|Spy|_knn)\b")


def test_helper_names_are_the_names_test_cells_bind_for_themselves() -> None:
    names = helper_names(helpers_source())
    assert {"Memorizer", "Spy", "_knn", "_cache", "_row"} <= names
    # the graded function and its locals, the setup (students see it), a test's plain
    # variables and one-letter names are not the tests' helpers; a broken cell is passed over
    assert not names & {"kfold_score", "_mine", "_seed", "make_data", "np", "expected", "_"}


def test_scrub_takes_helper_names_out_of_python_s_own_messages() -> None:
    runner = Runner(helpers_source(), new_session=NoKernel)
    helpers: dict = {}
    exec(HELPERS, helpers)
    calls = [
        lambda: helpers["Memorizer"]().fit([1]),  # Memorizer.fit() missing 1 required ...
        lambda: helpers["Memorizer"](1),
        lambda: helpers["_knn"](1, 2),
        lambda: helpers["Spy"]().peek,  # 'Spy' object has no attribute 'peek'
    ]
    for call in calls:
        with pytest.raises(Exception) as caught:
            call()
        text = one_line(caught.value)
        assert HELPER_NAME.search(text), text  # the control: Python names them
        assert not HELPER_NAME.search(runner.scrub(text)), runner.scrub(text)
        assert "a helper of the test" in runner.scrub(text)
    other_words = "Spyglass, _knn2 and Memorizers stay"
    assert runner.scrub(other_words) == other_words


def test_a_failing_test_cell_tells_the_student_no_helper_name() -> None:
    assert HELPER_NAME.search(failure_of(f"{HELPERS}\n_knn(1, 2)\n", scrub=False))  # control
    lines = ["_knn(1, 2)", "Memorizer().fit([1])", "Spy().peek", "raise ValueError(repr(_knn))"]
    for line in lines:
        failure = failure_of(f"{HELPERS}\n{line}\n")
        assert failure is not None and not HELPER_NAME.search(failure), failure


def test_the_tests_own_messages_reach_the_student_as_written() -> None:
    message = "fit each fold's model exactly once"
    assert failure_of(f"{HELPERS}\nassert False, {message!r}\n") == f"AssertionError: {message}"


def test_a_callback_error_reaches_the_kernel_without_helper_names(tmp_path: Path) -> None:
    """The test's objects called back by the kernel: their errors are told without names."""
    runner = Runner(helpers_source(), new_session=NoKernel)
    helpers: dict = {}
    exec(HELPERS, helpers)
    calls = [
        (helpers["Memorizer"], "call", [1]),  # Memorizer.__init__() takes 1 positional ...
        (helpers["_knn"], "call", [1, 2]),
        (helpers["Memorizer"](), "getattr", []),  # no attribute 'peek'
        (helpers["Spy"](), "call", []),  # not callable
    ]

    def told(scrub) -> list[str]:
        session = KernelSession(tmp_path, Limits())
        session.scrub = scrub
        sent: list[dict] = []
        session.send = lambda message, values, roles=None: sent.append(message)
        for target, kind, args in calls:
            (_, tid) = session.export(target)
            encoder = Encoder()  # one message: args and kwargs share its memo
            message = {"target": tid, "kind": kind, "name": "peek"}
            message |= {"args": encoder.encode(args), "kwargs": encoder.encode({})}
            session.run_callback(message, Decoder(encoder.buffers, session.resolve))
        assert [m["op"] for m in sent] == ["raise"] * len(calls)
        return [m["text"] for m in sent]

    assert sum(bool(HELPER_NAME.search(t)) for t in told(str)) == 3  # the control: unscrubbed
    assert not any(HELPER_NAME.search(t) for t in told(runner.scrub)), told(runner.scrub)
