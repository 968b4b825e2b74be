"""Tests of course.expressivity against np.interp and a direct composition of the tent map."""

from itertools import pairwise

import numpy as np
import pytest

from course.expressivity import relu_interpolant_params, sawtooth_params
from course.network import count_parameters, mlp_forward

pytestmark = pytest.mark.course


def _net(x, params):
    return mlp_forward(x[:, None], params, activation="relu", output_activation="identity")[0][:, 0]


@pytest.mark.parametrize("n_knots", [2, 3, 17])
def test_relu_interpolant_matches_np_interp(n_knots):
    rng = np.random.default_rng(n_knots)
    x_knots = np.sort(rng.uniform(-3.0, 3.0, n_knots))
    y_knots = rng.normal(size=n_knots)
    params = relu_interpolant_params(x_knots, y_knots)
    H = n_knots - 1
    assert {k: v.shape for k, v in params.items()} == {
        "W1": (1, H),
        "b1": (H,),
        "W2": (H, 1),
        "b2": (1,),
    }
    x = np.concatenate([x_knots, rng.uniform(x_knots[0], x_knots[-1], 200)])
    assert np.allclose(_net(x, params), np.interp(x, x_knots, y_knots), atol=1e-10)


def test_relu_interpolant_rejects_bad_knots():
    with pytest.raises(ValueError):
        relu_interpolant_params([0.0, 0.0, 1.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError):
        relu_interpolant_params([0.0], [1.0])


def test_relu_interpolant_error_shrinks_like_one_over_h_squared():
    # closed form: linear interpolation of sin on a uniform grid errs by at most h^2 / 8
    x = np.linspace(0.0, np.pi, 2001)
    for H in (4, 16, 64):
        knots = np.linspace(0.0, np.pi, H + 1)
        err = np.max(np.abs(_net(x, relu_interpolant_params(knots, np.sin(knots))) - np.sin(x)))
        assert err <= (np.pi / H) ** 2 / 8 + 1e-12


def _tent(x):
    return np.where(x < 0.5, 2.0 * x, 2.0 - 2.0 * x)


@pytest.mark.parametrize("depth", [1, 2, 3, 6])
def test_sawtooth_is_the_composed_tent_map(depth):
    params = sawtooth_params(depth)
    sizes = [1] + [2] * depth + [1]
    assert [params[f"W{l}"].shape for l in range(1, depth + 2)] == list(pairwise(sizes))
    assert count_parameters(sizes) == 6 * depth + 1
    x = np.linspace(0.0, 1.0, 2**10 + 1)  # dyadic grid: every kink is a grid point
    expected = x.copy()
    for _ in range(depth):
        expected = _tent(expected)
    out = _net(x, params)
    assert np.allclose(out, expected, atol=1e-12)
    slopes = np.round(np.diff(out) * 2**10, 6)
    pieces = 1 + np.count_nonzero(np.diff(slopes))
    assert pieces == 2**depth
    assert np.allclose(np.abs(slopes), 2.0**depth)


def test_sawtooth_rejects_zero_depth():
    with pytest.raises(ValueError):
        sawtooth_params(0)
