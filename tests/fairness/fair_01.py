"""Correct solutions of module 01's exercises that differ from the reference; each gets full marks.

They are written the way students write them: other formulas (logaddexp, the tanh identity,
heaviside), loops over rows and indices, other return types the docstrings allow (Python
floats and NumPy scalars for 0-d input, 0-d arrays, integer arrays from integer input),
helpers with any names, and scratch cells with magics, plots, imports, ``help`` and variables
named like the tests' own (``x``, ``W``, ``params``, ``input``, ``z``, ``out``, ``ref``).

Question 4 (numbers from the graded student's id) is answered with my own ``neuron_forward``,
typed in by hand to 6 decimals, in plain ``math``, and as a 0-d array.
"""

import math

import numpy as np

from course.grading import variant_seed


def q4_answer(student: str) -> float:
    """Question 4's answer for ``student``, worked out apart from the notebook, as by hand."""
    rng = np.random.default_rng(variant_seed(student, "01-neuron", "q_neuron_output"))
    x = rng.choice([-2, -1, 1, 2], size=3)
    w = rng.integers(-9, 10, size=3) / 10
    b = float(rng.choice([-1.0, -0.8, -0.6, -0.4, -0.2, 0.2, 0.4, 0.6, 0.8, 1.0]))
    activation = str(rng.choice(["sigmoid", "tanh"]))
    z = math.fsum(float(x_i) * float(w_i) for x_i, w_i in zip(x, w, strict=True)) + b
    return math.tanh(z) if activation == "tanh" else 1 / (1 + math.exp(-z))


_ANSWERS = {
    "q_xor": 'answer_q1 = "c"\n',
    "q_linear": 'answer_q2 = "a"\n',
    "q_activation": 'answer_q3 = "d"\n',
}

# -- 1. other formulas: logaddexp, the tanh identity, heaviside, einsum, index loops ----------
_FORMULAS = {
    "sigmoid": (
        "def sigmoid(z):\n"
        "    # sigma(z) = exp(-log(1 + exp(-z))), and logaddexp never overflows\n"
        "    return np.exp(-np.logaddexp(0, -np.asarray(z)))\n"
    ),
    "sigmoid_grad": (
        "def sigmoid_grad(z):\n"
        "    e = np.exp(-np.abs(np.asarray(z, dtype=float)))\n"
        "    return e / (1 + e) ** 2\n"
    ),
    "tanh": ("def tanh(z):\n    return 2 * sigmoid(2 * np.asarray(z)) - 1\n"),
    "tanh_grad": (
        "def tanh_grad(z):\n"
        "    # tanh(z) = 2 sigma(2z) - 1, so tanh'(z) = 4 sigma'(2z)\n"
        "    return 4 * sigmoid_grad(2 * np.asarray(z))\n"
    ),
    "relu": ("def relu(z):\n    z = np.asarray(z)\n    return z * (z > 0)\n"),
    "relu_grad": ("def relu_grad(z):\n    return np.heaviside(z, 0.0)\n"),
    "leaky_relu": (
        "def leaky_relu(z, alpha=0.01):\n    return np.maximum(z, 0) + alpha * np.minimum(z, 0)\n"
    ),
    "leaky_relu_grad": (
        "def leaky_relu_grad(z, alpha=0.01):\n"
        "    z = np.asarray(z)\n"
        "    return (z > 0) + alpha * (z <= 0)\n"
    ),
    "softmax": (
        "def softmax(z, axis=-1):\n"
        "    moved = np.moveaxis(np.asarray(z, dtype=float), axis, -1)\n"
        "    rows = moved.reshape(-1, moved.shape[-1])\n"
        "    result = np.empty_like(rows)\n"
        "    for i in range(rows.shape[0]):\n"
        "        e = np.exp(rows[i] - rows[i].max())\n"
        "        result[i] = e / e.sum()\n"
        "    return np.moveaxis(result.reshape(moved.shape), -1, axis)\n"
    ),
    "softmax_jacobian": (
        "def softmax_jacobian(z):\n"
        "    s = softmax(z)\n"
        "    eye = np.eye(s.shape[-1])\n"
        "    return np.einsum('...i,ij->...ij', s, eye) - np.einsum('...i,...j->...ij', s, s)\n"
    ),
    "neuron_forward": (
        "def neuron_forward(x, w, b, activation='sigmoid'):\n"
        "    g = ACTIVATIONS[activation][0]\n"
        "    return g(np.sum(np.asarray(x) * np.asarray(w), axis=-1) + b)\n"
    ),
    "perceptron_predict": (
        "def perceptron_predict(X, w, b):\n    return np.where(np.dot(X, w) + b >= 0, 1, 0)\n"
    ),
    "perceptron_fit": (
        "def perceptron_fit(X, y, lr=1.0, n_epochs=10):\n"
        "    N, D = np.shape(X)\n"
        "    w = np.zeros(D)\n"
        "    b = 0.0\n"
        "    for epoch in range(n_epochs):\n"
        "        for i in range(N):\n"
        "            s = b\n"
        "            for j in range(D):\n"
        "                s += w[j] * X[i][j]\n"
        "            y_hat = 1 if s >= 0 else 0\n"
        "            for j in range(D):\n"
        "                w[j] += lr * (y[i] - y_hat) * X[i][j]\n"
        "            b += lr * (y[i] - y_hat)\n"
        "    return w, b\n"
    ),
    **_ANSWERS,
    "q_neuron_output": "answer_q4 = neuron_forward(q4_x, q4_w, q4_b, q4_activation)  # mine\n",
}

