"""course.grading: messages that never leak expected values, and assert_own against cheats."""

import types
import warnings

import numpy as np
import pytest

from course import activations
from course.grading import assert_own, check_close

pytestmark = pytest.mark.course


def test_check_close_passes_and_fails_with_a_useful_message():
    check_close(np.array([1.0, 2.0]), np.array([1.0, 2.0]), "f(x)")
    with pytest.raises(AssertionError, match="wrong shape"):
        check_close(np.zeros(3), np.zeros((3, 1)), "f(x)")
    with pytest.raises(AssertionError, match="returned None"):
        check_close(None, np.zeros(3), "f(x)")
    with pytest.raises(AssertionError, match="NaN"):
        check_close(np.array([np.nan]), np.array([1.0]), "f(x)")
    with pytest.raises(AssertionError, match="inf"):
        check_close(np.array([np.inf]), np.array([1.0]), "f(x)")
    with pytest.raises(AssertionError, match="not a numeric array"):
        check_close("abc", np.zeros(1), "f(x)")


def test_check_close_never_prints_expected_values():
    expected = np.array([0.123456789, 9.87654321])
    with pytest.raises(AssertionError) as info:
        check_close(np.array([0.5, 0.5]), expected, "softmax(z)")
    message = str(info.value)
    assert "softmax(z)" in message and "2 of 2" in message
    for value in ("0.123", "9.87", "0.12", "9.9"):
        assert value not in message


def test_check_close_is_silent_on_overflowing_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AssertionError):
            check_close(np.array([1e308 * 10]), np.array([1.0]), "x")


def _notebook_function(source: str, namespace: dict) -> types.FunctionType:
    """Define a function as a notebook cell would (module ``__main__``)."""
    namespace.setdefault("__name__", "__main__")
    exec(source, namespace)
    return namespace["sigmoid"]


def test_assert_own_accepts_own_code():
    fn = _notebook_function("def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n", {"np": np})
    assert_own(fn, activations.sigmoid, np.zeros(3))


@pytest.mark.parametrize(
    ("source", "namespace"),
    [
        ("sigmoid = ref\n", {"ref": activations.sigmoid}),
        ("def sigmoid(z):\n    return ref(z)\n", {"ref": activations.sigmoid}),
        (
            "def sigmoid(z):\n    return course.activations.sigmoid(z)\n",
            {"course": __import__("course")},
        ),
        ("def sigmoid(z):\n    return A.ACTIVATIONS['sigmoid'][0](z)\n", {"A": activations}),
        ("def sigmoid(z, f=ref):\n    return f(z)\n", {"ref": activations.sigmoid}),
        (
            "def make(f):\n    def sigmoid(z):\n        return f(z)\n    return sigmoid\n"
            "sigmoid = make(ref)\n",
            {"ref": activations.sigmoid},
        ),
        (
            "import sys\ndef sigmoid(z):\n"
            "    return sys.modules['course.activations'].sigmoid(z)\n",
            {},
        ),
    ],
)
def test_assert_own_rejects_aliases_and_wrappers(source, namespace):
    fn = _notebook_function(source, dict(namespace))
    with pytest.raises(AssertionError):
        assert_own(fn, activations.sigmoid, np.zeros(3))
    assert activations.sigmoid(0.0) == 0.5, "the reference must be restored"


def test_assert_own_rejects_functions_from_elsewhere():
    with pytest.raises(AssertionError):
        assert_own(np.tanh, activations.tanh)
