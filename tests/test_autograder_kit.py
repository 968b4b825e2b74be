"""The grading kit cache, the fast creation of a gradebook, and registering an assignment."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import nbformat
import pytest
from support import ASSIGNMENT, new_course

from autograder.pipeline.coursedir import load_course
from autograder.pipeline.gradebook import Recorder, assignment_cells
from autograder.pipeline.kit import KEPT_KITS, cached_kit, create_gradebook, prune
from autograder.pipeline.release import release
from course.notebooks import grade_id

pytestmark = pytest.mark.autograder


def set_points(course: Path, name: str, points: float) -> None:
    """Give the source cell with grade id ``name`` of the fixture's exercises ``points``."""
    path = course / "source" / ASSIGNMENT / "exercises.ipynb"
    notebook = nbformat.read(path, as_version=4)
    cells = [c for c in notebook.cells if grade_id(c) == name]
    assert len(cells) == 1, f"no single cell {name} in the fixture"
    cells[0].metadata.nbgrader.points = points
    nbformat.write(notebook, path)


def schema(db_path: Path) -> dict[str, object]:
    """Each table's columns (name, type, not-null, primary key) and the alembic revision."""
    with sqlite3.connect(db_path) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
        layout = {
            t: sorted((c[1], c[2], c[3], c[5]) for c in db.execute(f"pragma table_info('{t}')"))
            for t in tables
        }
        layout["revision"] = db.execute("select version_num from alembic_version").fetchall()
    return layout


def test_new_gradebook_is_the_one_nbgrader_makes(tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    load_course(new_course(tmp_path / "course"))  # puts this environment's alembic on PATH
    Gradebook(f"sqlite:///{tmp_path / 'nbgrader.db'}").close()
    create_gradebook(f"sqlite:///{tmp_path / 'ours.db'}")
    ours = schema(tmp_path / "ours.db")
    assert ours == schema(tmp_path / "nbgrader.db")
    assert len(ours["revision"]) == 1 and ours["revision"][0][0]
    Gradebook(f"sqlite:///{tmp_path / 'ours.db'}").close()
    create_gradebook(f"sqlite:///{tmp_path / 'ours.db'}")
    assert schema(tmp_path / "ours.db") == ours


def test_kit_is_built_once_per_source(tmp_path: Path) -> None:
    course = load_course(new_course(tmp_path / "course"))
    first = cached_kit(course, [ASSIGNMENT])
    assert first.root.parent == course.root / ".grader" / "kits"
    assert first.release_notebook(ASSIGNMENT).is_file() and first.db_path.is_file()
    stamp = first.db_path.stat().st_mtime_ns
    again = cached_kit(course, [ASSIGNMENT])
    assert again.root == first.root and again.db_path.stat().st_mtime_ns == stamp
    assert course.config == load_course(course.root).config, "the course config must not change"
    set_points(course.root, "test_mse", 3)
    changed = cached_kit(course, [ASSIGNMENT])
    assert changed.root != first.root
    assert first.db_path.stat().st_mtime_ns == stamp, "a cached kit must never change"
    assert {p.name for p in changed.root.parent.iterdir()} == {first.root.name, changed.root.name}


def test_prune_keeps_the_most_recently_used_kits(tmp_path: Path) -> None:
    kits = tmp_path / "kits"
    for age in range(KEPT_KITS + 3):
        folder = kits / f"kit{age:02d}"
        folder.mkdir(parents=True)
        os.utime(folder, (1e9 - age, 1e9 - age))
    (kits / "kit99.partial-abc").mkdir()
    prune(kits)
    kept = sorted(p.name for p in kits.iterdir())
    assert kept == [f"kit{age:02d}" for age in range(KEPT_KITS)] + ["kit99.partial-abc"]


def test_registration_is_skipped_only_when_the_cells_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = load_course(new_course(tmp_path / "course"))
    assert release(course, [ASSIGNMENT]) == []
    recorder = Recorder(course)
    try:
        registered = assignment_cells(recorder.gb, ASSIGNMENT)
        assert ("grade", "exercises", "test_mse", "code", 2.0) in registered

        def refuse(*args: object) -> None:
            raise AssertionError("the gradebook already had these cells")

        with monkeypatch.context() as patched:
            patched.setattr("autograder.pipeline.gradebook.generate_assignment", refuse)
            recorder.register(ASSIGNMENT, cached_kit(course, [ASSIGNMENT]))
        set_points(course.root, "test_mse", 3)
        recorder.register(ASSIGNMENT, cached_kit(course, [ASSIGNMENT]))
        recorder.gb.db.expire_all()
        updated = assignment_cells(recorder.gb, ASSIGNMENT)
    finally:
        recorder.close()
    assert ("grade", "exercises", "test_mse", "code", 3.0) in updated
    changed = {(kind, name) for kind, _, name, *_ in updated ^ registered}
    assert changed == {("grade", "test_mse"), ("source", "test_mse")}