# -- 2. other return types: Python floats for 0-d input, np.vectorize, 0-d array b, lists -----
_TYPES = {
    "sigmoid": (
        "def _sig1(t):\n"
        "    if t >= 0:\n"
        "        return 1.0 / (1.0 + math.exp(-t))\n"
        "    return math.exp(t) / (1.0 + math.exp(t))\n"
        "\n"
        "\n"
        "def sigmoid(z):\n"
        "    if np.ndim(z) == 0:\n"
        "        return _sig1(float(z))  # a Python float for a 0-d input\n"
        "    return np.vectorize(_sig1, otypes=[float])(z)\n"
    ),
    "sigmoid_grad": (
        "def sigmoid_grad(z):\n    s = np.asarray(sigmoid(z))\n    return s - s * s\n"
    ),
    "tanh": (
        "def tanh(z):\n"
        "    z = np.asarray(z, dtype=np.float64)\n"
        "    e = np.exp(-2.0 * np.abs(z))  # exponent <= 0\n"
        "    return np.sign(z) * (1.0 - e) / (1.0 + e)\n"
    ),
    "tanh_grad": ("def tanh_grad(z):\n    t = tanh(z)\n    return (1 - t) * (1 + t)\n"),
    "relu": (
        "def relu(z):\n"
        "    out = np.array(z, dtype=float, copy=True)\n"
        "    out[out < 0] = 0.0\n"
        "    return out\n"
    ),
    "relu_grad": ("def relu_grad(z):\n    return np.where(np.asarray(z) > 0, 1.0, 0.0)\n"),
    "leaky_relu": (
        "def leaky_relu(z, alpha=0.01):\n"
        "    z = np.array(z, dtype=float)\n"
        "    neg = z <= 0\n"
        "    z[neg] = alpha * z[neg]\n"
        "    return z\n"
    ),
    "leaky_relu_grad": (
        "def leaky_relu_grad(z, alpha=0.01):\n"
        "    g = np.ones(np.shape(z))\n"
        "    g[np.asarray(z) <= 0] = alpha\n"
        "    return g\n"
    ),
    "softmax": (
        "def softmax(z, axis=-1):\n"
        "    z = np.asarray(z, dtype=np.float64)\n"
        "    # log-softmax first: z - logsumexp(z), with the max shifted out\n"
        "    m = z.max(axis=axis, keepdims=True)\n"
        "    log_s = z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))\n"
        "    return np.exp(log_s)\n"
    ),
    "softmax_jacobian": (
        "def softmax_jacobian(z):\n"
        "    z = np.asarray(z, dtype=float)\n"
        "    K = z.shape[-1]\n"
        "    rows = z.reshape(-1, K)\n"
        "    J = np.zeros((rows.shape[0], K, K))\n"
        "    for n in range(rows.shape[0]):\n"
        "        s = softmax(rows[n])\n"
        "        J[n] = np.diag(s) - np.outer(s, s)\n"
        "    return J.reshape(z.shape + (K,))\n"
    ),
    "neuron_forward": (
        "def neuron_forward(x, w, b, activation='sigmoid'):\n"
        "    g, _unused = ACTIVATIONS[activation]\n"
        "    out = g(np.dot(x, w) + b)\n"
        "    if np.ndim(out) == 0:\n"
        "        return float(out)\n"
        "    return list(np.asarray(out, dtype=float))  # a list of floats for a batch\n"
    ),
    "perceptron_predict": (
        "def perceptron_predict(X, w, b):\n"
        "    return [int(row @ w + b >= 0) for row in np.asarray(X, dtype=float)]\n"
    ),
    "perceptron_fit": (
        "def perceptron_fit(X, y, lr=1.0, n_epochs=10):\n"
        "    X = np.asarray(X, dtype=float)\n"
        "    w = np.zeros(X.shape[1])\n"
        "    b = np.zeros(())  # a 0-d array is a scalar too\n"
        "    for _ in range(n_epochs):\n"
        "        for x_i, t in zip(X, y):\n"
        "            step = lr * (t - perceptron_predict(x_i[None, :], w, float(b))[0])\n"
        "            w += step * x_i\n"
        "            b += step\n"
        "    return w, b\n"
    ),
    "q_xor": "answer_q1 = 'c'\n",
    "q_linear": 'answer_q2 = "A".lower()\n',
    "q_activation": "answer_q3 = str('d')\n",
    "q_neuron_output": f"answer_q4 = {q4_answer('student'):.6f}  # by hand, 6 decimals\n",
}

