"""nbval in the loop: the tags it relies on, and proof that it catches a broken notebook.

``make test`` runs nbval itself over every notebook (``tests/nbval_course.py``). These tests
check what that run relies on: every exercise notebook carries exactly the
``raises-exception`` tags ``tests/tag_raises.py`` computes, in ``source/`` and in the
committed ``release/``; and nbval fails on a lecture whose cell is broken, or whose quoted
number changed (the lectures assert the numbers their prose quotes), run on modified copies
in a separate pytest, as an instructor would run it.
"""

from __future__ import annotations

import subprocess
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest
import tag_raises

from autograder.pipeline.coursedir import REPO_ROOT

pytestmark = pytest.mark.nbval

SOURCE = REPO_ROOT / "source"
RELEASE = REPO_ROOT / "release"
MODULES = sorted(p.name for p in SOURCE.glob("[0-9][0-9]-*") if (p / "exercises.ipynb").is_file())
STEPS = ("source", "release")


def tagged(nb: nbformat.NotebookNode) -> list[str]:
    return [
        c.metadata.get("nbgrader", {}).get("grade_id", c.get("id"))
        for c in nb.cells
        if tag_raises.TAG in c.metadata.get("tags", [])
    ]


@pytest.mark.parametrize("module", MODULES)
def test_exercise_tags_up_to_date(module: str) -> None:
    source = nbformat.read(SOURCE / module / "exercises.ipynb", as_version=4)
    expected = tagged(source)
    assert not tag_raises.retag(source), (
        f"run: python tests/tag_raises.py source/{module}/exercises.ipynb (and regenerate release)"
    )
    release = nbformat.read(RELEASE / module / "exercises.ipynb", as_version=4)
    assert tagged(release) == expected, f"release/{module} does not carry the source's tags"


def code_cell(nb: nbformat.NotebookNode, needle: str) -> tuple[int, int]:
    """(index among all cells, nbval's cell number among code cells) of the cell with ``needle``."""
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    (index,) = [i for i in code if needle in nb.cells[i].source]
    return index, code.index(index)


def lecture_copy(module: str, stop_at: str, path: Path, edit: tuple[str, str, str] = ()) -> int:
    """Write the lecture up to the cell holding ``stop_at``, after an optional edit.

    ``edit`` is ``(needle, old, new)``: ``old`` becomes ``new`` in the cell holding ``needle``.
    Returns nbval's number of the last cell ("Cell N").
    """
    nb = nbformat.read(SOURCE / module / "lecture.ipynb", as_version=4)
    if edit:
        needle, old, new = edit
        cell = nb.cells[code_cell(nb, needle)[0]]
        assert old in cell.source
        cell.source = cell.source.replace(old, new)
    index, number = code_cell(nb, stop_at)
    nb.cells = nb.cells[: index + 1]
    nbformat.write(nb, path)
    return number


def run_nbval(tmp_path: Path, notebooks: list[Path]) -> dict[str, list[str]]:
    """``{notebook stem: [failed "Cell N", ...]}`` from ``pytest --nbval-lax`` in a subprocess."""
    report = tmp_path / "nbval.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-q",
         "-p", "no:cacheprovider", "-p", "no:xdist", "-o", "addopts=", f"--junitxml={report}",
         *map(str, notebooks)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    results: dict[str, list[str]] = {path.stem: [] for path in notebooks}
    cases = list(ET.parse(report).getroot().iter("testcase"))
    assert len(cases) > len(notebooks), "nbval collected no cells"
    for case in cases:
        if case.find("failure") is not None or case.find("error") is not None:
            stem = case.get("classname").removesuffix(".ipynb").rsplit(".", 1)[-1]
            results[stem].append(case.get("name"))
    return results


def test_nbval_fails_on_a_broken_cell_and_a_changed_quoted_number(tmp_path: Path) -> None:
    asserted = "assert np.allclose([o4, o5, z2[0, 0], o6[0, 0]]"  # the worked example's numbers
    lecture_copy("04-backprop", asserted, tmp_path / "control.ipynb")
    # an instructor changes the example's first weight and forgets the numbers the prose quotes
    changed = lecture_copy(
        "04-backprop", asserted, tmp_path / "changed.ipynb",
        edit=('"W1": np.array([[0.2, -0.3]', "[[0.2, -0.3]", "[[0.25, -0.3]"),
    )  # fmt: skip
    # ... or breaks a cell of the forward-pass section
    forward = "Y_hat = A2 @ "
    broken = lecture_copy(
        "02-forward", forward, tmp_path / "broken.ipynb",
        edit=(forward, 'params["W3"] + ', 'params["W4"] + '),
    )  # fmt: skip

    results = run_nbval(
        tmp_path, [tmp_path / f"{n}.ipynb" for n in ("control", "changed", "broken")]
    )
    assert results == {"control": [], "changed": [f"Cell {changed}"], "broken": [f"Cell {broken}"]}


# -- a source lecture runs once, as its release ----------------------------------------------
def test_a_source_lecture_runs_as_its_release_only_while_they_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``tests/nbval_course.py`` leaves out a source lecture whose release is the same notebook
    cell for cell (nbval runs the release, in the students' environment): any difference in a
    cell's type, text or tags, or no release at all, and the source runs too."""
    from tests import nbval_course

    monkeypatch.setattr(nbval_course, "ROOT", tmp_path)
    lecture = nbformat.read(SOURCE / "03-losses" / "lecture.ipynb", as_version=4)
    source, release = (tmp_path / step / "03-losses" / "lecture.ipynb" for step in STEPS)
    for path in (source, release):
        path.parent.mkdir(parents=True)
        nbformat.write(lecture, path)
    assert nbval_course.runs_as_released(source)
    assert not nbval_course.runs_as_released(release)  # a release always runs
    first = next(i for i, c in enumerate(lecture.cells) if c.cell_type == "code")
    for change in ("text", "tags", "type"):
        changed = nbformat.from_dict(lecture)
        cell = changed.cells[first]
        if change == "text":
            cell.source += "\nx = 1"
        elif change == "tags":
            cell.metadata["tags"] = ["raises-exception"]
        else:
            changed.cells[first] = nbformat.v4.new_markdown_cell(cell.source)
        nbformat.write(changed, release)
        assert not nbval_course.runs_as_released(source), change
    release.unlink()
    assert not nbval_course.runs_as_released(source)


def test_a_source_lecture_is_left_out_only_when_its_release_runs_in_its_place() -> None:
    """Left out when the run collects the release (a folder above it is named) and does not
    name the source itself; a run over ``source/`` alone, or one module, keeps it."""
    from tests import nbval_course

    release = RELEASE / "03-losses" / "lecture.ipynb"
    source = SOURCE / "03-losses" / "lecture.ipynb"
    cases = {
        ("source", "release"): True,
        ("tests", "source", "release"): True,
        ("release/03-losses", "source/03-losses"): True,
        ("source",): False,
        ("source/03-losses",): False,
        ("release/02-forward", "source"): False,
        (str(source), "release"): False,  # make validate NB=source/...: the source itself
        (f"{source}::Cell 3", "release"): False,
    }
    for args, left_out in cases.items():
        config = types.SimpleNamespace(args=[str(REPO_ROOT / a) for a in args])
        assert nbval_course.runs_anyway(release, config) == left_out, args


def test_every_committed_source_lecture_runs_as_its_release() -> None:
    """The repository's own lectures: each source runs once, through its release (and
    ``tests/test_notebooks.py`` keeps the release in step with the source)."""
    from tests import nbval_course

    for module in MODULES:
        assert nbval_course.runs_as_released(SOURCE / module / "lecture.ipynb"), module
