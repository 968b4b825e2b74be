"""Pre-flight of submissions against the fixture's release, without running anything."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from autograder import samples
from autograder.intake.collect import DEFAULT_PATTERN, identify
from course.notebooks import grade_id
from course.submission import preflight

pytestmark = pytest.mark.autograder

REPO = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "course"
ASSIGNMENT = "00-numpy-basics"
SOURCE = nbformat.read(FIXTURE / "source" / ASSIGNMENT / "exercises.ipynb", as_version=4)
RELEASE = nbformat.read(FIXTURE / "release" / ASSIGNMENT / "exercises.ipynb", as_version=4)
RELEASE_IDS = [grade_id(c) for c in RELEASE.cells]


def answer(notebook: nbformat.NotebookNode, name: str) -> str:
    """The source of the cell with grade id ``name``."""
    return next(c.source for c in notebook.cells if grade_id(c) == name)


@pytest.mark.parametrize(
    "data",
    [
        samples.to_bytes(SOURCE),
        samples.nbformat3(SOURCE),
        samples.stripped_metadata(SOURCE),
        samples.edited_metadata(SOURCE),
        samples.duplicated_ids(SOURCE),
        samples.reordered(SOURCE),
    ],
    ids=["clean", "nbformat3", "stripped", "edited", "duplicated-ids", "reordered"],
)
def test_repaired_notebook_has_the_release_structure_and_the_answers(data: bytes) -> None:
    checked = preflight(data, RELEASE)
    assert checked.rejection is None
    notebook = checked.notebook
    assert [grade_id(c) for c in notebook.cells] == RELEASE_IDS
    for cell, original in zip(notebook.cells, RELEASE.cells, strict=True):
        assert cell.metadata.nbgrader == original.metadata.nbgrader
    assert "np.maximum(z, 0.0)" in answer(notebook, "relu")
    assert len({c.id for c in notebook.cells}) == len(notebook.cells)


def test_clean_release_needs_no_repair() -> None:
    assert preflight(samples.to_bytes(RELEASE), RELEASE).repairs == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"  \n", "empty file"),
        (samples.broken_json(SOURCE), "invalid JSON"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[1, 2]", "not a Jupyter notebook"),
        (json.dumps({"nbformat": 2, "worksheets": []}).encode(), "nbformat 2"),
        (
            samples.to_bytes(nbformat.v4.new_notebook(cells=[new_code_cell("x = 1")])),
            "wrong notebook",
        ),
    ],
)
def test_unreadable_submission_is_rejected_with_a_reason(data: bytes, reason: str) -> None:
    checked = preflight(data, RELEASE)
    assert checked.notebook is None
    assert reason in checked.rejection
    assert "\n" not in checked.rejection


def test_deleted_answer_is_restored_as_the_stub() -> None:
    checked = preflight(samples.without_cell(SOURCE, "relu"), RELEASE)
    assert "raise NotImplementedError()" in answer(checked.notebook, "relu")
    assert "restored from the release the deleted cell relu" in checked.repairs


def test_student_cells_stay_after_the_cell_they_followed() -> None:
    notebook = nbformat.reads(nbformat.writes(SOURCE), as_version=4)
    position = RELEASE_IDS.index("relu")
    notebook.cells.insert(position + 1, new_code_cell("def helper():\n    return 1"))
    notebook.cells.insert(
        position + 2, nbformat.from_dict({**notebook.cells[position], "id": "copy"})
    )
    checked = preflight(samples.to_bytes(notebook), RELEASE)
    sources = [c.source for c in checked.notebook.cells]
    assert sources[position + 1].startswith("def helper")
    assert "nbgrader" not in checked.notebook.cells[position + 2].metadata
    assert any("removed nbgrader metadata from a copy of cell relu" in r for r in checked.repairs)


def test_edited_test_cell_is_restored() -> None:
    notebook = nbformat.reads(nbformat.writes(SOURCE), as_version=4)
    test = next(c for c in notebook.cells if grade_id(c) == "test_relu")
    test.source = "pass"
    checked = preflight(samples.to_bytes(notebook), RELEASE)
    assert answer(checked.notebook, "test_relu") == answer(RELEASE, "test_relu")
    assert "restored the edited locked cell test_relu" in checked.repairs


# the modules whose release asks for a student id (per-student numbers), read from release/
ID_MODULES = sorted(
    path.parent.name
    for path in (REPO / "release").glob("*/exercises.ipynb")
    if "student_id" in (grade_id(c) for c in nbformat.read(path, as_version=4).cells)
)


def test_the_modules_with_a_student_id_are_found() -> None:
    assert {"01-neuron", "02-forward", "03-losses"} < set(ID_MODULES)
    assert {"04-backprop", "05-initialization", "06-regularization"} < set(ID_MODULES)
    assert {"07-optimizers", "08-practice"} < set(ID_MODULES)


def typed_id(module: str) -> nbformat.NotebookNode:
    """The module's release with an id typed into its ``STUDENT_ID`` cell, as the text asks."""
    notebook = nbformat.read(REPO / "release" / module / "exercises.ipynb", as_version=4)
    cell = next(c for c in notebook.cells if grade_id(c) == "student_id")
    assert '"type-your-id-here"' in cell.source
    cell.source = cell.source.replace("type-your-id-here", "ada")
    return notebook


