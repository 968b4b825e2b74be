"""The one static rule: a graded function that uses the reference (or a named equivalent, or
reflection) holds back the points of its own test cells for review; all else is free."""

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


def test_each_function_maps_to_the_tests_that_follow_it():
    assert graded_cells(reference()) == {
        "sigmoid": ("test_sigmoid",),
        "relu": ("test_relu", "test_relu_more"),
    }


@pytest.mark.parametrize(
    "scratch",
    [
        "%timeit np.zeros(3)\n%matplotlib inline",
        "import warnings, sys, os, importlib\nhelp(np.maximum)",
        "import course.activations as ca\nx = ca.sigmoid(np.zeros(3))\ninput = 3",
        "exec('print(1)')\nglobals()['W'] = 1\nnp.allclose = lambda *a: True",
        "from scipy.special import expit\nexpit(0.0)",
    ],
)
def test_scratch_code_outside_graded_functions_is_free(scratch: str):
    assert integrity.findings(submission(OWN_SIGMOID, OWN_RELU, extra=scratch), reference()) == []


def test_honest_helpers_with_any_names_are_free():
    answer = "def _pos(v):\n    return v > 0\n\ndef relu(z):\n    return np.where(_pos(z), z, 0.0)"
    assert integrity.findings(submission(OWN_SIGMOID, answer), reference()) == []


@pytest.mark.parametrize(
    ("sigmoid", "reason"),
    [
        ("from course.activations import sigmoid", "binds `sigmoid`"),
        ("import course.activations as A\nsigmoid = A.sigmoid", "binds `sigmoid`"),
        ("import course.activations as A\ndef sigmoid(z):\n    return A.sigmoid(z)", "uses"),
        ("def sigmoid(z):\n    from course import activations\n    return activations.sigmoid(z)",
         "uses"),
        ("def sigmoid(z):\n    return ACTIVATIONS['sigmoid'].forward(z)", "takes `sigmoid`"),
        ("from scipy.special import expit\ndef sigmoid(z):\n    return expit(z)", "equivalent"),
        ("import scipy.special as sp\ndef sigmoid(z):\n    return sp.expit(z)", "equivalent"),
        ("import course.activations as A\ndef h(z):\n    return A.sigmoid(z)\n"
         "def sigmoid(z):\n    return h(z)", "uses"),
        ("import course.activations as A\ndef sigmoid(z):\n"
         "    return getattr(A, 'sig' + 'moid')(z)",
         "computed name"),
        ("import sys\ndef sigmoid(z):\n    return sys.modules['course.activations'].sigmoid(z)",
         "reflection"),
        ("def sigmoid(z):\n    return eval('1 / (1 + np.exp(-z))')", "reflection"),
        ("def sigmoid(z):\n    import inspect\n    return inspect.currentframe()", "reflection"),
    ],
)  # fmt: skip
def test_the_reference_or_reflection_holds_back_only_that_function(sigmoid: str, reason: str):
    findings = integrity.findings(submission(sigmoid, OWN_RELU), reference())
    assert findings, sigmoid
    assert {f.function for f in findings} == {"sigmoid"}
    assert all(f.tests == ("test_sigmoid",) for f in findings)
    assert any(reason in f.reason for f in findings), [str(f) for f in findings]


def test_a_finding_quotes_its_line():
    sigmoid = "import course.activations as A\ndef sigmoid(z):\n    return A.sigmoid(z)"
    (finding,) = integrity.findings(submission(sigmoid, OWN_RELU), reference())
    assert "return A.sigmoid(z)" in str(finding)


def test_code_that_does_not_parse_is_left_to_its_tests():
    assert integrity.findings(submission("def sigmoid(z:\n", OWN_RELU), reference()) == []
