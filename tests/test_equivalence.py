"""Visible tests mean the same in a student's own kernel as at grading.

For a notebook, every test cell's *visible* part (the release's text) is run twice: once in a
plain Jupyter kernel, as a student runs it in JupyterLab, and once by the trusted runner,
in the grader's process with the student's functions behind the kernel boundary. Each test
cell must pass or fail the same way in both. Checked on every source and release notebook
and, by default, on the first bug and the first fairness solution of each module
(``NN_COURSE_FULL=1``: all of them).
"""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from support import apply_solution, specs

from autograder.pipeline.coursedir import REPO_ROOT
from autograder.pipeline.worker import settle
from autograder.runtime.runner import Runner, cell_kind
from autograder.testing import edit_cell, exercises, module_grader
from course.notebooks import grade_id

pytestmark = pytest.mark.notebooks

FULL = os.environ.get("NN_COURSE_FULL") == "1"
MODULES = sorted(
    p.name for p in (REPO_ROOT / "source").glob("[0-9][0-9]-*") if (p / "exercises.ipynb").is_file()
)


def cases() -> list:
    bugs, solutions = specs("bugs"), specs("fairness")
    out = []
    for module in MODULES:
        out.append(pytest.param(module, "source", None, id=f"{module}-source"))
        out.append(pytest.param(module, "release", None, id=f"{module}-release"))
        for i, bug in enumerate(bugs[module] if FULL else bugs[module][:1]):
            out.append(pytest.param(module, "bug", bug, id=f"{module}-bug{i}"))
    for module, entries in solutions.items():
        for i, solution in enumerate(entries if FULL else entries[:1]):
            out.append(pytest.param(module, "fair", solution, id=f"fair-{module}-{i}"))
    return out


def notebook_for(module: str, kind: str, detail) -> nbformat.NotebookNode:
    if kind == "release":
        return exercises(module, "release")
    nb = exercises(module)
    if kind == "bug":
        edit_cell(nb, detail["cell"], detail["old"], detail["new"])
    elif kind == "fair":
        apply_solution(nb, detail)
    return nb


def visible_version(notebook: nbformat.NotebookNode, release: nbformat.NotebookNode):
    """``notebook`` with every test cell's text replaced by the release's (visible only)."""
    visible = {grade_id(c): c.source for c in release.cells if cell_kind(c) == "test"}
    out = copy.deepcopy(notebook)
    for cell in out.cells:
        if grade_id(cell) in visible:
            cell.source = visible[grade_id(cell)]
    return out, visible


def plain_outcome(notebook: nbformat.NotebookNode, tests: set[str], folder: Path) -> dict:
    """Which test cells pass when the notebook runs in a plain kernel."""
    manager = KernelManager(kernel_name="python3", transport="ipc", ip=str(folder / "k"))
    client = NotebookClient(
        notebook,
        timeout=120,
        allow_errors=True,
        km=manager,
        resources={"metadata": {"path": str(folder)}},
        shutdown_kernel="immediate",
    )
    client.execute()
    return {
        grade_id(c): not any(o.get("output_type") == "error" for o in c.get("outputs", []))
        for c in notebook.cells
        if grade_id(c) in tests
    }


@pytest.mark.parametrize(("module", "kind", "detail"), cases())
def test_visible_tests_agree_in_a_plain_kernel_and_at_grading(module, kind, detail) -> None:
    release = exercises(module, "release")
    source = exercises(module)
    submission, visible = visible_version(notebook_for(module, kind, detail), release)
    graded_source, _ = visible_version(source, release)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain = plain_outcome(copy.deepcopy(submission), set(visible), folder)
        runner = Runner(graded_source, module_grader(module, str(REPO_ROOT), None).new_session)
        settle()  # as autograder.testing.autograde does: test cells' collections stay cheap
        outcome = runner.run(submission)
    graded = {gid: gid not in outcome.failures for gid in visible}
    assert graded == plain