# -- 3. the reference's formulas behind helpers with odd names, and busy scratch cells --------
_HELPERS = {
    "sigmoid": (
        "def ___stable(v):\n"
        "    v = np.asarray(v, dtype=float)\n"
        "    e = np.exp(-np.abs(v))\n"
        "    return np.where(v >= 0, 1 / (1 + e), e / (1 + e))\n"
        "\n"
        "\n"
        "def sigmoid(z):\n"
        "    return ___stable(z)\n"
    ),
    "sigmoid_grad": (
        "def sigmoid_grad(z):\n"
        "    check_close = sigmoid(z)  # a local name the tests also use\n"
        "    return check_close * (1 - check_close)\n"
    ),
    "tanh": "def tanh(z):\n    return np.tanh(np.asarray(z) * 1.0)\n",
    "tanh_grad": "def tanh_grad(z):\n    return 1 - np.square(tanh(z))\n",
    "relu": "def relu(z):\n    return np.clip(np.asarray(z, dtype=float), 0, None)\n",
    "relu_grad": "def relu_grad(z):\n    return np.greater(z, 0).astype(float)\n",
    "leaky_relu": (
        "def leaky_relu(z, alpha=0.01):\n"
        "    z = np.asarray(z, dtype=float)\n"
        "    return np.select([z > 0], [z], default=alpha * z)\n"
    ),
    "leaky_relu_grad": (
        "def leaky_relu_grad(z, alpha=0.01):\n"
        "    return np.where(np.asarray(z) > 0, 1.0, float(alpha))\n"
    ),
    "softmax": (
        "def ref(z, axis):\n"
        "    return np.exp(z - z.max(axis=axis, keepdims=True))\n"
        "\n"
        "\n"
        "def softmax(z, axis=-1):\n"
        "    z = np.asarray(z, dtype=float)\n"
        "    out = ref(z, axis)\n"
        "    return out / out.sum(axis=axis, keepdims=True)\n"
    ),
    "softmax_jacobian": (
        "def softmax_jacobian(z):\n"
        "    s = softmax(z, axis=-1)[..., None]\n"
        "    return s * np.eye(s.shape[-2]) - s @ np.swapaxes(s, -1, -2)\n"
    ),
    "neuron_forward": (
        "def neuron_forward(x, w, b, activation='sigmoid'):\n"
        "    input = np.asarray(x, dtype=float)\n"
        "    W = np.asarray(w, dtype=float)\n"
        "    params = {'W': W, 'b': b}\n"
        "    return ACTIVATIONS[activation][0](input @ params['W'] + params['b'])\n"
    ),
    "perceptron_predict": (
        "def perceptron_predict(X, w, b):\n"
        "    return (np.asarray(X) @ np.asarray(w) + b >= 0).astype(np.int64)\n"
    ),
    "perceptron_fit": (
        "def perceptron_fit(X, y, lr=1.0, n_epochs=10):\n"
        "    X = np.asarray(X, dtype=float)\n"
        "    params = {'w': np.zeros(X.shape[1]), 'b': 0.0}\n"
        "    epoch = 0\n"
        "    while epoch < n_epochs:\n"
        "        for i, x in enumerate(X):\n"
        "            err = y[i] - (x @ params['w'] + params['b'] >= 0)\n"
        "            params['w'] = params['w'] + lr * err * x\n"
        "            params['b'] = params['b'] + lr * err\n"
        "        epoch += 1\n"
        "    return params['w'], float(params['b'])\n"
    ),
    **_ANSWERS,
    "q_neuron_output": (
        "z = sum(float(w_i) * float(x_i) for w_i, x_i in zip(q4_w, q4_x)) + q4_b\n"
        "answer_q4 = math.tanh(z) if q4_activation == 'tanh' else 1 / (1 + math.exp(-z))\n"
    ),
}

