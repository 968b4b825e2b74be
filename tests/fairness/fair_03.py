"""Correct solutions of module 03's exercises that differ from the reference: each gets full marks."""

LOOPS = {
    "name": "explicit loops, boolean masks, np.float64 results (no float(...))",
    "cells": {
        "mse": """def mse(y_true, y_pred):
    t = np.array(y_true, dtype=np.float64)
    y = np.array(y_pred, dtype=np.float64)
    if t.shape != y.shape:
        raise ValueError("shapes differ")
    total = 0.0
    for a, b in zip(t.ravel(), y.ravel()):
        total += (b - a) * (b - a)
    return np.float64(total / t.size)
""",
        "mse_grad": """def mse_grad(y_true, y_pred):
    t = np.array(y_true, dtype=np.float64)
    y = np.array(y_pred, dtype=np.float64)
    if t.shape != y.shape:
        raise ValueError("shapes differ")
    out = np.empty_like(y)
    n = y.size
    for i in np.ndindex(y.shape):
        out[i] = 2 * (y[i] - t[i]) / n
    return out
""",
        "huber": """def huber(y_true, y_pred, delta=1.0):
    t = np.asarray(y_true, dtype=float)
    y = np.asarray(y_pred, dtype=float)
    if t.shape != y.shape:
        raise ValueError("shapes differ")
    r = np.abs(y - t)
    small = r <= delta
    per = np.empty_like(r)
    per[small] = r[small] ** 2 / 2
    per[~small] = delta * r[~small] - delta**2 / 2
    return per.mean()
""",
        "huber_grad": """def huber_grad(y_true, y_pred, delta=1.0):
    t = np.asarray(y_true, dtype=float)
    y = np.asarray(y_pred, dtype=float)
    if t.shape != y.shape:
        raise ValueError("shapes differ")
    r = y - t
    g = np.where(np.abs(r) <= delta, r, delta * np.sign(r))
    return g / r.size
""",
        "binary_cross_entropy": """def binary_cross_entropy(y_true, p):
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.shape != p.shape:
        raise ValueError("shapes differ")
    eps = np.finfo(np.float64).eps
    p = np.minimum(np.maximum(p, eps), 1 - eps)
    total = 0.0
    for yi, pi in zip(y.flat, p.flat):
        total -= yi * math.log(pi) + (1 - yi) * math.log(1 - pi)
    return np.float64(total / p.size)
""",
        "categorical_cross_entropy": """def categorical_cross_entropy(y_true, p):
    p = np.asarray(p, dtype=float)
    if p.ndim != 2:
        raise ValueError("p must be 2-D")
    y = np.asarray(y_true)
    n, k = p.shape
    eps = np.finfo(float).eps
    p = np.clip(p, eps, 1 - eps)
    total = 0.0
    if y.ndim == 1:
        if len(y) != n:
            raise ValueError("wrong number of labels")
        for i in range(n):
            total -= math.log(p[i, int(y[i])])
    else:
        if y.shape != p.shape:
            raise ValueError("one-hot targets must have p's shape")
        for i in range(n):
            for j in range(k):
                if y[i, j] != 0:
                    total -= y[i, j] * math.log(p[i, j])
    return np.float64(total / n)
""",
    },
}

