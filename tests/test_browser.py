"""The student's and the instructor's JupyterLab in a real browser (Debian's Chromium).

Instructor: a scratch course with two graded students on 02-forward (the reference solution
and a plausible bug from ``tests/bugs/bugs_02.py``), names in the gradebook, ``grader grade``
and ``grader feedback`` run. Formgrader lists the assignment on first open, shows both
students with their names and scores, and our feedback page opens; its Autograde and Generate
Feedback buttons, clicked for real, refuse, change no score and show no hidden test.

Student (the student environment of ``tests/student_env.py``): a lecture runs with plots and
no error; an exercise notebook with one right and one wrong answer shows the wrong one's
assertion message only; the check cell at its end reports the visible checks and that hidden
checks run at grading; the Assignment List fetches 02-forward from a test exchange; formgrader
and Create Assignment are nowhere.

They are one xdist group, meant for one worker: one browser, one scratch course and one
JupyterLab per side, in module-scoped fixtures (tests spread over two workers still pass, each
worker building its own). About two minutes on 2 cores with the student environment built.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from browser_support import (
    JupyterLab,
    chromium,
    lab_commands,
    open_lab,
    page_text,
    require_browser,
    visit,
)
from student_env import StudentEnv, student_env
from support import specs, unconfined_args

from autograder.nbgrader_hooks import AUTOGRADE_REFUSED, FEEDBACK_REFUSED
from autograder.testing import edit_cell

pytest_plugins = ["browser_support"]
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = "02-forward"
LECTURE = "03-losses"  # the fastest lecture: 7-9 s in a kernel here (01: 8-10, 02: 10-14, 04: 7-11)
COURSE_ID = "nn-course"
INSTRUCTOR_BIN = Path(sys.executable).parent
STUDENTS = {  # id: (first name, last name, email)
    "ada": ("Ada", "Lovelace", "ada@example.org"),
    "ben": ("Ben", "Bitdiddle", "ben@example.org"),
}
BUG = "dense_forward forgets the bias"  # ben's, from tests/bugs/bugs_02.py
CELL_TIMEOUT = 120_000  # ms: one notebook's Run All, or one formgrader request


# --- the instructor's environment ----------------------------------------------------------------


def instructor_environ(**extra: str) -> dict[str, str]:
    """The instructor's environment: this venv's ``bin/`` first (nbgrader needs alembic)."""
    env = {k: v for k, v in os.environ.items() if k not in ("NN_COURSE_DB_URL", "MPLBACKEND")}
    env["PATH"] = f"{INSTRUCTOR_BIN}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **extra}


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """One headless Chromium for the module: a persistent context on a fresh profile."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = chromium(playwright, tmp_path_factory.mktemp("chromium-profile"))
        context.set_default_timeout(60_000)  # generous: CI runs these beside other tests
        for blank in context.pages:  # the tab a persistent context opens with
            blank.close()
        yield context
        context.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh tab, closed after the test (its screenshot is kept if the test fails)."""
    tab = browser.new_page()
    yield tab
    tab.close()


def lab_server(root: Path, bin_dir: Path, env: dict[str, str], state: Path) -> JupyterLab:
    """A JupyterLab in ``root`` whose settings and workspaces live in ``state``."""
    for name in ("settings", "workspaces", "runtime", "config"):
        (state / name).mkdir(parents=True, exist_ok=True)
    # nothing from the home folder's ~/.jupyter: an empty config folder unless one is given
    env = {"JUPYTER_CONFIG_DIR": str(state / "config"), **env}
    env["JUPYTER_RUNTIME_DIR"] = str(state / "runtime")
    env.pop("MPLBACKEND", None)  # `make` exports Agg: plots would not reach the page
    return JupyterLab(
        bin_dir,
        root,
        env,
        state / "server.log",
        extra_args=[
            f"--LabApp.user_settings_dir={state / 'settings'}",
            f"--LabApp.workspaces_dir={state / 'workspaces'}",
        ],
    )


@dataclass
class Course:
    path: Path
    hidden: list[str]  # distinctive lines of the hidden tests


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Course:
    """A scratch course: 02-forward graded for ada (reference) and ben (a bug), with feedback."""
    path = tmp_path_factory.mktemp("instructor") / "course"
    path.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", path)
    for step in ("source", "release"):
        shutil.copytree(REPO / step / ASSIGNMENT, path / step / ASSIGNMENT)
    source = nbformat.read(path / "source" / ASSIGNMENT / "exercises.ipynb", as_version=4)
    submit(path, "ada", source)
    submit(path, "ben", edit_cell(nbformat.from_dict(source), **bug_edit(BUG)))
    roster = path / "students.csv"
    rows = [f"{s},{first},{last},{email}" for s, (first, last, email) in STUDENTS.items()]
    roster.write_text("\n".join(["id,first name,last name,email", *rows]) + "\n")
    for command in (
        ("roster", str(roster)),
        ("grade", "--jobs", "1", "--no-progress", *unconfined_args()),
        ("feedback",),
    ):
        run = grader(path, *command)
        assert run.returncode == 0, run.stdout + run.stderr
    hidden = hidden_lines(path)
    assert len(hidden) >= 5
    return Course(path, hidden)


def submit(course: Path, student: str, notebook: nbformat.NotebookNode) -> None:
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / "exercises.ipynb")


def bug_edit(name: str) -> dict[str, str]:
    """The edit of the bug called ``name`` in ``tests/bugs/bugs_02.py``."""
    bug = next(b for b in specs("bugs")[ASSIGNMENT] if b["name"] == name)
    return {"cell_grade_id": bug["cell"], "old": bug["old"], "new": bug["new"]}


def grader(course: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(INSTRUCTOR_BIN / "grader"), *args, "--course-dir", str(course)],
        env=instructor_environ(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def hidden_lines(course: Path, min_length: int = 25) -> list[str]:
    """Lines between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` of the source,
    long enough to be distinctive, that appear nowhere in the release."""
    source = course / "source" / ASSIGNMENT / "exercises.ipynb"
    visible = (course / "release" / ASSIGNMENT / "exercises.ipynb").read_text(encoding="utf-8")
    found = []
    for cell in nbformat.read(source, as_version=4).cells:
        inside = False
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside and len(line.strip()) >= min_length:
                text = line.strip()
                if text not in visible and text not in found:
                    found.append(text)
    return found


def gradebook_state(course: Path) -> dict:
    """Every score nbgrader's gradebook holds, and the digest of every file grader wrote."""
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        for student in STUDENTS:
            submission = gb.find_submission(ASSIGNMENT, student)
            scores[student] = {
                "score": submission.score,
                "max": submission.max_score,
                "grades": sorted(
                    (g.name, g.auto_score, g.manual_score)
                    for nb in submission.notebooks
                    for g in nb.grades
                ),
            }
    files = {
        str(p.relative_to(course)): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in ("autograded", "feedback")
        for p in sorted((course / folder).rglob("*"))
        if p.is_file()
    }
    return {"scores": scores, "files": files}


def exported_scores(course: Path) -> dict[str, dict[str, str]]:
    """``grader export``'s CSV: each student's row (points per test cell, total, flags)."""
    run = grader(course, "export")
    assert run.returncode == 0, run.stdout + run.stderr
    table = (course / "reports" / "grades.csv").read_text(encoding="utf-8")
    return {row["student"]: row for row in csv.DictReader(io.StringIO(table))}


@pytest.fixture(scope="module")
def instructor_lab(course: Course, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    lab = lab_server(
        course.path, INSTRUCTOR_BIN, instructor_environ(), tmp_path_factory.mktemp("lab-i")
    )
    yield lab
    lab.stop()


@pytest.fixture(scope="module")
def exchange() -> Iterator[Path]:
    """A fresh exchange into which the instructor released 02-forward.

    ``nbgrader release_assignment`` with the instructor's tools and the course's
    ``nbgrader_config.py`` (the exchange from ``$NN_COURSE_EXCHANGE``), in a folder of its own
    with the committed release: it needs no gradebook, so the student's tests need no graded
    course.
    """
    top = Path(tempfile.mkdtemp(prefix="nn-browser-exchange-"))
    root, course = top / "exchange", top / "instructor"
    root.mkdir()
    root.chmod(0o777)  # what nbgrader release_assignment insists on
    course.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", course)
    shutil.copytree(REPO / "release" / ASSIGNMENT, course / "release" / ASSIGNMENT)
    run = subprocess.run(
        [str(INSTRUCTOR_BIN / "nbgrader"), "release_assignment", ASSIGNMENT],
        cwd=course,
        env=instructor_environ(NN_COURSE_EXCHANGE=str(root)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    yield root
    shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="module")
def student() -> StudentEnv:
    """The student environment: a fresh venv with the student bundle installed."""
    return student_env()


@pytest.fixture(scope="module")
def student_lab(student: StudentEnv, exchange: Path, tmp_path_factory) -> Iterator:
    """The student's JupyterLab in a folder of their own with the lecture, exchange set."""
    home = tmp_path_factory.mktemp("student")
    work = home / "work"
    work.mkdir()
    shutil.copytree(student.bundle / LECTURE, work / LECTURE)
    env = student.environ(NN_COURSE_EXCHANGE=str(exchange))  # its own config is in the venv
    lab = lab_server(work, student.bin, env, home / "lab")
    yield lab
    lab.stop()


# --- helpers on pages ---------------------------------------------------------------------------


def run_all(page) -> None:
    """Run ▸ Run All Cells from the menu bar, and wait until every code cell has run."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    page.wait_for_function(
        """() => {
            const panel = window.jupyterapp.shell.currentWidget;
            const kernel = panel.sessionContext.session?.kernel;
            if (!kernel || kernel.status !== 'idle') return false;
            const cells = Array.from(panel.content.model.cells);
            return cells.filter(c => c.type === 'code').every(
                c => c.executionCount !== null && c.executionState !== 'running');
        }""",
        timeout=CELL_TIMEOUT,
        polling=250,
    )


def open_notebook(page, lab: JupyterLab, path: str) -> None:
    """Open ``path`` in JupyterLab and wait for its kernel."""
    open_lab(page, lab, path)
    page.wait_for_function(
        """() => {
            const panel = window.jupyterapp.shell.currentWidget;
            return panel && panel.sessionContext
                && panel.sessionContext.session?.kernel?.status === 'idle';
        }""",
        timeout=60_000,
        polling=250,
    )


def student_row(page, student: str):
    """The row of a formgrader table whose cell reads exactly ``student``."""
    cell = page.locator("td", has_text=re.compile(f"^{re.escape(student)}$"))
    return page.locator("tbody tr").filter(has=cell)


# --- instructor ---------------------------------------------------------------------------------


def test_formgrader_shows_graded_students_and_feedback(page, instructor_lab, course) -> None:
    open_lab(page, instructor_lab)
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile("^Formgrader$")).click()
    frame = page.frame_locator("iframe").first
    row = frame.locator("tr", has_text=ASSIGNMENT)
    row.wait_for(timeout=CELL_TIMEOUT)
    assert not frame.get_by_text("Loading, please wait").is_visible()
    assert row.locator("td").nth(0).inner_text().strip() == ASSIGNMENT

    state = gradebook_state(course.path)
    visit(page, instructor_lab, f"/formgrader/manage_submissions/{ASSIGNMENT}")
    for student, (first, last, _) in STUDENTS.items():
        line = student_row(page, student)
        line.wait_for()
        score = state["scores"][student]["score"]
        assert f"{last}, {first}" in line.inner_text()
        assert f"{score:g} / " in line.inner_text()
    assert state["scores"]["ada"]["score"] > state["scores"]["ben"]["score"]

    visit(page, instructor_lab, "/formgrader/manage_students")
    for student, (first, last, _) in STUDENTS.items():
        line = page.locator("tbody tr", has_text=f"{last}, {first}")
        line.wait_for()
        assert f"{state['scores'][student]['score']:g} / " in line.inner_text()

    visit(page, instructor_lab, f"/files/feedback/ben/{ASSIGNMENT}/exercises.html")
    text = page.locator("body").inner_text()
    score, top = state["scores"]["ben"]["score"], state["scores"]["ben"]["max"]
    assert re.search(rf"\b{score:g}\s*/\s*{top:g} points", text), text[:500]
    assert "AssertionError: dense_forward computes x @ W + b" in text
    shown = page_text(page)
    assert "_out, _cache = dense_forward(_x, _W, _b)" in shown  # the visible test is there
    assert not [line for line in course.hidden if line in shown]


def test_formgrader_buttons_refuse_and_change_nothing(page, instructor_lab, course) -> None:
    before, exported = gradebook_state(course.path), exported_scores(course.path)
    seen = []

    visit(page, instructor_lab, f"/formgrader/manage_submissions/{ASSIGNMENT}")
    for student in STUDENTS:
        student_row(page, student).locator(".autograde a").click()
        modal = page.locator("#error-modal")
        modal.wait_for(timeout=CELL_TIMEOUT)
        assert AUTOGRADE_REFUSED in modal.inner_text()
        seen.append(page_text(page))
        modal.get_by_role("button", name="OK").click()
        modal.wait_for(state="hidden")

    visit(page, instructor_lab, "/formgrader")
    row = page.locator("tbody tr", has_text=ASSIGNMENT)
    row.locator(".generate-feedback a").click()
    modal = page.locator("#error-modal")
    modal.wait_for(timeout=CELL_TIMEOUT)
    assert FEEDBACK_REFUSED in modal.inner_text()
    seen.append(page_text(page))

    assert gradebook_state(course.path) == before
    assert exported_scores(course.path) == exported
    visit(page, instructor_lab, f"/formgrader/manage_submissions/{ASSIGNMENT}")
    for student in STUDENTS:  # and formgrader shows the scores it showed before
        line = student_row(page, student)
        line.wait_for()
        assert f"{before['scores'][student]['score']:g} / " in line.inner_text()
        seen.append(page_text(page))
    for text in seen:
        assert not [line for line in course.hidden if line in text]


# --- student ------------------------------------------------------------------------------------


def notebook_outputs(page) -> list[dict]:
    """Each code cell of the current notebook: its grade id and outputs, from the model."""
    return page.evaluate(
        """() => {
            const panel = window.jupyterapp.shell.currentWidget;
            return Array.from(panel.content.model.cells).filter(c => c.type === 'code').map(c => ({
                grade_id: (c.getMetadata('nbgrader') || {}).grade_id || null,
                outputs: c.outputs.toJSON(),
            }));
        }"""
    )


def failures(cell: dict) -> list[str]:
    """The errors and stderr text of one cell's outputs."""
    found = []
    for output in cell["outputs"]:
        if output["output_type"] == "error":
            found.append(f"{output['ename']}: {output['evalue']}")
        elif output["output_type"] == "stream" and output["name"] == "stderr":
            found.append("".join(output["text"]))
    return found


def test_lecture_runs_with_plots(page, student_lab) -> None:
    open_notebook(page, student_lab, f"{LECTURE}/lecture.ipynb")
    run_all(page)
    cells = notebook_outputs(page)
    assert [f for cell in cells for f in failures(cell)] == []
    images = [o for c in cells for o in c["outputs"] if "image/png" in o.get("data", {})]
    assert images
    assert page.locator(".jp-RenderedImage img").count() >= 1


def answers_notebook(student: StudentEnv) -> nbformat.NotebookNode:
    """The release of 02-forward with count_parameters answered right, dense_forward wrong."""
    release = nbformat.read(student.bundle / ASSIGNMENT / "exercises.ipynb", as_version=4)
    source = nbformat.read(REPO / "source" / ASSIGNMENT / "exercises.ipynb", as_version=4)
    buggy = edit_cell(nbformat.from_dict(source), **bug_edit(BUG))
    answers = {
        "count_parameters": solution(source, "count_parameters"),
        "dense_forward": solution(buggy, "dense_forward"),
    }
    for cell in release.cells:
        name = cell.metadata.get("nbgrader", {}).get("grade_id")
        if name in answers:
            cell.source = answers[name]
    return release


def solution(notebook: nbformat.NotebookNode, name: str) -> str:
    """The answer cell ``name`` of a source notebook without nbgrader's markers."""
    cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == name)
    return "\n".join(
        line for line in cell.source.splitlines() if "## BEGIN" not in line and "## END" not in line
    )


@dataclass
class ExerciseRun:
    """02-forward with one right and one wrong answer, run in the student's JupyterLab."""

    page: object
    cells: dict[str, dict]  # grade id -> outputs, from the notebook's model


@pytest.fixture(scope="module")
def exercise(browser, student_lab, student) -> Iterator[ExerciseRun]:
    """Saved into the server's folder, opened, Run All: one run for the tests that read it."""
    folder = student_lab.root_dir / "answers" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(answers_notebook(student), folder / "exercises.ipynb")
    tab = browser.new_page()
    open_notebook(tab, student_lab, f"answers/{ASSIGNMENT}/exercises.ipynb")
    run_all(tab)
    cells = {c["grade_id"]: c for c in notebook_outputs(tab) if c["grade_id"]}
    yield ExerciseRun(tab, cells)
    tab.close()


def shown_output(page, grade_id: str) -> str:
    """The output of the cell ``grade_id`` as the page shows it, scrolled into view."""
    return page.evaluate(
        """async (gradeId) => {
            const notebook = window.jupyterapp.shell.currentWidget.content;
            const index = notebook.widgets.findIndex(
                w => (w.model.getMetadata('nbgrader') || {}).grade_id === gradeId);
            await notebook.scrollToItem(index, 'center');
            return notebook.widgets[index].outputArea.node.textContent;
        }""",
        grade_id,
    )


def test_exercise_shows_the_wrong_answers_message(exercise) -> None:
    assert failures(exercise.cells["test_count_parameters"]) == []
    assert failures(exercise.cells["test_dense_forward"]) == [
        "AssertionError: dense_forward computes x @ W + b"
    ]
    assert "Error" not in shown_output(exercise.page, "test_count_parameters")
    shown = shown_output(exercise.page, "test_dense_forward")
    assert "AssertionError: dense_forward computes x @ W + b" in shown


def test_check_cell_reports_visible_checks_and_hidden_ones(exercise) -> None:
    report = shown_output(exercise.page, "check_submission")
    assert "hidden checks will run at grading" in report
    assert "[pass] test_count_parameters" in report
    assert "[FAIL] test_dense_forward (3 points): AssertionError: dense_forward computes" in report
    assert failures(exercise.cells["check_submission"]) == []


def test_assignment_list_fetches_from_the_exchange(page, student_lab, exchange) -> None:
    open_lab(page, student_lab)
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile("^Assignment List$")).click()
    released = page.locator("#released_assignments_list")
    row = released.locator(".list_item", has_text=ASSIGNMENT)
    row.wait_for(timeout=CELL_TIMEOUT)
    row.get_by_role("button", name="Fetch").click()
    fetched = page.locator("#fetched_assignments_list .list_item", has_text=ASSIGNMENT)
    fetched.wait_for(timeout=CELL_TIMEOUT)
    for name in ("exercises.ipynb", "lecture.ipynb"):  # on disk, as released
        fetched_file = student_lab.root_dir / ASSIGNMENT / name
        assert fetched_file.read_bytes() == (REPO / "release" / ASSIGNMENT / name).read_bytes()


def test_no_formgrader_for_students(page, student_lab, student) -> None:
    assert student_lab.get("/formgrader")[0] == 404
    open_lab(page, student_lab)
    commands = lab_commands(page)
    assert not [c for c in commands if "formgrader" in c or "create-assignment" in c]
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    menu = page.locator(".lm-Menu").last.inner_text()
    assert "Assignment List" in menu
    assert "Formgrader" not in menu and "Create assignment" not in menu.capitalize()
    page.keyboard.press("Escape")
    page.locator(".jp-Launcher").first.click()
    page.keyboard.press("Control+Shift+C")  # the command palette
    palette = page.locator(".lm-CommandPalette-input")
    palette.fill("assignment list")  # the control: the palette finds what is there
    page.locator(".lm-CommandPalette-item", has_text="Assignment List").first.wait_for()
    for word in ("formgrader", "create assignment"):
        palette.fill(word)
        nothing = f"No commands found that match '{word}'"
        page.locator(".lm-CommandPalette-content", has_text=nothing).wait_for()
