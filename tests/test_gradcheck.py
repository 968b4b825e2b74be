"""course.gradcheck against closed-form derivatives."""

import numpy as np
import pytest

from course.gradcheck import numerical_gradient, numerical_gradient_array, rel_error

pytestmark = pytest.mark.course


def test_numerical_gradient_of_a_cubic_and_restores_x():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    grad = numerical_gradient(lambda v: float(np.sum(v**3)), x)
    assert np.allclose(grad, 3 * before**2, rtol=1e-9)
    assert np.array_equal(x, before)


def test_numerical_gradient_array_is_a_vector_jacobian_product():
    A = np.random.default_rng(0).normal(size=(3, 4))
    x = np.random.default_rng(1).normal(size=(4,))
    dout = np.array([1.0, -2.0, 0.5])
    assert np.allclose(numerical_gradient_array(lambda v: A @ v, x, dout), A.T @ dout)


def test_rel_error():
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    assert np.isclose(rel_error([1.0, 2.0], [1.0, 2.2]), 0.2 / 4.2)
    assert rel_error(np.zeros(2), np.zeros(2)) == 0.0
