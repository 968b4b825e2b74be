"""course.regularization: early stopping's function form against the EarlyStopping class."""

import numpy as np
import pytest

from course.gradcheck import numerical_gradient, rel_error
from course.regularization import (
    EarlyStopping,
    clip_grad_norm,
    l1_penalty,
    l2_penalty,
    should_stop,
)

pytestmark = pytest.mark.course


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(("patience", "min_delta"), [(1, 0.0), (3, 0.0), (3, 0.05), (5, 0.2)])
def test_should_stop_agrees_with_early_stopping_at_every_epoch(seed, patience, min_delta):
    rng = np.random.default_rng(seed)
    # a noisy U-shaped validation curve, with ties from rounding
    losses = np.round(np.linspace(-1, 1, 40) ** 2 + 0.2 * rng.random(40), 1).tolist()
    stopper = EarlyStopping(patience=patience, min_delta=min_delta)
    for t, loss in enumerate(losses):
        expected = stopper.step(loss, {"W1": np.zeros(1)})
        assert should_stop(losses[: t + 1], patience, min_delta) == expected


def test_should_stop_hand_worked():
    assert not should_stop([], patience=2)
    assert not should_stop([3.0, 2.0, 1.0], patience=1)
    assert should_stop([1.0, 1.0], patience=1)  # a tie is not an improvement
    assert not should_stop([1.0, 2.0, 3.0], patience=3)
    assert should_stop([1.0, 2.0, 3.0, 4.0], patience=3)
    # 0.95 beats 1.0 by less than min_delta = 0.1: no improvement, best stays 1.0
    assert should_stop([1.0, 0.95, 0.92], patience=2, min_delta=0.1)
    assert not should_stop([1.0, 0.95, 0.85], patience=2, min_delta=0.1)


def random_params(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(size=(3, 4)),
        "b1": rng.normal(size=4),
        "W2": rng.normal(size=(4, 2)),
        "b2": rng.normal(size=2),
    }


@pytest.mark.parametrize(
    ("penalty", "value_of"),
    [
        (l1_penalty, lambda W: np.abs(W).sum()),
        (l2_penalty, lambda W: (W**2).sum()),
    ],
)
def test_penalties_cover_weights_only(penalty, value_of):
    params = random_params()
    value, grads = penalty(params, 0.3)
    assert np.isclose(value, 0.3 * (value_of(params["W1"]) + value_of(params["W2"])))
    for key, p in params.items():
        if key.startswith("b"):
            assert np.array_equal(grads[key], np.zeros_like(p))
        else:
            numeric = numerical_gradient(lambda _: penalty(params, 0.3)[0], p)
            assert rel_error(grads[key], numeric) < 1e-7


def test_l2_update_is_the_seed_001_rule():
    params = random_params(1)
    lr, lam, dL = 0.1, 0.05, np.ones((3, 4))
    _, grads = l2_penalty(params, lam)
    assert np.allclose(
        params["W1"] - lr * (dL + grads["W1"]), params["W1"] - lr * (dL + 2 * lam * params["W1"])
    )


def test_clip_grad_norm_rescales_globally_and_copies():
    grads = {"W1": np.full((2, 2), 3.0), "b1": np.array([4.0, 0.0])}
    before = {k: g.copy() for k, g in grads.items()}
    clipped, total = clip_grad_norm(grads, max_norm=5.0)
    assert np.isclose(total, np.sqrt(4 * 9 + 16))
    coef = 5.0 / (total + 1e-6)
    assert all(np.allclose(clipped[k], before[k] * coef) for k in grads)
    assert all(np.array_equal(grads[k], before[k]) for k in grads)
    assert np.isclose(np.sqrt(sum((g**2).sum() for g in clipped.values())), 5.0, atol=1e-5)
    unchanged, _ = clip_grad_norm(grads, max_norm=100.0)
    assert all(np.array_equal(unchanged[k], before[k]) for k in grads)


