"""The students' check before submitting tells the truth about what grading will do.

Each case writes a notebook where a student would save it (``<assignment>/exercises.ipynb``)
and runs the check cell's function on it, in this process, as the cell does in the kernel.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import nbformat
import pytest

import autograder.pipeline.submissions
from autograder import samples
from autograder.testing import edit_cell, exercises
from course import check, notebooks, submission

pytestmark = [pytest.mark.autograder, pytest.mark.xdist_group("check")]

MODULE = "02-forward"
REPO = Path(__file__).resolve().parent.parent


def saved(tmp_path: Path, content: bytes, name: str = "exercises.ipynb") -> Path:
    folder = tmp_path / MODULE
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return path


def release_bytes() -> bytes:
    return (REPO / "release" / MODULE / "exercises.ipynb").read_bytes()


def stamp() -> dict:
    return json.loads(release_bytes())["metadata"]["course"]


def test_it_is_the_graders_preflight() -> None:
    """One implementation: the check and grading call the same pre-flight function."""
    assert check.preflight is submission.preflight
    assert autograder.pipeline.submissions.preflight is submission.preflight


def test_untouched_release_is_accepted_and_nothing_passes(tmp_path: Path) -> None:
    report = check.check_notebook(saved(tmp_path, release_bytes()))
    assert report.rejection is None and report.repairs == [] and report.error is None
    assert report.parts and all(p.failure for p in report.parts)
    text = " ".join(report.text().split())
    questions = [p for p in report.parts if p.question]
    assert [p.name for p in questions] == ["test_answer_q1", "test_answer_q2", "test_answer_q3"]
    assert "Grading will accept this notebook as it is." in text
    assert (
        f"Visible checks: 0 of {len(report.parts) - 3} graded parts pass; 0 of 3 questions"
        " answered (graded after submission)." in text
    )
    assert f"{stamp()['hidden_checks']} hidden checks will run at grading" in text


def test_a_full_solution_still_hears_about_hidden_checks(tmp_path: Path) -> None:
    solved = nbformat.writes(exercises(MODULE, "source")).encode()
    report = check.check_notebook(saved(tmp_path, solved))
    assert report.parts and [p.failure for p in report.parts] == [None] * len(report.parts)
    text = report.text()
    assert stamp()["hidden_checks"] > 0
    assert f"{stamp()['hidden_checks']} hidden checks will run at grading" in text
    assert "passing here is not a grade" in " ".join(text.split())
    assert "all tests passed" not in text.lower() and "success" not in text.lower()
    # a multiple-choice answer of the right form is answered, never passed
    for name in ("test_answer_q1", "test_answer_q2"):
        assert f"  [answered] {name} (1 point): graded after submission" in text
        assert f"[pass] {name}" not in text
    assert "[pass] test_count_parameters (2 points)" in text


def test_a_typed_id_is_not_flagged_and_answers_are_not_passes(tmp_path: Path) -> None:
    """Module 07: an id typed as told is no repair; questions of the right form are answered."""
    notebook = nbformat.read(REPO / "release" / "07-optimizers" / "exercises.ipynb", as_version=4)
    answers = {
        "student_id": 'STUDENT_ID = student_id() or "ada"',
        "q_iterations": "answer_iterations = 1234",
        "q_adam_second_step": 'answer_adam_second_step = "b"',
        "q_schedule_units": 'answer_schedule_units = "a"',
    }
    for cell in notebook.cells:
        cell.source = answers.get(notebooks.grade_id(cell), cell.source)
    folder = tmp_path / "07-optimizers"
    folder.mkdir()
    (folder / "exercises.ipynb").write_text(nbformat.writes(notebook))
    report = check.check_notebook(folder / "exercises.ipynb")
    assert report.repairs == [] and report.error is None
    parts = {p.name: p for p in report.parts}
    assert parts["test_q_iterations"].question and parts["test_q_adam_second_step"].question
    assert not parts["test_adam_step"].question and parts["test_adam_step"].failure
    text = report.text()
    assert "Grading will accept this notebook as it is." in text
    assert "[answered] test_q_iterations (1 point): graded after submission" in text
    assert "[answered] test_q_adam_second_step (1 point): graded after submission" in text
    assert "[answered] test_q_schedule_units (1 point): graded after submission" in text
    assert "0 of 7 graded parts pass; 3 of 3 questions answered" in " ".join(text.split())
    assert "[pass]" not in text


def test_one_right_one_wrong_answer(tmp_path: Path) -> None:
    notebook = exercises(MODULE, "source")
    edit_cell(notebook, "count_parameters", "n_in * n_out + n_out", "n_in * n_out")
    report = check.check_notebook(saved(tmp_path, nbformat.writes(notebook).encode()))
    failed = {p.name: p.failure for p in report.parts if p.failure}
    assert list(failed) == ["test_count_parameters"], failed
    assert failed["test_count_parameters"].startswith("AssertionError")
    assert "[FAIL] test_count_parameters" in report.text()


def test_an_edited_test_cell_is_reported_and_checked_as_released(tmp_path: Path) -> None:
    """Weakening a visible test changes nothing: the check runs the release's test."""
    release = nbformat.reads(release_bytes().decode(), as_version=4)
    for cell in release.cells:
        if notebooks.grade_id(cell) == "test_dense_forward":
            cell.source = "pass"
    report = check.check_notebook(saved(tmp_path, nbformat.writes(release).encode()))
    assert any("restored the edited locked cell test_dense_forward" in r for r in report.repairs)
    assert next(p for p in report.parts if p.name == "test_dense_forward").failure


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda nb: samples.reordered(nb), "restored the release's order of cells"),
        (lambda nb: samples.without_cell(nb, "test_mlp_forward"), "restored from the release"),
        (lambda nb: samples.stripped_metadata(nb), "restored the stripped nbgrader metadata"),
    ],
    ids=["reordered", "deleted-test", "stripped-metadata"],
)
def test_repairs_are_the_ones_grading_makes(tmp_path: Path, damage, expected: str) -> None:
    release = nbformat.reads(release_bytes().decode(), as_version=4)
    content = damage(release)
    report = check.check_notebook(saved(tmp_path, content))
    assert report.rejection is None
    assert any(expected in r for r in report.repairs), report.repairs
    graded = submission.preflight(content, release)
    assert report.repairs == graded.repairs
    assert "Grading will accept this notebook after repairing it:" in report.text()


