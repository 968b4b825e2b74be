"""course.layers: backward passes against numerical gradients, normalization by definition."""

import numpy as np
import pytest

from course import layers
from course.activations import ACTIVATIONS
from course.gradcheck import numerical_gradient_array, rel_error

pytestmark = pytest.mark.course


@pytest.mark.parametrize(("n", "d_in", "d_out"), [(1, 3, 2), (5, 4, 6), (8, 1, 1)])
def test_dense_forward_and_backward(n, d_in, d_out):
    rng = np.random.default_rng(n)
    x, W, b = rng.normal(size=(n, d_in)), rng.normal(size=(d_in, d_out)), rng.normal(size=d_out)
    out, cache = layers.dense_forward(x, W, b)
    assert np.allclose(out, np.einsum("ni,io->no", x, W) + b)
    dout = rng.normal(size=out.shape)
    dx, dW, db = layers.dense_backward(dout, cache)
    assert (
        rel_error(dx, numerical_gradient_array(lambda v: layers.dense_forward(v, W, b)[0], x, dout))
        < 1e-7
    )
    assert (
        rel_error(dW, numerical_gradient_array(lambda v: layers.dense_forward(x, v, b)[0], W, dout))
        < 1e-7
    )
    assert (
        rel_error(db, numerical_gradient_array(lambda v: layers.dense_forward(x, W, v)[0], b, dout))
        < 1e-7
    )


@pytest.mark.parametrize("name", [n for n in ACTIVATIONS if n != "binary_step"])
def test_activation_backward_matches_numerical(name):
    rng = np.random.default_rng(1)
    z = rng.uniform(-3, 3, size=(4, 5))
    z = np.where(np.abs(z) < 0.05, 0.5, z)
    dout = rng.normal(size=z.shape)
    _, cache = layers.activation_forward(z, name)
    numeric = numerical_gradient_array(lambda v: layers.activation_forward(v, name)[0], z, dout)
    assert rel_error(layers.activation_backward(dout, cache), numeric) < 1e-7


def test_dropout_statistics_and_mask_reuse():
    rng = np.random.default_rng(0)
    x = np.ones((400, 500))
    rate = 0.3
    out, cache = layers.dropout_forward(x, rate, rng=rng)
    dropped = np.mean(out == 0)
    n = x.size
    assert abs(dropped - rate) < 5 * np.sqrt(rate * (1 - rate) / n)
    assert abs(out.mean() - 1.0) < 5 * np.sqrt(rate / (1 - rate) / n)
    dout = np.random.default_rng(1).normal(size=x.shape)
    dx = layers.dropout_backward(dout, cache)
    assert np.array_equal(dx == 0, out == 0)
    assert np.allclose(dx[out != 0], dout[out != 0] / (1 - rate))


def test_dropout_draw_mask_and_identity():
    x = np.arange(12.0).reshape(3, 4)
    out, _ = layers.dropout_forward(x, 0.5, rng=np.random.default_rng(7))
    keep = np.random.default_rng(7).random(x.shape) >= 0.5
    assert np.allclose(out, x * keep / 0.5)
    mask = np.tile([True, False], (3, 2))
    out, cache = layers.dropout_forward(x, 0.25, mask=mask)
    assert np.allclose(out, x * mask / 0.75)
    numeric = numerical_gradient_array(
        lambda v: layers.dropout_forward(v, 0.25, mask=mask)[0], x, np.ones_like(x)
    )
    assert rel_error(layers.dropout_backward(np.ones_like(x), cache), numeric) < 1e-7
    for kwargs in ({"training": False}, {}):
        rate = 0.5 if kwargs else 0.0
        out, cache = layers.dropout_forward(x, rate, rng=np.random.default_rng(0), **kwargs)
        assert np.array_equal(out, x) and np.array_equal(layers.dropout_backward(x, cache), x)
    with pytest.raises(ValueError):
        layers.dropout_forward(x, 1.0)


def batchnorm_by_definition(x, gamma, beta, eps):
    return gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + eps) + beta


def test_batchnorm_training_forward_and_running_update():
    rng = np.random.default_rng(2)
    x = rng.normal(3.0, 2.0, size=(16, 4))
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    running = layers.init_running_stats(4)
    out, _ = layers.batchnorm_forward(x, gamma, beta, running, momentum=0.2)
    assert np.allclose(out, batchnorm_by_definition(x, gamma, beta, 1e-5))
    assert np.allclose(running["mean"], 0.2 * x.mean(0))
    assert np.allclose(running["var"], 0.8 + 0.2 * x.var(0, ddof=1))


def test_batchnorm_inference_uses_running_statistics():
    x = np.random.default_rng(3).normal(size=(5, 3))
    running = {"mean": np.array([1.0, 0.0, -1.0]), "var": np.array([4.0, 1.0, 0.25])}
    before = {k: v.copy() for k, v in running.items()}
    out, cache = layers.batchnorm_forward(x, np.ones(3), np.zeros(3), running, training=False)
    assert np.allclose(out, (x - before["mean"]) / np.sqrt(before["var"] + 1e-5))
    assert all(np.array_equal(running[k], before[k]) for k in running)
    dout = np.ones_like(x)
    numeric = numerical_gradient_array(
        lambda v: layers.batchnorm_forward(v, np.ones(3), np.zeros(3), running, training=False)[0],
        x,
        dout,
    )
    assert rel_error(layers.batchnorm_backward(dout, cache)[0], numeric) < 1e-7


@pytest.mark.parametrize("n", [3, 7])
def test_batchnorm_backward_matches_numerical(n):
    rng = np.random.default_rng(n)
    x, gamma, beta = rng.normal(size=(n, 3)), rng.normal(size=3), rng.normal(size=3)
    dout = rng.normal(size=(n, 3))
    _, cache = layers.batchnorm_forward(x, gamma, beta, None)
    dx, dgamma, dbeta = layers.batchnorm_backward(dout, cache)

    def f(x_, g_, b_):
        return layers.batchnorm_forward(x_, g_, b_, None)[0]

    assert rel_error(dx, numerical_gradient_array(lambda v: f(v, gamma, beta), x, dout)) < 1e-6
    assert rel_error(dgamma, numerical_gradient_array(lambda v: f(x, v, beta), gamma, dout)) < 1e-7
    assert rel_error(dbeta, numerical_gradient_array(lambda v: f(x, gamma, v), beta, dout)) < 1e-7


def test_batchnorm_rejects_a_single_sample_in_training():
    with pytest.raises(ValueError):
        layers.batchnorm_forward(
            np.ones((1, 3)), np.ones(3), np.zeros(3), layers.init_running_stats(3)
        )


def test_layernorm_forward_and_backward():
    rng = np.random.default_rng(4)
    x, gamma, beta = rng.normal(2, 3, size=(4, 6)), rng.normal(size=6), rng.normal(size=6)
    out, cache = layers.layernorm_forward(x, gamma, beta)
    expected = (
        gamma * (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5) + beta
    )
    assert np.allclose(out, expected)
    dout = rng.normal(size=x.shape)
    dx, dgamma, dbeta = layers.layernorm_backward(dout, cache)

    def f(x_, g_, b_):
        return layers.layernorm_forward(x_, g_, b_)[0]

    assert rel_error(dx, numerical_gradient_array(lambda v: f(v, gamma, beta), x, dout)) < 1e-6
    assert rel_error(dgamma, numerical_gradient_array(lambda v: f(x, v, beta), gamma, dout)) < 1e-7
    assert rel_error(dbeta, numerical_gradient_array(lambda v: f(x, gamma, v), beta, dout)) < 1e-7