_SCRATCH = [
    (
        "setup",
        "%matplotlib inline\n"
        "import warnings\n"
        "import matplotlib.pyplot as plt\n"
        "x = np.linspace(-6, 6, 101)\n"
        "W = np.ones((3, 2))\n"
        "params = {'W': W, 'b': np.zeros(2)}\n"
        "input = 'my notes'\n"
        "z, out, ref, rng = 5, 'out', None, 'rng'\n",
    ),
    (
        "sigmoid",
        "%timeit -n 2 -r 2 sigmoid(x)\n"
        "fig, ax = plt.subplots()\n"
        "ax.plot(x, sigmoid(x), label='my sigmoid')\n"
        "ax.legend()\n"
        "plt.show()\n",
    ),
    ("sigmoid_grad", "help(sigmoid_grad)\nprint(sigmoid_grad(x).max())\n"),
    (
        "tanh_grad",
        "with warnings.catch_warnings():\n"
        "    warnings.simplefilter('ignore')\n"
        "    print(tanh(1e4))\n",
    ),
    ("relu_grad", "plt.plot(x, relu(x), x, relu_grad(x))\nplt.close('all')\n"),
    (
        "softmax",
        "import time\n"
        "t0 = time.perf_counter()\n"
        "softmax(np.ones((1000, 10)))\n"
        "print(time.perf_counter() - t0)\n",
    ),
    (
        "neuron_forward",
        "x = np.array([[1.0, 2.0, 3.0]])\nprint(neuron_forward(x, W[:, 0], 0.5, 'tanh'))\n",
    ),
    (
        "perceptron_fit",
        "X, y = logic_gate('or')\n"
        "w, b = perceptron_fit(X, y)\n"
        "print(w, b, perceptron_predict(X, w, b))\n",
    ),
]

