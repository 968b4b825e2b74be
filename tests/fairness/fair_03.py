"""Correct solutions of module 03's exercises that differ from the reference: each gets full marks.

Question 3 (numbers from the graded student's id) is answered by loops over rows, by one-hot
times log-softmax, with my own ``softmax_cross_entropy``, in float32 and typed in by hand to
6 decimals.
"""

import math

import numpy as np

from course.grading import variant_seed


def q3_answer(student: str) -> float:
    """Question 3's answer for ``student``, worked out apart from the notebook, as by hand."""
    rng = np.random.default_rng(variant_seed(student, "03-losses", "q3_cross_entropy"))
    logits = rng.integers(-30, 31, size=(2, 3)) / 10
    labels = rng.integers(0, 3, size=2)
    losses = [
        math.log(sum(math.exp(v) for v in row)) - row[c]
        for row, c in zip(logits, labels, strict=True)
    ]
    return float(sum(losses) / len(losses))


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
        "q3_own_cross_entropy": """answer_q3 = 0.0
for _row, _c in zip(q3_logits, q3_labels):
    answer_q3 += (math.log(sum(math.exp(v) for v in _row)) - _row[_c]) / len(q3_labels)
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
        "q3_own_cross_entropy": """_Y = np.eye(3)[q3_labels]
_log_p = q3_logits - np.logaddexp.reduce(q3_logits, axis=1, keepdims=True)
answer_q3 = (-(_Y * _log_p).sum(axis=1).mean()).item()
""",
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
        "q3_own_cross_entropy": "answer_q3 = softmax_cross_entropy(q3_labels, q3_logits)  # mine\n",
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
        "q3_own_cross_entropy": """_p = np.exp(q3_logits) / np.exp(q3_logits).sum(axis=1, keepdims=True)
answer_q3 = np.float32(-np.log(_p[np.arange(2), q3_labels]).mean())  # float32
""",
    },
}

# variants: mse as the residual's variance plus its squared mean; mse_grad by np.subtract with a
# dtype and the shape checked before converting; huber by np.vectorize over the residuals;
# huber_grad by np.copysign; binary_cross_entropy_grad with p - p * p; the categorical losses
# sharing one target helper named like a test helper (_one_hot), categorical_cross_entropy by a
# loop of row dot products, softmax_cross_entropy by math.fsum per row, softmax_cross_entropy_grad
# by exp(z - LSE).
ROWS_AND_IDENTITIES = {
    "name": "mse as variance plus squared mean, vectorized huber, copysign, p - p*p, a shared "
    "_one_hot helper, row loops with math.fsum log-sum-exp, exp(z - LSE)",
    "cells": {
        "mse": """def mse(y_true, y_pred):
    if np.shape(y_true) != np.shape(y_pred):
        raise ValueError("y_true and y_pred must have the same shape")
    r = np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)
    # mean(r ** 2) = var(r) + mean(r) ** 2
    return float(np.var(r) + np.mean(r) ** 2)
""",
        "mse_grad": """def mse_grad(y_true, y_pred):
    if np.shape(y_true) != np.shape(y_pred):
        raise ValueError("y_true and y_pred must have the same shape")
    r = np.subtract(y_pred, y_true, dtype=np.float64)
    return 2.0 * r / np.size(r)
""",
        "huber": """def huber(y_true, y_pred, delta=1.0):
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape:
        raise ValueError("shapes differ")

    def one(r):
        return 0.5 * r * r if abs(r) <= delta else delta * (abs(r) - 0.5 * delta)

    return float(np.mean(np.vectorize(one, otypes=[float])(y_pred - y_true)))
""",
        "huber_grad": """def huber_grad(y_true, y_pred, delta=1.0):
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape:
        raise ValueError("shapes differ")
    r = y_pred - y_true
    return np.copysign(np.minimum(np.abs(r), delta), r) / r.size
""",
        "binary_cross_entropy_grad": """def binary_cross_entropy_grad(y_true, p):
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.shape != p.shape:
        raise ValueError("shapes differ")
    eps = np.finfo(p.dtype).eps
    p = np.clip(p, eps, 1 - eps)
    return (p - y) / (p - p * p) / p.size
""",
        "categorical_cross_entropy": """def _one_hot(y_true, n, k):
    # named like a helper of the tests: my own, for the three categorical losses
    y = np.asarray(y_true)
    if y.shape not in ((n,), (n, k)):
        raise ValueError(f"targets of shape {y.shape} do not fit scores of shape {(n, k)}")
    if y.ndim == 2:
        return y.astype(float)
    out = np.zeros((n, k))
    np.put_along_axis(out, y.astype(int)[:, None], 1.0, axis=1)
    return out


def categorical_cross_entropy(y_true, p):
    p = np.asarray(p, dtype=float)
    if p.ndim != 2:
        raise ValueError("p must be 2-D")
    n, k = p.shape
    y = _one_hot(y_true, n, k)
    eps = np.finfo(p.dtype).eps
    log_p = np.log(np.clip(p, eps, 1 - eps))
    total = 0.0
    for i in range(n):
        total -= float(np.dot(y[i], log_p[i]))
    return total / n
