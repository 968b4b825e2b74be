"""Plausible bugs lose points: each spec in ``tests/bugs/bugs_NN.py`` is applied and autograded.

A spec names the answer cell (its grade id), the text of the reference solution to replace,
the buggy replacement, and the test cells that must then score below their maximum. By
default the first bug of every graded cell runs, so every graded function is shown to catch
at least one mistake; ``NN_COURSE_ALL_BUGS=1`` runs every spec (``make test-bugs``).
"""

import importlib.util
import os
from pathlib import Path

import pytest

from autograder.testing import autograde, edit_cell, exercises, max_scores

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parent.parent
ALL_BUGS = os.environ.get("NN_COURSE_ALL_BUGS") == "1"


def load_bugs(path: Path) -> list[dict]:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BUGS


def cases():
    """``(assignment, bug)`` pairs for every module that has both a source folder and specs."""
    found = []
    for path in sorted((ROOT / "tests" / "bugs").glob("bugs_*.py")):
        number = path.stem.removeprefix("bugs_")
        folders = sorted((ROOT / "source").glob(f"{number}-*"))
        if not folders:
            continue
        seen_cells = set()
        for bug in load_bugs(path):
            if ALL_BUGS or bug["cell"] not in seen_cells:
                found.append(pytest.param(folders[0].name, bug, id=f"{number}-{bug['name']}"))
            seen_cells.add(bug["cell"])
    return found


@pytest.mark.parametrize(("assignment", "bug"), cases())
def test_bug_loses_points(assignment, bug):
    notebook = edit_cell(exercises(assignment), bug["cell"], bug["old"], bug["new"])
    scores = autograde(assignment, notebook)
    full = max_scores(assignment)
    kept = [cell for cell in bug["loses"] if scores[cell] >= full[cell]]
    assert not kept, f"{bug['name']}: {kept} still get full marks"
