"""The check a student runs before submitting: what grading will do with the saved notebook.

The last cell of each exercises notebook calls :func:`check_submission`. It reads the notebook
as saved on disk (JupyterLab tells the kernel its path in ``JPY_SESSION_NAME``), which is what
gets submitted, and reports three things:

- whether grading will accept the file as it is, repair it, or reject it. This is the grader's
  own pre-flight (:func:`course.submission.preflight`), run against the release the student
  was given, so a deleted or reordered cell, an edited test cell or a damaged file is reported
  here exactly as grading will treat it;
- which visible checks pass and which fail, with their messages. The repaired notebook runs
  from the top in a fresh kernel, as grading runs it, so a function defined only in a cell that
  was later deleted, or a cell run out of order, shows up here and not first in the grade. A
  question (a multiple-choice letter or a number assigned to a variable) shows as answered,
  never as passed: its visible check reads only the form of the answer;
- how many hidden checks will run at grading, a number written into the release when it was
  generated. Passing the visible checks never reads as "all tests passed" while hidden checks
  remain.

Nothing here grades: the hidden checks are not in the student's files, and the grade comes
from the instructor's run.

``nbgrader validate`` in the students' environment runs this check too
(:func:`use_for_nbgrader_validate`, called by their ``nbgrader_config.py``): nbgrader's own
validation runs the visible tests only and says "Success!" when they pass.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from course.messages import error_output_line, one_line
from course.notebooks import (
    CHECK_CELL,
    EXERCISES,
    cell_source,
    grade_id,
    is_exercises_name,
    nbgrader_meta,
)
from course.submission import preflight

SESSION_ENV = "JPY_SESSION_NAME"
RELEASES = Path(__file__).resolve().parent / "releases"
"""The release notebooks installed with the student's copy of the library."""
REPO_RELEASES = Path(__file__).resolve().parent.parent / "release"
"""The course repository's release folder, when the library is used from a checkout."""
CELL_TIMEOUT = 60
"""Seconds per cell, as at grading."""
UNANSWERED = "NotImplementedError"
WIDTH = 88
"""Characters per line of the report: a notebook output area's width."""
DEFINES = re.compile(r"^\s*(?:async\s+def|def|class)\s", re.MULTILINE)
HOW_TO_RUN = (
    textwrap.fill(
        "This check reads the notebook as saved on disk, and here it cannot tell which file that"
        " is (JupyterLab tells it, plain Python does not). Save the notebook, then run, with the"
        " path of your notebook:",
        WIDTH,
    )
    + '\n\n    from course.check import check_submission\n    check_submission("exercises.ipynb")'
)
VALIDATE_HEADER = (
    "nbgrader validate runs the course's check, the last cell of the notebook"
    ' (check_submission("{path}")):'
)


@dataclass
class Part:
    """One graded test cell: its id, points, and the message it failed with (or ``None``).

    ``question``: the cell grades a value the student assigns (a multiple-choice letter, a
    number) whose visible check reads only its form; only hidden checks judge it.
    """

    name: str
    points: float
    failure: str | None = None
    hidden: bool = False
    question: bool = False

    def line(self) -> str:
        """The part's line in the report: ``[pass]``, ``[FAIL]`` or ``[answered]``."""
        points = f"{self.points:g} point{'s' if self.points != 1 else ''}"
        if self.failure is None:
            if self.question:
                return f"  [answered] {self.name} ({points}): graded after submission"
            return f"  [pass] {self.name} ({points})"
        message = self.failure
        if message == UNANSWERED:
            message = "not answered yet (NotImplementedError)"
        return f"  [FAIL] {self.name} ({points}): {message}"