FORMULAS = {
    "name": "other formulas: log1p, take_along_axis, np.logaddexp.reduce, .item() results",
    "cells": {
        "mse": """def mse(y_true, y_pred):
    d = np.subtract(np.asarray(y_pred, float), np.asarray(y_true, float)) if np.shape(y_true) == np.shape(y_pred) else None
    if d is None:
        raise ValueError("y_true and y_pred must have the same shape")
    return (np.dot(d.ravel(), d.ravel()) / d.size).item()
""",
        "mse_grad": """def mse_grad(y_true, y_pred):
    a, b = np.asarray(y_true, float), np.asarray(y_pred, float)
    if a.shape != b.shape:
        raise ValueError("y_true and y_pred must have the same shape")
    return (b - a) * (2 / b.size)
""",
        "huber": """def huber(y_true, y_pred, delta=1.0):
    a, b = np.asarray(y_true, float), np.asarray(y_pred, float)
    if a.shape != b.shape:
        raise ValueError("same shape please")
    r = np.abs(b - a)
    q = np.minimum(r, delta)  # quadratic part, then the linear rest
    return float(np.mean(0.5 * q**2 + delta * (r - q)))
""",
        "huber_grad": """def huber_grad(y_true, y_pred, delta=1.0):
    a, b = np.asarray(y_true, float), np.asarray(y_pred, float)
    if a.shape != b.shape:
        raise ValueError("same shape please")
    return np.maximum(-delta, np.minimum(b - a, delta)) / b.size
""",
        "binary_cross_entropy": """def binary_cross_entropy(y_true, p):
    y, q = np.asarray(y_true, float), np.asarray(p, float)
    if y.shape != q.shape:
        raise ValueError("same shape please")
    tiny = 2.0**-52
    q = np.clip(q, tiny, 1 - tiny)
    return -float(np.mean(y * np.log(q) + (1 - y) * np.log1p(-q)))
""",
        "binary_cross_entropy_grad": """def binary_cross_entropy_grad(y_true, p):
    y, q = np.asarray(y_true, float), np.asarray(p, float)
    if y.shape != q.shape:
        raise ValueError("same shape please")
    tiny = np.nextafter(1.0, 2.0) - 1.0
    q = np.clip(q, tiny, 1 - tiny)
    return (-y / q + (1 - y) / (1 - q)) / q.size
""",
        "categorical_cross_entropy": """def categorical_cross_entropy(y_true, p):
    p = np.asarray(p, float)
    if p.ndim != 2:
        raise ValueError("p must be (N, K)")
    y = np.asarray(y_true)
    if y.ndim == 2 and y.shape == p.shape:
        labels_or_onehot = y.astype(float)
    elif y.ndim == 1 and y.shape[0] == p.shape[0]:
        labels_or_onehot = np.eye(p.shape[1])[y.astype(int)]
    else:
        raise ValueError("targets do not fit p")
    eps = np.finfo(p.dtype).eps
    logp = np.log(np.clip(p, eps, 1 - eps))
    return -float(np.einsum("nk,nk->", labels_or_onehot, logp)) / p.shape[0]
""",
        "softmax_cross_entropy": """def softmax_cross_entropy(y_true, logits):
    z = np.asarray(logits, float)
    if z.ndim != 2:
        raise ValueError("logits must be (N, K)")
    y = np.asarray(y_true)
    n = z.shape[0]
    lse = np.logaddexp.reduce(z, axis=1)  # stable: pairwise logaddexp
    if y.ndim == 1:
        if y.shape[0] != n:
            raise ValueError("wrong number of labels")
        picked = np.take_along_axis(z, y.astype(int)[:, None], axis=1)[:, 0]
        return float(np.mean(lse - picked))
    if y.shape != z.shape:
        raise ValueError("one-hot targets must have the logits' shape")
    return float(np.mean(np.sum(y * (lse[:, None] - z), axis=1)))
""",
        "softmax_cross_entropy_grad": """def softmax_cross_entropy_grad(y_true, logits):
    z = np.asarray(logits, float)
    if z.ndim != 2:
        raise ValueError("logits must be (N, K)")
    n, k = z.shape
    y = np.asarray(y_true)
    if y.ndim == 1:
        if y.shape[0] != n:
            raise ValueError("wrong number of labels")
        y = np.eye(k)[y.astype(int)]
    elif y.shape != z.shape:
        raise ValueError("one-hot targets must have the logits' shape")
    log_p = z - np.logaddexp.reduce(z, axis=1, keepdims=True)
    return (np.exp(log_p) - y) / n
""",
        "q1_regression_outliers": "answer_q1 = 'b'\n",
    },
}

HELPERS = {
    "name": "helpers with any names (check_close, losses, one_hot) shared between cells, scipy",
    "cells": {
        "mse": """def as_pair(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"shapes {a.shape} and {b.shape} differ")
    return a, b


def check_close(a, b):  # a helper named like the tests' own
    return as_pair(a, b)


def mse(y_true, y_pred):
    t, y = check_close(y_true, y_pred)
    return float(((y - t) ** 2).sum() / t.size)
""",
        "mse_grad": """def mse_grad(y_true, y_pred):
    t, y = as_pair(y_true, y_pred)
    return 2 * (y - t) / t.size
""",
        "binary_cross_entropy": """from scipy.special import xlogy


def binary_cross_entropy(y_true, p):
    y, q = as_pair(y_true, p)
    eps = np.finfo(float).eps
    q = q.clip(eps, 1 - eps)
    return float(-(xlogy(y, q) + xlogy(1 - y, 1 - q)).mean())
""",
        "categorical_cross_entropy": """def one_hot(labels_or_targets, n, k):
    y = np.asarray(labels_or_targets)
    if y.ndim == 1:
        if y.shape[0] != n:
            raise ValueError("wrong number of labels")
        losses = np.zeros((n, k))
        losses[np.arange(n), y] = 1
        return losses
    if y.shape != (n, k):
        raise ValueError("one-hot targets of the wrong shape")
    return y.astype(float)


def categorical_cross_entropy(y_true, p):
    p = np.asarray(p, float)
    if p.ndim != 2:
        raise ValueError("p must be 2-D")
    y = one_hot(y_true, *p.shape)
    eps = np.finfo(p.dtype).eps
    return float(-(y * np.log(np.clip(p, eps, 1 - eps))).sum(axis=1).mean())
""",
        "softmax_cross_entropy": """from scipy.special import logsumexp


def softmax_cross_entropy(y_true, logits):
    z = np.asarray(logits, float)
    if z.ndim != 2:
        raise ValueError("logits must be 2-D")
    y = one_hot(y_true, *z.shape)
    return float(np.sum(y * (logsumexp(z, axis=1, keepdims=True) - z)) / z.shape[0])
""",
        "softmax_cross_entropy_grad": """from scipy.special import softmax as scipy_softmax


def softmax_cross_entropy_grad(y_true, logits):
    z = np.asarray(logits, float)
    if z.ndim != 2:
        raise ValueError("logits must be 2-D")
    return (scipy_softmax(z, axis=1) - one_hot(y_true, *z.shape)) / z.shape[0]
""",
    },
    "add": [
        (
            "setup",
            "import course\nfrom course import losses as reference_losses\nlosses = 'my own variable'\n",
        ),
    ],
}

