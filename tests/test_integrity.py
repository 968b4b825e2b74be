"""The one static rule left: code that reaches for what watches the graded calls holds back the
notebook's points for review. Everything else a student writes is free: whether a graded
function used the reference is observed while it runs (tests/test_observation.py)."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.pipeline import integrity
from autograder.pipeline.integrity import graded_cells

pytestmark = pytest.mark.autograder


def cell(source: str, grade_id: str | None = None, kind: str = "answer") -> nbformat.NotebookNode:
    made = new_code_cell(source)
    if grade_id:
        made.metadata["nbgrader"] = {
            "grade_id": grade_id,
            "solution": kind == "answer",
            "grade": kind == "test",
            "locked": kind != "answer",
            "points": 1 if kind == "test" else 0,
        }
    return made


def reference() -> nbformat.NotebookNode:
    nb = new_notebook(
        cells=[
            cell(
                "import numpy as np\nfrom course.activations import ACTIVATIONS", "setup", "setup"
            ),
            cell("def sigmoid(z):\n    return 1 / (1 + np.exp(-z))", "sigmoid"),
            cell("assert sigmoid(0) == 0.5", "test_sigmoid", "test"),
            cell("def relu(z):\n    return np.maximum(z, 0)", "relu"),
            cell("assert relu(1) == 1", "test_relu", "test"),
            cell("assert relu(2) == 2", "test_relu_more", "test"),
        ]
    )
    nb.metadata["course"] = {"equivalents": {"sigmoid": ["scipy.special.expit"]}}
    return nb


def submission(*answers: str, extra: str = "") -> nbformat.NotebookNode:
    nb = reference()
    nb.cells[1].source, nb.cells[3].source = answers
    if extra:
        nb.cells.insert(1, cell(extra))
    return nb


OWN_SIGMOID = "def sigmoid(z):\n    return 0.5 * (1 + np.tanh(z / 2))"
OWN_RELU = "def relu(z):\n    return z * (z > 0)"
ALL_TESTS = ("test_sigmoid", "test_relu", "test_relu_more")


def test_each_function_maps_to_the_tests_that_follow_it():
    assert graded_cells(reference()) == {
        "sigmoid": ("test_sigmoid",),
        "relu": ("test_relu", "test_relu_more"),
    }


HONEST = [
    "%timeit np.zeros(3)\n%matplotlib inline\n%load_ext autoreload\n%autoreload 2",
    "import warnings, sys, os, importlib, inspect\nhelp(np.maximum)\nimport gc\ngc.collect()",
    "import course.activations as ca\nx = ca.sigmoid(np.zeros(3))\ninput = 3",
    "exec('print(1)')\nglobals()['W'] = 1\nnp.allclose = lambda *a: True",
    "from scipy.special import expit\nexpit(0.0)",
    "import inspect, course.activations\nprint(inspect.getsource(course.activations.sigmoid))",
    "from course.activations import sigmoid, tanh\nsigmoid(0.0)",
    "import course.activations\ndef sigmoid(z):\n    return getattr(course.activations, 'tanh')(z)",
    "def relu(z):\n    f = globals()['np'].maximum\n    return f(z, 0)",
    "for name in ['a', 'b']:\n    globals()[name] = vars(np)['zeros'](2)",
    "import importlib\nlayers = importlib.import_module('course.layers')\nprint(sys.version)",
    "class Frame:\n    back = 1\nframe = Frame()\nmonitoring = True\nprofile = 'x'",
    "import re\npattern = re.compile(r'\\d+')\nmodel = {'trace': 1, 'closure': 2}",
]


@pytest.mark.parametrize("scratch", HONEST)
def test_honest_code_anywhere_is_free(scratch: str):
    assert integrity.findings(submission(OWN_SIGMOID, OWN_RELU, extra=scratch), reference()) == []
    assert integrity.findings(submission(scratch, OWN_RELU), reference()) == []


TAMPERING = [
    ("import sys\nsys.setprofile(None)", "setprofile"),
    ("import sys as s\ns.settrace(lambda *a: None)", "settrace"),
    ("import threading\nthreading.setprofile(None)", "setprofile"),
    ("hook = __import__('sys').getprofile()", "getprofile"),
    ("import _thread\n_thread.start_new_thread(print, ())", "_thread"),
    ("from _thread import start_new_thread", "_thread"),
    ("import ctypes", "ctypes"),
    ("import gc\nobjs = gc.get_objects()", "get_objects"),
    ("from gc import get_referrers as g", "get_referrers"),
    ("import sys\nsys.modules['_grader_agent'].AGENT = None", "_grader_agent"),
    ("import sys\nf = sys._getframe(1)", "_getframe"),
    ("import inspect\nf = inspect.currentframe().f_back", "currentframe"),
    ("hook = some.__closure__[0].cell_contents", "__closure__"),
    ("import runpy\nrunpy.run_path('x.py')", "runpy"),
    ("import inspect, course.losses as L\nexec(inspect.getsource(L.mse))", "re-executes"),
    (
        "import course.losses as L\nexec(compile(open(L.__file__).read(), 'f', 'exec'))",
        "re-executes",
    ),
    ("name = 'f_' + 'back'\nx = getattr(frame, 'f_locals')", "f_locals"),
]


@pytest.mark.parametrize(("code", "word"), TAMPERING)
def test_reaching_for_the_watch_holds_back_every_test(code: str, word: str):
    for nb in (submission(OWN_SIGMOID, OWN_RELU, extra=code), submission(code, OWN_RELU)):
        found = integrity.findings(nb, reference())
        assert found, code
        assert all(f.tests == ALL_TESTS for f in found)
        assert any(word in str(f) for f in found), [str(f) for f in found]


def test_a_finding_quotes_its_line():
    code = "x = 1\nimport sys\nsys.setprofile(None)  # silence"
    (finding,) = integrity.findings(submission(OWN_SIGMOID, OWN_RELU, extra=code), reference())
    assert "sys.setprofile(None)  # silence" in str(finding)


def test_code_that_does_not_parse_is_left_to_its_tests():
    assert integrity.findings(submission("def sigmoid(z:\n", OWN_RELU), reference()) == []


def honest_notebooks():
    """Every source solution and every correct solution of the fairness suite, by name."""
    from support import TESTS, apply_solution, specs

    for module, solutions in specs("fairness").items():
        path = TESTS.parent / "source" / module / "exercises.ipynb"
        source = nbformat.read(path, as_version=4)
        yield f"{module}-source", source, source
        for i, solution in enumerate(solutions):
            made = apply_solution(nbformat.read(path, as_version=4), solution)
            yield f"{module}-{i}", made, source


def test_no_honest_solution_trips_the_rule():
    """The rule's false positives on honest code stay at zero (no grading needed)."""
    tripped = {
        name: [str(f) for f in integrity.findings(nb, reference)]
        for name, nb, reference in honest_notebooks()
    }
    assert {k: v for k, v in tripped.items() if v} == {}
    assert len(tripped) >= 40
