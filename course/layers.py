"""Layers as pure forward/backward pairs with a cache.

``<layer>_forward(x, ...) -> (out, cache)`` computes the layer's output for a batch
``x`` of shape (N, D) and returns what the backward pass needs;
``<layer>_backward(dout, cache)`` takes the upstream gradient ``dout`` (the shape
of ``out``) and returns the gradient with respect to the input, followed by the
gradients of the layer's parameters, if any. Parameter gradients are **sums**
over the batch: averaging belongs to the loss. Nothing here updates parameters.
"""

import numpy as np

from course.activations import ACTIVATIONS, softmax


def dense_forward(x, W, b):
    """Fully connected layer, ``out = x @ W + b``.

    Parameters
    ----------
    x : array of shape (N, D_in)
    W : array of shape (D_in, D_out)
    b : array of shape (D_out,)

    Returns
    -------
    out : array of shape (N, D_out)
    cache : ``(x, W, b)``
    """
    x = np.asarray(x, dtype=float)
    return x @ W + b, (x, W, b)


def dense_backward(dout, cache):
    """Gradients of a dense layer.

    Parameters
    ----------
    dout : array of shape (N, D_out)
    cache : ``(x, W, b)`` from ``dense_forward``

    Returns
    -------
    dx : ``dout @ W.T``, shape (N, D_in)
    dW : ``x.T @ dout``, shape (D_in, D_out)
    db : ``dout`` summed over the batch, shape (D_out,)
    """
    x, W, _ = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def activation_forward(z, name: str):
    """Apply the activation ``name`` (a key of ``ACTIVATIONS``, softmax included).

    Returns
    -------
    a : array of the shape of ``z``
    cache : ``(z, name)``
    """
    z = np.asarray(z, dtype=float)
    return ACTIVATIONS[name][0](z), (z, name)


def activation_backward(da, cache):
    """Gradient with respect to the pre-activation ``z``.

    Elementwise activations multiply by their derivative. Softmax (over the last
    axis) applies its Jacobian as a vector product without forming it:
    ``dz = s * (da - sum(da * s))``.
    """
    z, name = cache
    if name == "softmax":
        s = softmax(z, axis=-1)
        return s * (da - np.sum(da * s, axis=-1, keepdims=True))
    return da * ACTIVATIONS[name][1](z)


def dropout_forward(x, rate: float, rng=None, training: bool = True, mask=None):
    """Inverted dropout.

    In training mode each unit is dropped with probability ``rate`` and the
    survivors are scaled by ``1 / (1 - rate)``, so the expected output equals
    ``x`` and nothing changes at test time.

    Parameters
    ----------
    x : array of any shape
    rate : probability of *dropping* a unit, in [0, 1).
    rng : ``numpy.random.Generator``; the draw is ``keep = rng.random(x.shape) >= rate``.
    training : when False (or ``rate == 0``) the layer is the identity.
    mask : optional boolean array of ``x``'s shape, True where a unit is kept;
        replaces the random draw (for gradient checks).

    Returns
    -------
    out : array of the shape of ``x``
    cache : the scaled mask ``keep / (1 - rate)`` (None for the identity)
    """
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout rate must lie in [0, 1), got {rate}")
    x = np.asarray(x, dtype=float)
    if not training or rate == 0.0:
        return x, None
    if mask is None:
        rng = np.random.default_rng() if rng is None else rng
        mask = rng.random(x.shape) >= rate
    scale = np.asarray(mask, dtype=float) / (1.0 - rate)
    return x * scale, scale


def dropout_backward(dout, cache):
    """Gradient of dropout: the same scaled mask as the forward pass."""
    return dout if cache is None else dout * cache


def init_running_stats(n_features: int) -> dict:
    """Running statistics for batch normalization: mean 0 and variance 1, shape (D,)."""
    return {"mean": np.zeros(n_features), "var": np.ones(n_features)}


def batchnorm_forward(x, gamma, beta, running, training=True, momentum=0.1, eps=1e-5):
    """Batch normalization over the batch axis (PyTorch's ``BatchNorm1d``).

    Parameters
    ----------
    x : array of shape (N, D)
    gamma, beta : arrays of shape (D,), the learned scale and shift.
    running : dict with ``"mean"`` and ``"var"`` of shape (D,), or None.
    training : normalize with batch statistics (True) or running ones (False).
    momentum, eps : as in PyTorch.

    Returns
    -------
    out : ``gamma * x_hat + beta``, shape (N, D)
    cache : what ``batchnorm_backward`` needs.

    Notes
    -----
    In training mode ``x_hat = (x - mean) / sqrt(var + eps)`` with the *biased*
    batch variance, and ``running`` is updated in place as
    ``r = (1 - momentum) r + momentum * stat`` with the *unbiased* batch variance.
    In inference mode the running statistics replace the batch ones.
    """
    x = np.asarray(x, dtype=float)
    if training:
        n = x.shape[0]
        if n < 2:
            raise ValueError("batch normalization needs at least 2 samples in training mode")
        mean, var = x.mean(axis=0), x.var(axis=0)
        if running is not None:
            running["mean"] *= 1.0 - momentum
            running["mean"] += momentum * mean
            running["var"] *= 1.0 - momentum
            running["var"] += momentum * var * n / (n - 1)
    else:
        mean, var = running["mean"], running["var"]
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std, training)


def batchnorm_backward(dout, cache):
    """Gradients of batch normalization.

    Returns
    -------
    dx : shape (N, D)
    dgamma, dbeta : shape (D,)

    Notes
    -----
    In training mode the batch mean and variance depend on every sample, so
    ``dx = inv_std / N * (N g - sum(g) - x_hat * sum(g * x_hat))`` with
    ``g = dout * gamma``; in inference mode the statistics are constants and
    ``dx = g * inv_std``.
    """
    x_hat, gamma, inv_std, training = cache
    dgamma = np.sum(dout * x_hat, axis=0)
    dbeta = np.sum(dout, axis=0)
    g = dout * gamma
    if not training:
        return g * inv_std, dgamma, dbeta
    n = g.shape[0]
    dx = inv_std / n * (n * g - g.sum(axis=0) - x_hat * np.sum(g * x_hat, axis=0))
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Layer normalization: each sample normalized over its D features.

    Parameters
    ----------
    x : array of shape (N, D)
    gamma, beta : arrays of shape (D,)

    Returns
    -------
    out : ``gamma * x_hat + beta`` with ``x_hat`` of zero mean and unit (biased)
        variance along each row; shape (N, D). The same in training and inference.
    cache : what ``layernorm_backward`` needs.
    """
    x = np.asarray(x, dtype=float)
    mean = x.mean(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=1, keepdims=True) + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)


def layernorm_backward(dout, cache):
    """Gradients of layer normalization: ``(dx, dgamma, dbeta)`` of shapes (N, D), (D,), (D,)."""
    x_hat, gamma, inv_std = cache
    g = dout * gamma
    d = g.shape[1]
    dx = (
        inv_std
        / d
        * (d * g - g.sum(axis=1, keepdims=True) - x_hat * np.sum(g * x_hat, axis=1, keepdims=True))
    )
    return dx, np.sum(dout * x_hat, axis=0), np.sum(dout, axis=0)