@dataclass
class CheckReport:
    """What the check found; :meth:`text` is what the student reads."""

    path: Path
    assignment: str | None = None
    rejection: str | None = None
    repairs: list[str] = field(default_factory=list)
    name_problem: str | None = None
    parts: list[Part] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    hidden_checks: int = 0
    error: str | None = None

    def text(self) -> str:
        """The report as plain text, the verdict on acceptance first."""
        lines = textwrap.wrap(
            f"Checked {self.path.name} as saved on disk (save first: unsaved edits are not"
            " checked), run from the top in a fresh kernel as grading runs it.",
            WIDTH,
        )
        lines.append("")
        if self.error:
            return "\n".join([*lines, f"The check could not run: {self.error}"])
        if self.name_problem:
            lines.append(f"File name: {self.name_problem}")
        if self.rejection:
            lines += textwrap.wrap(f"Grading will REJECT this file: {self.rejection}.", WIDTH)
            lines.append("Nothing in it can score: start from a fresh copy, move your answers in.")
            return "\n".join(lines)
        if self.repairs:
            lines.append("Grading will accept this notebook after repairing it:")
            lines += [f"  - {repair}" for repair in self.repairs]
            lines.append("  (a restored cell is graded as released: your edits to it are lost)")
        else:
            lines.append("Grading will accept this notebook as it is.")
        lines.append("")
        parts = [p for p in self.parts if not p.question]
        questions = [p for p in self.parts if p.question]
        passed = sum(p.failure is None for p in parts)
        visible = f"Visible checks: {passed} of {len(parts)} graded parts pass"
        if questions:
            answered = sum(p.failure is None for p in questions)
            visible += (
                f"; {answered} of {len(questions)} questions answered (graded after submission)"
            )
        lines += textwrap.wrap(f"{visible}.", WIDTH)
        lines += [part.line() for part in self.parts]
        if self.unanswered:
            lines += textwrap.wrap(f"Not answered yet: {', '.join(self.unanswered)}.", WIDTH)
        lines.append("")
        with_hidden = sum(p.hidden for p in self.parts)
        kinds = "graded parts and questions" if questions else "graded parts"
        hidden = f"{self.hidden_checks} hidden checks will run at grading" + (
            f", in {with_hidden} of the {len(self.parts)} {kinds}. A part scores only if"
            " its visible and its hidden checks all pass, so passing here is not a grade."
            if self.hidden_checks
            else "."
        )
        lines += textwrap.wrap(hidden, WIDTH)
        return "\n".join(lines)


def check_submission(path: str | os.PathLike | None = None) -> None:
    """Check the saved exercises notebook and print what grading will make of it.

    ``path`` defaults to the notebook this kernel belongs to. Outside JupyterLab (plain
    Python or IPython: no such path), it prints how to run the check with a path. It returns
    nothing, so the cell shows only the report; :func:`check_notebook` returns it.
    """
    where = path or os.environ.get(SESSION_ENV)
    if not where:
        print(HOW_TO_RUN)
        return
    print(check_notebook(Path(where).expanduser().absolute()).text())


def use_for_nbgrader_validate() -> None:
    """Make ``nbgrader validate NOTEBOOK...`` run this check on each notebook instead.

    The students' ``nbgrader_config.py`` calls this. nbgrader's own validation runs only the
    visible tests and prints "Success!" when they pass, though hidden checks remain, and it
    does so even on a notebook grading would repair or reject. nbgrader offers no setting
    for the command, so its ``start`` is replaced; nothing else of nbgrader changes.
    """
    from nbgrader.apps.validateapp import ValidateApp

    ValidateApp.start = validate_with_check


def validate_with_check(app) -> None:
    """``nbgrader validate``'s ``start`` in the students' environment: the check per notebook."""
    if not app.extra_args:
        app.fail("Give the notebook to check: nbgrader validate exercises.ipynb")
    for pattern in app.extra_args:
        for name in sorted(glob.glob(pattern)) or [pattern]:
            print(VALIDATE_HEADER.format(path=name))
            check_submission(name)


