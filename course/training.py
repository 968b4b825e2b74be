"""Mini-batch training.

``iterate_minibatches`` yields one epoch of batches; ``train`` runs epochs of
``model.loss_and_grads`` followed by ``optimizer.step`` and returns a history of
per-epoch metrics. ``model`` is a ``course.network.MLP`` (anything with
``params``, ``forward``, ``loss_and_grads`` and ``predict``). ``kfold_score``
cross-validates any model with scikit-learn's ``fit``/``predict`` protocol.
"""

import numpy as np
from sklearn.model_selection import KFold
from tqdm.auto import tqdm


def iterate_minibatches(
    X, y, batch_size: int, rng=None, shuffle: bool = True, drop_last: bool = False
):
    """Yield ``(X_batch, y_batch)`` for one epoch, covering every sample once.

    With ``shuffle`` the order is ``rng.permutation(N)`` (one draw per call,
    i.e. per epoch), sliced in order; the last batch keeps the remainder, so an
    epoch has ``ceil(N / batch_size)`` iterations (``N // batch_size`` with
    ``drop_last``).

    Parameters
    ----------
    X : array of shape (N, D)
    y : array whose first axis has length N
    batch_size : samples per batch (the last may be smaller unless ``drop_last``).
    rng : ``numpy.random.Generator`` for the permutation (a fresh one if None).
    shuffle : draw the order at random; False keeps ``0, ..., N - 1``.
    drop_last : leave out the last batch when it has fewer than ``batch_size``
        samples, as PyTorch's ``DataLoader(drop_last=True)``: ``N // batch_size``
        batches of exactly ``batch_size``, and ``N % batch_size`` samples unused
        this epoch (the permutation is drawn the same way either way, so another
        epoch leaves out others).
    """
    n = len(X)
    if shuffle:
        order = (np.random.default_rng() if rng is None else rng).permutation(n)
    else:
        order = np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], y[idx]


def _evaluate(model, X, y, loss: str) -> tuple[float, float | None]:
    """Loss in inference mode, and accuracy for a softmax or sigmoid classifier (else None)."""
    value = model.loss(X, y, loss)
    if model.output_activation not in ("softmax", "sigmoid"):
        return value, None
    y = np.asarray(y)
    labels = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(len(y))
    return value, float(np.mean(model.predict(X) == labels))


def train(
    model,
    X,
    y,
    loss: str,
    optimizer,
    n_epochs: int,
    batch_size: int,
    X_val=None,
    y_val=None,
    early_stopping=None,
    rng=None,
    progress: bool = False,
) -> dict:
    """Train ``model`` with mini-batch gradient descent.

    Parameters
    ----------
    model : ``course.network.MLP``
    X, y : training data, (N, D) and targets as ``model.loss_and_grads`` takes them.
    loss : name in ``course.losses.LOSSES``.
    optimizer : a ``course.optimizers`` instance.
    n_epochs, batch_size : passes over the data and samples per step.
    X_val, y_val : optional validation data, evaluated after every epoch.
    early_stopping : optional ``course.regularization.EarlyStopping`` on the
        validation loss; on stopping, the best parameters are restored.
    rng : ``numpy.random.Generator`` for shuffling.
    progress : show a tqdm progress bar over epochs.

    Returns
    -------
    history : dict of per-epoch lists, entry ``k`` measured after epoch ``k + 1``:
        ``loss``, the data loss on the whole training set *after* the epoch's
        updates (inference mode: no dropout, no penalty, the same measure as
        ``val_loss``); ``batch_loss``, the mean of the epoch's mini-batch losses,
        each measured *before* its update (penalties and dropout included: what
        Keras prints as the epoch's loss); and where they apply ``accuracy``,
        ``val_loss`` and ``val_accuracy``.
    """
    rng = np.random.default_rng() if rng is None else rng
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    history = {"loss": [], "batch_loss": []}
    for _ in tqdm(range(n_epochs), disable=not progress, desc="epochs"):
        total = 0.0
        for X_batch, y_batch in iterate_minibatches(X, y, batch_size, rng):
            value, grads = model.loss_and_grads(X_batch, y_batch, loss)
            optimizer.step(model.params, grads)
            total += value * len(X_batch)
        history["batch_loss"].append(total / len(X))
        # Measured after the updates, so entry k is the state after k + 1 epochs.
        train_loss, acc = _evaluate(model, X, y, loss)
        history["loss"].append(train_loss)
        if acc is not None:
            history.setdefault("accuracy", []).append(acc)
        if X_val is not None:
            val_loss, val_acc = _evaluate(model, np.asarray(X_val, dtype=float), y_val, loss)
            history.setdefault("val_loss", []).append(val_loss)
            if val_acc is not None:
                history.setdefault("val_accuracy", []).append(val_acc)
            if early_stopping is not None and early_stopping.step(val_loss, model.params):
                early_stopping.restore(model.params)
                break
    return history


def kfold_score(X, y, n_splits: int, make_model, rng) -> np.ndarray:
    """Accuracy of a fresh model on each fold of shuffled K-fold cross-validation.

    Parameters
    ----------
    X : array of shape (N, D)
    y : class labels of shape (N,)
    n_splits : number of folds K, at least 2.
    make_model : callable with no arguments returning a new, unfitted model with
        ``fit(X, y)`` and ``predict(X)`` (e.g. a ``course.estimators.MLPClassifier``).
    rng : ``numpy.random.Generator``; exactly one draw,
        ``seed = int(rng.integers(2**31 - 1))``, before anything else.

    Returns
    -------
    scores : array of shape (n_splits,), the accuracy on each validation fold, in fold order.

    Notes
    -----
    The folds are ``KFold(n_splits, shuffle=True, random_state=seed).split(X)``.
    For each fold, in order: ``model = make_model()``, ``model.fit(X[train], y[train])``,
    score ``mean(model.predict(X[val]) == y[val])``. This is
    ``sklearn.model_selection.cross_val_score`` with ``cv`` that ``KFold`` and
    ``scoring="accuracy"``; report ``scores.mean()`` and ``scores.std()``.
    """
    seed = int(rng.integers(2**31 - 1))
    X = np.asarray(X)
    y = np.asarray(y)
    scores = []
    for train_idx, val_idx in KFold(n_splits, shuffle=True, random_state=seed).split(X):
        model = make_model()
        model.fit(X[train_idx], y[train_idx])
        scores.append(np.mean(np.asarray(model.predict(X[val_idx])) == y[val_idx]))
    return np.array(scores, dtype=float)
