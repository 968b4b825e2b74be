"""Gradient-descent optimizers and learning-rate schedules.

An optimizer's ``step(params, grads)`` updates every array of the dict
``params`` in place from the array of ``grads`` with the same key, keeping its
state (velocities, running averages, step counts) per key. The update rules are
exactly those documented for ``torch.optim`` with the same hyperparameters,
``weight_decay`` included (it adds ``weight_decay * p`` to the gradient, except
in ``AdamW``, which decays the weights directly).
"""

import numpy as np


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
            b = state.get("velocity")
            b = g.copy() if b is None else self.momentum * b + g
            state["velocity"] = b
            g = g + self.momentum * b if self.nesterov else b
        p -= self.lr * g


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011).

    Notes
    -----
    ``s += g^2``; ``p -= lr * g / (sqrt(s) + eps)``.
    """

    def __init__(self, lr=0.01, eps=1e-10, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.eps = eps

    def _update(self, state, p, g):
        s = state.setdefault("sum", np.zeros_like(p))
        s += g * g
        p -= self.lr * g / (np.sqrt(s) + self.eps)


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012).

    Notes
    -----
    ``v = alpha * v + (1 - alpha) * g^2``; ``p -= lr * g / (sqrt(v) + eps)``.
    """

    def __init__(self, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.alpha = alpha
        self.eps = eps

    def _update(self, state, p, g):
        v = state.setdefault("square_avg", np.zeros_like(p))
        v *= self.alpha
        v += (1.0 - self.alpha) * g * g
        p -= self.lr * g / (np.sqrt(v) + self.eps)


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
        m = state.setdefault("m", np.zeros_like(p))
        v = state.setdefault("v", np.zeros_like(p))
        m *= self.beta1
        m += (1.0 - self.beta1) * g
        v *= self.beta2
        v += (1.0 - self.beta2) * g * g
        m_hat = m / (1.0 - self.beta1**t)
        v_hat = v / (1.0 - self.beta2**t)
        p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


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
