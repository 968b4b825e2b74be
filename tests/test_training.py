"""course.training: K-fold cross-validation against scikit-learn's cross_val_score."""

import numpy as np
import pytest
from sklearn.model_selection import KFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from course.data import load_digits
from course.network import MLP
from course.optimizers import SGD
from course.regularization import EarlyStopping
from course.training import iterate_minibatches, kfold_score, train

pytestmark = pytest.mark.course


@pytest.mark.parametrize(("n_splits", "seed"), [(2, 0), (5, 1), (7, 2)])
def test_kfold_score_matches_cross_val_score(n_splits, seed):
    X, y = load_digits()
    X, y = X[:300], y[:300]
    scores = kfold_score(
        X, y, n_splits, lambda: KNeighborsClassifier(1), np.random.default_rng(seed)
    )
    cv_seed = int(np.random.default_rng(seed).integers(2**31 - 1))
    cv = KFold(n_splits, shuffle=True, random_state=cv_seed)
    expected = cross_val_score(KNeighborsClassifier(1), X, y, cv=cv, scoring="accuracy")
    assert scores.shape == (n_splits,)
    assert np.allclose(scores, expected)


def test_kfold_score_uses_a_fresh_model_per_fold_and_one_draw():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10) % 2
    made = []

    class Memorizer:
        def __init__(self):
            self.table = {}
            made.append(self)

        def fit(self, X, y):
            self.table.update({tuple(row): label for row, label in zip(X, y, strict=True)})
            return self

        def predict(self, X):
            return np.array([self.table.get(tuple(row), -1) for row in X])

    rng = np.random.default_rng(3)
    scores = kfold_score(X, y, 5, Memorizer, rng)
    assert len(made) == 5 and np.all(scores == 0.0)  # never validates on what it saw
    reference = np.random.default_rng(3)
    reference.integers(2**31 - 1)
    assert rng.random() == reference.random()


@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (10, 5), (1, 4), (7, 7)])
def test_iterate_minibatches_covers_every_sample_once(n, batch_size):
    X = np.arange(2 * n, dtype=float).reshape(n, 2)
    y = np.arange(n)
    batches = list(iterate_minibatches(X, y, batch_size, rng=np.random.default_rng(0)))
    assert len(batches) == -(-n // batch_size)
    assert [len(b[1]) for b in batches[:-1]] == [batch_size] * (len(batches) - 1)
    order = np.concatenate([b[1] for b in batches])
    assert np.array_equal(order, np.random.default_rng(0).permutation(n))
    assert all(np.array_equal(Xb[:, 0], 2 * yb) for Xb, yb in batches)


def test_iterate_minibatches_without_shuffle_keeps_the_order():
    y = np.arange(5)
    batches = [yb for _, yb in iterate_minibatches(y[:, None], y, 2, shuffle=False)]
    assert [b.tolist() for b in batches] == [[0, 1], [2, 3], [4]]


@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (10, 5), (7, 7), (3, 4)])
def test_iterate_minibatches_drop_last_leaves_out_only_a_short_last_batch(n, batch_size):
    X = np.arange(2 * n, dtype=float).reshape(n, 2)
    y = np.arange(n)
    kept = list(iterate_minibatches(X, y, batch_size, np.random.default_rng(1), drop_last=True))
    # the oracle: PyTorch's DataLoader(drop_last=True) slices the same permutation into
    # len // batch_size full batches, https://pytorch.org/docs/stable/data.html
    order = np.random.default_rng(1).permutation(n)
    expected = [order[k * batch_size : (k + 1) * batch_size] for k in range(n // batch_size)]
    assert len(kept) == len(expected) == n // batch_size
    for (Xb, yb), idx in zip(kept, expected, strict=True):
        assert np.array_equal(yb, idx) and np.array_equal(Xb, X[idx])
    everything = list(iterate_minibatches(X, y, batch_size, np.random.default_rng(1)))
    full = [yb for _, yb in everything if len(yb) == batch_size]
    assert [yb.tolist() for _, yb in kept] == [yb.tolist() for yb in full]
    rng_a, rng_b = np.random.default_rng(2), np.random.default_rng(2)
    list(iterate_minibatches(X, y, batch_size, rng_a, drop_last=True))
    list(iterate_minibatches(X, y, batch_size, rng_b))
    assert rng_a.random() == rng_b.random()  # the same draw either way


def test_iterate_minibatches_drop_last_defaults_to_false():
    y = np.arange(5)
    batches = [yb for _, yb in iterate_minibatches(y[:, None], y, 2, shuffle=False)]
    dropped = [yb for _, yb in iterate_minibatches(y[:, None], y, 2, shuffle=False, drop_last=True)]
    assert [b.tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert [b.tolist() for b in dropped] == [[0, 1], [2, 3]]


def test_train_history_and_early_stopping_restore():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    model = MLP([3, 8, 2], "relu", "softmax", rng=rng)
    stopper = EarlyStopping(patience=2)
    history = train(
        model,
        X[:40],
        y[:40],
        "categorical_cross_entropy",
        SGD(lr=0.5),
        n_epochs=200,
        batch_size=8,
        X_val=X[40:],
        y_val=y[40:],
        early_stopping=stopper,
        rng=rng,
    )
    assert set(history) == {"loss", "batch_loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history["loss"]) == len(history["val_loss"]) < 200
    assert np.isclose(
        model.loss(X[40:], y[40:], "categorical_cross_entropy"), min(history["val_loss"])
    )
    assert history["accuracy"][-1] > 0.9


def test_train_regression_has_no_accuracy():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 2))
    y = X @ np.array([1.0, -2.0])
    model = MLP([2, 1], output_activation="identity", rng=rng)
    history = train(model, X, y, "mse", SGD(lr=0.1), n_epochs=50, batch_size=10, rng=rng)
    assert set(history) == {"loss", "batch_loss"} and history["loss"][-1] < 1e-3


def test_train_loss_is_measured_after_each_epoch():
    """``loss[k]``: the training loss after k + 1 epochs; ``batch_loss``: the batches before."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 2))
    y = X @ np.array([1.0, -2.0])
    model = MLP([2, 1], output_activation="identity", rng=rng)
    initial = model.loss(X, y, "mse")
    # One batch per epoch: the batch loss is the loss before the update, the loss the one after.
    history = train(model, X, y, "mse", SGD(lr=0.1), n_epochs=3, batch_size=30, rng=rng)
    assert np.isclose(history["batch_loss"][0], initial)
    assert np.allclose(history["batch_loss"][1:], history["loss"][:-1])
    assert np.isclose(history["loss"][-1], model.loss(X, y, "mse"))
