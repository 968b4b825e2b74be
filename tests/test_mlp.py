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


def _check_grads(model, X, y, loss, tol=1e-6):
    """Every gradient of ``loss_and_grads`` against centred differences of its loss."""
    _, grads = model.loss_and_grads(X, y, loss)
    assert set(grads) == set(model.params)
    for key, p in model.params.items():
        numeric = numerical_gradient(lambda _: model.loss_and_grads(X, y, loss)[0], p)
        # a bias before batch normalization has an exactly zero gradient: compare absolutely
        assert rel_error(grads[key], numeric) < tol or np.abs(grads[key] - numeric).max() < 1e-9, (
            key
        )


@pytest.mark.parametrize("norm", ["batch", "layer"])
@pytest.mark.parametrize(
    ("activation", "output", "loss", "kind"),
    [
        ("tanh", "softmax", "categorical_cross_entropy", "labels"),
        ("relu", "identity", "mse", "real"),
        ("sigmoid", "sigmoid", "binary_cross_entropy", "binary"),
    ],
)
def test_normalized_mlp_gradients_match_finite_differences(norm, activation, output, loss, kind):
    rng = np.random.default_rng(3)
    k = 1 if kind == "binary" else 3
    model = MLP([4, 5, 6, k], activation, output, init="xavier_normal", rng=rng, l2=0.01, norm=norm)
    for key in model.params:  # away from gamma = 1, beta = 0 so every path is exercised
        if key.startswith(("gamma", "beta", "b")):
            model.params[key] = rng.normal(size=model.params[key].shape)
    X = rng.normal(size=(6, 4))
    _check_grads(model, X, make_targets(kind, 6, k, rng), loss)


def test_layer_norm_gradients_for_a_batch_of_one():
    rng = np.random.default_rng(4)
    model = MLP([3, 5, 4, 2], "tanh", "softmax", rng=rng, norm="layer")
    _check_grads(model, rng.normal(size=(1, 3)), np.array([1]), "categorical_cross_entropy")


def test_batch_norm_with_dropout_gradients_use_the_forward_mask():
    rng = np.random.default_rng(5)
    model = MLP([3, 6, 6, 2], "tanh", "softmax", dropout=0.3, rng=rng, norm="batch")
    X, y = rng.normal(size=(5, 3)), np.array([0, 1, 1, 0, 1])

    def loss_with_fixed_masks(_):
        model.rng = np.random.default_rng(11)
        return model.loss_and_grads(X, y, "categorical_cross_entropy")[0]

    model.rng = np.random.default_rng(11)
    _, grads = model.loss_and_grads(X, y, "categorical_cross_entropy")
    for key, p in model.params.items():
        numeric = numerical_gradient(loss_with_fixed_masks, p)
        assert rel_error(grads[key], numeric) < 1e-6 or np.abs(grads[key] - numeric).max() < 1e-9


def test_normalized_hidden_layers_have_unit_statistics():
    rng = np.random.default_rng(6)
    X = rng.normal(3.0, 5.0, size=(50, 4))
    for norm, axis in (("batch", 0), ("layer", 1)):
        model = MLP([4, 8, 7, 2], "identity", "identity", rng=rng, norm=norm)
        _, caches = mlp_forward(X, model.params, "identity", "identity", norm=norm)
        for _, act_cache, drop_cache, (kind, _) in caches[:-1]:
            z = act_cache[0]  # the normalized pre-activation (gamma = 1, beta = 0)
            assert kind == norm and drop_cache is None
            assert np.allclose(z.mean(axis=axis), 0.0, atol=1e-12)
            assert np.allclose(z.var(axis=axis), 1.0, atol=1e-3)
        assert len(caches[-1]) == 2  # the output layer is not normalized


def test_batch_norm_running_statistics_closed_form():
    rng = np.random.default_rng(7)
    model = MLP([3, 4, 2], "relu", "identity", rng=rng, norm="batch")
    X, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    z1 = X @ model.params["W1"] + model.params["b1"]
    model.loss_and_grads(X, y, "mse")
    assert np.allclose(model.running[1]["mean"], 0.1 * z1.mean(axis=0))
    assert np.allclose(model.running[1]["var"], 0.9 + 0.1 * z1.var(axis=0, ddof=1))
    # inference normalizes with the running statistics and leaves them unchanged
    before = {k: v.copy() for k, v in model.running[1].items()}
    x_hat = (z1[:1] - before["mean"]) / np.sqrt(before["var"] + 1e-5)
    expected = np.maximum(x_hat, 0.0) @ model.params["W2"] + model.params["b2"]
    assert np.allclose(model.forward(X[:1]), expected)
    assert all(np.array_equal(model.running[1][k], before[k]) for k in before)


def test_layer_norm_is_the_same_in_training_and_inference():
    rng = np.random.default_rng(8)
    model = MLP([3, 5, 2], "tanh", "identity", rng=rng, norm="layer")
    X = rng.normal(size=(4, 3))
    assert model.running is None
    assert np.allclose(model.forward(X, training=True), model.forward(X))


def test_norm_option_keeps_the_plain_network_unchanged():
    rng = np.random.default_rng(9)
    plain = MLP([3, 4, 2], rng=np.random.default_rng(0))
    assert sorted(plain.params) == ["W1", "W2", "b1", "b2"] and plain.running is None
    normed = MLP([3, 4, 4, 2], rng=rng, norm="batch")
    assert set(normed.params) == {f"{p}{l}" for p in "Wb" for l in (1, 2, 3)} | {
        "gamma1",
        "beta1",
        "gamma2",
        "beta2",
    }
    assert normed.params["gamma2"].shape == (4,) and sorted(normed.running) == [1, 2]
    with pytest.raises(ValueError, match="norm"):
        MLP([3, 4, 2], norm="group")
