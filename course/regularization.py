"""Regularization: weight penalties, gradient clipping and early stopping.

Parameters and gradients are dicts of arrays with the same keys
(``{"W1": ..., "b1": ..., ...}``). Penalties apply to the weight matrices only,
the keys that start with ``"W"``; biases get a zero gradient.
"""

import copy

import numpy as np


def _is_weight(key: str) -> bool:
    return key.startswith("W")


def l1_penalty(params: dict, lam: float) -> tuple[float, dict]:
    """L1 penalty ``lam * sum |W|`` over the weight matrices.

    Returns
    -------
    value : float
    grads : dict with the keys of ``params``: ``lam * sign(W)`` for weights, zeros for biases.
    """
    value = lam * sum(float(np.abs(p).sum()) for k, p in params.items() if _is_weight(k))
    grads = {k: lam * np.sign(p) if _is_weight(k) else np.zeros_like(p) for k, p in params.items()}
    return value, grads


def l2_penalty(params: dict, lam: float) -> tuple[float, dict]:
    """L2 penalty ``lam * sum W^2`` over the weight matrices (the course's convention).

    Returns
    -------
    value : float
    grads : dict with the keys of ``params``: ``2 * lam * W`` for weights, zeros for biases.

    Notes
    -----
    Gradient descent on ``L + lam * sum W^2`` updates ``W <- W - lr (dL/dW + 2 lam W)``.
    Some texts write the penalty as ``lam / 2 * sum W^2`` so the factor 2 cancels;
    scikit-learn's ``alpha`` uses ``alpha / (2 n) * sum W^2``.
    """
    value = lam * sum(float(np.sum(p * p)) for k, p in params.items() if _is_weight(k))
    grads = {k: 2.0 * lam * p if _is_weight(k) else np.zeros_like(p) for k, p in params.items()}
    return value, grads


def clip_grad_norm(grads: dict, max_norm: float) -> tuple[dict, float]:
    """Rescale all gradients together so their global L2 norm is at most ``max_norm``.

    Returns
    -------
    clipped : a new dict; the inputs are not modified.
    total_norm : float, the global norm ``sqrt(sum of squares of every entry)`` before clipping.

    Notes
    -----
    As ``torch.nn.utils.clip_grad_norm_``: every array is multiplied by
    ``min(1, max_norm / (total_norm + 1e-6))``, so the direction is kept.
    """
    total_norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))
    coef = min(1.0, max_norm / (total_norm + 1e-6))
    return {k: g * coef for k, g in grads.items()}, total_norm


def should_stop(val_losses, patience: int, min_delta: float = 0.0) -> bool:
    """Whether early stopping halts training after the last of ``val_losses``.

    Parameters
    ----------
    val_losses : sequence of floats, one validation loss per epoch so far (may be empty).
    patience : how many consecutive epochs without improvement to tolerate.
    min_delta : an epoch improves only if its loss is below ``best - min_delta``,
        where ``best`` is the loss of the last improving epoch (``inf`` at first).

    Returns
    -------
    bool : True when the epochs since the last improvement number at least ``patience``.

    Notes
    -----
    The same rule as ``EarlyStopping``: ``should_stop(val_losses[: t + 1], ...)`` is
    what ``EarlyStopping.step`` returns at epoch ``t``. A tie with ``best`` is not
    an improvement.
    """
    best = np.inf
    n_bad_epochs = 0
    for loss in val_losses:
        if loss < best - min_delta:
            best = float(loss)
            n_bad_epochs = 0
        else:
            n_bad_epochs += 1
    return n_bad_epochs >= patience


