"""autograder.integrity: the static policy on answer cells."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.integrity import check, check_source, policy

pytestmark = pytest.mark.autograder

ALLOWED = ["numpy", "math", "course.activations"]
GRADED = {"sigmoid", "softmax"}


def answer(source: str, grade_id: str = "sigmoid") -> nbformat.NotebookNode:
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "solution": True,
        "grade": False,
        "grade_id": grade_id,
        "locked": False,
        "schema_version": 3,
        "task": False,
    }
    return cell


def reasons(source: str) -> list[str]:
    return [v.reason for v in check_source(source, "sigmoid", ALLOWED, GRADED)]


@pytest.mark.parametrize(
    "source",
    [
        "import numpy as np\nimport numpy.linalg\nfrom math import exp\n"
        "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n",
        "from course.activations import relu\nclass Box:\n    def __init__(self):\n"
        "        self.value = 1\n",
        "def softmax(z, axis=-1):\n    z = z - z.max(axis=axis, keepdims=True)\n"
        "    e = np.exp(z)\n    return e / e.sum(axis=axis, keepdims=True)\n",
        "answer_q1 = 'b'\n",
        "def sigmoid(z):\n    this is not python\n",
    ],
)
def test_honest_answers_pass(source):
    assert reasons(source) == []


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("import os\n", "import of `os`"),
        ("import sys\nsys.modules['numpy'] = None\n", "import of `sys`"),
        ("from course.network import mlp_forward\n", "import from `course.network`"),
        ("from course.activations import sigmoid\n", "graded function `sigmoid`"),
        ("import course.activations as A\nsigmoid = A.sigmoid\n", "defined with `def`"),
        ("import numpy as np\nnp.allclose = lambda *a, **k: True\n", "module attribute"),
        ("import numpy as np\nnp.testing.assert_allclose = print\n", "module attribute"),
        ("import numpy as np\ndel np.isclose\n", "module attribute"),
        ("get_ipython().input_transformers_cleanup.append(lambda lines: [])\n", "get_ipython"),
        ("ip = get_ipython()\nip.set_custom_exc((Exception,), lambda *a: None)\n", "get_ipython"),
        ("exec('x = 1')\n", "`exec`"),
        ("f = eval\n", "`eval`"),
        ("m = __import__('os')\n", "`__import__`"),
        ("x = (1).__class__.__base__.__subclasses__()\n", "attribute `__class__`"),
        ("with open('../../gradebook.db', 'rb') as f:\n    data = f.read()\n", "`open`"),
        ("import numpy as np\nnp.save('/tmp/x.npy', np.ones(2))\n", "file access"),
        (
            "import numpy as np\nsrc = np.loadtxt('../../source/01-neuron/exercises.ipynb')\n",
            "file access",
        ),
        ("!cat ../../source/01-neuron/exercises.ipynb\n", "get_ipython"),
        ("%load_ext something\n", "get_ipython"),
        ("exit()\n", "`exit`"),
        ("from numpy import *\n", "import *"),
        ("import course.activations as A\nA.ACTIVATIONS['sigmoid'] = None\n", "contents"),
    ],
)
def test_cheats_are_flagged_with_their_line(source, fragment):
    found = check_source(source, "sigmoid", ALLOWED, GRADED)
    assert any(fragment in v.reason or fragment in v.code for v in found), found
    assert all(v.line >= 1 and v.code for v in found)


def test_policy_comes_from_the_instructor_notebook():
    reference = new_notebook(cells=[answer("def sigmoid(z):\n    pass\n")])
    reference.metadata["course"] = {"allowed_imports": ["numpy"]}
    tampered = new_notebook(cells=[answer("import os\ndef sigmoid(z):\n    pass\n")])
    tampered.metadata["course"] = {"allowed_imports": ["numpy", "os"]}
    assert policy(reference) == (["numpy"], {"sigmoid"})
    (violation,) = check(tampered, reference)
    assert violation.cell == "sigmoid" and violation.line == 1 and "os" in str(violation)


def test_patching_a_module_imported_in_another_cell_is_flagged():
    setup = new_code_cell("import numpy as np\nfrom numpy import testing as npt\n")
    reference = new_notebook(cells=[setup, answer("def sigmoid(z):\n    pass\n")])
    reference.metadata["course"] = {"allowed_imports": ["numpy"]}
    cheat = answer("np.allclose = lambda *a, **k: True\nnpt.assert_allclose = print\n")
    found = check(new_notebook(cells=[setup, cheat]), reference)
    assert [v.line for v in found] == [1, 2]
    assert all("module attribute" in v.reason for v in found)
