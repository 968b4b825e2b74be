"""Hyperparameter tuning: Bayesian optimization with a Gaussian-process surrogate.

Every objective here is a score to **maximize** (a validation accuracy, say) of one
hyperparameter on the scale the search uses (for rates and penalties, ``log10`` of the
value). Functions take and return NumPy arrays of shape (M,) over candidate values;
randomness comes in as an integer ``random_state`` passed on to scikit-learn.
"""

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern


def expected_improvement(mean, std, best: float, xi: float = 0.0) -> np.ndarray:
    """Expected improvement of a Gaussian prediction over the best score so far.

    Parameters
    ----------
    mean, std : arrays of shape (M,), the surrogate's posterior mean and standard
        deviation of the score at M candidates.
    best : the best score observed so far, :math:`s^*`.
    xi : a margin the improvement must exceed (0 is the textbook EI).

    Returns
    -------
    ei : array of shape (M,), :math:`\\mathbb{E}[\\max(s - s^* - \\xi, 0)]` for
        :math:`s \\sim \\mathcal{N}(\\mu, \\sigma^2)`.

    Notes
    -----
    With :math:`z = (\\mu - s^* - \\xi) / \\sigma`,

    .. math:: \\mathrm{EI} = (\\mu - s^* - \\xi)\\,\\Phi(z) + \\sigma\\,\\varphi(z),

    and :math:`\\max(\\mu - s^* - \\xi, 0)` where :math:`\\sigma = 0`. Jones, Schonlau and
    Welch (1998), *J. Global Optimization* 13.
    """
    mean, std = np.broadcast_arrays(np.asarray(mean, float), np.asarray(std, float))
    gain = mean - best - xi
    certain = std <= 0
    # a certain prediction improves by exactly its gain; avoid 0/0 in z there
    scale = np.where(certain, 1.0, std)
    z = gain / scale
    ei = gain * norm.cdf(z) + scale * norm.pdf(z)
    return np.where(certain, np.maximum(gain, 0.0), ei)


def gp_surrogate(noise: float = 1e-3, random_state: int = 0) -> GaussianProcessRegressor:
    """An unfitted Gaussian process for a score of one hyperparameter.

    The kernel is ``ConstantKernel * Matern(nu=2.5)``: a smooth (twice differentiable)
    curve whose amplitude and length scale are fitted by maximum marginal likelihood on
    standardized scores (``normalize_y=True``). ``noise`` is the variance added to the
    diagonal for the observations, in standardized units: a little measurement noise,
    which also keeps the fit numerically stable when two evaluations are close.
    """
    kernel = ConstantKernel(1.0, (1e-2, 1e2)) * Matern(
        length_scale=1.0, length_scale_bounds=(0.1, 10.0), nu=2.5
    )
    return GaussianProcessRegressor(
        kernel, alpha=noise, normalize_y=True, n_restarts_optimizer=3, random_state=random_state
    )


@dataclass
class BayesOptStep:
    """The state of a 1-D Bayesian optimization before one new evaluation.

    Attributes
    ----------
    x, y : arrays of shape (T,), the values evaluated so far and their scores.
    grid : array of shape (M,), the candidates the acquisition is maximized over.
    mean, std : arrays of shape (M,), the GP posterior of the score on ``grid``.
    ei : array of shape (M,), the expected improvement over ``y.max()`` on ``grid``.
    x_next : the candidate with the largest ``ei``, evaluated next.
    """

    x: np.ndarray
    y: np.ndarray
    grid: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    ei: np.ndarray
    x_next: float


def bayes_opt_1d(
    objective: Callable[[float], float],
    bounds: tuple[float, float],
    x_init,
    n_iter: int,
    n_grid: int = 201,
    xi: float = 0.0,
    noise: float = 1e-3,
    random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray, list[BayesOptStep]]:
    """Maximize ``objective`` on an interval with a GP surrogate and expected improvement.

    Parameters
    ----------
    objective : callable mapping one value to its score (the expensive evaluation).
    bounds : ``(low, high)`` of the search interval.
    x_init : the first values to evaluate, before any model is fitted.
    n_iter : how many values the acquisition chooses after those.
    n_grid : number of evenly spaced candidates the acquisition is maximized over.
    xi : margin passed to ``expected_improvement``.
    noise : observation noise variance of the GP, see ``gp_surrogate``.
    random_state : seed of the GP's optimizer restarts.

    Returns
    -------
    x, y : arrays of shape (len(x_init) + n_iter,), every value evaluated, in order,
        and its score.
    steps : ``n_iter`` ``BayesOptStep`` records, the model behind each choice.
    """
    grid = np.linspace(*bounds, n_grid)
    x = [float(v) for v in np.atleast_1d(x_init)]
    y = [float(objective(v)) for v in x]
    steps = []
    for _ in range(n_iter):
        xs, ys = np.array(x), np.array(y)
        with warnings.catch_warnings():
            # with a handful of points the best length scale often sits at a bound: expected
            warnings.simplefilter("ignore", ConvergenceWarning)
            gp = gp_surrogate(noise, random_state).fit(xs[:, None], ys)
        mean, std = gp.predict(grid[:, None], return_std=True)
        ei = expected_improvement(mean, std, ys.max(), xi)
        x_next = float(grid[np.argmax(ei)])
        steps.append(BayesOptStep(xs, ys, grid, mean, std, ei, x_next))
        x.append(x_next)
        y.append(float(objective(x_next)))
    return np.array(x), np.array(y), steps
