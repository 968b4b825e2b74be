"""course.notebooks and course.messages: the notebook vocabulary and one-line messages."""

import json
from pathlib import Path

import pytest

from course.messages import error_output_line, one_line, shorten
from course.notebooks import (
    cell_source,
    grade_id,
    is_exercises_name,
    nbgrader_meta,
    read_json,
    split_hidden_tests,
)

pytestmark = pytest.mark.course


@pytest.mark.parametrize(
    "name",
    ["exercises.ipynb", "Exercises.ipynb", "exercises (1).ipynb", "exercises-Copy1.ipynb"],
)
def test_exercises_names_and_the_copies_students_make(name):
    assert is_exercises_name(name)


@pytest.mark.parametrize("name", ["lecture.ipynb", "exercises.py", "my exercises.ipynb"])
def test_other_files_are_not_the_exercises(name):
    assert not is_exercises_name(name)


@pytest.mark.parametrize(
    "cell",
    [None, [], {"metadata": []}, {"metadata": {"nbgrader": "x"}}, {"metadata": {"nbgrader": {}}}],
)
def test_malformed_cells_have_no_grade_id(cell):
    assert nbgrader_meta(cell) == {} and grade_id(cell) is None


def test_grade_id_and_source_in_every_shape_json_gives():
    cell = {"metadata": {"nbgrader": {"grade_id": "relu"}}, "source": ["a\n", 3, "b"]}
    assert grade_id(cell) == "relu" and cell_source(cell) == "a\nb"
    assert grade_id({"metadata": {"nbgrader": {"grade_id": 7}}}) is None


def test_hidden_test_blocks_are_split_out():
    source = "x = 1\n### BEGIN HIDDEN TESTS\nassert x\n### END HIDDEN TESTS\ny = 2"
    kept, blocks = split_hidden_tests(source)
    assert kept == "x = 1\ny = 2" and blocks == ["assert x"]


def test_read_json_refuses_what_is_not_a_notebook(tmp_path: Path):
    good, bad, big = tmp_path / "good.ipynb", tmp_path / "bad.ipynb", tmp_path / "big.ipynb"
    good.write_text(json.dumps({"cells": []}))
    bad.write_text("{not json")
    big.write_text(json.dumps({"cells": [], "pad": "x" * 100}))
    assert read_json(good) == {"cells": []}
    assert read_json(bad) is None and read_json(tmp_path / "missing.ipynb") is None
    assert read_json(big, limit=50) is None
    (tmp_path / "list.ipynb").write_text("[]")
    assert read_json(tmp_path / "list.ipynb") is None


def test_one_line_states_an_exception_on_one_short_line():
    assert one_line(ValueError("bad\n  value")) == "ValueError: bad value"
    assert one_line(ValueError("bad"), with_type=False) == "bad"
    assert one_line(KeyError()) == "KeyError"
    assert len(one_line(ValueError("x" * 10_000))) == 500


def test_one_line_survives_an_exception_whose_str_raises():
    class Hostile(Exception):
        def __str__(self):
            raise RuntimeError("no")

    assert one_line(Hostile()) == "Hostile"


def test_error_output_line():
    assert error_output_line({"ename": "AssertionError", "evalue": "f: wrong\nshape"}) == (
        "AssertionError: f: wrong shape"
    )
    assert error_output_line({"ename": "StopIteration", "evalue": ""}) == "StopIteration"
    assert shorten("a " * 10, limit=8) == "a a a..."
