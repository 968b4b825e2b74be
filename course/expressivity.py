"""What networks can represent: hand-built ReLU networks of one input and one output.

Every function here returns a parameter dict ``{"W1": (n_0, n_1), "b1": (n_1,), ...}``
for ``course.network.mlp_forward(x, params, "relu", "identity")`` with ``x`` of
shape (N, 1); the network's output has shape (N, 1). The weights are set by hand,
not trained: they show what one hidden layer can do (universal approximation) and
what depth buys (the sawtooth).
"""

import numpy as np


def relu_interpolant_params(x_knots, y_knots) -> dict:
    """A one-hidden-layer ReLU network through the points ``(x_knots[k], y_knots[k])``.

    Parameters
    ----------
    x_knots : array of shape (H + 1,), strictly increasing, H >= 1.
    y_knots : array of shape (H + 1,), the values to pass through.

    Returns
    -------
    dict ``{"W1": (1, H), "b1": (H,), "W2": (H, 1), "b2": (1,)}`` of float64 arrays.
    On ``[x_knots[0], x_knots[-1]]`` the network computes the piecewise-linear
    interpolant of the knots (``np.interp``), with H hidden units.

    Notes
    -----
    With slopes :math:`s_k = (y_{k+1} - y_k) / (x_{k+1} - x_k)`, for
    :math:`x \\ge x_0`

    .. math:: F(x) = y_0 + s_0\\,\\mathrm{ReLU}(x - x_0)
              + \\sum_{k=1}^{H-1} (s_k - s_{k-1})\\,\\mathrm{ReLU}(x - x_k):

    hidden unit k switches on at knot :math:`x_k` and changes the slope there.
    This is the constructive proof of universal approximation in one dimension:
    a continuous function on an interval is uniformly continuous, so enough
    knots bring the interpolant within any :math:`\\varepsilon`.
    """
    x = np.asarray(x_knots, dtype=float)
    y = np.asarray(y_knots, dtype=float)
    if x.ndim != 1 or x.shape != y.shape or len(x) < 2:
        raise ValueError("x_knots and y_knots must be 1-D of the same length, at least 2")
    if np.any(np.diff(x) <= 0):
        raise ValueError("x_knots must be strictly increasing")
    slopes = np.diff(y) / np.diff(x)
    return {
        "W1": np.ones((1, len(slopes))),
        "b1": -x[:-1],
        "W2": np.diff(slopes, prepend=0.0)[:, None],
        "b2": y[:1].copy(),
    }


def sawtooth_params(depth: int) -> dict:
    """A deep, narrow ReLU network: the tent map composed ``depth`` times.

    Parameters
    ----------
    depth : number of hidden layers k >= 1, each of 2 units.

    Returns
    -------
    dict for layer sizes ``[1, 2, ..., 2, 1]`` (k hidden layers), float64 arrays;
    ``6 k + 1`` parameters.

    Notes
    -----
    The tent map :math:`T(x) = 2\\,\\mathrm{ReLU}(x) - 4\\,\\mathrm{ReLU}(x - 1/2)`
    equals :math:`2x` on :math:`[0, 1/2]` and :math:`2 - 2x` on :math:`[1/2, 1]`,
    and maps :math:`[0, 1]` onto itself. Its k-fold composition
    :math:`T^{(k)} = T \\circ \\dots \\circ T` is a sawtooth with :math:`2^{k-1}`
    teeth, i.e. :math:`2^k` linear pieces on :math:`[0, 1]`. A one-hidden-layer
    ReLU network on one input with H units is piecewise linear with at most
    H + 1 pieces, so it needs at least :math:`2^k - 1` units to compute
    :math:`T^{(k)}`. Telgarsky, "Benefits of depth in neural networks", COLT 2016.
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    to_hidden = np.array([[1.0, 1.0]])  # both units read the same value t ...
    bias = np.array([0.0, -0.5])  # ... one switches on at 0, the other at 1/2
    tent = np.array([[2.0], [-4.0]])  # t' = 2 relu(t) - 4 relu(t - 1/2)
    params = {"W1": to_hidden.copy(), "b1": bias.copy()}
    for l in range(2, depth + 1):
        # the tent's linear output feeds the next layer: fold the two matrices
        params[f"W{l}"] = tent @ to_hidden
        params[f"b{l}"] = bias.copy()
    params[f"W{depth + 1}"] = tent.copy()
    params[f"b{depth + 1}"] = np.zeros(1)
    return params
