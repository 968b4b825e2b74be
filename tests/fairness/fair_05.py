"""Correct solutions of module 05 written differently from the reference; each gets full marks.

Initializers keep the draw their docstrings state (one ``rng`` call of the stated shape) but
reach the scale by other formulas; batch normalization's backward pass is written as the long
chain rule, as one Jacobian per feature, and with caches of other types (dict, namedtuple,
instance of the student's own class); gradient clipping loops over the keys; scratch cells use
magics, plots, ``help`` and names such as ``x``, ``W``, ``input`` and ``params``. Part 6's bound
is typed by hand to 4 significant digits for the student's own id, computed as an
``np.float64``, and as a power of a fraction.
"""

import math

import numpy as np

from course.grading import variant_seed


def xavier_bound_for(student: str) -> float:
    """Part 6's answer for ``student``: the draw of the notebook's ``q_xavier_bound_inputs``."""
    rng = np.random.default_rng(variant_seed(student, "05-initialization", "q_xavier_bound"))
    sizes = [10, 16, 32, 50, 64, 100, 128, 200, 256, 300, 400, 500, 512, 784, 1000]
    n_in, n_out = (int(n) for n in rng.choice(sizes, size=2, replace=False))
    return math.sqrt(6 / (n_in + n_out))


# ---------------------------------------------------------------- 1: formula variants, loops
INIT_FORMULAS = {
    "xavier_normal": '''\
def xavier_normal(fan_in, fan_out, rng=None, gain=1.0):
    """Xavier normal, std from the variance written out."""
    if rng is None:
        rng = np.random.default_rng()
    variance = gain**2 * 2 / (fan_in + fan_out)
    return rng.normal(loc=0.0, scale=variance**0.5, size=(fan_in, fan_out))
''',
    "xavier_uniform": '''\
def xavier_uniform(fan_in, fan_out, rng=None, gain=1.0):
    """Xavier uniform: bound = sqrt(3) * std."""
    if rng is None:
        rng = np.random.default_rng()
    std = gain * np.sqrt(2.0 / (fan_in + fan_out))
    bound = np.sqrt(3.0) * std
    return rng.uniform(low=-bound, high=bound, size=(fan_in, fan_out))
''',
    "he_normal": """\
from math import sqrt


def he_normal(fan_in, fan_out, rng=None):
    rng = rng or np.random.default_rng()
    # the same draw as rng.normal(0.0, std, size): standard normals times std
    return sqrt(2 / fan_in) * rng.standard_normal((fan_in, fan_out))
""",
    "he_uniform": """\
def he_uniform(fan_in, fan_out, rng=None):
    if rng is None:
        rng = np.random.default_rng()
    var = 2.0 / float(fan_in)
    a = (3.0 * var) ** 0.5
    W = rng.uniform(-a, a, (fan_in, fan_out))
    return W.astype(np.float64)
""",
    "orthogonal": """\
def orthogonal(fan_in, fan_out, rng=None, gain=1.0):
    if rng is None:
        rng = np.random.default_rng()
    A = rng.normal(0.0, 1.0, size=(fan_in, fan_out))
    if fan_in >= fan_out:
        Q, R = np.linalg.qr(A, mode="reduced")
        for j in range(Q.shape[1]):
            if R[j, j] < 0:
                Q[:, j] = -Q[:, j]
        W = Q
    else:
        Q, R = np.linalg.qr(A.T)
        Q = Q @ np.diag(np.sign(np.diag(R)))
        W = Q.T
    return gain * W
""",
}

LOOP_CLIP = """\
def clip_grad_norm(grads, max_norm):
    squares = 0.0
    for key in grads:
        g = np.asarray(grads[key], dtype=np.float64)
        squares += float((g * g).sum())
    total_norm = squares**0.5
    c = max_norm / (total_norm + 1e-6)
    if c > 1.0:
        c = 1.0
    clipped = {}
    for key in grads:
        clipped[key] = np.array(grads[key], dtype=float) * c
    return clipped, total_norm
"""

