"""Weight initializers.

Every initializer is called as ``init(fan_in, fan_out, rng=None, ...)`` and
returns a float64 array of shape (fan_in, fan_out), the ``W`` of a dense layer
``out = x @ W + b``. Random ones make exactly **one untruncated draw**,

- ``rng.normal(0.0, std, size=(fan_in, fan_out))``, or
- ``rng.uniform(-a, a, size=(fan_in, fan_out))``,

so the same seeded ``numpy.random.Generator`` gives the same matrix here and in
any code that follows the same recipe. Biases are initialized to zero elsewhere.
"""

import numpy as np


def _rng(rng) -> np.random.Generator:
    return np.random.default_rng() if rng is None else rng


def _normal(fan_in, fan_out, std, rng):
    return _rng(rng).normal(0.0, std, size=(fan_in, fan_out))


def _uniform(fan_in, fan_out, a, rng):
    return _rng(rng).uniform(-a, a, size=(fan_in, fan_out))


def zeros(fan_in: int, fan_out: int, rng=None) -> np.ndarray:
    """All zeros: every unit of a layer stays identical, so the symmetry never breaks."""
    return np.zeros((fan_in, fan_out))


def constant(fan_in: int, fan_out: int, rng=None, value: float = 1.0) -> np.ndarray:
    """Every weight equal to ``value``; as symmetric as ``zeros``."""
    return np.full((fan_in, fan_out), float(value))


def uniform(fan_in: int, fan_out: int, rng=None, a: float | None = None) -> np.ndarray:
    """U(-a, a) with ``a = 1 / sqrt(fan_in)`` unless given."""
    a = 1.0 / np.sqrt(fan_in) if a is None else a
    return _uniform(fan_in, fan_out, a, rng)


def normal(fan_in: int, fan_out: int, rng=None, std: float = 0.01) -> np.ndarray:
    """N(0, std^2) with a fixed, small ``std``."""
    return _normal(fan_in, fan_out, std, rng)


def xavier_normal(fan_in: int, fan_out: int, rng=None, gain: float = 1.0) -> np.ndarray:
    """Glorot & Bengio (2010): N(0, std^2), ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    return _normal(fan_in, fan_out, gain * np.sqrt(2.0 / (fan_in + fan_out)), rng)


def xavier_uniform(fan_in: int, fan_out: int, rng=None, gain: float = 1.0) -> np.ndarray:
    """Glorot & Bengio (2010): U(-a, a), ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    Notes
    -----
    A uniform on (-a, a) has variance a^2 / 3, so this matches the variance
    ``2 / (fan_in + fan_out)`` of ``xavier_normal``.
    """
    return _uniform(fan_in, fan_out, gain * np.sqrt(6.0 / (fan_in + fan_out)), rng)


def he_normal(fan_in: int, fan_out: int, rng=None) -> np.ndarray:
    """He et al. (2015): N(0, std^2), ``std = sqrt(2 / fan_in)``, for ReLU layers."""
    return _normal(fan_in, fan_out, np.sqrt(2.0 / fan_in), rng)


def he_uniform(fan_in: int, fan_out: int, rng=None) -> np.ndarray:
    """He et al. (2015): U(-a, a), ``a = sqrt(6 / fan_in)`` (variance 2 / fan_in)."""
    return _uniform(fan_in, fan_out, np.sqrt(6.0 / fan_in), rng)


def orthogonal(fan_in: int, fan_out: int, rng=None, gain: float = 1.0) -> np.ndarray:
    """Saxe et al. (2014): a (semi-)orthogonal matrix times ``gain``.

    Notes
    -----
    Draw ``A = rng.normal(0, 1, size=(fan_in, fan_out))``, take the reduced QR
    decomposition of the tall one of ``A`` and ``A.T``, and multiply each column of
    ``Q`` by the sign of the matching diagonal entry of ``R`` so the result is
    uniformly distributed. Columns are orthonormal when ``fan_in >= fan_out``,
    rows otherwise.
    """
    a = _normal(fan_in, fan_out, 1.0, rng)
    wide = fan_in < fan_out
    q, r = np.linalg.qr(a.T if wide else a)
    q = q * np.sign(np.diag(r))
    return gain * (q.T if wide else q)


INITIALIZERS = {
    "zeros": zeros,
    "constant": constant,
    "uniform": uniform,
    "normal": normal,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "orthogonal": orthogonal,
}
"""Initializers by name."""