def check_notebook(path: Path) -> CheckReport:
    """Pre-flight the notebook at ``path`` against its release and run its visible checks."""
    report = CheckReport(path=path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        report.error = f"cannot read {path}: {exc.strerror or exc}"
        return report
    if not is_exercises_name(path.name):
        report.name_problem = (
            f"grading collects {EXERCISES}.ipynb from each assignment folder; this file is"
            f" named {path.name}: submit it as {EXERCISES}.ipynb"
        )
    release = find_release(path)
    if release is None:
        report.error = "this notebook is not one of the course's exercises notebooks"
        return report
    report.assignment = release.metadata.get("course", {}).get("assignment")
    report.hidden_checks = int(release.metadata.get("course", {}).get("hidden_checks", 0))
    flight = preflight(raw, release)
    if flight.rejection:
        report.rejection = flight.rejection
        return report
    report.repairs = flight.repairs
    run_visible_checks(flight.notebook, release, path.parent, report)
    return report


def find_release(path: Path) -> NotebookNode | None:
    """The release of the assignment ``path`` belongs to: by folder name, else by content."""
    candidates = release_notebooks()
    by_folder = candidates.get(path.parent.name)
    if by_folder is not None:
        return read_release(by_folder)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for release_path in candidates.values():  # a renamed folder: the grade ids tell
        release = read_release(release_path)
        ids = [grade_id(c) for c in release.cells if grade_id(c)]
        if ids and all(f'"{gid}"' in text for gid in ids[:3]):
            return release
    return None


def release_notebooks() -> dict[str, Path]:
    """Assignment name -> release exercises notebook, installed copy first, else the checkout."""
    for root in (RELEASES, REPO_RELEASES):
        found = {p.parent.name: p for p in sorted(root.glob(f"*/{EXERCISES}.ipynb"))}
        if found:
            return found
    return {}


def read_release(path: Path) -> NotebookNode:
    """A release notebook, with the assignment name in its course metadata."""
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata.setdefault("course", {}).setdefault("assignment", path.parent.name)
    return notebook


def run_visible_checks(
    notebook: NotebookNode, release: NotebookNode, folder: Path, report: CheckReport
) -> None:
    """Run ``notebook`` (the repaired submission) in a fresh kernel; fill in each part's result."""
    from nbclient import NotebookClient

    hidden = set(release.metadata.get("course", {}).get("hidden_parts", []))
    questions = question_parts(release) & hidden
    cells = [c for c in notebook.cells if grade_id(c) != CHECK_CELL]
    run = nbformat.v4.new_notebook(cells=cells, metadata=notebook.metadata)
    environ = {k: v for k, v in os.environ.items() if k != SESSION_ENV}
    client = NotebookClient(
        run,
        timeout=CELL_TIMEOUT,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
        shutdown_kernel="immediate",  # nothing is left to wait for: 0.3 s less per check
    )
    try:
        client.execute(env=environ, stderr=subprocess.DEVNULL)
    except Exception as exc:  # a dead kernel or a timeout: what ran so far is still reported
        report.error = f"the notebook did not run to the end ({one_line(exc, with_type=False)})"
    for cell in run.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade_id"):
            continue
        failure = cell_error(cell)
        if meta.get("solution") and failure and UNANSWERED in failure:
            report.unanswered.append(meta["grade_id"])
        if meta.get("grade") and not meta.get("solution"):
            report.parts.append(
                Part(
                    name=meta["grade_id"],
                    points=float(meta.get("points", 0)),
                    failure=failure,
                    hidden=meta["grade_id"] in hidden,
                    question=meta["grade_id"] in questions,
                )
            )
    for part in report.parts:
        if part.failure is None and not ran_cell(run, part.name):
            part.failure = "did not run (an earlier cell stopped the notebook)"


def question_parts(release: NotebookNode) -> set[str]:
    """The test cells of ``release`` that grade a value, not a function: its questions.

    A test cell grades the answer cell before it; an answer cell that defines no function or
    class assigns a value (``answer_q1 = "b"``, a number), whose visible check can read only
    its form: whether it is right is for the hidden checks.
    """
    found, answer = set(), None
    for cell in release.cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution"):
            answer = cell_source(cell) if cell.get("cell_type") == "code" else None
        elif meta.get("grade") and answer is not None and not DEFINES.search(answer):
            found.add(meta["grade_id"])
    return found


def ran(cell: NotebookNode) -> bool:
    """Whether nbclient executed ``cell``."""
    return cell.get("execution_count") is not None


def ran_cell(notebook: NotebookNode, name: str) -> bool:
    """Whether the cell with grade id ``name`` was executed."""
    return any(grade_id(c) == name and ran(c) for c in notebook.cells)


def cell_error(cell: NotebookNode) -> str | None:
    """The cell's error as one line (``AssertionError: ...``), or ``None`` if it raised nothing."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return error_output_line(output)
    return None
