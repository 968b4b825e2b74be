"""course.grading: messages that never leak expected values; per-student seeds."""

import warnings

import numpy as np
import pytest

from course import grading
from course.grading import check_close, graded_student, variant_seed

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


def test_variant_seed_differs_by_student_and_ignores_case_and_spaces():
    a = variant_seed("alice", "07-optimizers")
    assert a == variant_seed(" Alice ", "07-optimizers")
    assert a != variant_seed("bob", "07-optimizers")
    assert a != variant_seed("alice", "08-practice")
    assert 0 <= a < 2**32


def test_graded_student_is_none_outside_grading():
    assert graded_student() is None


def test_grading_backend_is_installed_for_the_block_only():
    """Inside the block the grader's backend answers; after it, even after an error, none."""

    class Backend:
        student = "ada"

    assert grading.graded_student() is None
    with pytest.raises(RuntimeError), grading.grading_backend(Backend()):
        assert grading.graded_student() == "ada"
        raise RuntimeError("a test cell failed")
    assert grading.graded_student() is None
