"""course.initializers: formulas from the papers, checked on the statistics of large draws."""

import numpy as np
import pytest

from course import initializers as I

pytestmark = pytest.mark.course

FAN_IN, FAN_OUT = 1500, 500

EXPECTED_STD = {
    "normal": 0.01,
    "uniform": np.sqrt(1.0 / FAN_IN / 3.0),
    "xavier_normal": np.sqrt(2.0 / (FAN_IN + FAN_OUT)),
    "xavier_uniform": np.sqrt(2.0 / (FAN_IN + FAN_OUT)),
    "he_normal": np.sqrt(2.0 / FAN_IN),
    "he_uniform": np.sqrt(2.0 / FAN_IN),
}
UNIFORM_BOUND = {
    "uniform": 1.0 / np.sqrt(FAN_IN),
    "xavier_uniform": np.sqrt(6.0 / (FAN_IN + FAN_OUT)),
    "he_uniform": np.sqrt(6.0 / FAN_IN),
}


@pytest.mark.parametrize("name", EXPECTED_STD)
def test_std_and_mean_of_a_large_draw(name):
    W = I.INITIALIZERS[name](FAN_IN, FAN_OUT, rng=np.random.default_rng(0))
    assert W.shape == (FAN_IN, FAN_OUT) and W.dtype == np.float64
    std = EXPECTED_STD[name]
    assert abs(W.std() / std - 1.0) < 0.02
    assert abs(W.mean()) < 5 * std / np.sqrt(W.size)


@pytest.mark.parametrize("name", UNIFORM_BOUND)
def test_uniform_draws_stay_inside_their_bound(name):
    W = I.INITIALIZERS[name](FAN_IN, FAN_OUT, rng=np.random.default_rng(1))
    a = UNIFORM_BOUND[name]
    assert np.abs(W).max() <= a and np.abs(W).max() > 0.99 * a


@pytest.mark.parametrize(
    ("name", "draw"),
    [
        ("normal", lambda r, i, o: r.normal(0, 0.01, size=(i, o))),
        ("uniform", lambda r, i, o: r.uniform(-1 / np.sqrt(i), 1 / np.sqrt(i), size=(i, o))),
        ("xavier_normal", lambda r, i, o: r.normal(0, np.sqrt(2 / (i + o)), size=(i, o))),
        (
            "xavier_uniform",
            lambda r, i, o: r.uniform(-np.sqrt(6 / (i + o)), np.sqrt(6 / (i + o)), size=(i, o)),
        ),
        ("he_normal", lambda r, i, o: r.normal(0, np.sqrt(2 / i), size=(i, o))),
        ("he_uniform", lambda r, i, o: r.uniform(-np.sqrt(6 / i), np.sqrt(6 / i), size=(i, o))),
    ],
)
def test_one_untruncated_draw_reproducible_from_the_recipe(name, draw):
    W = I.INITIALIZERS[name](7, 3, rng=np.random.default_rng(42))
    assert np.array_equal(W, draw(np.random.default_rng(42), 7, 3))


def test_zeros_and_constant():
    assert np.array_equal(I.zeros(3, 2), np.zeros((3, 2)))
    assert np.array_equal(I.constant(3, 2, value=0.5), np.full((3, 2), 0.5))


@pytest.mark.parametrize("shape", [(6, 6), (9, 4), (4, 9)])
def test_orthogonal_is_orthogonal(shape):
    W = I.orthogonal(*shape, rng=np.random.default_rng(3), gain=2.0)
    assert W.shape == shape
    small = min(shape)
    gram = W.T @ W if shape[0] >= shape[1] else W @ W.T
    assert np.allclose(gram, 4.0 * np.eye(small))


def test_orthogonal_is_the_sign_corrected_qr_of_one_gaussian_draw():
    A = np.random.default_rng(5).normal(0.0, 1.0, size=(5, 3))
    q, r = np.linalg.qr(A)
    expected = q * np.sign(np.diag(r))
    assert np.allclose(I.orthogonal(5, 3, rng=np.random.default_rng(5)), expected)
