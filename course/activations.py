"""Activation functions and their derivatives.

Every elementwise activation ``g`` takes an array ``z`` of any shape and returns
an array of the same shape; its derivative ``g_grad(z)`` is taken with respect to
the pre-activation ``z``. ``softmax`` normalizes along one axis and has a
Jacobian instead of an elementwise derivative.

All functions are stable for ``|z|`` up to ``1e4`` and beyond: they never
overflow, divide by zero or produce NaN (underflow to 0 is harmless).
``ACTIVATIONS`` maps a name to its ``(function, derivative)`` pair.
"""

import math
from collections.abc import Callable

import numpy as np
from scipy.special import erfc, expit

SQRT2 = math.sqrt(2.0)
SQRT2PI = math.sqrt(2.0 * math.pi)


def _as_float(z) -> np.ndarray:
    """Return ``z`` as a floating array; integers become float64."""
    z = np.asarray(z)
    return z if np.issubdtype(z.dtype, np.floating) else z.astype(np.float64)


def identity(z):
    """g(z) = z."""
    return _as_float(z).copy()


def identity_grad(z):
    """g'(z) = 1."""
    return np.ones_like(_as_float(z))


def binary_step(z):
    """Heaviside step: 1 where ``z >= 0``, else 0 (so ``binary_step(0) = 1``)."""
    z = _as_float(z)
    return (z >= 0).astype(z.dtype)


def binary_step_grad(z):
    """0 everywhere (undefined at 0, where we also return 0)."""
    return np.zeros_like(_as_float(z))


def sigmoid(z):
    """Logistic function 1 / (1 + exp(-z)), range (0, 1).

    Notes
    -----
    ``scipy.special.expit`` evaluates ``exp`` only of non-positive numbers, so
    ``exp(-z)`` never overflows for large negative ``z``.
    """
    return expit(_as_float(z))


def sigmoid_grad(z):
    """sigma'(z) = sigma(z) (1 - sigma(z))."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    """Hyperbolic tangent, range (-1, 1)."""
    return np.tanh(_as_float(z))


def tanh_grad(z):
    """tanh'(z) = 1 - tanh(z)^2."""
    return 1.0 - np.tanh(_as_float(z)) ** 2


def softsign(z):
    """z / (1 + |z|), range (-1, 1)."""
    z = _as_float(z)
    return z / (1.0 + np.abs(z))


def softsign_grad(z):
    """1 / (1 + |z|)^2."""
    return 1.0 / (1.0 + np.abs(_as_float(z))) ** 2


def relu(z):
    """max(0, z), range [0, inf)."""
    return np.maximum(_as_float(z), 0.0)


def relu_grad(z):
    """1 where ``z > 0``, else 0 (we take ``relu_grad(0) = 0``)."""
    z = _as_float(z)
    return (z > 0).astype(z.dtype)


def leaky_relu(z, alpha: float = 0.01):
    """z where ``z > 0``, else ``alpha * z``."""
    z = _as_float(z)
    return np.where(z > 0, z, alpha * z)


def leaky_relu_grad(z, alpha: float = 0.01):
    """1 where ``z > 0``, else ``alpha``."""
    z = _as_float(z)
    return np.where(z > 0, 1.0, alpha).astype(z.dtype)


def elu(z, alpha: float = 1.0):
    """z where ``z > 0``, else ``alpha (exp(z) - 1)``, range (-alpha, inf).

    Notes
    -----
    ``expm1`` of ``min(z, 0)`` keeps precision near 0 and never overflows.
    """
    z = _as_float(z)
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))


def elu_grad(z, alpha: float = 1.0):
    """1 where ``z > 0``, else ``alpha exp(z)``."""
    z = _as_float(z)
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))


def _normal_cdf(z):
    """Phi(z) = erfc(-z / sqrt 2) / 2.

    Notes
    -----
    The textbook ``(1 + erf(z / sqrt 2)) / 2`` cancels catastrophically for
    negative z, where erf is close to -1; ``erfc`` keeps full relative precision.
    """
    return 0.5 * erfc(-z / SQRT2)


def gelu(z):
    """Exact GELU, z Phi(z) = z/2 (1 + erf(z / sqrt 2)), range (-0.17, inf)."""
    z = _as_float(z)
    return z * _normal_cdf(z)


def gelu_grad(z):
    """GELU'(z) = Phi(z) + z phi(z), with phi the standard normal density.

    Notes
    -----
    The activation table on the slides of *CSE-403 Machine Learning, Chapter 6:
    Neural Networks* prints ``Phi(z) + z phi(z) / 2``; the product rule on
    ``z Phi(z)`` gives ``Phi(z) + z phi(z)``.
    """
    z = _as_float(z)
    return _normal_cdf(z) + z * np.exp(-0.5 * z * z) / SQRT2PI


def softplus(z):
    """log(1 + exp(z)), range (0, inf); computed as ``logaddexp(0, z)`` to avoid overflow."""
    return np.logaddexp(0.0, _as_float(z))


def softplus_grad(z):
    """softplus'(z) = sigmoid(z)."""
    return sigmoid(z)


def softmax(z, axis: int = -1):
    """Normalized exponentials along ``axis``: exp(z_k) / sum_j exp(z_j).

    Parameters
    ----------
    z : array of shape (..., K)
    axis : the axis that holds the K classes.

    Returns
    -------
    array of the shape of ``z``, non-negative, summing to 1 along ``axis``.

    Notes
    -----
    Subtracting the maximum first changes nothing mathematically and keeps
    every exponent <= 0, so ``exp`` cannot overflow.
    """
    z = _as_float(z)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z, axis: int = -1):
    """log(softmax(z)) computed as ``z - logsumexp(z)``, finite even where softmax underflows."""
    z = _as_float(z)
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax_jacobian(z):
    """Jacobian of the softmax over the last axis.

    Parameters
    ----------
    z : array of shape (..., K)

    Returns
    -------
    J : array of shape (..., K, K) with ``J[..., i, j] = s_i (delta_ij - s_j)``.
    """
    s = softmax(z, axis=-1)
    return s[..., :, None] * (np.eye(s.shape[-1]) - s[..., None, :])


ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "identity": (identity, identity_grad),
    "binary_step": (binary_step, binary_step_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "softsign": (softsign, softsign_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "elu": (elu, elu_grad),
    "gelu": (gelu, gelu_grad),
    "softplus": (softplus, softplus_grad),
    "softmax": (softmax, softmax_jacobian),
}
"""Activations by name. Softmax's derivative is its Jacobian, not an elementwise one."""
