"""Tag the cells of exercise notebooks that may raise in the untouched student version.

nbval runs every cell of the release notebooks, where each answer is still nbgrader's stub
``raise NotImplementedError()``. A cell may raise there, and carries nbval's
``raises-exception`` tag (nbgrader keeps tags through ``generate_assignment``), when it is

- an answer cell whose stub raises when the cell runs (a stub at top level, such as
  ``answer_q1 = None`` followed by the ``raise``; a stub inside a function body raises only
  when the function is called);
- a test cell (``grade: true``): it calls the student's stubs.

No other cell may raise in the student version: a demo cell that calls a graded function
catches ``NotImplementedError`` and says what to write first, so that nbval fails on any cell
of the instructor's that an unanswered exercise breaks. Every other code cell loses the tag,
so running the script again changes nothing and a cell that no longer needs the tag does not
keep it. Usage::

    python tests/tag_raises.py source/01-neuron/exercises.ipynb [...]   # rewrite in place
    python tests/tag_raises.py --check source/*/exercises.ipynb         # exit 1 if out of date
"""

from __future__ import annotations

import argparse
import ast
import copy
import sys
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager
from nbgrader.preprocessors import ClearSolutions

TAG = "raises-exception"
# the course's stub (nbgrader_config.py); the analysis only needs the top-level ``raise``
STUB = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}


def python_source(source: str) -> ast.Module:
    """The cell as Python (IPython magics turned into calls); an empty module if it cannot parse."""
    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return ast.Module(body=[], type_ignores=[])


def raises_at_top_level(tree: ast.Module) -> bool:
    """Whether a ``raise`` runs when the cell runs: outside any function, lambda or class body."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Raise):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


def cells_that_may_raise(nb: nbformat.NotebookNode) -> set[int]:
    """Indices of the code cells that may raise once nbgrader has replaced the solutions."""
    stubs = copy.deepcopy(nb)
    ClearSolutions(code_stub=STUB).preprocess(stubs, {})
    may_raise = set()
    for index, (cell, stub) in enumerate(zip(nb.cells, stubs.cells, strict=True)):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") or (
            meta.get("solution") and raises_at_top_level(python_source(stub.source))
        ):
            may_raise.add(index)
    return may_raise


def retag(nb: nbformat.NotebookNode) -> bool:
    """Put the tag on exactly the cells that may raise; return whether anything changed."""
    may_raise = cells_that_may_raise(nb)
    changed = False
    for index, cell in enumerate(nb.cells):
        tags = list(cell.metadata.get("tags", []))
        want = cell.cell_type == "code" and index in may_raise
        if want and TAG not in tags:
            cell.metadata["tags"] = [*tags, TAG]
        elif not want and TAG in tags:
            tags.remove(TAG)
            if tags:
                cell.metadata["tags"] = tags
            else:
                del cell.metadata["tags"]
        else:
            continue
        changed = True
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    stale = []
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        if retag(nb):
            stale.append(path)
            if not args.check:
                nbformat.write(nb, path)
        tagged = sum(TAG in c.metadata.get("tags", []) for c in nb.cells)
        print(f"{path}: {tagged} cells tagged {TAG}")
    if args.check and stale:
        print("out of date (run tests/tag_raises.py on them):", *map(str, stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
