"""Correct solutions of module 04's exercises that differ from the reference: full marks."""

import math

import numpy as np

from course.grading import variant_seed


def gradient_for(student: str) -> float:
    """Section 8's answer for ``student``: the draw of the notebook's ``q_gradient_inputs``."""
    rng = np.random.default_rng(variant_seed(student, "04-backprop", "q_gradient"))
    w12, w23 = (rng.choice([-1, 1], size=2) * rng.integers(3, 16, size=2) / 10).tolist()
    b2, b3 = (rng.integers(-5, 6, size=2) / 10).tolist()
    x = float(rng.choice([-2.0, -1.5, -0.5, 0.5, 1.5, 2.0]))
    t = float(rng.integers(0, 2))
    o2 = 1 / (1 + math.exp(-(w12 * x + b2)))
    o3 = 1 / (1 + math.exp(-(w23 * o2 + b3)))
    return (o3 - t) * o3 * (1 - o3) * w23 * o2 * (1 - o2) * x


DENSE_LOOPS = """
def dense_backward(dout, cache):
    x, W, b = cache
    n, d_in = x.shape
    d_out = W.shape[1]
    dx = np.zeros((n, d_in))
    dW = np.zeros((d_in, d_out))
    db = np.zeros(d_out)
    for s in range(n):
        for j in range(d_out):
            db[j] += dout[s, j]
            for i in range(d_in):
                dx[s, i] += dout[s, j] * W[i, j]
                dW[i, j] += x[s, i] * dout[s, j]
    return [dx, dW, db]
"""

DENSE_EINSUM = """
def _outer_sum(a, g):
    return np.einsum("ni,nj->ij", a, g)


def dense_backward(dout, cache):
    x, W, b = cache
    dout = np.asarray(dout, dtype=np.float64)
    db = np.sum(dout, axis=0, keepdims=True)[0]
    return np.dot(dout, np.transpose(W)), _outer_sum(x, dout), db
"""

ACTIVATION_DICT = """
def _sig_prime(z):
    s = sigmoid(z)
    return s - s * s


LOCAL = {
    "identity": lambda z: np.ones(np.shape(z)),
    "sigmoid": _sig_prime,
    "tanh": lambda z: 1 - np.square(tanh(z)),
    "relu": lambda z: np.where(z > 0, 1.0, 0.0),
}


def activation_backward(da, cache):
    z, name = cache
    return np.multiply(da, LOCAL[name](np.asarray(z, dtype=np.float64)))
"""

ACTIVATION_MATH_LOOP = """
def activation_backward(da, cache):
    z, name = cache
    z = np.array(z, dtype=float)
    flat = z.reshape(-1)
    out = np.empty_like(flat)
    for k, v in enumerate(flat):
        if name == "identity":
            out[k] = 1.0
        elif name == "relu":
            out[k] = 1.0 if v > 0 else 0.0
        elif name == "tanh":
            t = math.tanh(v)
            out[k] = 1.0 - t * t
        else:
            # stable: exp of a non-positive number only
            e = math.exp(-abs(v))
            out[k] = e / (1.0 + e) ** 2
    return da * out.reshape(z.shape)
"""

MLP_INLINE = """
def mlp_backward(dout, caches):
    grads = {}
    delta_a = dout
    L = len(caches)
    for idx in reversed(range(L)):
        (x, W, b), (z, name) = caches[idx]
        if name == "sigmoid":
            s = sigmoid(z)
            delta = delta_a * s * (1 - s)
        elif name == "tanh":
            delta = delta_a * (1 - tanh(z) ** 2)
        elif name == "relu":
            delta = delta_a * (z > 0)
        else:
            delta = delta_a
        grads["W" + str(idx + 1)] = x.T @ delta
        grads["b" + str(idx + 1)] = delta.sum(0)
        delta_a = delta @ W.T
    return grads
"""

MLP_OWN_PIECES = """
def mlp_backward(dout, caches):
    upstream = dout
    pairs = []
    for layer, (dense_cache, act_cache) in reversed(list(enumerate(caches, start=1))):
        dz = activation_backward(upstream, act_cache)
        upstream, dW, db = dense_backward(dz, dense_cache)
        pairs.append((f"b{layer}", db))
        pairs.append((f"W{layer}", dW))
    return dict(reversed(pairs))
"""