# ---------------------------------------------------------------- 2: long chain rule, dict cache
CHAIN_FORWARD = """\
def batchnorm_forward(x, gamma, beta, running, training=True, momentum=0.1, eps=1e-5):
    x = np.array(x, dtype=np.float64)
    N = x.shape[0]
    if training:
        mu = np.sum(x, axis=0) / N
        xmu = x - mu
        var = np.sum(xmu**2, axis=0) / N
        if running is not None:
            running["mean"] = running["mean"] + momentum * (mu - running["mean"])
            unbiased = np.sum(xmu**2, axis=0) / (N - 1)
            running["var"] = running["var"] + momentum * (unbiased - running["var"])
    else:
        mu = running["mean"].copy()
        var = running["var"].copy()
        xmu = x - mu
    sqrtvar = np.sqrt(var + eps)
    ivar = 1.0 / sqrtvar
    xhat = xmu * ivar
    out = gamma * xhat + beta
    cache = {"xhat": xhat, "xmu": xmu, "ivar": ivar, "sqrtvar": sqrtvar, "var": var,
             "eps": eps, "gamma": gamma, "training": training}
    return out, cache
"""

CHAIN_BACKWARD = """\
def batchnorm_backward(dout, cache):
    N = dout.shape[0]
    xhat, xmu, ivar = cache["xhat"], cache["xmu"], cache["ivar"]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * cache["gamma"]
    if not cache["training"]:
        return dxhat * ivar, dgamma, dbeta
    # xhat = xmu * ivar, ivar = 1 / sqrt(var + eps), var = mean(xmu ** 2), xmu = x - mu
    divar = np.sum(dxhat * xmu, axis=0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -1.0 / cache["sqrtvar"] ** 2 * divar
    dvar = 0.5 / np.sqrt(cache["var"] + cache["eps"]) * dsqrtvar
    dsq = np.ones_like(dout) / N * dvar
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -np.sum(dx1, axis=0)
    dx2 = np.ones_like(dout) / N * dmu
    return dx1 + dx2, dgamma, dbeta
"""

# ---------------------------------------------------------------- 3: Jacobians, namedtuple cache
JACOBIAN_FORWARD = """\
from collections import namedtuple

BNCache = namedtuple("BNCache", ["x_hat", "gamma", "inv_std", "training"])


def batchnorm_forward(x, gamma, beta, running, training=True, momentum=0.1, eps=1e-5):
    x = np.asarray(x).astype(float)
    if training:
        mean = np.mean(x, axis=0)
        var = np.mean((x - mean) ** 2, axis=0)
        if running is not None:
            running["mean"] *= 1.0 - momentum
            running["mean"] += momentum * mean
            running["var"] *= 1.0 - momentum
            running["var"] += momentum * np.var(x, axis=0, ddof=1)
    else:
        mean, var = running["mean"], running["var"]
    inv_std = (var + eps) ** -0.5
    x_hat = (x - mean) * inv_std
    return x_hat * gamma + beta, BNCache(x_hat, np.asarray(gamma, float), inv_std, bool(training))
"""

JACOBIAN_BACKWARD = """\
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std, training = cache.x_hat, cache.gamma, cache.inv_std, cache.training
    N, D = dout.shape
    dgamma = np.zeros(D)
    dbeta = np.zeros(D)
    dx = np.zeros((N, D))
    for j in range(D):
        dbeta[j] = dout[:, j].sum()
        dgamma[j] = dout[:, j] @ x_hat[:, j]
        g = gamma[j] * dout[:, j]
        if training:
            # d x_hat_i / d x_k = inv_std * (delta_ik - 1/N - x_hat_i x_hat_k / N)
            jac = inv_std[j] * (np.eye(N) - 1.0 / N - np.outer(x_hat[:, j], x_hat[:, j]) / N)
            dx[:, j] = jac.T @ g
        else:
            dx[:, j] = g * inv_std[j]
    return dx, dgamma, dbeta
"""

NORM_CLIP = """\
def clip_grad_norm(grads, max_norm):
    flat = np.concatenate([np.ravel(g).astype(float) for g in grads.values()])
    total_norm = np.linalg.norm(flat)  # a np.float64
    scale = np.minimum(1.0, max_norm / (total_norm + 1e-6))
    return {name: g * scale for name, g in grads.items()}, total_norm
"""