def test_early_stopping_keeps_and_restores_the_best_parameters():
    stopper = EarlyStopping(patience=2, min_delta=0.1)
    params = {"W1": np.array([1.0])}
    assert not stopper.step(1.0, params)
    params["W1"][0] = 2.0
    assert not stopper.step(0.95, params)  # not better by more than min_delta
    params["W1"][0] = 3.0
    assert not stopper.step(0.5, params) and stopper.n_bad_epochs == 0
    params["W1"][0] = 4.0
    assert not stopper.step(0.6, params)
    assert stopper.step(0.7, params)
    stopper.restore(params)
    assert params["W1"][0] == 3.0 and stopper.best_loss == 0.5


def _regression(seed, n=40, d=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.linspace(0.3, 2.0, d)
    return X, X @ rng.normal(size=d) + 0.1 * rng.normal(size=n)


@pytest.mark.parametrize("alpha", [1e-3, 0.1, 10.0])
def test_ridge_solution_matches_scikit_learn(alpha):
    from sklearn.linear_model import Ridge

    from course.regularization import ridge_solution

    X, y = _regression(0)
    expected = Ridge(alpha=len(y) * alpha, fit_intercept=False).fit(X, y).coef_
    assert rel_error(ridge_solution(X, y, alpha), expected) < 1e-10


@pytest.mark.parametrize("lam", [1e-3, 0.1, 2.0])
def test_ridge_alpha_is_twice_the_lambda_of_l2_penalty(lam):
    """The docstring's conversion, against a numerical minimizer of module 06's objectives."""
    from scipy.optimize import minimize

    from course.losses import mse
    from course.regularization import ridge_solution

    X, y = _regression(3)

    def objective(w, half):  # data loss (with or without 1/2) + lam * sum W^2, as l2_penalty
        return mse(y, X @ w) / (2.0 if half else 1.0) + l2_penalty({"W": w}, lam)[0]

    def centred(w, half):  # the gradient by centred differences, no formula
        return numerical_gradient(lambda v: objective(v, half), w.copy())

    for half, alpha in ((True, 2 * lam), (False, lam)):
        found = minimize(
            objective, np.zeros(X.shape[1]), (half,), "BFGS", centred, options={"gtol": 1e-9}
        )
        assert rel_error(ridge_solution(X, y, alpha), found.x) < 1e-6
        wrong = lam if half else 2 * lam
        assert rel_error(ridge_solution(X, y, wrong), found.x) > 1e-4


def test_gradient_descent_path_matches_the_eigenbasis_closed_form():
    from course.regularization import gradient_descent_path

    X, y = _regression(1)
    lr, n_steps = 0.1, 60
    path = gradient_descent_path(X, y, lr, n_steps)
    H = X.T @ X / len(y)
    lam, Q = np.linalg.eigh(H)
    w_star = np.linalg.solve(H, X.T @ y / len(y))
    assert path.shape == (n_steps + 1, X.shape[1]) and np.all(path[0] == 0)
    for t in (1, 7, n_steps):
        closed = Q @ ((1 - (1 - lr * lam) ** t) * (Q.T @ w_star))
        assert rel_error(path[t], closed) < 1e-10


def test_early_stopping_approaches_ridge_with_alpha_one_over_tau_lr():
    from course.regularization import gradient_descent_path, ridge_solution

    X, y = _regression(2)
    lr = 0.01
    path = gradient_descent_path(X, y, lr, 20000)
    w_star = ridge_solution(X, y, 0.0)
    # per eigendirection the shrinkage factors are 1 - (1 - lr*lam)^tau ~ 1 - exp(-x) and
    # x / (1 + x), x = tau*lr*lam: they agree to first order and never differ by more than 0.21
    gaps = [
        np.linalg.norm(path[tau] - ridge_solution(X, y, 1.0 / (tau * lr))) / np.linalg.norm(w_star)
        for tau in (1, 10, 100, 1000, 20000)
    ]
    assert max(gaps) < 0.21
    assert gaps[0] < 0.01 and gaps[-1] < 0.02