NUMGRAD_NDITER = """
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        idx = it.multi_index
        keep = float(x[idx])
        x[idx] = keep + h
        fp = f(x)
        x[idx] = keep - h
        fm = f(x)
        x[idx] = keep
        grad[idx] = (fp - fm) / (2.0 * h)
        it.iternext()
    return grad
"""

NUMGRAD_FLAT = """
def numerical_gradient(f, x, h=1e-5):
    g = np.empty(x.size)
    for k in range(x.size):
        v = x.flat[k]
        x.flat[k] = v + h
        up = f(x)
        x.flat[k] = v - h
        down = f(x)
        x.flat[k] = v
        g[k] = (up - down) / (2 * h)
    return g.reshape(x.shape)
"""

NUMGRAD_COPY_EACH_TIME = """
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for i in range(x.size):
        idx = np.unravel_index(i, x.shape)
        saved = x.copy()
        x[idx] += h
        f_plus = f(x)
        x[...] = saved
        x[idx] -= h
        f_minus = f(x)
        x[...] = saved
        grad[idx] = (f_plus - f_minus) / h / 2
    return grad
"""

SGD_LOOP_COPY = """
def sgd_step(params, grads, lr):
    new = {}
    for name in params:
        p = params[name].copy()
        p -= lr * grads[name]
        new[name] = p
    return new
"""

SGD_SUBTRACT = """
def sgd_step(params, grads, lr):
    return dict((k, np.subtract(v, np.multiply(lr, grads[k]))) for k, v in params.items())
"""

WORKED_TRANSPOSED_BUILD = """
def worked_example_update(lr=0.9):
    # one row per hidden unit first, then transposed to our (3, 2) layout
    to_hidden = np.array([[0.2, 0.4, -0.5], [-0.3, 0.1, 0.2]])
    params = {
        "W1": to_hidden.T.copy(),
        "b1": np.array([-0.4, 0.2]),
        "W2": np.array([-0.3, -0.2]).reshape(2, 1),
        "b2": np.array([0.1]),
    }
    x = np.array([[1.0, 0.0, 1.0]])
    z1, c1 = dense_forward(x, params["W1"], params["b1"])
    h, a1 = activation_forward(z1, "sigmoid")
    z2, c2 = dense_forward(h, params["W2"], params["b2"])
    o, a2 = activation_forward(z2, "sigmoid")
    grads = mlp_backward(o - 1.0, [(c1, a1), (c2, a2)])
    return sgd_step(params, grads, lr)
"""

WORKED_HELPER = """
def build_params():
    weights = {"w14": 0.2, "w24": 0.4, "w34": -0.5, "w15": -0.3, "w25": 0.1, "w35": 0.2}
    W1 = np.zeros((3, 2))
    for i in range(3):
        for col, unit in enumerate((4, 5)):
            W1[i, col] = weights[f"w{i + 1}{unit}"]
    W2 = np.array([[-0.3], [-0.2]])
    return {"W1": W1, "b1": np.array([-0.4, 0.2]), "W2": W2, "b2": np.array([0.1])}


def worked_example_update(lr=0.9):
    params = build_params()
    a = np.array([[1.0, 0.0, 1.0]])
    caches = []
    for layer in range(1, 3):
        out, dense_cache = dense_forward(a, params["W%d" % layer], params["b%d" % layer])
        a, act_cache = activation_forward(out, "sigmoid")
        caches.append((dense_cache, act_cache))
    target = np.array([[1.0]])
    return sgd_step(params, mlp_backward(-(target - a), caches), lr)
"""


# -- two more entries (issue 21) --------------------------------------------------------------
# variants: dense_backward by tensordot and a ones vector; activation_backward dispatching with
# getattr on a class of the student's own; mlp_backward accumulating into a defaultdict(float);
# numerical_gradient restoring from one saved copy; sgd_step returning an OrderedDict;
# worked_example_update filling the weights from a table keyed by (unit from, unit to).
DENSE_TENSORDOT = """
def dense_backward(dout, cache):
    x, W, b = cache
    dx = (W @ dout.T).T
    dW = np.tensordot(x, dout, axes=(0, 0))
    db = np.ones(dout.shape[0]) @ dout
    return dx, dW, db
"""