# ---------------------------------------------------------------- 4: own cache class, helpers
CLASS_FORWARD = '''\
class Saved:
    """What the backward pass needs."""

    def __init__(self, x_hat, gamma, std, training):
        self.x_hat, self.gamma, self.std, self.training = x_hat, gamma, std, training

    def __repr__(self):
        return f"Saved(training={self.training})"


def center(x, mean):
    return x - mean


def batchnorm_forward(x, gamma, beta, running, training=True, momentum=0.1, eps=1e-5):
    x = np.asarray(x, dtype=np.float64)
    if training:
        n = x.shape[0]
        mean = x.mean(0)
        var = x.var(0)
        if running is not None:
            new_mean = momentum * mean + (1 - momentum) * running["mean"]
            new_var = momentum * var * n / (n - 1) + (1 - momentum) * running["var"]
            running.update(mean=new_mean, var=new_var)
    else:
        mean, var = running["mean"], running["var"]
    std = np.sqrt(var + eps)
    x_hat = center(x, mean) / std
    return gamma * x_hat + beta, Saved(x_hat, gamma, std, training)
'''

CLASS_BACKWARD = """\
def batchnorm_backward(dout, cache):
    dgamma = np.einsum("nd,nd->d", dout, cache.x_hat)
    dbeta = np.einsum("nd->d", dout)
    d = dout * cache.gamma
    if cache.training:
        d = d - d.mean(axis=0) - cache.x_hat * (d * cache.x_hat).mean(axis=0)
    return d / cache.std, dgamma, dbeta
"""

HELPER_INITS = {
    "xavier_normal": """\
def glorot_std(fan_in, fan_out, gain):
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def xavier_normal(fan_in, fan_out, rng=None, gain=1.0):
    rng = np.random.default_rng() if rng is None else rng
    return rng.normal(0.0, glorot_std(fan_in, fan_out, gain), size=(fan_in, fan_out))
""",
    "xavier_uniform": """\
def xavier_uniform(fan_in, fan_out, rng=None, gain=1.0):
    rng = np.random.default_rng() if rng is None else rng
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    # the same draw as rng.uniform(-a, a, size): uniform numbers in [0, 1), stretched
    return -a + 2 * a * rng.random((fan_in, fan_out))
""",
}

ZERO_D_CLIP = """\
def clip_grad_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(np.asarray(v, dtype=float) ** 2) for v in grads.values()))
    factor = min(1.0, max_norm / (float(total) + 1e-6))
    out = {}
    for k, v in grads.items():
        out[k] = factor * np.asarray(v, dtype=float)
    return out, np.array(total)  # a 0-d array
"""

# ---------------------------------------------------------------- scratch cells
SCRATCH = [
    (
        "setup",
        "%matplotlib inline\nimport warnings\n\nimport matplotlib.pyplot as plt\n"
        "warnings.filterwarnings('ignore')",
    ),
    (
        "xavier_normal",
        "W = xavier_normal(300, 100, np.random.default_rng(0))\n"
        "plt.hist(W.ravel(), bins=40)\nplt.title('my Xavier weights')\nplt.show()\n"
        "print(W.var(), 2 / 400)",
    ),
    ("he_uniform", "%timeit he_uniform(256, 256)"),
    ("orthogonal", "help(orthogonal)\nW = orthogonal(4, 4)\nnp.round(W @ W.T, 6)"),
    (
        "batchnorm_forward",
        "x = np.random.randn(16, 3) * 5 + 2\ninput = x\n"
        "running = {'mean': np.zeros(3), 'var': np.ones(3)}\n"
        "out, cache = batchnorm_forward(input, np.ones(3), np.zeros(3), running)\n"
        "print(out.mean(axis=0), out.std(axis=0), running)",
    ),
    (
        "batchnorm_backward",
        "from course.gradcheck import numerical_gradient_array, rel_error\n"
        "dout = np.random.randn(*x.shape)\n"
        "dx, dgamma, dbeta = batchnorm_backward(dout, cache)\n"
        "num = numerical_gradient_array(lambda v: batchnorm_forward(v, np.ones(3), "
        "np.zeros(3), None)[0], x.copy(), dout)\n"
        "print('rel error', rel_error(dx, num))",
    ),
    (
        "clip_grad_norm",
        "params = {'W1': np.ones((3, 2)), 'b1': np.zeros(2)}\n"
        "grads = {k: 100 * v + 1 for k, v in params.items()}\n"
        "clipped, norm = clip_grad_norm(grads, 5.0)\n"
        "ref, rng, check_close = None, np.random.default_rng(3), print\n"
        "plt.bar(list(clipped), [np.linalg.norm(g) for g in clipped.values()])\n"
        "plt.show()",
    ),
    (
        "answer_q3",
        "a = np.random.randn(500, 400)\nfor layer in range(20):\n"
        "    a = np.maximum(a @ np.random.normal(0, 0.1, (400, 400)), 0)\n"
        "print(np.sqrt(np.mean(a**2)))",
    ),
]

