"""Correct solutions that differ from the reference get full marks: the fairness suite.

``tests/fairness/fair_NN.py`` lists, for module NN, correct solutions written the way
students write them: loops and other formulas, other allowed return types, helpers with any
names, scratch cells with magics, plots, imports and variables named like the tests' own.
Each entry is ``{"name", "cells": {grade_id: source}, "add": [(after_grade_id, source)]}``;
every one must score the maximum on every test cell. A correct solution that loses points
is the worst bug a grader can have.
"""

from __future__ import annotations

import os

import pytest
from support import apply_solution, specs

from autograder.testing import autograde, exercises, max_scores

pytestmark = pytest.mark.notebooks

QUICK = os.environ.get("NN_COURSE_QUICK") == "1"


def load_solutions() -> list:
    """A ``pytest.param(module, solution)`` per fairness spec; the first of each with QUICK."""
    params = []
    for module, solutions in specs("fairness").items():
        entries = solutions[:1] if QUICK else solutions
        params += [pytest.param(module, e, id=f"{module}-{i}") for i, e in enumerate(entries)]
    return params


SOLUTIONS = load_solutions()


def test_the_fairness_suite_is_large_enough() -> None:
    modules = {p.values[0] for p in SOLUTIONS}
    if QUICK:
        pytest.skip("quick run samples one solution per module")
    assert len(SOLUTIONS) >= 54 and all(
        sum(p.values[0] == m for p in SOLUTIONS) >= 6 for m in modules
    )


@pytest.mark.parametrize(("module", "solution"), SOLUTIONS)
def test_correct_solution_gets_full_marks(module: str, solution: dict) -> None:
    notebook = apply_solution(exercises(module), solution)
    scores = autograde(module, notebook, student=solution.get("student", "student"))
    lost = {k: v for k, v in scores.items() if v < max_scores(module)[k]}
    assert lost == {}, f"{solution['name']}: lost points on {sorted(lost)}"
