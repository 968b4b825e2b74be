"""Sample submissions made from an assignment's notebooks, for the demo and the tests.

Good ones (the source solution, the untouched release), plausible bugs made by generic
mutations of the solution code, and the broken inputs the pre-flight must handle: invalid
JSON, an empty file, nbformat 3, stripped or edited nbgrader metadata, duplicated cell ids,
deleted and reordered cells.
"""

from __future__ import annotations

import copy
import re

import nbformat
from nbformat import NotebookNode

from course.notebooks import cell_source, grade_id

MUTATIONS = {
    "sum-instead-of-mean": (r"\bmean\(", "sum("),
    "other-axis": (r"axis=(-1|1)\b", "axis=0"),
    "minimum-instead-of-maximum": (r"\bmaximum\(", "minimum("),
    "plus-instead-of-minus": (r" - ", " + "),
    "no-keepdims": (r",\s*keepdims=True", ""),
}
"""Name -> (regex, replacement) applied to the solution code of every answer cell."""


def mutants(source: NotebookNode) -> dict[str, NotebookNode]:
    """The source notebook with each mutation applied, for the mutations that change it."""
    found = {}
    for name, (pattern, replacement) in MUTATIONS.items():
        mutant = copy.deepcopy(source)
        changed = False
        for cell in mutant.cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                new = mutate_solution(cell_source(cell), pattern, replacement)
                changed |= new != cell.source
                cell.source = new
        if changed:
            found[name] = mutant
    return found


def mutate_solution(source: str, pattern: str, replacement: str) -> str:
    """``source`` with ``pattern`` replaced only between the solution markers."""
    out, inside = [], False
    for line in source.splitlines(keepends=True):
        if "BEGIN SOLUTION" in line or "END SOLUTION" in line:
            inside = "BEGIN SOLUTION" in line
        elif inside:
            line = re.sub(pattern, replacement, line)
        out.append(line)
    return "".join(out)


def to_bytes(notebook: NotebookNode) -> bytes:
    """The notebook as a student's file."""
    return nbformat.writes(notebook).encode()


def broken_json(notebook: NotebookNode) -> bytes:
    """A notebook cut off half way, as an interrupted upload leaves it."""
    data = to_bytes(notebook)
    return data[: len(data) // 2]


def nbformat3(notebook: NotebookNode) -> bytes:
    """The notebook saved in the old nbformat 3."""
    return nbformat.writes(nbformat.convert(copy.deepcopy(notebook), 3)).encode()


def stripped_metadata(notebook: NotebookNode) -> bytes:
    """Every cell's metadata removed, as some editors and converters do."""
    bare = copy.deepcopy(notebook)
    for cell in bare.cells:
        cell.metadata = {}
    return to_bytes(bare)


def edited_metadata(notebook: NotebookNode) -> bytes:
    """A schema version of 4, and points raised on the first test cell."""
    edited = copy.deepcopy(notebook)
    tests = [c for c in edited.cells if c.metadata.get("nbgrader", {}).get("grade")]
    for cell in edited.cells:
        if "nbgrader" in cell.metadata:
            cell.metadata.nbgrader.schema_version = 4
    tests[0].metadata.nbgrader.points = 100
    return to_bytes(edited)


def duplicated_ids(notebook: NotebookNode) -> bytes:
    """Every cell with the same id, as copy-paste between notebooks leaves them."""
    data = nbformat.reads(nbformat.writes(notebook), as_version=4)
    text = nbformat.writes(data)
    return re.sub(r'"id": "[^"]*"', '"id": "same-id"', text).encode()


def reordered(notebook: NotebookNode) -> bytes:
    """The first test cell moved to the end of the notebook."""
    moved = copy.deepcopy(notebook)
    first = next(
        i for i, c in enumerate(moved.cells) if c.metadata.get("nbgrader", {}).get("grade")
    )
    moved.cells.append(moved.cells.pop(first))
    return to_bytes(moved)


def without_cell(notebook: NotebookNode, cell_grade_id: str) -> bytes:
    """The notebook with one cell deleted."""
    cut = copy.deepcopy(notebook)
    cut.cells = [c for c in cut.cells if grade_id(c) != cell_grade_id]
    return to_bytes(cut)
