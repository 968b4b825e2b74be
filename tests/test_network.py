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