# ---------------------------------------------------------------- 5: one getattr(rng, kind) helper
# variants: the four random initializers through one helper that draws with getattr(rng, kind);
# orthogonal with the signs from np.where on np.diagonal(R); batch norm with the raw inputs in a
# tuple cache and the backward pass by the paper's chain rule through the batch variance and mean;
# running statistics updated in a loop over the keys.
DRAW_HELPER = {
    "xavier_normal": """\
def _draw(rng, kind, scale, shape):
    # one draw: normal(0, scale) or uniform(-scale, scale), whichever `kind` names
    rng = np.random.default_rng() if rng is None else rng
    low = 0.0 if kind == "normal" else -scale
    return getattr(rng, kind)(low, scale, size=shape)


def xavier_normal(fan_in, fan_out, rng=None, gain=1.0):
    return _draw(rng, "normal", gain * math.sqrt(2.0 / (fan_in + fan_out)), (fan_in, fan_out))
""",
    "xavier_uniform": """\
def xavier_uniform(fan_in, fan_out, rng=None, gain=1.0):
    return _draw(rng, "uniform", gain * math.sqrt(6.0 / (fan_in + fan_out)), (fan_in, fan_out))
""",
    "he_normal": """\
def he_normal(fan_in, fan_out, rng=None):
    return _draw(rng, "normal", math.sqrt(2.0 / fan_in), (fan_in, fan_out))
""",
    "he_uniform": """\
def he_uniform(fan_in, fan_out, rng=None):
    return _draw(rng, "uniform", math.sqrt(6.0 / fan_in), (fan_in, fan_out))
""",
    "orthogonal": """\
def orthogonal(fan_in, fan_out, rng=None, gain=1.0):
    rng = np.random.default_rng() if rng is None else rng
    A = rng.normal(0.0, 1.0, size=(fan_in, fan_out))
    tall = fan_in >= fan_out
    Q, R = np.linalg.qr(A if tall else A.T, mode="reduced")
    signs = np.where(np.diagonal(R) < 0, -1.0, 1.0)
    Q = Q * signs[np.newaxis, :]
    return gain * (Q if tall else Q.T)
""",
}

PAPER_FORWARD = """\
def batchnorm_forward(x, gamma, beta, running, training=True, momentum=0.1, eps=1e-5):
    x = np.asarray(x, dtype=np.float64)
    if training:
        N = x.shape[0]
        mu = x.mean(axis=0)
        var = ((x - mu) ** 2).mean(axis=0)
        if running is not None:
            for key, stat in (("mean", mu), ("var", var * N / (N - 1))):
                running[key] = (1.0 - momentum) * running[key] + momentum * stat
    else:
        mu, var = running["mean"], running["var"]
    out = gamma * (x - mu) / np.sqrt(var + eps) + beta
    return out, (x, mu, var, gamma, eps, training)
"""