# -- 4. dispatch and imports: course.activations reached by getattr, the reference imported in
#       a scratch cell ABOVE the student's own definitions (which shadow it) ---------------------
# variants: sigmoid by the tanh identity; tanh by expm1; leaky_relu by np.piecewise; relu_grad by
# an index loop; softmax_jacobian by a double loop over the classes; neuron_forward by
# getattr(course.activations, activation); perceptron_predict by np.sign; the reference's
# sigmoid and tanh imported in a scratch cell before the student's own.
_DISPATCH = {
    "sigmoid": (
        "def sigmoid(z):\n"
        "    z = np.asarray(z)\n"
        "    if z.dtype.kind in 'iub':\n"
        "        z = z.astype(np.float64)\n"
        "    # sigma(z) = (1 + tanh(z / 2)) / 2, and np.tanh never overflows\n"
        "    return 0.5 * (1.0 + np.tanh(0.5 * z))\n"
    ),
    "tanh": (
        "def tanh(z):\n"
        "    z = np.asarray(z, dtype=float)\n"
        "    e = np.exp(-2.0 * np.abs(z))  # in (0, 1]: no overflow\n"
        "    return np.sign(z) * -np.expm1(-2.0 * np.abs(z)) / (1.0 + e)\n"
    ),
    "leaky_relu": (
        "def leaky_relu(z, alpha=0.01):\n"
        "    z = np.asarray(z, dtype=float)\n"
        "    return np.piecewise(z, [z > 0, z <= 0], [lambda t: t, lambda t: alpha * t])\n"
    ),
    "relu_grad": (
        "def relu_grad(z):\n"
        "    z = np.asarray(z)\n"
        "    g = np.zeros(z.shape)\n"
        "    for idx in np.ndindex(z.shape):\n"
        "        if z[idx] > 0:\n"
        "            g[idx] = 1.0\n"
        "    return g\n"
    ),
    "softmax_jacobian": (
        "def softmax_jacobian(z):\n"
        "    s = softmax(z)\n"
        "    K = s.shape[-1]\n"
        "    J = np.empty(s.shape + (K,))\n"
        "    for i in range(K):\n"
        "        for j in range(K):\n"
        "            delta = 1.0 if i == j else 0.0\n"
        "            J[..., i, j] = s[..., i] * (delta - s[..., j])\n"
        "    return J\n"
    ),
    "neuron_forward": (
        "import course.activations\n"
        "\n"
        "\n"
        "def neuron_forward(x, w, b, activation='sigmoid'):\n"
        "    # the text allows course.activations here; look the function up by its name\n"
        "    g = getattr(course.activations, activation)\n"
        "    z = np.asarray(x, dtype=float) @ np.asarray(w, dtype=float) + b\n"
        "    return g(z)\n"
    ),
    "perceptron_predict": (
        "def perceptron_predict(X, w, b):\n"
        "    # sign(0) = 0 counts as class 1, so test sign >= 0\n"
        "    return (np.sign(np.asarray(X, dtype=float) @ np.asarray(w, dtype=float) + b) >= 0).astype(int)\n"
    ),
    **_ANSWERS,
}

_IMPORT_ABOVE = [
    (
        "setup",
        "# compare with the course's versions before writing my own (mine come later)\n"
        "from course.activations import sigmoid, tanh\n"
        "print(sigmoid(np.array([-1.0, 0.0, 1.0])), tanh(0.5))\n",
    ),
]

# -- 5. identities of logaddexp, apply_along_axis, a registry walked by a loop, itertools, and
#       scratch cells: inspect.getsource of the reference, gc.collect, %timeit, help, and
#       variables named like the tests' helpers (_x, _w, _out, _quiet, _warns, ref) ---------------
# variants: sigmoid_grad as exp(-softplus(z) - softplus(-z)); tanh_grad as 4 exp(-2 logaddexp(z,
# -z)); relu by np.fmax; leaky_relu_grad as alpha + (1 - alpha) [z > 0]; softmax slice by slice
# with np.apply_along_axis; neuron_forward walking ACTIVATIONS in a loop; perceptron_fit over
# itertools.product with a list for the bias.
_IDENTITIES = {
    "sigmoid_grad": (
        "def sigmoid_grad(z):\n"
        "    z = np.asarray(z, dtype=float)\n"
        "    # sigma(z) (1 - sigma(z)) = exp(-log(1 + e^-z) - log(1 + e^z))\n"
        "    return np.exp(-np.logaddexp(0.0, -z) - np.logaddexp(0.0, z))\n"
    ),
    "tanh_grad": (
        "def tanh_grad(z):\n"
        "    z = np.asarray(z, dtype=float)\n"
        "    # 1 - tanh^2 = sech^2 = 4 / (e^z + e^-z)^2\n"
        "    return np.exp(math.log(4.0) - 2.0 * np.logaddexp(z, -z))\n"
    ),
    "relu": "def relu(z):\n    return np.fmax(np.asarray(z, dtype=float), 0.0)\n",
    "leaky_relu_grad": (
        "def leaky_relu_grad(z, alpha=0.01):\n"
        "    positive = (np.asarray(z) > 0).astype(float)\n"
        "    return alpha + (1.0 - alpha) * positive\n"
    ),
    "softmax": (
        "def _one_slice(v):\n"
        "    e = np.exp(v - np.max(v))\n"
        "    return e / np.sum(e)\n"
        "\n"
        "\n"
        "def softmax(z, axis=-1):\n"
        "    z = np.asarray(z, dtype=np.float64)\n"
        "    return np.apply_along_axis(_one_slice, axis, z)\n"
    ),
    "neuron_forward": (
        "def neuron_forward(x, w, b, activation='sigmoid'):\n"
        "    for name, (fn, _grad) in ACTIVATIONS.items():\n"
        "        if name == activation:\n"
        "            break\n"
        "    else:\n"
        "        raise KeyError(activation)\n"
        "    return fn(np.einsum('...d,d->...', np.asarray(x, dtype=float), np.asarray(w, dtype=float)) + b)\n"
    ),
    "perceptron_fit": (
        "import itertools\n"
        "\n"
        "\n"
        "def perceptron_fit(X, y, lr=1.0, n_epochs=10):\n"
        "    X = np.array(X, dtype=float)\n"
        "    w = np.zeros(X.shape[1])\n"
        "    b = [0.0]\n"
        "    for _epoch, i in itertools.product(range(n_epochs), range(len(X))):\n"
        "        y_hat = 1 if X[i] @ w + b[0] >= 0 else 0\n"
        "        w = w + lr * (y[i] - y_hat) * X[i]\n"
        "        b[0] += lr * (y[i] - y_hat)\n"
        "    return w, b[0]\n"
    ),
    **_ANSWERS,
    "q_neuron_output": (
        "answer_q4 = np.asarray(ACTIVATIONS[q4_activation][0](np.dot(q4_x, q4_w) + q4_b))  # 0-d\n"
    ),
}