SCRATCH = {
    "name": "scratch cells: magics, plots, help, warnings, variables named input, x, W, params, _out",
    "cells": {},
    "add": [
        (
            "setup",
            "%matplotlib inline\nimport warnings\nimport matplotlib.pyplot as plt\nwarnings.simplefilter('ignore')\n",
        ),
        (
            "mse",
            "x = np.linspace(-3, 3, 7)\ninput = np.zeros(7)\nprint(mse(input, x))\n%timeit mse(input, x)\n",
        ),
        ("test_mse", "_out = 'my scratch'\n_g = None\nhelp(mse)\n"),
        (
            "huber",
            "r = np.linspace(-4, 4, 81)\n"
            "fig, ax = plt.subplots()\n"
            "ax.plot(r, [huber([0.0], [v], 1.5) for v in r], label='huber')\n"
            "ax.plot(r, [mse([0.0], [v]) for v in r], label='mse')\n"
            "ax.legend()\nplt.show()\n",
        ),
        (
            "binary_cross_entropy",
            "W = np.array([[0.0, 1.0]])\nparams = {'W': W, 'b': 0.0}\nprint(binary_cross_entropy([1.0, 0.0], [0.9, 0.2]))\n",
        ),
        (
            "softmax_cross_entropy",
            "z = np.array([[1000.0, 0.0, -1000.0]])\nprint(softmax_cross_entropy(np.array([1]), z))\nnp.random.seed(0)\n",
        ),
        (
            "test_softmax_cross_entropy_grad",
            "import sys\nprint('a line on stderr', file=sys.stderr)\n",
        ),
    ],
}

HOT_AND_TYPES = {
    "name": "one-hot by comparison with arange, float32 kept until the end, Python float via math.fsum",
    "cells": {
        "mse": """def mse(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape:
        raise ValueError("shape mismatch")
    return math.fsum(((y_pred - y_true) ** 2).ravel()) / y_true.size
""",
        "huber": """def huber(y_true, y_pred, delta=1.0):
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape:
        raise ValueError("shape mismatch")
    r = y_pred - y_true
    quad = 0.5 * r * r
    lin = delta * np.abs(r) - 0.5 * delta * delta
    return float(np.mean(np.where(np.abs(r) > delta, lin, quad)))
""",
        "softmax_cross_entropy": """def softmax_cross_entropy(y_true, logits):
    z = np.asarray(logits, dtype=float)
    if z.ndim != 2:
        raise ValueError("logits must be 2-D")
    n, k = z.shape
    y = np.asarray(y_true)
    if y.ndim == 1:
        if y.shape != (n,):
            raise ValueError("one label per row")
        y = (y[:, None] == np.arange(k)).astype(float)
    elif y.shape != (n, k):
        raise ValueError("one-hot targets must match the logits")
    shifted = z - z.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-(y * log_probs).sum() / n)
""",
        "softmax_cross_entropy_grad": """def softmax_cross_entropy_grad(y_true, logits):
    z = np.asarray(logits, dtype=float)
    if z.ndim != 2:
        raise ValueError("logits must be 2-D")
    n, k = z.shape
    y = np.asarray(y_true)
    if y.ndim == 1:
        if y.shape != (n,):
            raise ValueError("one label per row")
        y = (y[:, None] == np.arange(k)).astype(float)
    elif y.shape != (n, k):
        raise ValueError("one-hot targets must match the logits")
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    grad = p - y
    grad /= n
    return grad
""",
        "binary_cross_entropy_grad": """def binary_cross_entropy_grad(y_true, p):
    y_true = np.asarray(y_true, dtype=float)
    p = np.asarray(p, dtype=float)
    if y_true.shape != p.shape:
        raise ValueError("shape mismatch")
    eps = np.finfo(p.dtype).eps
    p = p.clip(eps, 1 - eps)
    grad = np.zeros_like(p)
    ones = y_true == 1
    zeros = y_true == 0
    soft = ~(ones | zeros)
    grad[ones] = -1 / p[ones]
    grad[zeros] = 1 / (1 - p[zeros])
    grad[soft] = (p[soft] - y_true[soft]) / (p[soft] * (1 - p[soft]))
    return grad / p.size
""",
        "q2_multiclass_logits": 'answer_q2 = "c"  # (i) is about 1000, (ii) about 36\n',
    },
}

SOLUTIONS = [LOOPS, FORMULAS, HELPERS, SCRATCH, HOT_AND_TYPES]
