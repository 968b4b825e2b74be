"""course.data: the digit augmentation against a per-pixel definition."""

import numpy as np
import pytest

from course.data import augment_digits, circles, load_digits, logic_gate, spirals, two_moons, xor

pytestmark = pytest.mark.course


def _shift_by_definition(img, dy, dx):
    out = np.zeros_like(img)
    for i in range(8):
        for j in range(8):
            if 0 <= i - dy < 8 and 0 <= j - dx < 8:
                out[i, j] = img[i - dy, j - dx]
    return out


@pytest.mark.parametrize(("max_shift", "noise_std"), [(0, 0.5), (1, 0.0), (2, 1.5), (8, 0.0)])
def test_augment_digits_matches_definition(max_shift, noise_std):
    X, _ = load_digits()
    X = X[:25].copy()
    before = X.copy()
    out = augment_digits(X, np.random.default_rng(4), max_shift=max_shift, noise_std=noise_std)
    rng = np.random.default_rng(4)
    shifts = rng.integers(-max_shift, max_shift + 1, size=(25, 2))
    noise = rng.normal(0.0, noise_std, size=(25, 64))
    for n in range(25):
        expected = _shift_by_definition(X[n].reshape(8, 8), *shifts[n]).ravel() + noise[n]
        assert np.allclose(out[n], np.clip(expected, 0, 16))
    assert np.array_equal(X, before)
    assert out.dtype == np.float64 and out.shape == (25, 64)


def test_augment_digits_shift_direction():
    img = np.zeros((8, 8))
    img[3, 4] = 16.0
    rng = np.random.default_rng(0)
    dy, dx = np.random.default_rng(0).integers(-3, 4, size=(1, 2))[0]
    out = augment_digits(img.reshape(1, 64), rng, max_shift=3, noise_std=0.0).reshape(8, 8)
    assert out[3 + dy, 4 + dx] == 16.0 and out.sum() == 16.0


def test_logic_gates():
    X, y = xor()
    assert X.shape == (4, 2) and y.tolist() == [0, 1, 1, 0]
    assert logic_gate("and")[1].tolist() == [0, 0, 0, 1]
    assert logic_gate("or")[1].tolist() == [0, 1, 1, 1]
    assert logic_gate("nand")[1].tolist() == [1, 1, 1, 0]


@pytest.mark.parametrize("make", [two_moons, circles, spirals])
def test_generators_are_reproducible_from_their_rng(make):
    X, y = make(n_samples=90, rng=np.random.default_rng(4))
    X2, y2 = make(n_samples=90, rng=np.random.default_rng(4))
    assert X.shape == (90, 2) and y.shape == (90,)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(X, make(n_samples=90, rng=np.random.default_rng(5))[0])


def test_spirals_have_balanced_classes():
    _, y = spirals(n_samples=90, n_classes=3, rng=np.random.default_rng(0))
    assert np.bincount(y).tolist() == [30, 30, 30]