_INSPECT = [
    (
        "setup",
        "import gc\n"
        "import inspect\n"
        "\n"
        "import course.activations\n"
        "\n"
        "print(inspect.getsource(course.activations.sigmoid))\n"
        "ref = course.activations\n"
        "_x, _w, _out = np.ones(3), np.zeros(3), None\n"
        "gc.collect()\n",
    ),
    ("sigmoid_grad", "%timeit sigmoid_grad(np.linspace(-50, 50, 1001))\nhelp(sigmoid_grad)\n"),
    (
        "tanh_grad",
        "def _quiet(fn, *args):\n"
        "    return fn(*args)  # named like a helper of the tests\n"
        "\n"
        "\n"
        "_warns = _quiet(tanh_grad, np.array([-1e4, 0.0, 1e4]))\n"
        "print(_warns)\n",
    ),
    (
        "softmax",
        "print(inspect.getsource(ref.softmax))\n"
        "print(np.allclose(softmax(_x[None, :]), ref.softmax(_x[None, :])))\n"
        "gc.collect()\n",
    ),
    ("neuron_forward", "_out = neuron_forward(np.eye(3), _x, 0.0, 'tanh')\nprint(_out)\n"),
]

SOLUTIONS = [
    {
        "name": "other formulas: logaddexp, tanh identity, heaviside, einsum, index loops",
        "cells": _FORMULAS,
    },
    {
        "name": "other return types: Python floats, np.vectorize, lists, a 0-d array b",
        "cells": _TYPES,
    },
    {"name": "helpers with odd names, and the tests' own names used freely", "cells": _HELPERS},
    {
        "name": "the reference with scratch cells: magics, plots, help, x, W, params, input",
        "cells": {},
        "add": _SCRATCH,
    },
    {
        "name": "other formulas plus scratch cells between the answers",
        "cells": _FORMULAS,
        "add": _SCRATCH,
    },
    {
        "name": "getattr(course.activations, activation) in neuron_forward, the reference's "
        "sigmoid and tanh imported above my own; tanh identity, expm1, piecewise, sign, loops",
        "cells": _DISPATCH,
        "add": _IMPORT_ABOVE,
    },
    {
        "name": "logaddexp identities, fmax, apply_along_axis, ACTIVATIONS walked by a loop, "
        "itertools; inspect.getsource of the reference, gc.collect, %timeit, help, _x/_quiet",
        "cells": _IDENTITIES,
        "add": _INSPECT,
    },
]