ACTIVATION_GETATTR = """
class Local:
    # the local derivative g'(z) of each activation, looked up by name

    @staticmethod
    def identity(z):
        return np.ones(z.shape)

    @staticmethod
    def sigmoid(z):
        s = sigmoid(z)  # the stable one from the setup cell
        return s * (1 - s)

    @staticmethod
    def tanh(z):
        return 1 - tanh(z) ** 2

    @staticmethod
    def relu(z):
        return np.where(z > 0, 1.0, 0.0)


def activation_backward(da, cache):
    z, name = cache
    return da * getattr(Local, name)(np.asarray(z, dtype=float))
"""

MLP_DEFAULTDICT = """
from collections import defaultdict


def mlp_backward(dout, caches):
    grads = defaultdict(float)
    upstream = dout
    for l in reversed(range(1, len(caches) + 1)):
        dense_cache, act_cache = caches[l - 1]
        dz = activation_backward(upstream, act_cache)
        upstream, dW, db = dense_backward(dz, dense_cache)
        grads["W%d" % l] += dW
        grads["b%d" % l] += db
    return grads
"""

NUMGRAD_SAVED_COPY = """
def numerical_gradient(f, x, h=1e-5):
    saved = x.copy()
    grad = np.empty(x.shape)
    for idx in np.ndindex(*x.shape):
        x[idx] = saved[idx] + h
        up = f(x)
        x[idx] = saved[idx] - h
        down = f(x)
        x[idx] = saved[idx]
        grad[idx] = (up - down) / (2.0 * h)
    return grad
"""

SGD_ORDERED = """
from collections import OrderedDict


def sgd_step(params, grads, lr):
    return OrderedDict((key, params[key] - lr * grads[key]) for key in params)
"""

WORKED_TABLE = """
def worked_example_update(lr=0.9):
    w = {(1, 4): 0.2, (2, 4): 0.4, (3, 4): -0.5, (1, 5): -0.3, (2, 5): 0.1, (3, 5): 0.2,
         (4, 6): -0.3, (5, 6): -0.2}
    bias = {4: -0.4, 5: 0.2, 6: 0.1}
    W1 = np.array([[w[(i, j)] for j in (4, 5)] for i in (1, 2, 3)])
    W2 = np.array([[w[(4, 6)]], [w[(5, 6)]]])
    params = {"W1": W1, "b1": np.array([bias[4], bias[5]]), "W2": W2, "b2": np.array([bias[6]])}
    h, cache1 = dense_forward(np.array([[1.0, 0.0, 1.0]]), W1, params["b1"])
    h, act1 = activation_forward(h, "sigmoid")
    o, cache2 = dense_forward(h, W2, params["b2"])
    o, act2 = activation_forward(o, "sigmoid")
    grads = mlp_backward(o - 1.0, [(cache1, act1), (cache2, act2)])
    return sgd_step(params, grads, lr)
"""

# variants: dense_backward by a sum of per-sample outer products; activation_backward with a
# match statement; mlp_backward by recursion on the list of caches; sgd_step by map over the
# items; the three answers computed; scratch cells with inspect.getsource of the reference,
# gc.collect, %timeit, help and variables named like the tests' helpers (_grads, quiet, _rng).
DENSE_OUTER = """
def dense_backward(dout, cache):
    x, W, b = cache
    dW = np.zeros(W.shape)
    for n in range(x.shape[0]):
        dW += np.outer(x[n], dout[n])
    return dout @ W.T, dW, dout.sum(axis=0)
"""

ACTIVATION_MATCH = """
def activation_backward(da, cache):
    z, name = cache
    z = np.asarray(z, dtype=np.float64)
    match name:
        case "identity":
            return np.array(da, dtype=float)
        case "sigmoid":
            s = sigmoid(z)
            return da * s * (1.0 - s)
        case "tanh":
            t = tanh(z)
            return da * (1.0 - t) * (1.0 + t)
        case "relu":
            return np.where(z > 0, da, 0.0)
    raise ValueError(f"no derivative for {name!r}")
"""

MLP_RECURSIVE = """
def mlp_backward(dout, caches):
    if len(caches) == 0:
        return {}
    L = len(caches)
    dense_cache, act_cache = caches[L - 1]
    da_prev, dW, db = dense_backward(activation_backward(dout, act_cache), dense_cache)
    grads = mlp_backward(da_prev, caches[: L - 1])
    grads["W" + str(L)] = dW
    grads["b" + str(L)] = db
    return grads
"""

