"""Correct solutions that differ from the reference get full marks: the fairness suite.

``tests/fairness/fair_NN.py`` lists, for module NN, correct solutions written the way
students write them: loops and other formulas, other allowed return types, helpers with any
names, scratch cells with magics, plots, imports and variables named like the tests' own.
Each entry is ``{"name", "cells": {grade_id: source}, "add": [(after_grade_id, source)]}``;
every one must score the maximum on every test cell. A correct solution that loses points
is the worst bug a grader can have.
"""

from __future__ import annotations

import importlib.util
import os

import nbformat
import pytest

from autograder.pipeline.coursedir import REPO_ROOT
from autograder.testing import autograde, exercises, max_scores
from course.notebooks import grade_id

pytestmark = pytest.mark.notebooks

FAIRNESS = REPO_ROOT / "tests" / "fairness"
QUICK = os.environ.get("NN_COURSE_QUICK") == "1"


def module_of(number: str) -> str | None:
    found = sorted(p.name for p in (REPO_ROOT / "source").glob(f"{number}-*"))
    return found[0] if found else None


def load_solutions() -> list:
    params = []
    for path in sorted(FAIRNESS.glob("fair_[0-9][0-9].py")):
        module = module_of(path.stem[-2:])
        if module is None:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        loaded = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded)
        entries = loaded.SOLUTIONS[:1] if QUICK else loaded.SOLUTIONS
        params += [pytest.param(module, e, id=f"{module}-{i}") for i, e in enumerate(entries)]
    return params


def apply(notebook: nbformat.NotebookNode, solution: dict) -> nbformat.NotebookNode:
    """The notebook with the solution's answer cells replaced and scratch cells added."""
    cells = {grade_id(c): c for c in notebook.cells if grade_id(c)}
    for gid, source in solution.get("cells", {}).items():
        if gid not in cells:
            raise ValueError(f"no cell {gid}")
        cells[gid].source = source
    for after, source in solution.get("add", []):
        index = next(i for i, c in enumerate(notebook.cells) if grade_id(c) == after)
        notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    return notebook


SOLUTIONS = load_solutions()


def test_the_fairness_suite_is_large_enough() -> None:
    modules = {p.values[0] for p in SOLUTIONS}
    if QUICK:
        pytest.skip("quick run samples one solution per module")
    assert len(SOLUTIONS) >= 30 and all(
        sum(p.values[0] == m for p in SOLUTIONS) >= 3 for m in modules
    )


@pytest.mark.parametrize(("module", "solution"), SOLUTIONS)
def test_correct_solution_gets_full_marks(module: str, solution: dict) -> None:
    notebook = apply(exercises(module), solution)
    scores = autograde(module, notebook, student=solution.get("student", "student"))
    lost = {k: v for k, v in scores.items() if v < max_scores(module)[k]}
    assert lost == {}, f"{solution['name']}: lost points on {sorted(lost)}"
