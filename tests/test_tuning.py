"""course.tuning: expected improvement against integration, the BO loop on a known curve."""

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import norm

from course.tuning import bayes_opt_1d, expected_improvement, gp_surrogate

pytestmark = pytest.mark.course


@pytest.mark.parametrize(
    ("mean", "std", "best", "xi"),
    [(0.9, 0.05, 0.92, 0.0), (0.5, 1.0, 0.0, 0.0), (-3.0, 0.5, 0.0, 0.0), (1.0, 0.2, 0.9, 0.05)],
)
def test_expected_improvement_matches_integral(mean, std, best, xi):
    # E[max(s - best - xi, 0)] for s ~ N(mean, std^2), integrated numerically
    integrand = lambda s: (s - best - xi) * norm.pdf(s, mean, std)  # noqa: E731
    expected, _ = quad(integrand, best + xi, np.inf)
    got = expected_improvement(np.array([mean]), np.array([std]), best, xi)
    assert got.shape == (1,)
    np.testing.assert_allclose(got[0], expected, rtol=1e-7, atol=1e-12)


def test_expected_improvement_monte_carlo_and_limits():
    rng = np.random.default_rng(0)
    s = rng.normal(0.3, 0.4, size=1_000_000)
    mc = np.maximum(s - 0.5, 0.0).mean()
    np.testing.assert_allclose(expected_improvement([0.3], [0.4], 0.5)[0], mc, rtol=1e-2)
    # a certain prediction improves by exactly its gain, never by a negative amount
    np.testing.assert_allclose(expected_improvement([0.7, 0.2], [0.0, 0.0], 0.5), [0.2, 0.0])
    # more uncertainty or a higher mean never lowers EI
    ei = expected_improvement(np.full(5, 0.4), np.linspace(0.01, 1.0, 5), 0.5)
    assert np.all(np.diff(ei) > 0)
    ei = expected_improvement(np.linspace(0.0, 1.0, 5), np.full(5, 0.1), 0.5)
    assert np.all(np.diff(ei) > 0)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        ei = expected_improvement([0.0, 100.0, -100.0], [1e-300, 1e-3, 1e-3], 0.0)
    assert np.all(np.isfinite(ei)) and ei[1] == pytest.approx(100.0)


def test_gp_surrogate_interpolates_its_observations():
    x = np.linspace(-2.0, 2.0, 7)
    y = np.sin(x)
    gp = gp_surrogate(noise=1e-8).fit(x[:, None], y)
    mean, std = gp.predict(x[:, None], return_std=True)
    np.testing.assert_allclose(mean, y, atol=1e-4)
    assert np.all(std < 1e-2)


def test_bayes_opt_1d_finds_the_peak_and_records_its_choices():
    def objective(v):
        return float(np.exp(-((v - 0.7) ** 2)) + 0.3 * np.exp(-((v + 1.5) ** 2) / 0.1))

    calls = []
    x, y, steps = bayes_opt_1d(
        lambda v: calls.append(v) or objective(v), (-3.0, 3.0), [-2.0, 2.5], n_iter=8
    )
    assert x.shape == y.shape == (10,) and len(steps) == 8 and len(calls) == 10
    np.testing.assert_allclose(y, [objective(v) for v in x])
    assert y.max() > 0.99 and abs(x[np.argmax(y)] - 0.7) < 0.1
    for k, step in enumerate(steps):
        assert step.x_next == pytest.approx(step.grid[np.argmax(step.ei)])
        assert step.x_next == x[2 + k] and len(step.x) == 2 + k
        assert step.mean.shape == step.std.shape == step.ei.shape == step.grid.shape
        assert np.all(step.ei >= 0)
