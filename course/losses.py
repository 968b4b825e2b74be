"""Loss functions and their gradients.

Every loss is called as ``loss(y_true, y_pred)`` and returns a Python float that
is a **mean**: over all elements for the regression and binary losses (as
PyTorch's ``reduction="mean"``), over the N samples for the categorical ones.
``<loss>_grad(y_true, y_pred)`` returns the gradient of that same mean with
respect to its second argument, with the second argument's shape.

Inputs are converted to float64 first, so the clipping of probabilities uses
``eps = np.finfo(np.float64).eps`` whatever dtype they came in. Categorical losses
accept integer labels of shape (N,) or one-hot targets of shape (N, K). Everything
else must have matching shapes: a mismatch raises ``ValueError`` rather than
broadcasting silently.
"""

import numpy as np

from course.activations import log_softmax, sigmoid, softmax


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Both arguments as float arrays of the same shape, else ``ValueError``."""
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true has shape {y_true.shape} but the prediction has shape {y_pred.shape}; "
            "they must match (no broadcasting)"
        )
    return y_true, y_pred


def one_hot(labels, n_classes: int) -> np.ndarray:
    """Integer labels of shape (N,) as a one-hot float array of shape (N, n_classes)."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 1-D integer array, got {labels.dtype} {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes})")
    out = np.zeros((labels.size, n_classes))
    out[np.arange(labels.size), labels] = 1.0
    return out


def _categorical_pair(y_true, scores) -> tuple[np.ndarray, np.ndarray]:
    """Targets as one-hot (N, K) and scores as float (N, K)."""
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2:
        raise ValueError(f"expected scores of shape (N, K), got {scores.shape}")
    y_true = np.asarray(y_true)
    if y_true.ndim == 1:
        if y_true.shape[0] != scores.shape[0]:
            raise ValueError(f"{y_true.shape[0]} labels for {scores.shape[0]} samples")
        return one_hot(y_true, scores.shape[1]), scores
    return _pair(y_true, scores)


def _clip(p: np.ndarray) -> np.ndarray:
    """Probabilities clipped to [eps, 1 - eps] so that their logs stay finite."""
    eps = np.finfo(p.dtype).eps
    return np.clip(p, eps, 1.0 - eps)


def mse(y_true, y_pred) -> float:
    """Mean squared error, mean((y_pred - y_true)^2)."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean((y_pred - y_true) ** 2))


def mse_grad(y_true, y_pred) -> np.ndarray:
    """2 (y_pred - y_true) / n, with n the number of elements."""
    y_true, y_pred = _pair(y_true, y_pred)
    return 2.0 * (y_pred - y_true) / y_pred.size


def mae(y_true, y_pred) -> float:
    """Mean absolute error, mean(|y_pred - y_true|)."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(y_pred - y_true)))


def mae_grad(y_true, y_pred) -> np.ndarray:
    """sign(y_pred - y_true) / n (0 where the residual is 0, as PyTorch)."""
    y_true, y_pred = _pair(y_true, y_pred)
    return np.sign(y_pred - y_true) / y_pred.size


def huber(y_true, y_pred, delta: float = 1.0) -> float:
    """Huber loss: quadratic for small residuals, linear for large ones.

    Notes
    -----
    With ``r = y_pred - y_true``, each element contributes ``r^2 / 2`` when
    ``|r| <= delta`` and ``delta (|r| - delta / 2)`` otherwise (PyTorch's ``HuberLoss``).
    """
    y_true, y_pred = _pair(y_true, y_pred)
    r = np.abs(y_pred - y_true)
    return float(np.mean(np.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta))))


def huber_grad(y_true, y_pred, delta: float = 1.0) -> np.ndarray:
    """clip(y_pred - y_true, -delta, delta) / n."""
    y_true, y_pred = _pair(y_true, y_pred)
    return np.clip(y_pred - y_true, -delta, delta) / y_pred.size


def binary_cross_entropy(y_true, p) -> float:
    """-mean(y log p + (1 - y) log(1 - p)), with ``p`` clipped to [eps, 1 - eps].

    Parameters
    ----------
    y_true : array of targets in [0, 1]
    p : array of predicted probabilities, same shape.
    """
    y_true, p = _pair(y_true, p)
    p = _clip(p)
    return float(-np.mean(y_true * np.log(p) + (1.0 - y_true) * np.log1p(-p)))


def binary_cross_entropy_grad(y_true, p) -> np.ndarray:
    """(p - y) / (p (1 - p)) / n, with ``p`` clipped as in the loss."""
    y_true, p = _pair(y_true, p)
    p = _clip(p)
    return (p - y_true) / (p * (1.0 - p)) / p.size


def categorical_cross_entropy(y_true, p) -> float:
    """-(1/N) sum_n sum_k y_nk log p_nk, with ``p`` clipped to [eps, 1 - eps].

    Parameters
    ----------
    y_true : integer labels of shape (N,) or one-hot targets of shape (N, K)
    p : predicted probabilities of shape (N, K), rows summing to 1.
    """
    y_true, p = _categorical_pair(y_true, p)
    return float(-np.sum(y_true * np.log(_clip(p))) / p.shape[0])


def categorical_cross_entropy_grad(y_true, p) -> np.ndarray:
    """-y / p / N, shape (N, K), with ``p`` clipped as in the loss."""
    y_true, p = _categorical_pair(y_true, p)
    return -y_true / _clip(p) / p.shape[0]


def softmax_cross_entropy(y_true, logits) -> float:
    """Cross-entropy of ``softmax(logits)``, fused and stable.

    Notes
    -----
    ``-log softmax(z)_k = logsumexp(z) - z_k``; the max-shifted log-sum-exp never
    overflows and never takes the log of an underflowed 0. Mean over the N samples.
    """
    y_true, z = _categorical_pair(y_true, logits)
    return float(-np.sum(y_true * log_softmax(z, axis=1)) / z.shape[0])


def softmax_cross_entropy_grad(y_true, logits) -> np.ndarray:
    """(softmax(logits) - y) / N, shape (N, K)."""
    y_true, z = _categorical_pair(y_true, logits)
    return (softmax(z, axis=1) - y_true) / z.shape[0]


def sigmoid_binary_cross_entropy(y_true, logits) -> float:
    """Binary cross-entropy of ``sigmoid(logits)``, fused and stable.

    Notes
    -----
    ``-[y log s(z) + (1 - y) log(1 - s(z))] = log(1 + e^z) - y z``, evaluated with
    ``logaddexp(0, z)``, finite for any ``z``. Mean over all elements.
    """
    y_true, z = _pair(y_true, logits)
    return float(np.mean(np.logaddexp(0.0, z) - y_true * z))


def sigmoid_binary_cross_entropy_grad(y_true, logits) -> np.ndarray:
    """(sigmoid(logits) - y) / n."""
    y_true, z = _pair(y_true, logits)
    return (sigmoid(z) - y_true) / z.size


LOSSES = {
    "mse": (mse, mse_grad),
    "mae": (mae, mae_grad),
    "huber": (huber, huber_grad),
    "binary_cross_entropy": (binary_cross_entropy, binary_cross_entropy_grad),
    "categorical_cross_entropy": (categorical_cross_entropy, categorical_cross_entropy_grad),
    "softmax_cross_entropy": (softmax_cross_entropy, softmax_cross_entropy_grad),
    "sigmoid_binary_cross_entropy": (
        sigmoid_binary_cross_entropy,
        sigmoid_binary_cross_entropy_grad,
    ),
}
"""Losses by name, each a ``(loss, gradient)`` pair."""
