"""Small data sets, made in code or shipped with scikit-learn (nothing is downloaded).

Every generator returns ``(X, y)`` with ``X`` of shape (N, 2) float64 and
integer labels ``y`` of shape (N,), and draws only from the ``rng`` it is given.
``augment_digits`` makes shifted, noisy copies of ``load_digits`` images.
"""

import math

import numpy as np
from sklearn.datasets import load_digits as _sk_load_digits
from sklearn.datasets import make_circles, make_moons


def _seed(rng) -> int:
    """An integer seed for scikit-learn's generators, drawn from ``rng``."""
    return int((np.random.default_rng() if rng is None else rng).integers(2**31 - 1))


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points: X of shape (4, 2) in {0, 1}^2 and y = x1 XOR x2."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.array([0, 1, 1, 0])


def logic_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Truth table of ``"and"``, ``"or"``, ``"nand"`` or ``"xor"`` on {0, 1}^2."""
    X, _ = xor()
    a, b = X[:, 0].astype(int), X[:, 1].astype(int)
    table = {"and": a & b, "or": a | b, "nand": 1 - (a & b), "xor": a ^ b}
    return X, table[name]


def two_moons(n_samples=200, noise=0.1, rng=None):
    """Two interleaving half circles (scikit-learn's ``make_moons``)."""
    return make_moons(n_samples=n_samples, noise=noise, random_state=_seed(rng))


def circles(n_samples=200, noise=0.05, factor=0.5, rng=None):
    """A small circle inside a large one (scikit-learn's ``make_circles``)."""
    return make_circles(n_samples=n_samples, noise=noise, factor=factor, random_state=_seed(rng))


def spirals(n_samples=200, n_classes=3, noise=0.2, rng=None):
    """``n_classes`` interleaved spiral arms, ``n_samples`` points in all.

    Arm ``k`` follows radius ``r in [0, 1]`` at angle ``4 r + 2 pi k / n_classes``
    plus Gaussian noise of std ``noise`` on the angle.
    """
    rng = np.random.default_rng() if rng is None else rng
    y = np.arange(n_samples) % n_classes
    r = rng.uniform(0.0, 1.0, n_samples)
    theta = 4.0 * r + 2.0 * np.pi * y / n_classes + rng.normal(0.0, noise, n_samples)
    return np.column_stack([r * np.cos(theta), r * np.sin(theta)]), y


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits: X of shape (1797, 64) with pixels in [0, 16], y in 0..9."""
    X, y = _sk_load_digits(return_X_y=True)
    return X.astype(np.float64), y


def augment_digits(X, rng, max_shift: int = 1, noise_std: float = 1.0) -> np.ndarray:
    """Randomly shifted and noised copies of flattened 8x8 digit images.

    Parameters
    ----------
    X : array of shape (N, 64), rows are 8x8 images (row-major) with pixels in [0, 16].
    rng : ``numpy.random.Generator``. The draws, in this order:
        ``shifts = rng.integers(-max_shift, max_shift + 1, size=(N, 2))``, then
        ``noise = rng.normal(0.0, noise_std, size=(N, 64))``.
    max_shift : largest shift in pixels along each axis.
    noise_std : standard deviation of the Gaussian pixel noise.

    Returns
    -------
    array of shape (N, 64), float64: a new array; ``X`` is not modified.

    Notes
    -----
    Image ``n`` moves ``dy, dx = shifts[n]`` pixels down and right (negative: up,
    left): ``out[i, j] = img[i - dy, j - dx]``, and pixels shifted in from outside
    are 0 (no wrap-around). Then the noise is added and the result clipped to
    [0, 16], the pixel range of ``load_digits``.
    """
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    side = math.isqrt(d)
    shifts = rng.integers(-max_shift, max_shift + 1, size=(n, 2))
    noise = rng.normal(0.0, noise_std, size=(n, d))
    images = X.reshape(n, side, side)
    shifted = np.zeros_like(images)
    for k, (dy, dx) in enumerate(shifts):
        # destination and source windows of the part that stays inside the frame
        shifted[k, max(dy, 0) : side + min(dy, 0), max(dx, 0) : side + min(dx, 0)] = images[
            k, max(-dy, 0) : side + min(-dy, 0), max(-dx, 0) : side + min(-dx, 0)
        ]
    return np.clip(shifted.reshape(n, d) + noise, 0.0, 16.0)
