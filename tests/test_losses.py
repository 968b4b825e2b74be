"""course.losses against scikit-learn, SciPy, closed forms and numerical gradients."""

import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.metrics import log_loss, mean_absolute_error, mean_squared_error

from course import losses as L
from course.activations import sigmoid, softmax
from course.gradcheck import numerical_gradient, rel_error

pytestmark = pytest.mark.course

RNG = np.random.default_rng(0)
SHAPES = [(1,), (5,), (4, 3)]


def huber_by_hand(y, p, delta):
    r = np.abs(p - y)
    return np.mean(np.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta)))


@pytest.mark.parametrize("shape", SHAPES)
def test_regression_losses_match_oracles(shape):
    y, p = RNG.normal(size=shape), RNG.normal(size=shape)
    assert np.isclose(L.mse(y, p), mean_squared_error(y.reshape(-1), p.reshape(-1)))
    assert np.isclose(L.mae(y, p), mean_absolute_error(y.reshape(-1), p.reshape(-1)))
    assert np.isclose(L.huber(y, p, delta=0.7), huber_by_hand(y, p, 0.7))
    assert all(isinstance(f(y, p), float) for f in (L.mse, L.mae, L.huber))


def test_huber_is_quadratic_then_linear():
    y = np.zeros(2)
    assert np.isclose(L.huber(y, np.array([0.5, 0.5])), 0.125)
    assert np.isclose(L.huber(y, np.array([3.0, 3.0]), delta=1.0), 2.5)


@pytest.mark.parametrize(
    "name", ["mse", "mae", "huber", "binary_cross_entropy", "sigmoid_binary_cross_entropy"]
)
@pytest.mark.parametrize("shape", SHAPES)
def test_elementwise_loss_gradients_match_numerical(name, shape):
    loss, grad = L.LOSSES[name]
    if "binary" in name:
        y = RNG.integers(0, 2, size=shape).astype(float)
        p = (
            RNG.uniform(0.05, 0.95, size=shape)
            if name == "binary_cross_entropy"
            else RNG.normal(size=shape)
        )
    else:
        y, p = RNG.normal(size=shape), RNG.normal(size=shape)
    assert rel_error(grad(y, p), numerical_gradient(lambda v: loss(y, v), p)) < 1e-7


def test_shape_mismatch_raises():
    for loss in (L.mse, L.mae, L.huber, L.binary_cross_entropy, L.sigmoid_binary_cross_entropy):
        with pytest.raises(ValueError):
            loss(np.zeros(4), np.zeros((4, 1)))
    with pytest.raises(ValueError):
        L.mse_grad(np.zeros(3), np.zeros(4))


def test_binary_cross_entropy_matches_scikit_learn_and_clips():
    y = np.array([0.0, 1.0, 1.0, 0.0])
    p = np.array([0.1, 0.8, 0.6, 0.3])
    assert np.isclose(L.binary_cross_entropy(y, p), log_loss(y, p))
    with np.errstate(divide="raise", invalid="raise"):
        worst = L.binary_cross_entropy(np.array([1.0, 0.0]), np.array([0.0, 1.0]))
        assert np.isfinite(worst)
        assert np.isfinite(L.binary_cross_entropy_grad(np.array([1.0]), np.array([0.0]))).all()
    assert np.isclose(worst, -np.log(np.finfo(float).eps))


def test_categorical_cross_entropy_matches_scikit_learn_for_both_encodings():
    labels = np.array([0, 2, 1, 2])
    p = softmax(RNG.normal(size=(4, 3)))
    expected = log_loss(labels, p, labels=[0, 1, 2])
    assert np.isclose(L.categorical_cross_entropy(labels, p), expected)
    assert np.isclose(L.categorical_cross_entropy(L.one_hot(labels, 3), p), expected)


def test_seed_003_table():
    assert np.isclose(L.categorical_cross_entropy([0], [[0.01, 0.99]]), 4.605, atol=1e-3)
    assert np.isclose(L.categorical_cross_entropy([1], [[0.01, 0.99]]), 0.01005, atol=1e-5)


@pytest.mark.parametrize("n", [1, 6])
def test_categorical_gradients_match_numerical(n):
    # its own generator: the module's RNG gives each test whatever draws the tests before it
    # on the same xdist worker left, so this test's inputs changed with the scheduling
    rng = np.random.default_rng(100 + n)
    labels = rng.integers(0, 4, size=n)
    # central differences of -log(p) err by about h^2 / (3 p^2) relative: near p = 0.01 that is
    # 3e-7, over the tolerance, while the formula is exact; keep p where the oracle is exact
    p = softmax(rng.normal(scale=0.5, size=(n, 4)))
    assert p.min() > 0.03
    z = rng.normal(size=(n, 4))
    for y in (labels, L.one_hot(labels, 4)):
        for name, x in (("categorical_cross_entropy", p), ("softmax_cross_entropy", z)):
            loss, grad = L.LOSSES[name]
            numeric = numerical_gradient(lambda v, y=y, loss=loss: loss(y, v), x)
            assert rel_error(grad(y, x), numeric) < 1e-7


def test_fused_losses_equal_their_unfused_composition():
    labels = np.array([1, 0, 2])
    z = RNG.normal(size=(3, 3))
    assert np.isclose(
        L.softmax_cross_entropy(labels, z), L.categorical_cross_entropy(labels, softmax(z))
    )
    y = np.array([1.0, 0.0, 1.0])
    zb = RNG.normal(size=3)
    assert np.isclose(L.sigmoid_binary_cross_entropy(y, zb), L.binary_cross_entropy(y, sigmoid(zb)))


def test_fused_losses_are_stable_for_huge_logits():
    z = np.array([[1e4, 0.0, -1e4], [-1e3, 1e3, 0.0]])
    labels = np.array([2, 0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        value = L.softmax_cross_entropy(labels, z)
        grad = L.softmax_cross_entropy_grad(labels, z)
        binary = L.sigmoid_binary_cross_entropy(np.array([0.0, 1.0]), np.array([1e4, -1e4]))
    expected = np.mean(logsumexp(z, axis=1) - z[np.arange(2), labels])
    assert np.isclose(value, expected)
    assert np.isfinite(grad).all() and np.isclose(binary, 1e4)


def test_one_hot_rejects_bad_labels():
    with pytest.raises(ValueError):
        L.one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError):
        L.one_hot(np.array([0.0, 1.0]), 2)
