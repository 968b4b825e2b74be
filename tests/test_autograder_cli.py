"""End-to-end tests of ``grader`` on the fixture course, through the command line."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from support import (
    ASSIGNMENT,
    CLEAN_EXPECTED,
    FULL,
    ZERO,
    copy_course,
    grader,
    new_course,
    notebook,
    results,
    submit,
    submit_clean,
    unconfined_args,
)

from autograder import samples
from autograder.pipeline.release import secret_lines
from autograder.testing import edit_cell

pytestmark = [pytest.mark.autograder, pytest.mark.xdist_group("autograder_cli")]

EXPECTED_VALUES = ("7.25", "8.5625", "0.09003057", "0.66524096")


@pytest.fixture(scope="module")
def clean_run(graded_clean) -> tuple[Path, subprocess.CompletedProcess]:
    """The session's clean graded course (``tests/conftest.py``), shared with other modules."""
    return graded_clean


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    course = new_course(tmp_path_factory.mktemp("mixed") / "course")
    submit_clean(course)
    source = notebook(course, "source")
    submit(course, "broken-json", samples.broken_json(source))
    submit(course, "empty", b"")
    submit(course, "v3", samples.nbformat3(source))
    submit(course, "stripped", samples.stripped_metadata(source), name="exercises (1).ipynb")
    submit(course, "edited-meta", samples.edited_metadata(source))
    submit(course, "dup-ids", samples.duplicated_ids(source))
    submit(course, "reordered", samples.reordered(source))
    submit(course, "no-test-cell", samples.without_cell(source, "test_relu"))
    submit(course, "no-answer", samples.without_cell(source, "relu"))
    submit(course, "bad-stamp", samples.to_bytes(source))
    (course / "submitted" / "bad-stamp" / ASSIGNMENT / "timestamp.txt").write_text("yesterday-ish")
    return course, grader(course, "grade", "--jobs", "2")


def test_clean_run_scores_each_part(clean_run) -> None:
    course, proc = clean_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {s: r["scores"] for s, r in results(course).items()} == CLEAN_EXPECTED
    assert "4 submission(s); 0 need(s) attention" in proc.stdout


def test_broken_inputs_do_not_change_other_students_scores(clean_run, mixed_run) -> None:
    mixed = results(mixed_run[0])
    clean = results(clean_run[0])
    assert {s: mixed[s]["scores"] for s in clean} == {s: r["scores"] for s, r in clean.items()}


@pytest.mark.parametrize(
    ("student", "scores", "flag"),
    [
        ("v3", FULL, "repaired: converted from nbformat 3"),
        ("stripped", FULL, "renamed: graded exercises (1).ipynb"),
        ("stripped", FULL, "repaired: restored the stripped nbgrader metadata of cells"),
        ("edited-meta", FULL, "repaired: restored the edited nbgrader metadata of cells"),
        ("dup-ids", FULL, "repaired: renumbered duplicated cell ids"),
        ("reordered", FULL, "repaired: restored the release's order of cells"),
        ("no-test-cell", FULL, "repaired: restored from the release the deleted cell test_relu"),
        ("no-answer", {**FULL, "test_relu": 0.0}, "repaired: restored from the release"),
        ("bad-stamp", FULL, "repaired: ignored an unreadable timestamp.txt"),
    ],
)
def test_broken_input_is_repaired(mixed_run, student: str, scores: dict, flag: str) -> None:
    result = results(mixed_run[0])[student]
    assert result["status"] == "graded"
    assert result["scores"] == scores
    assert any(f.startswith(flag) for f in result["flags"]), result["flags"]


@pytest.mark.parametrize(
    ("student", "reason"), [("broken-json", "invalid JSON"), ("empty", "empty file")]
)
def test_unreadable_input_is_rejected_with_zero(mixed_run, student: str, reason: str) -> None:
    course, proc = mixed_run
    result = results(course)[student]
    assert result["status"] == "rejected"
    assert result["scores"] == ZERO
    assert reason in result["flags"][0]
    assert proc.returncode == 1
    assert f"rejected: {result['flags'][0].split(': ', 1)[1]}" in proc.stdout


def test_gradebook_is_intact_with_one_submission_each(mixed_run) -> None:
    course, _ = mixed_run
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
        counts = db.execute(
            "select student_id, count(*) from submitted_assignment group by student_id"
        ).fetchall()
    assert len(counts) == len(results(course)) == 14
    assert {c for _, c in counts} == {1}


def test_second_run_has_nothing_to_do(clean_run, tmp_path: Path) -> None:
    shared, first = clean_run
    course = copy_course(shared, tmp_path / "course")
    before = graded_at(course)
    again = grader(course, "grade", "--jobs", "2")
    assert again.returncode == 0
    assert again.stdout == first.stdout
    assert graded_at(course) == before