class EarlyStopping:
    """Stop training when the validation loss stops improving.

    Parameters
    ----------
    patience : how many consecutive epochs without improvement to tolerate.
    min_delta : an epoch improves only if its loss is below ``best - min_delta``.

    Attributes
    ----------
    best_loss : the lowest validation loss seen so far.
    best_params : a deep copy of the parameters at that epoch.
    n_bad_epochs : epochs since the last improvement.
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0):
        self.patience = patience
        self.min_delta = min_delta
        self.best_loss = np.inf
        self.best_params = None
        self.n_bad_epochs = 0

    def step(self, val_loss: float, params: dict) -> bool:
        """Record one epoch's validation loss; True when training should stop."""
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss = float(val_loss)
            self.best_params = copy.deepcopy(params)
            self.n_bad_epochs = 0
        else:
            self.n_bad_epochs += 1
        return self.n_bad_epochs >= self.patience

    def restore(self, params: dict) -> None:
        """Copy the best parameters seen back into ``params`` (in place)."""
        if self.best_params is not None:
            for k, p in self.best_params.items():
                params[k] = p.copy()


def ridge_solution(X, y, alpha: float) -> np.ndarray:
    """Minimizer of the L2-penalized mean squared error of a linear model.

    Parameters
    ----------
    X : array of shape (N, D); y : array of shape (N,) or (N, K).
    alpha : penalty strength ``alpha >= 0`` (``alpha > 0`` if ``X`` has rank < D).

    Returns
    -------
    w : array of shape (D,) or (D, K).

    Notes
    -----
    Minimizes ``1/(2N) ||X w - y||^2 + alpha/2 ||w||^2`` (Goodfellow et al., 2016,
    §7.1.1): ``w = (H + alpha I)^{-1} X^T y / N`` with ``H = X^T X / N``.
    scikit-learn's ``Ridge(alpha=N * alpha, fit_intercept=False)`` gives the same ``w``.

    ``alpha`` is not the ``lam`` of :func:`l2_penalty` (module 06's ``lam * sum W^2``):
    the penalty ``alpha/2 ||w||^2`` is ``lam ||w||^2`` with ``alpha = 2 * lam``, the same
    factor 2 as ``weight_decay = 2 * lam``. So ``ridge_solution(X, y, 2 * lam)`` minimizes
    ``1/(2N) ||X w - y||^2 + lam ||w||^2``. With the data term of ``course.losses.mse``,
    ``mean((X w - y)^2)``, which has no ``1/2``, ``mse + lam ||w||^2`` is twice that
    objective with ``lam / 2`` in place of ``lam``: its minimizer is
    ``ridge_solution(X, y, lam)``.
    """
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    return np.linalg.solve(X.T @ X / n + alpha * np.eye(d), X.T @ np.asarray(y, dtype=float) / n)


def gradient_descent_path(X, y, lr: float, n_steps: int) -> np.ndarray:
    """Every iterate of gradient descent on the mean squared error of a linear model, from zero.

    Parameters
    ----------
    X : array of shape (N, D); y : array of shape (N,).
    lr : learning rate ``eps``; the iteration converges for ``eps < 2 / max eig(H)``.
    n_steps : number of steps ``tau``.

    Returns
    -------
    path : array of shape (n_steps + 1, D); ``path[t]`` are the weights after ``t`` steps.

    Notes
    -----
    ``w_0 = 0``, ``w_{t+1} = w_t - eps (H w_t - X^T y / N)`` with ``H = X^T X / N``, the
    gradient of ``1/(2N) ||X w - y||^2``. In the eigenbasis ``H = Q diag(lambda) Q^T``,
    ``Q^T w_tau = [1 - (1 - eps lambda)^tau] Q^T w*``, while ``ridge_solution`` gives
    ``Q^T w = lambda / (lambda + alpha) Q^T w*``: early stopping after ``tau`` steps acts
    like an L2 penalty with ``alpha ~ 1 / (tau eps)`` (Goodfellow et al., 2016, §7.8).
    """
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    H = X.T @ X / n
    Xty = X.T @ np.asarray(y, dtype=float) / n
    path = np.zeros((n_steps + 1, d))
    for t in range(n_steps):
        path[t + 1] = path[t] - lr * (H @ path[t] - Xty)
    return path
