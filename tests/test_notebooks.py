"""Every module's notebooks, graded as ``grader grade`` grades a submission.

For each ``source/NN-*/``: the committed release matches a fresh generation and leaks
nothing; the source exercises, submitted as a student's, get full marks; the untouched
release gets zero on every test cell; and each plausible bug listed in
``tests/bugs/bugs_NN.py`` (``BUGS``: ``cell``, ``old``, ``new``, ``loses``) loses points on the
test cells it names. Grading is :func:`autograder.testing.autograde`: the grader's pre-flight
and its trusted runtime (test cells from the source run in this process, the student's cells
in a kernel), not nbgrader's autograde. That every notebook runs in a fresh kernel is nbval's
part of ``make test`` (``tests/nbval_course.py``).
"""

from __future__ import annotations

import os

import pytest
from support import specs

from autograder.pipeline.coursedir import REPO_ROOT
from autograder.pipeline.release import release_differences, release_leaks
from autograder.testing import autograde, edit_cell, exercises, max_scores, module_kit

pytestmark = pytest.mark.notebooks

SOURCE = REPO_ROOT / "source"
RELEASE = REPO_ROOT / "release"
MODULES = sorted(p.name for p in SOURCE.glob("[0-9][0-9]-*") if (p / "exercises.ipynb").is_file())
QUICK = os.environ.get("NN_COURSE_QUICK") == "1"


def load_bugs() -> list:
    """A ``pytest.param(module, bug)`` per bug spec whose module exists.

    All of them; with ``NN_COURSE_QUICK=1`` only the first bug of each graded cell, which
    still shows every graded function catching a mistake, in a third of the time.
    """
    bugs = []
    found = specs("bugs")
    for module in MODULES:
        if module in found:
            first_per_cell = {b["cell"]: i for i, b in reversed(list(enumerate(found[module])))}
            bugs += [
                pytest.param(module, b, id=f"{module}-{i}")
                for i, b in enumerate(found[module])
                if not QUICK or first_per_cell[b["cell"]] == i
            ]
    return bugs


BUGS = load_bugs()


@pytest.mark.parametrize("module", MODULES)
def test_release_in_sync_with_source(module: str) -> None:
    kit = module_kit(module, str(REPO_ROOT))
    assert release_differences(kit.release_dir(module), RELEASE / module) == []


@pytest.mark.parametrize("module", MODULES)
def test_release_hides_solutions_and_hidden_tests(module: str) -> None:
    assert (RELEASE / module).is_dir(), f"release/{module} is missing"
    assert release_leaks(SOURCE / module, RELEASE / module) == []


@pytest.mark.parametrize("module", MODULES)
def test_source_solution_gets_full_marks(module: str) -> None:
    scores = autograde(module, exercises(module))
    lost = {k: v for k, v in scores.items() if v < max_scores(module)[k]}
    assert not lost, f"the reference solution loses points on {sorted(lost)}"


@pytest.mark.parametrize("module", MODULES)
def test_untouched_release_gets_zero(module: str) -> None:
    scores = autograde(module, exercises(module, "release"))
    assert scores and not any(scores.values()), f"points without an answer: {scores}"


@pytest.mark.parametrize(("module", "bug"), BUGS)
def test_bug_loses_points(module: str, bug: dict) -> None:
    notebook = edit_cell(exercises(module), bug["cell"], bug["old"], bug["new"])
    scores = autograde(module, notebook)
    full = max_scores(module)
    kept = [name for name in bug["loses"] if scores[name] >= full[name]]
    assert not kept, f"{bug['name']}: no points lost on {kept}"