""",
        "softmax_cross_entropy": """def softmax_cross_entropy(y_true, logits):
    z = np.asarray(logits, dtype=float)
    if z.ndim != 2:
        raise ValueError("logits must be 2-D")
    n, k = z.shape
    y = _one_hot(y_true, n, k)
    total = 0.0
    for i in range(n):
        m = max(z[i])
        lse = m + math.log(math.fsum(math.exp(v - m) for v in z[i]))
        total += float(np.dot(y[i], lse - z[i]))
    return total / n
""",
        "softmax_cross_entropy_grad": """def softmax_cross_entropy_grad(y_true, logits):
    z = np.asarray(logits, dtype=float)
    if z.ndim != 2:
        raise ValueError("logits must be 2-D")
    n, k = z.shape
    m = z.max(axis=1, keepdims=True)
    lse = m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    return (np.exp(z - lse) - _one_hot(y_true, n, k)) / n
""",
        "q3_own_cross_entropy": f"answer_q3 = {q3_answer('student'):.6f}  # by hand, 6 decimals\n",
    },
}

# variants: mse by np.linalg.norm; binary_cross_entropy as two means; categorical_cross_entropy
# indexing p[arange(N), labels] without a one-hot; huber_grad as the derivative of a smooth
# clip; scratch cells with inspect.getsource of the reference, gc.collect, %timeit, help and
# variables named like the tests' helpers (random_probs, _expected, _one_hot, _g, _z).
NORMS_AND_SCRATCH = {
    "name": "mse by a norm, BCE as two means, labels indexed without one-hot, a where-free "
    "huber_grad; inspect.getsource, gc.collect, %timeit, help, random_probs/_expected",
    "cells": {
        "mse": """def mse(y_true, y_pred):
    a = np.asarray(y_true, dtype=float)
    b = np.asarray(y_pred, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"shapes {a.shape} and {b.shape} differ")
    return float(np.linalg.norm((b - a).ravel()) ** 2 / a.size)
""",
        "huber_grad": """def huber_grad(y_true, y_pred, delta=1.0):
    a = np.asarray(y_true, dtype=float)
    b = np.asarray(y_pred, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"shapes {a.shape} and {b.shape} differ")
    r = b - a
    inside = np.abs(r) <= delta
    return (inside * r + (~inside) * delta * np.sign(r)) / r.size
""",
        "binary_cross_entropy": """def binary_cross_entropy(y_true, p):
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.shape != p.shape:
        raise ValueError(f"shapes {y.shape} and {p.shape} differ")
    eps = np.finfo(p.dtype).eps
    p = np.clip(p, eps, 1.0 - eps)
    return float(-np.mean(y * np.log(p)) - np.mean((1.0 - y) * np.log(1.0 - p)))
""",
        "categorical_cross_entropy": """def categorical_cross_entropy(y_true, p):
    p = np.asarray(p, dtype=float)
    if p.ndim != 2:
        raise ValueError("p must be (N, K)")
    n, k = p.shape
    eps = np.finfo(p.dtype).eps
    p = np.clip(p, eps, 1.0 - eps)
    y = np.asarray(y_true)
    if y.ndim == 1:
        if len(y) != n:
            raise ValueError("need N labels")
        return float(-np.mean(np.log(p[np.arange(n), y.astype(int)])))
    if y.shape != p.shape:
        raise ValueError("one-hot targets must have p's shape")
    return float(-np.sum(y * np.log(p)) / n)
""",
    },
    "add": [
        (
            "setup",
            "import gc\nimport inspect\nfrom course import losses\n"
            "print(inspect.getsource(losses.mse))\ngc.collect()\n",
        ),
        (
            "mse",
            "_expected = losses.mse([1.0, 2.0], [2.0, 4.0])\nprint(mse([1.0, 2.0], [2.0, 4.0]), _expected)\n"
            "%timeit mse(np.zeros(1000), np.ones(1000))\nhelp(mse)\n",
        ),
        (
            "categorical_cross_entropy",
            "def random_probs(n, k):  # a name the tests use too\n"
            "    e = np.exp(np.random.default_rng(0).normal(size=(n, k)))\n"
            "    return e / e.sum(axis=1, keepdims=True)\n"
            "\n"
            "\n"
            "_one_hot = losses.one_hot(np.array([0, 2]), 3)\n"
            "print(categorical_cross_entropy(_one_hot, random_probs(2, 3)))\n"
            "print(inspect.getsource(losses.categorical_cross_entropy))\n",
        ),
        ("softmax_cross_entropy_grad", "_g, _z = None, np.zeros((2, 3))\ngc.collect()\n"),
    ],
}

SOLUTIONS = [
    LOOPS,
    FORMULAS,
    HELPERS,
    SCRATCH,
    HOT_AND_TYPES,
    ROWS_AND_IDENTITIES,
    NORMS_AND_SCRATCH,
]