@pytest.mark.parametrize("module", ID_MODULES)
def test_a_typed_student_id_is_kept_and_not_flagged(module: str) -> None:
    """The id cell is not locked (nbgrader's rule: ``locked`` false, neither test nor answer)."""
    release = nbformat.read(REPO / "release" / module / "exercises.ipynb", as_version=4)
    notebook = typed_id(module)
    checked = preflight(samples.to_bytes(notebook), release)
    assert checked.repairs == []
    assert answer(checked.notebook, "student_id") == answer(notebook, "student_id")
    assert '"ada"' in answer(checked.notebook, "student_id")


@pytest.mark.parametrize("module", ID_MODULES)
def test_edited_locked_cells_beside_a_typed_id_are_restored(module: str) -> None:
    """A locked cell that is no test (setup, the check cell) and a test cell still come back."""
    release = nbformat.read(REPO / "release" / module / "exercises.ipynb", as_version=4)
    notebook = typed_id(module)
    tests = [grade_id(c) for c in release.cells if c.metadata.get("nbgrader", {}).get("grade")]
    edited = ["setup", tests[0], "check_submission"]
    for cell in notebook.cells:
        if grade_id(cell) in edited:
            cell.source = "pass"
    checked = preflight(samples.to_bytes(notebook), release)
    assert checked.repairs == [f"restored the edited locked cells {', '.join(edited)}"]
    for name in edited:
        assert answer(checked.notebook, name) == answer(release, name)
    assert '"ada"' in answer(checked.notebook, "student_id")


@pytest.mark.parametrize(
    ("name", "student"),
    [
        ("alice_exercises.ipynb", "alice"),
        ("bob_exercises (1).ipynb", "bob"),
        ("erin/exercises.ipynb", "erin"),
        ("erin/exercises_copy.ipynb", "erin"),
        ("carol_lecture.ipynb", ""),
        ("exercises.ipynb", ""),
    ],
)
def test_student_id_comes_from_the_file_name(name: str, student: str) -> None:
    assert identify(name, re.compile(DEFAULT_PATTERN))[0] == student


def deep_json(levels: int) -> bytes:
    return ("[" * levels + "]" * levels).encode()


def many_cells(count: int) -> bytes:
    nb = nbformat.from_dict(json.loads(samples.to_bytes(SOURCE)))
    nb.cells += [new_code_cell("x = 1") for _ in range(count)]
    return samples.to_bytes(nb)


@pytest.mark.parametrize(
    ("make", "reason"),
    [  # made by the test that uses them, not by every test process that collects them
        (lambda: deep_json(100_000), "nested more than 200"),
        (lambda: b'{"nbformat": 4, "cells": ' + deep_json(300) + b"}", "nested more than 200"),
        (lambda: many_cells(2_001), "more than 2000 cells"),
        (lambda: b" " * (20 * 2**20 + 1) + b"{}", "larger than 20 MB"),
        (lambda: b'{"nbformat": 4, "nbformat_minor": 5, "cells": [', "invalid JSON"),
    ],
    ids=["deep-array", "deep-cells", "too-many-cells", "huge-file", "truncated"],
)
def test_limits_reject_with_a_one_line_reason(make, reason: str) -> None:
    checked = preflight(make(), RELEASE)
    assert checked.notebook is None
    assert reason in checked.rejection and "\n" not in checked.rejection


def test_matched_cells_take_every_metadata_key_from_the_release() -> None:
    nb = nbformat.from_dict(json.loads(samples.to_bytes(SOURCE)))
    for cell in nb.cells:
        if grade_id(cell) == "test_relu":
            cell.metadata["tags"] = ["skip-execution", "raises-exception"]
            cell.metadata["editable"] = True
    added = new_code_cell(
        "x = 1", metadata={"nbgrader": {"grade": True, "points": 9}, "tags": ["t"]}
    )
    nb.cells.insert(3, added)
    checked = preflight(samples.to_bytes(nb), RELEASE)
    cells = {grade_id(c): c for c in checked.notebook.cells}
    release = {grade_id(c): c for c in RELEASE.cells}
    assert cells["test_relu"].metadata == release["test_relu"].metadata
    extra = [c for c in checked.notebook.cells if c.source == "x = 1"]
    assert extra and "nbgrader" not in extra[0].metadata and "tags" not in extra[0].metadata
