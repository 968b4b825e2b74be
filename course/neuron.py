"""A single artificial neuron and Rosenblatt's perceptron.

A neuron computes ``z = x · w + b`` and outputs ``g(z)``. Inputs are batch-first:
``x`` is one sample of shape (D,) or a batch of shape (N, D); ``w`` has shape (D,)
and ``b`` is a scalar. Perceptron labels are in {0, 1}.
"""

import numpy as np

from course.activations import ACTIVATIONS


def neuron_forward(x, w, b, activation: str = "sigmoid"):
    """Output of one neuron, ``g(x · w + b)``.

    Parameters
    ----------
    x : array of shape (D,) or (N, D)
    w : array of shape (D,)
    b : float
    activation : a name in ``course.activations.ACTIVATIONS`` (not softmax).

    Returns
    -------
    float array of shape () for one sample or (N,) for a batch.
    """
    g, _ = ACTIVATIONS[activation]
    return g(np.asarray(x, dtype=float) @ np.asarray(w, dtype=float) + b)


def perceptron_predict(X, w, b):
    """Perceptron decisions ``1[X · w + b >= 0]``.

    Parameters
    ----------
    X : array of shape (N, D)
    w : array of shape (D,)
    b : float

    Returns
    -------
    int array of shape (N,) with values in {0, 1}.
    """
    return (np.asarray(X, dtype=float) @ np.asarray(w, dtype=float) + b >= 0).astype(int)


def perceptron_fit(X, y, lr: float = 1.0, n_epochs: int = 10):
    """Train a perceptron with Rosenblatt's rule.

    Starting from ``w = 0, b = 0``, each epoch visits the samples in row order and,
    for each, predicts ``y_hat = 1[x · w + b >= 0]`` and updates

    ``w += lr (y - y_hat) x``,  ``b += lr (y - y_hat)``.

    Parameters
    ----------
    X : array of shape (N, D)
    y : array of shape (N,) with labels in {0, 1}
    lr : learning rate.
    n_epochs : number of passes over the data.

    Returns
    -------
    w : float array of shape (D,)
    b : float
    """
    ws, bs, _ = perceptron_trace(X, y, lr=lr, n_epochs=n_epochs)
    return ws[-1], float(bs[-1])


def perceptron_trace(X, y, lr: float = 1.0, n_epochs: int = 10):
    """Run Rosenblatt's rule like :func:`perceptron_fit` and record every epoch.

    Parameters
    ----------
    X : array of shape (N, D)
    y : array of shape (N,) with labels in {0, 1}
    lr : learning rate.
    n_epochs : number of passes over the data.

    Returns
    -------
    ws : float array of shape (n_epochs + 1, D); ``ws[k]`` are the weights after
        ``k`` epochs (``ws[0]`` is the zero start).
    bs : float array of shape (n_epochs + 1,), the biases likewise.
    n_updates : int array of shape (n_epochs,); ``n_updates[k]`` counts the samples
        of epoch ``k + 1`` that were misclassified when visited and so changed the weights.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.zeros(X.shape[1])
    b = 0.0
    ws, bs, n_updates = [w.copy()], [b], []
    for _ in range(n_epochs):
        count = 0
        for x_i, y_i in zip(X, y, strict=True):
            error = y_i - float(x_i @ w + b >= 0)
            count += error != 0
            w += lr * error * x_i
            b += lr * error
        ws.append(w.copy())
        bs.append(b)
        n_updates.append(count)
    return np.array(ws), np.array(bs), np.array(n_updates, dtype=int)