SGD_MAP = """
def sgd_step(params, grads, lr):
    return dict(map(lambda item: (item[0], item[1] - lr * grads[item[0]]), params.items()))
"""

COMPUTED_ANSWERS = {
    "answer_gd_type": """N, epochs, batch = 1200, 3, 40
counts = (N * epochs, N // batch * epochs, epochs)
answer_gd_type = {(3600, 90, 3): "a", (1200, 30, 1): "b", (3, 90, 3600): "c"}[counts]
""",
    "answer_err_sign": "answer_err_sign = 'b'\n",
    "answer_lr": """# w <- w - eta * 4 w = (1 - 4 eta) w diverges when |1 - 4 eta| > 1
answer_lr = next(k for k, eta in {"a": 0.1, "b": 0.4, "c": 0.6}.items() if abs(1 - 4 * eta) > 1)
""",
    # the course's sigmoid on the printed numbers: an np.float64
    "q_gradient": """o2 = sigmoid(_w12 * _x + _b2)
o3 = sigmoid(_w23 * o2 + _b3)
answer_gradient = (o3 - _t) * o3 * (1 - o3) * _w23 * o2 * (1 - o2) * _x
""",
}

SCRATCH_INSPECT = [
    (
        "setup",
        "import gc\nimport inspect\nimport course.layers\n"
        "print(inspect.getsource(course.layers.dense_backward))\ngc.collect()\n",
    ),
    (
        "dense_backward",
        "_rng = np.random.default_rng(0)\n_x, _W = _rng.normal(size=(64, 10)), _rng.normal(size=(10, 3))\n"
        "%timeit dense_backward(np.ones((64, 3)), (_x, _W, np.zeros(3)))\nhelp(dense_backward)\n",
    ),
    (
        "mlp_backward",
        "from course.network import init_params, mlp_forward\n"
        "def quiet(*args):  # a name the tests use too\n"
        "    return mlp_backward(*args)\n"
        "\n"
        "\n"
        "_params = init_params([3, 4, 2], 'he_normal', _rng)\n"
        "_out, _caches = mlp_forward(_x[:5, :3], _params, 'relu', 'identity')\n"
        "_grads = quiet(np.ones_like(_out), _caches)\n"
        "print({k: v.shape for k, v in _grads.items()})\n"
        "print(inspect.getsource(course.layers.activation_backward))\ngc.collect()\n",
    ),
]


def answers(q1="a", q2="b", q3="c"):
    return {
        "answer_gd_type": f'answer_gd_type = "{q1}"\n',
        "answer_err_sign": f"answer_err_sign = '{q2}'  # the factor 1/2 halves the step\n",
        "answer_lr": f'answer_lr = "{q3}".strip()\n',
    }