PAPER_BACKWARD = """\
def batchnorm_backward(dout, cache):
    # Ioffe and Szegedy (2015), the chain rule through sigma_B^2 and mu_B
    x, mu, var, gamma, eps, training = cache
    N = x.shape[0]
    std = np.sqrt(var + eps)
    x_hat = (x - mu) / std
    dgamma = np.sum(dout * x_hat, axis=0)
    dbeta = np.sum(dout, axis=0)
    dx_hat = dout * gamma
    if not training:
        return dx_hat / std, dgamma, dbeta
    dvar = np.sum(dx_hat * (x - mu), axis=0) * -0.5 * std**-3
    dmu = np.sum(-dx_hat / std, axis=0) + dvar * np.mean(-2.0 * (x - mu), axis=0)
    dx = dx_hat / std + dvar * 2.0 * (x - mu) / N + dmu / N
    return dx, dgamma, dbeta
"""

# ---------------------------------------------------------------- 6: SimpleNamespace, hypot
# variants: batch norm with a types.SimpleNamespace cache and the backward pass feature by
# feature; clip_grad_norm returning an OrderedDict with the norm from math.hypot; the answers
# computed; scratch cells with inspect.getsource of the reference, gc.collect, %timeit, help and
# variables named like the tests' helpers (_rng, _W, _running, _grads, _clipped).
NAMESPACE_FORWARD = """\
from types import SimpleNamespace


def batchnorm_forward(x, gamma, beta, running, training=True, momentum=0.1, eps=1e-5):
    x = np.array(x, dtype=np.float64)
    if training:
        mean, std = x.mean(axis=0), np.sqrt(x.var(axis=0) + eps)
        if running is not None:
            running["mean"] = running["mean"] * (1 - momentum) + mean * momentum
            running["var"] = running["var"] * (1 - momentum) + x.var(axis=0, ddof=1) * momentum
    else:
        mean, std = running["mean"], np.sqrt(running["var"] + eps)
    x_hat = (x - mean) / std
    saved = SimpleNamespace(x_hat=x_hat, gamma=np.asarray(gamma, dtype=float), std=std,
                            training=training)
    return saved.gamma * x_hat + beta, saved
"""

NAMESPACE_BACKWARD = """\
def batchnorm_backward(dout, cache):
    N, D = dout.shape
    dx, dgamma, dbeta = np.zeros((N, D)), np.zeros(D), np.zeros(D)
    for j in range(D):
        g, xh = dout[:, j], cache.x_hat[:, j]
        dbeta[j] = g.sum()
        dgamma[j] = (g * xh).sum()
        d = cache.gamma[j] * g
        if cache.training:
            d = d - d.mean() - xh * (d * xh).mean()
        dx[:, j] = d / cache.std[j]
    return dx, dgamma, dbeta
"""

ORDERED_HYPOT_CLIP = """\
from collections import OrderedDict


def clip_grad_norm(grads, max_norm):
    total_norm = math.hypot(*(float(v) for g in grads.values() for v in np.ravel(g)))
    c = min(1.0, max_norm / (total_norm + 1e-6))
    return OrderedDict((k, np.asarray(g, dtype=float) * c) for k, g in grads.items()), total_norm
"""

COMPUTED_ANSWERS = {
    "answer_q1": """\
answer_q1 = None
bounds = {"a": 0.089, "b": 0.115, "c": 0.2, "d": 0.1}
answer_q1 = min(bounds, key=lambda k: abs(bounds[k] - math.sqrt(3 * 2 / 150)))
""",
    "answer_q2": """\
# E[g(z)^2] = (1 + 0.25) / 2 E[z^2], so n_in sigma^2 1.25 / 2 = 1
answer_q2 = "a" if abs(math.sqrt(2 / (1.25 * 160)) - 0.1) < 1e-9 else None
""",
    "answer_q3": "answer_q3 = 'd'  # (400 * 0.01 / 2) ** (20 / 2) = 2 ** 10\\n",
    # sqrt(3) times Xavier's standard deviation, an np.float64
    "q_xavier_bound": "answer_xavier_bound = np.sqrt(3) * np.sqrt(2 / (_n_in + _n_out))\n",
}

