"""Gradient-descent optimizers and learning-rate schedules.

An optimizer's ``step(params, grads)`` updates every array of the dict
``params`` in place from the array of ``grads`` with the same key, keeping its
state (velocities, running averages, step counts) per key. The update rules are
exactly those documented for ``torch.optim`` with the same hyperparameters,
``weight_decay`` included (it adds ``weight_decay * p`` to the gradient, except
in ``AdamW``, which decays the weights directly).

Each rule is also a pure function (``sgd_momentum_step``, ``adagrad_step``,
``rmsprop_step``, ``adam_step``) that takes one parameter array, its gradient
and the optimizer's state, and returns the new parameter and state without
modifying its inputs; the classes call these functions.
"""

import numpy as np


def sgd_momentum_step(p, g, velocity, lr: float, momentum: float, nesterov: bool = False):
    """One step of SGD with (Nesterov) momentum, as ``torch.optim.SGD``.

    Parameters
    ----------
    p, g : arrays of the same shape: the parameter and its gradient.
    velocity : the momentum buffer from the previous step (same shape), or
        ``None`` at the first step.
    lr, momentum : learning rate and momentum factor ``mu``.
    nesterov : use Nesterov momentum.

    Returns
    -------
    new_p, new_velocity : arrays of the shape of ``p``.

    Notes
    -----
    ``b = g`` at the first step (``velocity is None``), else ``b = mu b + g``;
    the step direction is ``d = g + mu b`` with Nesterov, else ``d = b``;
    ``new_p = p - lr d``. The buffer is not dampened: ``b`` sums gradients,
    it is not their average.
    """
    g = np.asarray(g, dtype=float)
    b = g.copy() if velocity is None else momentum * velocity + g
    direction = g + momentum * b if nesterov else b
    return p - lr * direction, b


def adagrad_step(p, g, sum_sq, lr: float, eps: float = 1e-10):
    """One Adagrad step (Duchi et al., 2011), as ``torch.optim.Adagrad``.

    Parameters
    ----------
    p, g : arrays of the same shape: the parameter and its gradient.
    sum_sq : sum of the squared gradients of all previous steps (zeros at the
        first step), same shape.
    lr, eps : learning rate, and the term added to the root for stability.

    Returns
    -------
    new_p, new_sum_sq : arrays of the shape of ``p``.

    Notes
    -----
    ``s = sum_sq + g^2``; ``new_p = p - lr g / (sqrt(s) + eps)``.
    """
    g = np.asarray(g, dtype=float)
    s = sum_sq + g * g
    return p - lr * g / (np.sqrt(s) + eps), s


def rmsprop_step(p, g, square_avg, lr: float, alpha: float = 0.99, eps: float = 1e-8):
    """One RMSprop step (Hinton, 2012), as ``torch.optim.RMSprop`` (no momentum, not centered).

    Parameters
    ----------
    p, g : arrays of the same shape: the parameter and its gradient.
    square_avg : running average of the squared gradients (zeros at the first
        step), same shape.
    lr, alpha, eps : learning rate, smoothing constant, and the term added to
        the root for stability.

    Returns
    -------
    new_p, new_square_avg : arrays of the shape of ``p``.

    Notes
    -----
    ``v = alpha square_avg + (1 - alpha) g^2``; ``new_p = p - lr g / (sqrt(v) + eps)``.
    """
    g = np.asarray(g, dtype=float)
    v = alpha * square_avg + (1.0 - alpha) * g * g
    return p - lr * g / (np.sqrt(v) + eps), v


