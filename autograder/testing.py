"""Autograde an edited exercises notebook from a test, exactly as ``grader grade`` would.

The notebook goes through the same pre-flight and the same trusted runtime as a real
submission (test cells come from the source and run in this process, the student's cells
in a kernel), with the kit built once per assignment and process. Usage in a module's tests::

    import pytest
    from autograder.testing import autograde, edit_cell, exercises

    pytestmark = pytest.mark.notebooks

    def test_sum_instead_of_mean_loses_points():
        notebook = exercises("03-losses")  # the source notebook, solutions included
        edit_cell(notebook, "mse", "np.mean(", "np.sum(")  # the student's bug
        scores = autograde("03-losses", notebook)  # {grade_id: points}
        assert scores["test_mse"] == 0
        assert scores["test_mae"] == max_scores("03-losses")["test_mae"]

``exercises(assignment, "release")`` gives the untouched student version instead.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder.pipeline.coursedir import REPO_ROOT, load_course
from autograder.pipeline.kit import Kit, build_kit
from autograder.pipeline.review import withhold
from autograder.pipeline.submissions import prepare_notebook
from autograder.pipeline.tasks import GRADED, Digest, GradeResult, GradeTask, WorkerOptions
from autograder.pipeline.worker import Grader, kernel_code, settle
from autograder.runtime.sandbox import SandboxError, choose
from autograder.runtime.warm import WarmStart, preload_modules
from course.notebooks import cell_source, grade_id


def autograde(
    assignment: str,
    notebook: NotebookNode | str | Path,
    course_dir: str | Path = REPO_ROOT,
    cell_timeout: int | None = None,
    student: str = "student",
) -> dict[str, float]:
    """Autograde ``notebook`` (a notebook, or a path to one) as ``student``'s submission.

    Returns the points per test cell's grade id, after review has held back the points of
    any test cell whose graded function was observed running the reference. Raises
    ``AssertionError`` if the notebook is rejected or grading fails, with the one-line reason.
    """
    return autograde_result(assignment, notebook, course_dir, cell_timeout, student).scores


def autograde_result(
    assignment: str,
    notebook: NotebookNode | str | Path,
    course_dir: str | Path = REPO_ROOT,
    cell_timeout: int | None = None,
    student: str = "student",
) -> GradeResult:
    """:func:`autograde`'s whole result: scores, flags and the graded notebook."""
    if isinstance(notebook, (str, Path)):
        notebook = nbformat.read(notebook, as_version=4)
    kit = module_kit(assignment, str(course_dir))
    release = nbformat.read(kit.release_notebook(assignment), as_version=4)
    reference = nbformat.read(kit.source_notebook(assignment), as_version=4)
    raw = nbformat.writes(notebook).encode()
    placeholder = GradeTask(assignment, student, "", Digest("test", "test"))
    prepared = prepare_notebook(raw, release, reference, placeholder)
    if isinstance(prepared, GradeResult):
        raise AssertionError(f"the submission was {'; '.join(map(str, prepared.flags))}")
    grader = module_grader(assignment, str(course_dir), cell_timeout)
    # A test process holds far more than a grading worker (every test's parameters, nbval's
    # notebooks), and each test cell ends with a full garbage collection: freeze what is
    # there first, as a worker does after its setup, or each cell walks all of it (0.1 s+).
    settle()
    result = withhold(grader.grade(prepared))
    if result.status != GRADED:
        raise AssertionError(f"autograding failed: {'; '.join(map(str, result.flags))}")
    return result


def max_scores(assignment: str, course_dir: str | Path = REPO_ROOT) -> dict[str, float]:
    """The points of each test cell of ``assignment``, by grade id."""
    release = exercises(assignment, "release", course_dir)
    return {
        grade_id(c): float(c.metadata.nbgrader.get("points", 0))
        for c in release.cells
        if grade_id(c) and c.metadata.nbgrader.get("grade")
    }


def exercises(
    assignment: str, version: str = "source", course_dir: str | Path = REPO_ROOT
) -> NotebookNode:
    """A fresh copy of the assignment's exercises notebook: ``"source"`` or ``"release"``.

    The release is the one generated from the current source, not the committed one.
    """
    if version == "release":
        path = module_kit(assignment, str(course_dir)).release_notebook(assignment)
    elif version == "source":
        path = load_course(course_dir).exercises_path("source", assignment)
    else:
        raise ValueError(f"version must be 'source' or 'release', not {version!r}")
    return nbformat.read(path, as_version=4)


def edit_cell(notebook: NotebookNode, cell_grade_id: str, old: str, new: str) -> NotebookNode:
    """Replace ``old`` by ``new`` in the cell with ``cell_grade_id``, in place; return the notebook.

    Raises ``ValueError`` when there is no such cell or ``old`` is not in it, so a test never
    passes on an edit that did not happen.
    """
    for cell in notebook.cells:
        if grade_id(cell) == cell_grade_id:
            if old not in cell_source(cell):
                raise ValueError(f"{old!r} is not in cell {cell_grade_id}")
            cell.source = cell_source(cell).replace(old, new)
            return notebook
    raise ValueError(f"no cell with grade id {cell_grade_id}")


@functools.cache
def module_kit(assignment: str, course_dir: str) -> Kit:
    """The kit of one assignment, built once per process in a temporary folder."""
    return build_kit(load_course(course_dir), [assignment], scratch_dir() / f"kit-{assignment}")


@functools.cache
def module_grader(assignment: str, course_dir: str, cell_timeout: int | None) -> Grader:
    """A grader for one assignment's kit, made once per process.

    Where a sandbox works, its kernels are confined and forked from one template per process
    and course (:func:`course_template`), as ``grader grade`` starts them: a cold kernel costs
    about 0.8 s, a forked one 0.1 s, and a template about 2.5 s, paid once for every module's
    gradings instead of once per module. Where none works, they start cold and unconfined
    (these are our own notebooks).
    """
    kit = module_kit(assignment, course_dir)
    scratch = scratch_dir() / f"grader-{assignment}-{cell_timeout}"
    warm = course_template(course_dir)
    sandbox = warm.sandbox if warm is not None else None
    options = WorkerOptions(cell_timeout=cell_timeout, sandbox=sandbox)
    return Grader(kit, scratch, options, warm=warm)


@functools.cache
def course_template(course_dir: str) -> WarmStart | None:
    """The kernel template of this process for every assignment of ``course_dir``, or
    ``None`` where no sandbox works; ended when the process ends."""
    try:
        sandbox = choose("auto")
    except SandboxError:
        return None
    course = load_course(course_dir)
    sources = [  # what kernels run, as a worker's template: never a test cell's imports
        kernel_code(nbformat.read(course.exercises_path("source", a), as_version=4))
        for a in course.assignments()
    ]
    warm = WarmStart(sandbox, scratch_dir() / "template", preload_modules(sources))
    atexit.register(warm.close)
    return warm


@functools.cache
def scratch_dir() -> Path:
    """A temporary folder for this process's kits, removed when the process ends."""
    path = Path(tempfile.mkdtemp(prefix="grader-tests-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path
