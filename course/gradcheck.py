"""Numerical gradients by centred differences, the oracle for every backward pass.

``f`` is evaluated at ``x`` perturbed **in place** one entry at a time (and
restored), so ``f`` may close over ``x``. ``x`` must be a float array.
"""

import numpy as np


def numerical_gradient(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Gradient of a scalar function, ``(f(x + h e_i) - f(x - h e_i)) / 2h`` per entry.

    Parameters
    ----------
    f : callable taking ``x`` and returning a float.
    x : float array of any shape; modified during the call and restored.
    h : step.

    Returns
    -------
    array of the shape of ``x``.
    """
    grad = np.zeros_like(x, dtype=float)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2.0 * h)
    return grad


def numerical_gradient_array(f, x: np.ndarray, dout: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Gradient of ``sum(f(x) * dout)`` with respect to ``x``: what a backward pass returns.

    Parameters
    ----------
    f : callable taking ``x`` and returning an array of ``dout``'s shape.
    x : float array; modified during the call and restored.
    dout : upstream gradient.
    """
    return numerical_gradient(lambda v: float(np.sum(f(v) * dout)), x, h)


def rel_error(a, b) -> float:
    """Largest relative error ``|a - b| / max(1e-8, |a| + |b|)`` over all entries."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)), initial=0.0))