def adam_step(p, g, m, v, t: int, lr: float, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step (Kingma & Ba, 2015), as ``torch.optim.Adam``.

    Parameters
    ----------
    p, g : arrays of the same shape: the parameter and its gradient.
    m, v : first and second moment estimates from the previous step (zeros at
        the first step), same shape.
    t : the number of this step, 1 at the first step.
    lr, beta1, beta2, eps : learning rate, decay rates of the moments, and
        the term added to the root for stability.

    Returns
    -------
    new_p, m, v : the new parameter and moment estimates, shape of ``p``.

    Notes
    -----
    ``m = beta1 m + (1 - beta1) g``, ``v = beta2 v + (1 - beta2) g^2``,
    ``m_hat = m / (1 - beta1^t)``, ``v_hat = v / (1 - beta2^t)``,
    ``new_p = p - lr m_hat / (sqrt(v_hat) + eps)``.
    """
    g = np.asarray(g, dtype=float)
    m = beta1 * m + (1.0 - beta1) * g
    v = beta2 * v + (1.0 - beta2) * g * g
    m_hat = m / (1.0 - beta1**t)
    v_hat = v / (1.0 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


class Optimizer:
    """Base class: applies ``_update(key, p, g)`` to every parameter in place."""

    def __init__(self, lr: float, weight_decay: float = 0.0):
        self.lr = lr
        self.weight_decay = weight_decay
        self.state: dict[str, dict] = {}

    def step(self, params: dict, grads: dict) -> None:
        """Update ``params`` in place from ``grads`` (same keys)."""
        for key, p in params.items():
            g = np.asarray(grads[key], dtype=float)
            if self.weight_decay:
                g = g + self.weight_decay * p
            self._update(self.state.setdefault(key, {}), p, g)

    def _update(self, state: dict, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum.

    Notes
    -----
    ``b = g`` at the first step, then ``b = momentum * b + g``;
    the step direction is ``g + momentum * b`` with Nesterov, else ``b``
    (just ``g`` without momentum); ``p -= lr * direction``.
    """

    def __init__(self, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.momentum = momentum
        self.nesterov = nesterov

    def _update(self, state, p, g):
        if self.momentum:
            p[...], state["velocity"] = sgd_momentum_step(
                p, g, state.get("velocity"), self.lr, self.momentum, self.nesterov
            )
        else:
            p -= self.lr * g


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011).

    Notes
    -----
    ``s += g^2``; ``p -= lr * g / (sqrt(s) + eps)``. The defaults are
    PyTorch's: the paper fixes no learning rate or ``eps``.
    """

    def __init__(self, lr=0.01, eps=1e-10, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.eps = eps

    def _update(self, state, p, g):
        s = state.get("sum", np.zeros_like(p, dtype=float))
        p[...], state["sum"] = adagrad_step(p, g, s, self.lr, self.eps)


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012).

    Notes
    -----
    ``v = alpha * v + (1 - alpha) * g^2``; ``p -= lr * g / (sqrt(v) + eps)``.
    The defaults are PyTorch's: RMSprop was never published as a paper; Hinton's
    Coursera lecture 6e (2012) that introduced it suggests ``alpha = 0.9``.
    """

    def __init__(self, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.alpha = alpha
        self.eps = eps

    def _update(self, state, p, g):
        v = state.get("square_avg", np.zeros_like(p, dtype=float))
        p[...], state["square_avg"] = rmsprop_step(p, g, v, self.lr, self.alpha, self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015).

    Notes
    -----
    With step count ``t``: ``m = beta1 m + (1 - beta1) g``,
    ``v = beta2 v + (1 - beta2) g^2``, ``m_hat = m / (1 - beta1^t)``,
    ``v_hat = v / (1 - beta2^t)``, ``p -= lr * m_hat / (sqrt(v_hat) + eps)``.
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps

    def _update(self, state, p, g):
        t = state["t"] = state.get("t", 0) + 1
        m = state.get("m", np.zeros_like(p, dtype=float))
        v = state.get("v", np.zeros_like(p, dtype=float))
        p[...], state["m"], state["v"] = adam_step(
            p, g, m, v, t, self.lr, self.beta1, self.beta2, self.eps
        )


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    Notes
    -----
    ``p -= lr * weight_decay * p`` first, then the Adam step on the raw gradient.
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        super().__init__(lr, beta1, beta2, eps)
        self.decoupled_decay = weight_decay

    def _update(self, state, p, g):
        p -= self.lr * self.decoupled_decay * p
        super()._update(state, p, g)


OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}
"""Optimizer classes by name."""


def step_decay(lr0: float, epoch: int, drop: float = 0.5, every: int = 10) -> float:
    """``lr0 * drop ** (epoch // every)``: multiply by ``drop`` every ``every`` epochs."""
    return lr0 * drop ** (epoch // every)


def exponential_decay(lr0: float, epoch: int, gamma: float = 0.95) -> float:
    """``lr0 * gamma ** epoch``."""
    return lr0 * gamma**epoch


def cosine_decay(lr0: float, epoch: int, n_epochs: int, lr_min: float = 0.0) -> float:
    """Cosine annealing from ``lr0`` at epoch 0 to ``lr_min`` at ``n_epochs``."""
    return lr_min + 0.5 * (lr0 - lr_min) * (1.0 + np.cos(np.pi * epoch / n_epochs))


def warmup_cosine(
    lr0: float, step: int, n_steps: int, warmup_steps: int, lr_min: float = 0.0
) -> float:
    """Linear warm-up to ``lr0``, then cosine decay to ``lr_min``, as a function of the step.

    Parameters
    ----------
    lr0 : the peak learning rate, reached at the end of the warm-up.
    step : the number of the update, counted from 0.
    n_steps : the length of the whole schedule; the rate is ``lr_min`` at ``step = n_steps``.
    warmup_steps : the length of the warm-up (0 for none), less than ``n_steps``.
    lr_min : the final learning rate.

    Returns
    -------
    The learning rate of update ``step``.

    Notes
    -----
    With ``W = warmup_steps``: ``lr0 (step + 1) / W`` for ``step < W`` (the first
    update already moves, the W-th uses ``lr0``), then
    ``lr_min + (lr0 - lr_min) (1 + cos(pi (step - W) / (n_steps - W))) / 2``.
    These are PyTorch's ``LinearLR(start_factor=1/W, total_iters=W-1)`` for the steps
    before ``W``, then ``CosineAnnealingLR(T_max=n_steps-W, eta_min=lr_min)`` counted from
    ``W``; ``LambdaLR`` with ``warmup_cosine(1.0, s, n_steps, W, lr_min / lr0)`` gives the
    whole schedule. Gradual warm-up: Goyal et al. (2017); cosine decay: Loshchilov & Hutter
    (2017).
    """
    if step < warmup_steps:
        return lr0 * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / (n_steps - warmup_steps)
    return lr_min + 0.5 * (lr0 - lr_min) * (1.0 + np.cos(np.pi * progress))


def sgd_step(params: dict, grads: dict, lr: float) -> dict:
    """One step of plain gradient descent, returned as a new dict.

    Parameters
    ----------
    params : dict of arrays, e.g. ``{"W1": (D, H), "b1": (H,), ...}``.
    grads : dict with the same keys and shapes: the gradients of the loss.
    lr : learning rate ``eta > 0``.

    Returns
    -------
    dict with the keys of ``params`` holding new arrays ``p - lr * g``;
    ``params`` and its arrays are left unchanged.

    Notes
    -----
    ``theta <- theta - eta * dL/dtheta``: a step against the gradient, downhill.
    The CSE-403 slides write the same update as ``w <- w + eta * Err * o`` because their
    ``Err`` is the *negative* gradient with respect to a unit's pre-activation.
    """
    return {
        key: np.asarray(p, dtype=float) - lr * np.asarray(grads[key], dtype=float)
        for key, p in params.items()
    }
