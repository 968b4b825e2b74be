"""nbgrader's own entry points on a course that ``grader`` grades refuse and change nothing.

The fixture course is graded with ``grader grade``, given feedback with ``grader feedback``
and one manual score (as formgrader's manual grading writes it). Then ``nbgrader autograde``
and ``nbgrader generate_feedback`` run through the CLI, and formgrader's Autograde and
Generate Feedback buttons through ``NbGraderAPI``: each refuses with a one-line reason that
names ``grader``, and the gradebook, ``autograded/`` and ``feedback/`` stay as they were.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from support import (
    ASSIGNMENT,
    CLEAN_EXPECTED,
    FULL,
    copy_course,
    grader,
    results,
)

from autograder.nbgrader_hooks import AUTOGRADE_REFUSED, FEEDBACK_REFUSED
from autograder.pipeline.release import secret_lines

pytestmark = [pytest.mark.autograder, pytest.mark.xdist_group("nbgrader_doors")]

MANUAL = 0.5  # ref's test_relu, entered by hand in formgrader


def nbgrader_env() -> dict[str, str]:
    """The environment with this interpreter's ``bin/`` first on PATH (nbgrader needs alembic)."""
    env = {k: v for k, v in os.environ.items() if k != "NN_COURSE_DB_URL"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(course: Path, *command: str) -> subprocess.CompletedProcess:
    """Run ``command`` in the course folder, as an instructor would."""
    return subprocess.run(
        command,
        cwd=course,
        env=nbgrader_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def press_buttons(course: Path) -> dict:
    """Formgrader's Autograde and Generate Feedback buttons on ``ref``; what each returned.

    Formgrader's handlers build ``NbGraderAPI`` on the course's configuration and call it in
    the server's process; so does this.
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    return {
        "autograde": api.autograde(ASSIGNMENT, "ref"),
        "feedback_all": api.generate_feedback(ASSIGNMENT),
        "feedback_one": api.generate_feedback(ASSIGNMENT, "ref"),
    }


def grade_by_hand(course: Path, student: str, name: str, score: float) -> None:
    """Enter ``score`` for ``name`` as formgrader's manual grading does (its GradeHandler)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "fixture-course") as gb:
        graded = gb.find_submission_notebook("exercises", ASSIGNMENT, student)
        grade = next(g for g in graded.grades if g.name == name)
        grade.manual_score = score
        grade.needs_manual_grade = False
        gb.db.commit()


def state(course: Path) -> dict:
    """Everything the grader wrote: the gradebook's rows and every output file's digest."""
    with sqlite3.connect(course / "gradebook.db") as db:
        check = db.execute("pragma integrity_check").fetchone()[0]
        dump = list(db.iterdump())
    files = {
        str(p.relative_to(course)): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in ("autograded", "feedback", "submitted")
        for p in sorted((course / folder).rglob("*"))
        if p.is_file()
    }
    return {"integrity": check, "gradebook": dump, "files": files}


def scores(course: Path) -> dict[str, dict[str, tuple]]:
    """nbgrader's (auto_score, manual_score) of every grade, per student."""
    with sqlite3.connect(course / "gradebook.db") as db:
        rows = db.execute(
            "select sa.student_id, c.name, g.auto_score, g.manual_score from grade g"
            " join base_cell c on g.cell_id = c.id"
            " join submitted_notebook sn on g.notebook_id = sn.id"
            " join submitted_assignment sa on sn.assignment_id = sa.id"
        ).fetchall()
    out: dict[str, dict[str, tuple]] = {}
    for student, name, auto, manual in rows:
        out.setdefault(student, {})[name] = (auto, manual)
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, graded_clean) -> tuple[Path, dict]:
    """A course graded by ``grader`` (a copy of the session's clean course), with feedback
    and one manual score; its state."""
    shared, proc = graded_clean
    assert proc.returncode == 0, proc.stdout + proc.stderr
    course = copy_course(shared, tmp_path_factory.mktemp("doors") / "course")
    assert grader(course, "feedback").returncode == 0
    grade_by_hand(course, "ref", "test_relu", MANUAL)
    return course, state(course)


def test_grader_scores_and_manual_score_are_in_place(graded) -> None:
    course, before = graded
    assert before["integrity"] == "ok"
    assert {s: r["scores"] for s, r in results(course).items()} == CLEAN_EXPECTED
    assert scores(course)["ref"]["test_relu"] == (FULL["test_relu"], MANUAL)
    assert scores(course)["bug-mse"]["test_mse"] == (0.0, None)
    assert any(name.startswith("autograded/") for name in before["files"])
    assert any(name.startswith("feedback/") for name in before["files"])


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (("autograde", ASSIGNMENT, "--force"), AUTOGRADE_REFUSED),
        (("generate_feedback", ASSIGNMENT, "--force"), FEEDBACK_REFUSED),
    ],
    ids=["autograde", "generate_feedback"],
)
def test_nbgrader_cli_refuses_and_changes_nothing(graded, command, message) -> None:
    course, before = graded
    proc = run(course, str(Path(sys.executable).parent / "nbgrader"), *command)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and errors[0].endswith(message), proc.stderr
    assert "`grader " in errors[0]
    assert state(course) == before


def test_formgrader_buttons_refuse_and_change_nothing(graded) -> None:
    course, before = graded
    answers = press_buttons(course)
    for name, message in (
        ("autograde", AUTOGRADE_REFUSED),
        ("feedback_all", FEEDBACK_REFUSED),
        ("feedback_one", FEEDBACK_REFUSED),
    ):
        answer = answers[name]
        assert answer["success"] is False, answer
        assert answer["log"].strip() == f"[ERROR] {message}", answer["log"]
        assert answer["error"].strip().splitlines()[-1].endswith(message)
    assert state(course) == before


def test_feedback_shows_no_hidden_tests(graded) -> None:
    course, _ = graded
    secrets = secret_lines(course / "source" / ASSIGNMENT / "exercises.ipynb")
    assert secrets
    pages = [p for p in (course / "feedback").rglob("*") if p.is_file()]
    assert len(pages) == len(CLEAN_EXPECTED)
    for page in pages:
        text = page.read_text(errors="replace")
        assert not [s for s in secrets if s in text], page