SCRATCH_INSPECT = [
    (
        "setup",
        "import gc\nimport inspect\nimport course.initializers\nimport course.layers\n"
        "print(inspect.getsource(course.initializers.he_normal))\ngc.collect()",
    ),
    (
        "he_normal",
        "_rng = np.random.default_rng(0)\n_W = he_normal(512, 256, _rng)\nprint(_W.var() * 512)\n"
        "%timeit he_normal(512, 256)\nhelp(he_normal)",
    ),
    (
        "batchnorm_forward",
        "_running = {'mean': np.zeros(4), 'var': np.ones(4)}\n"
        "_out, _cache = batchnorm_forward(_rng.normal(3, 2, (32, 4)), np.ones(4), np.zeros(4), _running)\n"
        "print(_out.mean(0).round(6), _running)\n"
        "print(inspect.getsource(course.layers.batchnorm_forward))",
    ),
    (
        "clip_grad_norm",
        "_grads = {'W1': np.full((3, 3), 10.0), 'b1': np.ones(3)}\n"
        "_clipped, _total = clip_grad_norm(_grads, 1.0)\nprint(type(_clipped).__name__, _total)\n"
        "gc.collect()",
    ),
]

SOLUTIONS = [
    {
        "name": "initializers from other formulas, orthogonal signs by a loop, clipping by a loop, "
        "part 6's bound typed by hand to 4 significant digits for my own id",
        "student": "carol",
        "cells": {
            "q_xavier_bound": f"answer_xavier_bound = {xavier_bound_for('carol'):.4g}\n",
            **INIT_FORMULAS,
            "clip_grad_norm": LOOP_CLIP,
            "answer_q1": "answer_q1 = 'c'",
            "answer_q2": 'answer_q2 = "a"  # 1.6 / n_in',
            "answer_q3": "# 2 ** 10\nanswer_q3 = 'd'",
        },
    },
    {
        "name": "batch norm as the long chain rule with a dict cache, running stats by a delta",
        "cells": {"batchnorm_forward": CHAIN_FORWARD, "batchnorm_backward": CHAIN_BACKWARD},
        "add": SCRATCH[:1] + SCRATCH[4:6],
    },
    {
        "name": "batch norm with one Jacobian per feature, a namedtuple cache and in-place running "
        "stats; the norm over one concatenated vector, returned as np.float64",
        "cells": {
            "batchnorm_forward": JACOBIAN_FORWARD,
            "batchnorm_backward": JACOBIAN_BACKWARD,
            "clip_grad_norm": NORM_CLIP,
        },
    },
    {
        "name": "batch norm with the student's own cache class and helpers; initializers through "
        "helpers; total norm as a 0-d array",
        "cells": {
            "batchnorm_forward": CLASS_FORWARD,
            "batchnorm_backward": CLASS_BACKWARD,
            **HELPER_INITS,
            "clip_grad_norm": ZERO_D_CLIP,
        },
    },
    {
        "name": "the reference answers with scratch cells everywhere: magics, plots, help, x, W, "
        "input, params, rng and ref in the student's namespace",
        "cells": {},
        "add": SCRATCH,
    },
    {
        "name": "all variants at once, with every scratch cell",
        "cells": {
            **INIT_FORMULAS,
            **HELPER_INITS,
            "batchnorm_forward": CLASS_FORWARD,
            "batchnorm_backward": CLASS_BACKWARD,
            "clip_grad_norm": LOOP_CLIP,
        },
        "add": SCRATCH,
    },
    {
        "name": "four initializers through one getattr(rng, kind) helper, orthogonal signs by "
        "np.where, batch norm with raw inputs cached and the paper's chain rule",
        "cells": {
            **DRAW_HELPER,
            "batchnorm_forward": PAPER_FORWARD,
            "batchnorm_backward": PAPER_BACKWARD,
            "q_xavier_bound": "answer_xavier_bound = (6 / (_n_in + _n_out)) ** 0.5\n",
        },
    },
    {
        "name": "batch norm with a SimpleNamespace cache, backward feature by feature; an "
        "OrderedDict and math.hypot from clip_grad_norm; computed answers; inspect.getsource, "
        "gc.collect, %timeit, help, _rng/_W/_running",
        "cells": {
            "batchnorm_forward": NAMESPACE_FORWARD,
            "batchnorm_backward": NAMESPACE_BACKWARD,
            "clip_grad_norm": ORDERED_HYPOT_CLIP,
            **COMPUTED_ANSWERS,
        },
        "add": SCRATCH_INSPECT,
    },
]