def graded_at(course: Path) -> list[tuple[str, str]]:
    """When each student was last graded."""
    with sqlite3.connect(course / "gradebook.db") as db:
        return sorted(db.execute("select student, graded_at from grader_results").fetchall())


def test_feedback_shows_failures_but_no_hidden_tests(mixed_run) -> None:
    course, _ = mixed_run
    proc = grader(course, "feedback")
    assert proc.returncode == 0, proc.stderr
    pages = {p.parts[-3]: p.read_text() for p in (course / "feedback").rglob("*.html")}
    assert len(pages) == 14
    secrets = secret_lines(course / "source" / ASSIGNMENT / "exercises.ipynb")
    assert secrets
    for student, page in pages.items():
        leaked = [s for s in (*secrets, *EXPECTED_VALUES, "HIDDEN TESTS", "Traceback") if s in page]
        assert not leaked, f"{student}'s feedback shows {leaked}"
    assert "AssertionError: relu must never be negative" in pages["bug-relu"]
    assert "AssertionError" in pages["bug-relu"]
    assert "invalid JSON" in pages["broken-json"]


def test_export_writes_sorted_csv_and_report(mixed_run) -> None:
    course, _ = mixed_run
    proc = grader(course, "export", "--output", str(course / "out"))
    assert proc.returncode == 0, proc.stderr
    with (course / "out" / "grades.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["student"] for r in rows] == sorted(r["student"] for r in rows)
    ref = next(r for r in rows if r["student"] == "ref")
    assert ref[f"{ASSIGNMENT}:test_softmax"] == "2" and ref["total"] == "5" and ref["max"] == "5"
    assert "invalid JSON" in next(r for r in rows if r["student"] == "broken-json")["flags"]
    report = (course / "out" / "report.html").read_text()
    assert "Hardest parts" in report
    assert (course / "out" / f"{ASSIGNMENT}-distributions.png").stat().st_size > 1000


def test_killed_run_resumes_without_duplicates(course: Path) -> None:
    source = samples.to_bytes(notebook(course, "source"))
    release = samples.to_bytes(notebook(course, "release"))
    students = {f"s{i}": (source if i % 2 else release) for i in range(8)}
    for student, data in students.items():
        submit(course, student, data)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("NN_COURSE_DB_URL", None)
    cmd = [
        sys.executable,
        "-m",
        "autograder.cli",
        "grade",
        "--jobs",
        "1",
        "--course-dir",
        str(course),
        *unconfined_args(),
    ]
    run = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and run.poll() is None:
        if (course / "gradebook.db").exists() and len(safe_results(course)) >= 2:
            break
        time.sleep(0.2)
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert 2 <= len(safe_results(course)) < len(students)
    proc = grader(course, "grade", "--jobs", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    final = results(course)
    assert {s: r["scores"] for s, r in final.items()} == {
        s: FULL if data == source else ZERO for s, data in students.items()
    }
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert db.execute("select count(*) from submitted_assignment").fetchone()[0] == 8


def safe_results(course: Path) -> dict[str, dict]:
    """Results so far, or none while the gradebook is still being created."""
    try:
        return results(course)
    except sqlite3.OperationalError:
        return {}


LOOP = "while True:\n        pass\n    return np.maximum"
STUBBORN = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"


def test_infinite_loops_are_bounded(course: Path) -> None:
    submit(course, "ref", samples.to_bytes(notebook(course, "source")))
    loop = edit_cell(notebook(course, "source"), "relu", "return np.maximum", LOOP)
    submit(course, "loop", samples.to_bytes(loop))
    stubborn = edit_cell(notebook(course, "source"), "relu", "def relu", STUBBORN + "def relu")
    submit(course, "stubborn", samples.to_bytes(stubborn))
    start = time.monotonic()
    proc = grader(course, "grade", "--jobs", "2", "--timeout", "2", "--student-timeout", "15")
    assert time.monotonic() - start < 240  # about 25 s on an idle 2-core machine
    assert proc.returncode == 1
    final = results(course)
    assert final["ref"]["scores"] == FULL
    assert final["loop"]["scores"] == {**FULL, "test_relu": 0.0}
    assert any(f.startswith("stopped: test_relu: ") for f in final["loop"]["flags"])
    # the stubborn cell is stopped and left out of the replay: relu is never defined
    assert final["stubborn"]["scores"] == {**FULL, "test_relu": 0.0}
    assert final["stubborn"]["status"] == "graded"
    assert any(f.startswith("stopped: ") for f in final["stubborn"]["flags"])


def test_failed_grading_is_retried_and_nothing_else(course: Path) -> None:
    submit(course, "ref", samples.to_bytes(notebook(course, "source")))
    assert grader(course, "grade", "--jobs", "2").returncode == 0
    crash = edit_cell(
        notebook(course, "source"), "relu", "def relu", "import os\nos._exit(0)\ndef relu"
    )
    submit(course, "crash", samples.to_bytes(crash))
    # a kernel that cannot start is the machine's fault: the student's grading failed
    first = grader(course, "grade", "--jobs", "2", "--memory-mb", "1")
    assert first.returncode == 1, first.stdout + first.stderr
    assert results(course)["crash"]["status"] == "failed"
    stamps = dict(graded_at(course))
    again = grader(course, "grade", "--jobs", "2")
    assert again.returncode == 1  # the crash's stopped cell is flagged
    retried = dict(graded_at(course))
    assert retried["ref"] == stamps["ref"]
    assert retried["crash"] != stamps["crash"]
    found = results(course)["crash"]
    assert found["status"] == "graded"
    assert found["scores"] == {**FULL, "test_relu": 0.0}


def test_collect_takes_only_exercise_notebooks(course: Path, tmp_path: Path) -> None:
    data = samples.to_bytes(notebook(course, "source"))
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("alice_exercises.ipynb", data)
        zf.writestr("bob_exercises (1).ipynb", data)
        zf.writestr("carol_lecture.ipynb", data)
        zf.writestr(zipfile.ZipInfo("dave_exercises (1).ipynb", (2024, 1, 1, 0, 0, 0)), b"old")
        zf.writestr(zipfile.ZipInfo("dave_exercises.ipynb", (2024, 1, 2, 0, 0, 0)), data)
        zf.writestr("__MACOSX/._alice_exercises.ipynb", b"junk")
        zf.writestr("exercises.ipynb", data)
        zf.writestr("erin/exercises.ipynb", data)
    proc = grader(course, "collect", str(archive), "--assignment", ASSIGNMENT)
    assert proc.returncode == 0, proc.stderr
    submitted = sorted(
        p.relative_to(course / "submitted").as_posix()
        for p in (course / "submitted").rglob("*.ipynb")
    )
    assert submitted == [
        f"{s}/{ASSIGNMENT}/exercises.ipynb" for s in ("alice", "bob", "dave", "erin")
    ]
    assert (course / "submitted" / "dave" / ASSIGNMENT / "exercises.ipynb").read_bytes() == data
    out = proc.stdout
    assert "imported 4, rejected 4" in out
    assert "carol_lecture.ipynb: not the exercises notebook" in out
    assert "dave_exercises (1).ipynb: superseded by dave_exercises.ipynb" in out
    assert "exercises.ipynb: no student id in the file name" in out
    assert "bob: bob_exercises (1).ipynb (renamed)" in out


def test_release_check_catches_out_of_date_and_leaks(course: Path) -> None:
    assert grader(course, "release", "--check").returncode == 0
    released = course / "release" / ASSIGNMENT / "exercises.ipynb"
    text = released.read_text()
    released.write_text(text.replace("relu must never be negative", "relu must be positive"))
    proc = grader(course, "release", "--check")
    assert proc.returncode == 1
    assert (
        f"release/{ASSIGNMENT}/exercises.ipynb: cell 4 (test_relu) differs in source" in proc.stdout
    )
    (course / "release" / ASSIGNMENT / "solutions.py").write_text("x = 1\n")
    proc = grader(course, "release")
    assert proc.returncode == 0, proc.stdout
    assert not (course / "release" / ASSIGNMENT / "solutions.py").exists()
    assert released.read_text() == text


def test_malformed_files_are_rejected_one_by_one_and_stop_no_run(course: Path) -> None:
    submit(course, "ref", samples.to_bytes(notebook(course, "source")))
    huge_int = edit_cell(
        notebook(course, "source"), "relu", "def relu", "x = 1" + "0" * 100_000 + "\ndef relu"
    )
    submit(course, "huge-int", samples.to_bytes(huge_int))
    submit(course, "deep", ("[" * 200_000).encode())
    submit(course, "truncated", samples.to_bytes(notebook(course, "source"))[:500])
    wide = notebook(course, "source")
    wide.cells += [nbformat.v4.new_code_cell("pass") for _ in range(30_000)]
    submit(course, "cells", samples.to_bytes(wide))
    proc = grader(course, "grade", "--jobs", "2")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    found = results(course)
    assert found["ref"]["scores"] == FULL
    for student in ("deep", "truncated", "cells"):
        assert found[student]["status"] == "rejected", found[student]
        assert all("\n" not in flag for flag in found[student]["flags"])
    assert found["huge-int"]["status"] == "graded"
    assert found["huge-int"]["scores"] == {**FULL, "test_relu": 0.0}
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