SOLUTIONS = [
    {
        "name": "loops everywhere, list return, stable math-module sigmoid', nditer gradient, "
        "the gradient of section 8 typed by hand to 4 significant digits for my own id",
        "student": "carol",
        "cells": {
            "q_gradient": f"answer_gradient = {gradient_for('carol'):.4g}\n",
            "dense_backward": DENSE_LOOPS,
            "activation_backward": ACTIVATION_MATH_LOOP,
            "mlp_backward": MLP_INLINE,
            "numerical_gradient": NUMGRAD_NDITER,
            "sgd_step": SGD_LOOP_COPY,
            "worked_example_update": WORKED_TRANSPOSED_BUILD,
            **answers(),
        },
        "add": [
            ("setup", "%matplotlib inline\nimport warnings\nimport matplotlib.pyplot as plt"),
            ("dense_backward", "help(dense_backward)\nx = np.ones((2, 3))\nW = np.ones((3, 2))"),
        ],
    },
    {
        "name": "einsum and a helper, dict of derivatives, flat-index gradient, np.subtract",
        "cells": {
            "dense_backward": DENSE_EINSUM,
            "activation_backward": ACTIVATION_DICT,
            "mlp_backward": MLP_OWN_PIECES,
            "numerical_gradient": NUMGRAD_FLAT,
            "sgd_step": SGD_SUBTRACT,
            "worked_example_update": WORKED_HELPER,
            **answers(),
        },
        "add": [
            (
                "activation_backward",
                "z = np.zeros((50, 50))\n"
                "%timeit -n 3 -r 1 activation_backward(np.ones_like(z), (z, 'tanh'))\n"
                "input = np.linspace(-5, 5, 101)\n"
                "import matplotlib.pyplot as plt\n"
                "fig, ax = plt.subplots()\n"
                "for name in ('sigmoid', 'tanh', 'relu'):\n"
                "    dz = activation_backward(np.ones_like(input), (input, name))\n"
                "    ax.plot(input, dz, label=name)\n"
                "ax.legend()\n",
            ),
        ],
    },
    {
        "name": "copying x each time in numerical_gradient, scratch params and W of its own, "
        "section 8's gradient by my own numerical_gradient (an element of an array)",
        "cells": {
            "numerical_gradient": NUMGRAD_COPY_EACH_TIME,
            "sgd_step": SGD_LOOP_COPY,
            "q_gradient": """def loss_of_w12(v):
    o2 = 1 / (1 + np.exp(-(v[0] * _x + _b2)))
    o3 = 1 / (1 + np.exp(-(_w23 * o2 + _b3)))
    return 0.5 * (_t - o3) ** 2


answer_gradient = numerical_gradient(loss_of_w12, np.array([_w12]))[0]
""",
        },
        "add": [
            (
                "numerical_gradient",
                "import warnings\n"
                "from course.network import init_params, mlp_forward\n"
                "params = init_params([3, 4, 2], 'xavier_normal', np.random.default_rng(0))\n"
                "X = np.random.default_rng(1).normal(size=(5, 3))\n"
                "W = params['W1']\n"
                "out, caches = mlp_forward(X, params, 'tanh', 'sigmoid')\n"
                "grads = mlp_backward(np.ones_like(out), caches)\n"
                "loss = lambda _: float(mlp_forward(X, params, 'tanh', 'sigmoid')[0].sum())\n"
                "num = numerical_gradient(loss, W)\n"
                "print(np.max(np.abs(num - grads['W1'])))\n",
            ),
            (
                "sgd_step",
                "params = sgd_step(params, grads, 0.1)\nx = 3\nprint(params.keys(), x)",
            ),
        ],
    },
    {
        "name": "dict of derivatives, nditer gradient, np.subtract; a plot of w46 against the rate",
        "cells": {
            "activation_backward": ACTIVATION_DICT,
            "numerical_gradient": NUMGRAD_NDITER,
            "sgd_step": SGD_SUBTRACT,
        },
        "add": [
            (
                "worked_example_update",
                "%matplotlib inline\n"
                "import matplotlib.pyplot as plt\n"
                "lrs = np.linspace(0, 3, 7)\n"
                "w46 = [worked_example_update(lr)['W2'][0, 0] for lr in lrs]\n"
                "plt.plot(lrs, w46, 'o-')\n"
                "plt.xlabel('learning rate')\n",
            ),
        ],
    },
    {
        "name": "mlp_backward on own pieces, helper-built worked example, answers with spaces",
        "cells": {
            "dense_backward": DENSE_LOOPS,
            "mlp_backward": MLP_OWN_PIECES,
            "worked_example_update": WORKED_HELPER,
            "answer_gd_type": 'answer_gd_type = "a"  # 1200 * 3, 30 * 3, 1 * 3\n',
        },
    },
    {
        "name": "tensordot, getattr on a class of my own, a defaultdict(float) of gradients, one "
        "saved copy restores x, an OrderedDict from sgd_step, the slides' table by (from, to)",
        "cells": {
            "dense_backward": DENSE_TENSORDOT,
            "activation_backward": ACTIVATION_GETATTR,
            "mlp_backward": MLP_DEFAULTDICT,
            "numerical_gradient": NUMGRAD_SAVED_COPY,
            "sgd_step": SGD_ORDERED,
            "worked_example_update": WORKED_TABLE,
            **answers(),
        },
    },
    {
        "name": "outer products per sample, a match statement, recursive mlp_backward, map over "
        "items, computed answers; inspect.getsource, gc.collect, %timeit, help, _grads/quiet",
        "cells": {
            "dense_backward": DENSE_OUTER,
            "activation_backward": ACTIVATION_MATCH,
            "mlp_backward": MLP_RECURSIVE,
            "sgd_step": SGD_MAP,
            **COMPUTED_ANSWERS,
        },
        "add": SCRATCH_INSPECT,
    },
]