@pytest.mark.parametrize(
    "content", [b"", b'{"cells": [', b"\xff\xfe", b'{"nbformat": 4, "cells": []}'], ids=str
)
def test_a_damaged_file_is_rejected_as_grading_would(tmp_path: Path, content: bytes) -> None:
    release = nbformat.reads(release_bytes().decode(), as_version=4)
    report = check.check_notebook(saved(tmp_path, content))
    assert report.rejection and report.rejection == submission.preflight(content, release).rejection
    assert "Grading will REJECT this file" in report.text()
    assert report.parts == []


def test_a_wrong_file_name_is_told(tmp_path: Path) -> None:
    report = check.check_notebook(saved(tmp_path, release_bytes(), name="my answers.ipynb"))
    assert report.name_problem and "exercises.ipynb" in report.name_problem
    renamed = check.check_notebook(saved(tmp_path, release_bytes(), name="exercises (1).ipynb"))
    assert renamed.name_problem is None


def test_outside_jupyterlab_it_says_how_to_run_it(monkeypatch, capsys) -> None:
    """Plain Python or IPython: no session names the notebook, so the check shows the call."""
    monkeypatch.delenv(check.SESSION_ENV, raising=False)
    assert check.check_submission() is None
    printed = capsys.readouterr().out
    assert 'check_submission("exercises.ipynb")' in printed
    assert "from course.check import check_submission" in printed
    assert "Visible checks" not in printed


def test_a_relative_path_is_checked_from_the_working_folder(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """``check_submission("exercises.ipynb")`` in the assignment folder, as the hint says."""
    path = saved(tmp_path, release_bytes())
    monkeypatch.chdir(path.parent)
    monkeypatch.delenv(check.SESSION_ENV, raising=False)
    check.check_submission("exercises.ipynb")
    assert capsys.readouterr().out.strip() == check.check_notebook(path).text().strip()


def test_the_session_path_is_the_saved_notebook(tmp_path: Path, monkeypatch, capsys) -> None:
    path = saved(tmp_path, release_bytes())
    monkeypatch.setenv(check.SESSION_ENV, str(path))
    assert check.check_submission() is None  # the cell shows the printed report only
    printed = capsys.readouterr().out
    assert printed.startswith(f"Checked {path.name} as saved on disk")
    assert printed.strip() == check.check_notebook(path).text().strip()


def test_every_release_says_how_many_hidden_checks() -> None:
    """The number is written at generation time and matches the source's hidden blocks."""
    for path in sorted((REPO / "release").glob("*/exercises.ipynb")):
        stamped = json.loads(path.read_text())["metadata"]["course"]
        source = (REPO / "source" / path.parent.name / "exercises.ipynb").read_text()
        assert stamped["assignment"] == path.parent.name
        assert stamped["hidden_checks"] >= len(stamped["hidden_parts"]) > 0
        assert source.count("BEGIN HIDDEN TESTS") >= len(stamped["hidden_parts"])
        cells = json.loads(path.read_text())["cells"]
        assert notebooks.grade_id(cells[-1]) == notebooks.CHECK_CELL


@pytest.mark.bundle
def test_nbgrader_validate_in_the_student_environment_runs_the_check(tmp_path: Path) -> None:
    """Plain nbgrader says "Success!" when the visible tests pass; the students' runs the check.

    A full solution, so every visible test passes: the one case where nbgrader's validation
    would print "Success!" although hidden checks remain.
    """
    from student_env import student_env

    env = student_env()
    path = saved(tmp_path, nbformat.writes(exercises(MODULE, "source")).encode())
    done = subprocess.run(
        [str(env.bin / "nbgrader"), "validate", path.name],
        cwd=path.parent,
        env=env.environ(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    printed = done.stdout + done.stderr
    assert done.returncode == 0, printed
    assert "Success!" not in printed
    assert 'check_submission("exercises.ipynb")' in done.stdout.splitlines()[0]
    assert "Grading will accept this notebook as it is." in done.stdout
    assert "[pass] test_count_parameters (2 points)" in done.stdout
    assert "[answered] test_answer_q1 (1 point): graded after submission" in done.stdout
    assert f"{stamp()['hidden_checks']} hidden checks will run at grading" in done.stdout
