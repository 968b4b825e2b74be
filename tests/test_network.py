"""Tests of course.network against closed forms and hand computations."""

import numpy as np
import pytest

from course.data import xor
from course.network import count_parameters, mlp_forward, xor_params

pytestmark = pytest.mark.course


def test_count_parameters_matches_seed_001():
    assert count_parameters([3, 4, 2]) == 26
    assert count_parameters([3, 4, 4, 1]) == 41


def test_xor_params_compute_xor_exactly():
    X, y = xor()
    params = xor_params()
    shapes = {k: v.shape for k, v in params.items()}
    assert shapes == {"W1": (2, 2), "b1": (2,), "W2": (2, 1), "b2": (1,)}
    out, caches = mlp_forward(X, params, activation="relu", output_activation="identity")
    assert out.shape == (4, 1) and len(caches) == 2
    assert np.array_equal(out[:, 0], y.astype(float))
    # the same network written out by hand, without mlp_forward
    h = np.maximum(0.0, np.column_stack([X.sum(axis=1), X.sum(axis=1) - 1.0]))
    assert np.array_equal(h[:, 0] - 2.0 * h[:, 1], y.astype(float))


def test_worked_example_update_reproduces_seed_001():
    from course.gradcheck import numerical_gradient
    from course.network import mlp_backward, worked_example_update

    new = worked_example_update()
    assert {k: v.shape for k, v in new.items()} == {
        "W1": (3, 2),
        "b1": (2,),
        "W2": (2, 1),
        "b2": (1,),
    }
    # the slides' numbers (rounded to three decimals): the independent oracle
    assert np.allclose(new["W2"][:, 0], [-0.261, -0.138], atol=5e-4)
    assert np.isclose(new["b2"][0], 0.218, atol=5e-4)
    assert np.allclose(new["W1"][:, 1], [-0.306, 0.1, 0.194], atol=5e-4)
    assert np.isclose(new["W1"][1, 0], 0.4)
    assert np.allclose(new["b1"], [-0.408, 0.194], atol=5e-4)
    # the step is -lr times a gradient that centred differences confirm
    start = worked_example_update(lr=0.0)
    x = np.array([[1.0, 0.0, 1.0]])

    def loss(_):
        return 0.5 * float((1.0 - mlp_forward(x, start, "sigmoid", "sigmoid")[0][0, 0]) ** 2)

    for lr in (0.9, 0.3):
        step = worked_example_update(lr=lr)
        for key in start:
            numeric = numerical_gradient(loss, start[key])
            assert np.allclose(step[key], start[key] - lr * numeric, atol=1e-9)
    out, caches = mlp_forward(x, start, "sigmoid", "sigmoid")
    assert np.isclose(-mlp_backward(out - 1.0, caches)["b2"][0], 0.13117, atol=5e-6)
