"""Conventions every exercise notebook keeps, read from the source notebooks.

- The visible part of a test cell runs in the student's own kernel too: every name it binds
  at top level starts with ``_``, so running a test never clobbers the student's ``x``,
  ``W``, ``params``, ``X`` or ``y``.
- No letter is the answer of more than 40 % of the course's letter questions, so answering
  the same letter everywhere cannot pass.
- Student text never calls a slide deck by its file name ("seed 001", "deck 002").
"""

from __future__ import annotations

import ast
import re
from collections import Counter

import nbformat
import pytest

from autograder.pipeline.coursedir import REPO_ROOT

pytestmark = pytest.mark.notebooks

SOURCE = REPO_ROOT / "source"
MODULES = sorted(p.name for p in SOURCE.glob("[0-9][0-9]-*") if (p / "exercises.ipynb").is_file())
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.DOTALL)
LETTER = re.compile(r"""^(answer_\w+)\s*=\s*["']([a-e])["']\s*$""", re.MULTILINE)
DECK = re.compile(r"(seed|deck)s? 00[0-3]", re.IGNORECASE)


def cells(module: str, kind: str) -> list:
    notebook = nbformat.read(SOURCE / module / "exercises.ipynb", as_version=4)
    out = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if kind == "test" and meta.get("grade") and not meta.get("solution"):
            out.append(cell)
        elif kind == "answer" and meta.get("solution"):
            out.append(cell)
        elif kind == "all":
            out.append(cell)
    return out


def bound_names(tree: ast.Module) -> set[str]:
    """Names bound at module level, including inside top-level for, if, with and try blocks."""
    names: set[str] = set()
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
            continue
        for child in ast.walk(node):
            if isinstance(child, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp):
                continue
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                names.add(child.id)
            elif isinstance(child, ast.ExceptHandler) and child.name:
                names.add(child.name)
        for field in ("body", "orelse", "finalbody", "handlers"):
            stack.extend(
                n for n in getattr(node, field, []) if isinstance(n, ast.stmt | ast.excepthandler)
            )
    return names


def comprehension_targets(tree: ast.Module) -> set[str]:
    """Names bound only inside comprehensions (local to them, so harmless)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension):
            names.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
    return names


@pytest.mark.parametrize("module", MODULES)
def test_visible_tests_bind_only_private_names(module: str) -> None:
    offenders = []
    for cell in cells(module, "test"):
        visible = HIDDEN.sub("", cell.source)
        tree = ast.parse(visible)
        public = {
            n for n in bound_names(tree) - comprehension_targets(tree) if not n.startswith("_")
        }
        if public:
            offenders.append(f"{cell.metadata.nbgrader.grade_id}: {sorted(public)}")
    assert offenders == []


def test_no_letter_answers_more_than_forty_percent_of_letter_questions() -> None:
    letters = Counter()
    for module in MODULES:
        for cell in cells(module, "answer"):
            letters.update(letter for _, letter in LETTER.findall(cell.source))
    total = sum(letters.values())
    assert total >= 10, letters
    assert max(letters.values()) <= 0.4 * total, letters


@pytest.mark.parametrize("module", MODULES)
def test_exercises_never_name_a_slide_file(module: str) -> None:
    found = [c.source[:60] for c in cells(module, "all") if DECK.search(c.source)]
    assert found == []
