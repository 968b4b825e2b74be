"""course.network's MLP class: gradients against finite differences, seed 001's worked example."""

import numpy as np
import pytest

from course.data import xor
from course.gradcheck import numerical_gradient, rel_error
from course.network import MLP, mlp_backward, mlp_forward, predict_binary, predict_multiclass
from course.optimizers import Adam
from course.training import train

pytestmark = pytest.mark.course

CASES = [
    # (activation, output activation, loss, targets)
    ("relu", "identity", "mse", "real"),
    ("tanh", "identity", "huber", "real"),
    ("sigmoid", "sigmoid", "binary_cross_entropy", "binary"),
    ("gelu", "sigmoid", "mse", "binary"),
    ("elu", "softmax", "categorical_cross_entropy", "labels"),
    ("leaky_relu", "softmax", "mse", "onehot"),
    ("softplus", "identity", "softmax_cross_entropy", "labels"),
    ("tanh", "identity", "sigmoid_binary_cross_entropy", "binary"),
]


def make_targets(kind, n, k, rng):
    if kind == "real":
        return rng.normal(size=(n, k))
    if kind == "binary":
        return rng.integers(0, 2, size=(n, k)).astype(float)
    labels = rng.integers(0, k, size=n)
    return labels if kind == "labels" else np.eye(k)[labels]


@pytest.mark.parametrize(("activation", "output", "loss", "kind"), CASES)
@pytest.mark.parametrize("n", [1, 5])
def test_loss_and_grads_match_finite_differences(activation, output, loss, kind, n):
    rng = np.random.default_rng(n)
    k = 1 if kind == "binary" else 3
    model = MLP([4, 5, 3, k], activation, output, init="xavier_normal", rng=rng, l1=0.01, l2=0.02)
    X = rng.normal(size=(n, 4))
    y = make_targets(kind, n, k, rng)
    _, grads = model.loss_and_grads(X, y, loss)
    for key, p in model.params.items():
        numeric = numerical_gradient(lambda _, key=key: model.loss_and_grads(X, y, loss)[0], p)
        assert rel_error(grads[key], numeric) < 1e-7, key


def test_dropout_gradients_use_the_forward_mask():
    rng = np.random.default_rng(0)
    model = MLP([3, 6, 6, 2], "relu", "softmax", dropout=0.4, rng=rng)
    X, y = rng.normal(size=(4, 3)), np.array([0, 1, 1, 0])
    for key in ("b1", "b2"):  # a fully dropped row would otherwise sit exactly on ReLU's kink
        model.params[key] = rng.normal(size=model.params[key].shape)

    def loss_with_fixed_masks(_):
        model.rng = np.random.default_rng(11)
        return model.loss_and_grads(X, y, "categorical_cross_entropy")[0]

    model.rng = np.random.default_rng(11)
    _, grads = model.loss_and_grads(X, y, "categorical_cross_entropy")
    for key, p in model.params.items():
        assert rel_error(grads[key], numerical_gradient(loss_with_fixed_masks, p)) < 1e-7


def test_backward_applies_the_output_activation():
    rng = np.random.default_rng(1)
    model = MLP([3, 4, 3], "tanh", "softmax", rng=rng)
    X = rng.normal(size=(2, 3))
    dout = rng.normal(size=(2, 3))
    model.forward(X)
    grads = model.backward(dout)
    for key, p in model.params.items():
        numeric = numerical_gradient(lambda _: float(np.sum(model.forward(X) * dout)), p)
        assert rel_error(grads[key], numeric) < 1e-7


def test_fused_loss_is_stable_for_saturated_outputs():
    model = MLP([2, 2], "relu", "softmax", rng=np.random.default_rng(0))
    model.params["W1"] = np.array([[1e3, -1e3], [0.0, 0.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        value, grads = model.loss_and_grads(
            np.array([[5.0, 0.0]]), np.array([1]), "categorical_cross_entropy"
        )
    assert np.isclose(value, 1e4) and all(np.isfinite(g).all() for g in grads.values())


def test_functional_core_matches_the_class():
    rng = np.random.default_rng(2)
    model = MLP([3, 4, 2], "relu", "identity", rng=rng)
    X = rng.normal(size=(5, 3))
    out, caches = mlp_forward(X, model.params, "relu", "identity")
    assert np.array_equal(out, model.forward(X))
    dout = rng.normal(size=out.shape)
    grads = mlp_backward(dout, caches)
    assert all(np.array_equal(grads[k], g) for k, g in model.backward(dout).items())


def seed_001_network():
    """Seed 001's 3-2-1 sigmoid network, nodes 4 and 5 hidden, node 6 the output."""
    model = MLP([3, 2, 1], "sigmoid", "sigmoid", rng=np.random.default_rng(0))
    model.params = {
        "W1": np.array([[0.2, -0.3], [0.4, 0.1], [-0.5, 0.2]]),
        "b1": np.array([-0.4, 0.2]),
        "W2": np.array([[-0.3], [-0.2]]),
        "b2": np.array([0.1]),
    }
    return model


def test_seed_001_worked_example_every_number():
    model = seed_001_network()
    x, t = np.array([[1.0, 0.0, 1.0]]), np.array([[1.0]])
    o6 = model.forward(x)
    z1 = x @ model.params["W1"] + model.params["b1"]
    o4, o5 = 1 / (1 + np.exp(-z1[0]))
    assert np.allclose([z1[0, 0], z1[0, 1]], [-0.7, 0.1])
    assert np.allclose([o4, o5, o6[0, 0]], [0.332, 0.525, 0.474], atol=5e-4)
    grads = model.backward(o6 - t)  # E = 1/2 (t - o)^2, so dE/do = o - t
    err6, (err4, err5) = -grads["b2"][0], -grads["b1"]  # the slides' Err is -dE/dz
    assert np.allclose([err6, err5, err4], [0.1311, -0.0065, -0.0087], atol=5e-4)
    assert np.isclose(err6, 0.13117, atol=5e-6)
    new = {k: p - 0.9 * grads[k] for k, p in model.params.items()}
    assert np.allclose(new["W2"][:, 0], [-0.261, -0.138], atol=5e-4)
    assert np.isclose(new["b2"][0], 0.218, atol=5e-4)
    assert np.allclose(new["W1"][:, 1], [-0.306, 0.1, 0.194], atol=5e-4)
    assert np.isclose(new["W1"][1, 0], 0.4)
    assert np.allclose(new["b1"], [-0.408, 0.194], atol=5e-4)


def test_a_trained_network_solves_xor():
    X, y = xor()
    model = MLP([2, 8, 1], "tanh", "sigmoid", init="xavier_normal", rng=np.random.default_rng(0))
    train(
        model,
        X,
        y,
        "binary_cross_entropy",
        Adam(lr=0.05),
        n_epochs=300,
        batch_size=4,
        rng=np.random.default_rng(1),
    )
    assert np.array_equal(model.predict(X), y)


def test_prediction_heads():
    assert np.array_equal(predict_binary(np.array([0.2, 0.5, 0.9])), [0, 1, 1])
    assert np.array_equal(predict_binary(np.array([[0.2], [0.7]]), threshold=0.8), [0, 0])
    assert np.array_equal(predict_multiclass(np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])), [1, 0])
