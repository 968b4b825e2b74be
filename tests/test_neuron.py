"""course.neuron: one neuron's output and Rosenblatt's perceptron."""

import numpy as np
import pytest
from sklearn.linear_model import Perceptron

from course.data import logic_gate, xor
from course.neuron import neuron_forward, perceptron_fit, perceptron_predict, perceptron_trace

pytestmark = pytest.mark.course


def test_neuron_forward_closed_form():
    x = np.array([[1.0, 2.0], [-1.0, 0.5]])
    w, b = np.array([0.5, -0.25]), 0.1
    z = x @ w + b
    assert np.allclose(neuron_forward(x, w, b), 1 / (1 + np.exp(-z)))
    assert np.allclose(neuron_forward(x, w, b, "relu"), np.maximum(z, 0))
    assert np.isclose(neuron_forward(x[0], w, b, "identity"), z[0])


@pytest.mark.parametrize("gate", ["and", "or", "nand"])
def test_perceptron_learns_linearly_separable_gates(gate):
    X, y = logic_gate(gate)
    w, b = perceptron_fit(X, y, lr=1.0, n_epochs=10)
    assert np.array_equal(perceptron_predict(X, w, b), y)


def test_perceptron_cannot_learn_xor():
    X, y = xor()
    w, b = perceptron_fit(X, y, n_epochs=100)
    assert np.mean(perceptron_predict(X, w, b) == y) < 1.0


def test_perceptron_matches_a_hand_trace():
    # AND, lr 1, zero start; samples in row order, y_hat = 1[z >= 0].
    X, y = logic_gate("and")
    w, b = perceptron_fit(X, y, lr=1.0, n_epochs=1)
    # (0,0): y_hat 1, err -1 -> w (0,0), b -1; (0,1): z -1 -> 0, ok; (1,0) ok;
    # (1,1): z -1 -> 0, err +1 -> w (1,1), b 0.
    assert np.allclose(w, [1.0, 1.0]) and b == 0.0


def test_perceptron_agrees_with_scikit_learn_on_separable_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = (X @ np.array([1.5, -1.0]) + 0.3 > 0).astype(int)
    w, b = perceptron_fit(X, y, n_epochs=50)
    sk = Perceptron(max_iter=50, tol=None, shuffle=False, eta0=1.0).fit(X, y)
    assert np.array_equal(perceptron_predict(X, w, b), y)
    assert sk.score(X, y) == 1.0


@pytest.mark.parametrize("gate", ["and", "or", "xor"])
def test_perceptron_trace_matches_perceptron_fit_after_every_epoch(gate):
    X, y = xor() if gate == "xor" else logic_gate(gate)
    ws, bs, n_updates = perceptron_trace(X, y, lr=0.5, n_epochs=6)
    assert ws.shape == (7, 2) and bs.shape == (7,) and n_updates.shape == (6,)
    for k in range(7):
        w, b = perceptron_fit(X, y, lr=0.5, n_epochs=k)
        assert np.array_equal(ws[k], w) and bs[k] == b


def test_perceptron_trace_counts_updates_by_hand():
    # AND epoch 1 (hand trace above): updates at (0,0) and (1,1) only.
    ws, bs, n_updates = perceptron_trace(*logic_gate("and"), n_epochs=6)
    assert n_updates[0] == 2 and n_updates[-1] == 0
    # XOR, traced by hand: epoch 1 updates at (0,0), (0,1), (1,1); epoch 2 at (0,1), (1,0),
    # (1,1); from epoch 3 on all four samples update and the epoch ends where it began.
    ws, bs, n_updates = perceptron_trace(*xor(), n_epochs=5)
    assert n_updates.tolist() == [3, 3, 4, 4, 4]
    assert np.array_equal(ws[1], [-1.0, 0.0]) and bs[1] == -1.0
    assert all(np.array_equal(ws[k], [-1.0, 0.0]) and bs[k] == 0.0 for k in range(2, 6))
