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

The only static rule, a graded function that uses the reference, holds back that function's
points for review. Honest students in the same run score exactly as in a clean run.
"""

from __future__ import annotations

import csv
import sqlite3

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
def clean_scores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """The same two clean students graded alone."""
    require_sandbox()
    course = new_course(tmp_path_factory.mktemp("calm") / "course")
    source = notebook(course, "source")
    submit(course, "ref", samples.to_bytes(source))
    submit(course, "bug-mse", samples.to_bytes(samples.mutants(source)["sum-instead-of-mean"]))
    proc = grader(course, *GRADE_ARGS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {s: r["scores"] for s, r in results(course).items()}


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
    assert not any(f.startswith("review: ") for f in found["flags"]), found


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
