"""Correct solutions of module 02's exercises, unlike the reference: each gets full marks.

Question 3 (numbers from the graded student's id) is answered by loops, as a 0-d array, typed
in by hand as a float, and with my own ``mlp_forward``.
"""

import numpy as np

from course.grading import variant_seed


def q3_answer(student: str) -> int:
    """Question 3's answer for ``student``, worked out apart from the notebook, as by hand."""
    rng = np.random.default_rng(variant_seed(student, "02-forward", "q3_network_output"))
    x = rng.choice([-3, -2, -1, 1, 2, 3], size=2)
    W1 = rng.choice([-3, -2, -1, 1, 2, 3], size=(2, 2))
    b1 = rng.integers(-3, 4, size=2)
    W2 = rng.choice([-3, -2, -1, 1, 2, 3], size=(2, 1))
    b2 = rng.integers(-3, 4, size=1)
    hidden = [max(int(x[0] * W1[0, j] + x[1] * W1[1, j] + b1[j]), 0) for j in range(2)]
    return hidden[0] * int(W2[0, 0]) + hidden[1] * int(W2[1, 0]) + int(b2[0])


LOOPS = {
    "name": "loops everywhere, own activations, np.int64 count, lists for xor_params",
    "cells": {
        "count_parameters": '''def count_parameters(layer_sizes):
    """Number of learnable parameters (weights and biases) of a dense network."""
    # YOUR CODE HERE
    total = np.int64(0)
    for i in range(1, len(layer_sizes)):
        weights = layer_sizes[i - 1] * layer_sizes[i]
        biases = layer_sizes[i]
        total += weights + biases
    return total
''',
        "dense_forward": '''def dense_forward(x, W, b):
    """Forward pass of a fully connected layer for a batch."""
    N, n_out = len(x), len(b)
    out = np.zeros((N, n_out))
    for n in range(N):
        for j in range(n_out):
            out[n, j] = np.dot(x[n], W[:, j]) + b[j]
    cache = (x, W, b)
    return out, cache
''',
        "mlp_forward": '''def my_sigmoid(z):
    e = np.exp(-np.abs(z))  # never overflows
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def my_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


MINE = {
    "relu": lambda z: np.maximum(z, 0),
    "tanh": np.tanh,
    "identity": lambda z: z,
    "sigmoid": my_sigmoid,
    "softmax": my_softmax,
}


def mlp_forward(X, params, activation="relu", output_activation="identity"):
    """Forward pass of a multi-layer perceptron for a batch."""
    L = len(params) // 2
    h = X
    caches = []
    for layer in range(1, L + 1):
        W, b = params["W" + str(layer)], params["b" + str(layer)]
        z = h @ W + b
        name = output_activation if layer == L else activation
        g = MINE[name] if name in MINE else ACTIVATIONS[name][0]
        caches.append(((h, W, b), (z, name)))
        h = g(z)
    return h, caches
''',
        "predict_binary": '''def predict_binary(p, threshold=0.5):
    """Labels of a binary classifier."""
    flat = np.ravel(p)
    labels = np.zeros(len(flat), dtype=int)
    for i in range(len(flat)):
        if flat[i] >= threshold:
            labels[i] = 1
    return labels
''',
        "predict_multiclass": '''def predict_multiclass(p):
    """Labels of a multiclass classifier."""
    labels = []
    for row in p:
        row = list(row)
        labels.append(row.index(max(row)))
    return np.array(labels)
''',
        "xor_params": '''def xor_params():
    """Parameters of a 2-2-1 ReLU network that computes XOR exactly."""
    # h1 = relu(x1 - x2), h2 = relu(x2 - x1), out = h1 + h2
    return {
        "W1": [[1, -1], [-1, 1]],
        "b1": [0, 0],
        "W2": [[1], [1]],
        "b2": [0],
    }
''',
        "answer_q1": "answer_q1 = 'd'\n",
        "answer_q2": "# out is (32, 5), z2 = a1 @ W2 + b2 is (32, 16)\nanswer_q2 = 'a'\n",
        "answer_q3": """_h = []
for j in range(2):  # the hidden units, one column of W1 each
    _z = sum(q3_x[i] * q3_params["W1"][i, j] for i in range(2)) + q3_params["b1"][j]
    _h.append(max(_z, 0))
answer_q3 = sum(_h[j] * q3_params["W2"][j, 0] for j in range(2)) + q3_params["b2"][0]
""",
    },
}

FORMULAS = {
    "name": "other formulas: np.sum, einsum, a 0-d array count, dtypes kept, helpers",
    "cells": {
        "count_parameters": """def count_parameters(layer_sizes):
    s = np.asarray(layer_sizes, dtype=np.int64)
    if s.size < 2:
        return np.array(0)
    return np.array(np.sum((s[:-1] + 1) * s[1:]))  # (n_in + 1) * n_out per layer
""",
        "dense_forward": """def dense_forward(x, W, b):
    out = np.einsum("ni,io->no", x, W) + b[None, :]
    return out, (x, W, b)
""",
        "mlp_forward": """def layer(a, W, b, name):
    z, dense_cache = dense_forward(a, W, b)
    return ACTIVATIONS[name][0](z), (dense_cache, (z, name))


def mlp_forward(X, params, activation="relu", output_activation="identity"):
    n_layers = len([k for k in params if k[0] == "W"])
    names = [activation] * (n_layers - 1) + [output_activation]
    a, caches = X, []
    for l, name in enumerate(names, start=1):
        a, cache = layer(a, params["W%d" % l], params["b%d" % l], name)
        caches.append(cache)
    return a, caches
""",
        "predict_binary": """def predict_binary(p, threshold=0.5):
    p = np.asarray(p)
    if p.ndim == 2:
        p = p[:, 0]
    return np.where(p >= threshold, 1, 0)
""",
        "predict_multiclass": """def predict_multiclass(p):
    return np.asarray(p).argmax(axis=-1).astype(np.int32)
""",
        "xor_params": """def xor_params():
    # h1 = 2 (x1 + x2), h2 fires on (1, 1) only: out = h1 / 2 - 2 h2
    W1 = np.array([[2.0, 1.0], [2.0, 1.0]])
    b1 = np.array([0.0, -1.0])
    W2 = np.array([[0.5], [-2.0]])
    b2 = np.zeros(1)
    return dict(W1=W1, b1=b1, W2=W2, b2=b2)
""",
        "answer_q1": """gain = count_parameters([8, 32, 32, 4]) - count_parameters([8, 16, 16, 4])
answer_q1 = {484: "a", 960: "b", 1452: "c", 992: "d"}[int(gain)]
""",
        "answer_q2": """answer_q2 = None
### my answer
answer_q2 = "a"
""",
        "answer_q3": (
            "_a1 = np.maximum(q3_x @ q3_params['W1'] + q3_params['b1'], 0)\n"
            "answer_q3 = (_a1 @ q3_params['W2'] + q3_params['b2']).reshape(())  # a 0-d array\n"
        ),
    },
}

SCRATCH = {
    "name": "reference-like answers with scratch cells: magics, plots, help, input/x/W/params/X/y",
    "cells": {},
    "add": [
        ("setup", "%matplotlib inline\nimport warnings\nimport matplotlib.pyplot as plt\n"),
        (
            "count_parameters",
            "help(count_parameters)\n"
            "for sizes in ([3, 4, 2], [784, 128, 10]):\n"
            "    print(sizes, count_parameters(sizes))\n",
        ),
        (
            "dense_forward",
            "x = np.random.randn(64, 10)\nW = np.random.randn(10, 3)\nb = np.zeros(3)\n"
            "out, cache = dense_forward(x, W, b)\nprint(out.shape)\n"
            "%timeit dense_forward(x, W, b)\n",
        ),
        (
            "mlp_forward",
            "import course.network\n"
            "rng = np.random.default_rng(0)\n"
            "params = course.network.init_params([2, 8, 1], rng=rng)\n"
            "X = rng.normal(size=(200, 2))\n"
            "y = (X[:, 0] * X[:, 1] > 0).astype(int)\n"
            "input = X\n"
            "with warnings.catch_warnings():\n"
            "    warnings.simplefilter('ignore')\n"
            "    out, caches = mlp_forward(input, params, 'relu', 'sigmoid')\n"
            "print(np.allclose(out, course.network.mlp_forward(X, params, 'relu', 'sigmoid')[0]))\n"
            "plt.scatter(X[:, 0], X[:, 1], c=out[:, 0])\nplt.colorbar()\nplt.show()\n",
        ),
        (
            "predict_binary",
            "labels = predict_binary(out)\nprint('accuracy', np.mean(labels == y))\n"
            "plt.hist(out[:, 0], bins=20)\nplt.show()\n",
        ),
        (
            "xor_params",
            "from course.data import xor\n"
            "X, y = xor()\n"
            "W = xor_params()['W1']\n"
            "print(mlp_forward(X, xor_params(), 'relu', 'identity')[0].ravel(), y)\n",
        ),
        ("answer_q2", "x = 3\nparams = None\nW = 'not a matrix'\n"),
    ],
}

TYPES = {
    "name": "float32 kept, tuple-free helpers, labels via comparisons, answers in one cell style",
    "cells": {
        "count_parameters": """def count_parameters(layer_sizes):
    def one_layer(n_in, n_out):
        return n_in * n_out + n_out

    sizes = list(layer_sizes)
    return int(sum(one_layer(a, b) for a, b in zip(sizes, sizes[1:])))
""",
        "dense_forward": """def dense_forward(x, W, b):
    x = np.array(x)  # a copy; integer inputs give a float product with float W
    out = np.matmul(x, W)
    out = out + b
    return out, tuple([x, W, b])
""",
        "mlp_forward": """
def mlp_forward(X, params, activation="relu", output_activation="identity"):
    keys = sorted((k for k in params if k.startswith("W")), key=lambda k: int(k[1:]))
    a = X
    caches = []
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        name = output_activation if last else activation
        W = params[key]
        b = params["b" + key[1:]]
        z, dense_cache = dense_forward(a, W, b)
        if name == "relu":
            a = z * (z > 0)
        elif name == "softmax":
            a = softmax(z)
        elif name == "sigmoid":
            a = sigmoid(z)
        else:
            a = ACTIVATIONS[name][0](z)
        caches += [(dense_cache, (z, name))]
    return a, caches
""",
        "predict_binary": """def predict_binary(p, threshold=0.5):
    p = np.array(p, dtype=np.float64).reshape(-1)
    return (~(p < threshold)).astype(np.int64)
""",
        "predict_multiclass": """def predict_multiclass(p):
    p = np.asarray(p)
    best = np.zeros(p.shape[0], dtype=int)
    for k in range(1, p.shape[1]):
        best[p[np.arange(p.shape[0]), best] < p[:, k]] = k
    return best
""",
        "xor_params": """def xor_params():
    params = {}
    params["W1"] = np.array([[1, 1], [1, 1]])  # integers
    params["b1"] = np.array([-0.5, -1.5])
    params["W2"] = np.array([[2], [-6]])
    params["b2"] = np.array([0])
    # with s = x1 + x2: 2 relu(s - 0.5) - 6 relu(s - 1.5) is 0, 1, 1, 3 - 3 = 0
    return params
""",
        "answer_q1": '# Replace None by "a", "b", "c" or "d".\nanswer_q1 = "d"  # 1476 - 484\n',
        "answer_q2": '# Replace None by "a", "b", "c" or "d".\nanswer_q2 = "a"\n',
        "answer_q3": f"answer_q3 = {float(q3_answer('student'))}  # by hand, as a float\n",
    },
}

# variants: the reference's mlp_forward imported in a scratch cell before my own definition;
# mlp_forward looking activations up with globals()[name]; xor_params returning an OrderedDict;
# dense_forward by np.tensordot; count_parameters by np.dot of the sizes; predict_binary by
# np.greater_equal and ravel; predict_multiclass as the first index equal to the row maximum.
IMPORTS_AND_REGISTRIES = {
    "name": "course.network.mlp_forward imported before my own; globals()[name] activations; "
    "xor_params as an OrderedDict; tensordot, np.dot count, greater_equal, first row maximum",
    "cells": {
        "count_parameters": """def count_parameters(layer_sizes):
    s = np.asarray(layer_sizes, dtype=np.int64)
    # weights: n_0 n_1 + n_1 n_2 + ..., biases: n_1 + n_2 + ...
    return int(np.dot(s[:-1], s[1:]) + s[1:].sum())
""",
        "dense_forward": """def dense_forward(x, W, b):
    x = np.asarray(x, dtype=float)
    out = np.tensordot(x, W, axes=1) + b
    return out, (x, W, b)
""",
        "mlp_forward": """def mlp_forward(X, params, activation="relu", output_activation="identity"):
    L = sum(key.startswith("W") for key in params)
    a = np.asarray(X, dtype=float)
    caches = []
    for l in range(1, L + 1):
        name = output_activation if l == L else activation
        z, dense_cache = dense_forward(a, params[f"W{l}"], params[f"b{l}"])
        a = globals()[name](z)  # relu, tanh, sigmoid, softmax, identity: the setup cell's
        caches.append((dense_cache, (z, name)))
    return a, caches
""",
        "predict_binary": """def predict_binary(p, threshold=0.5):
    return np.greater_equal(np.asarray(p), threshold).astype(int).ravel()
""",
        "predict_multiclass": """def predict_multiclass(p):
    p = np.asarray(p)
    is_max = p == p.max(axis=1, keepdims=True)
    return is_max.argmax(axis=1)  # the first column that holds the row's maximum
""",
        "xor_params": """from collections import OrderedDict


def xor_params():
    params = OrderedDict()
    params["W1"] = np.array([[1.0, 1.0], [1.0, 1.0]])
    params["b1"] = np.array([0.0, -1.0])
    params["W2"] = np.array([[1.0], [-2.0]])
    params["b2"] = np.array([0.0])
    return params
""",
    },
    "add": [
        (
            "setup",
            "# to compare with mine later; my own mlp_forward below replaces this name\n"
            "from course.network import mlp_forward\n"
            "import course.network\n"
            "help(mlp_forward)\n",
        ),
    ],
}

# variants: mlp_forward by recursion over the layers; xor_params with units that fire on (0, 0)
# and on (1, 1); count_parameters by recursion; dense_forward by x.dot; predict_binary by
# np.heaviside; scratch cells with inspect.getsource of the reference, gc.collect, %timeit, help
# and variables named like the tests' helpers (_params, _X, _caches, _W).
RECURSION_AND_SCRATCH = {
    "name": "recursive mlp_forward and count_parameters, XOR from (0,0)/(1,1) detectors, x.dot, "
    "heaviside; inspect.getsource, gc.collect, %timeit, help, _params/_X/_caches",
    "cells": {
        "count_parameters": """def count_parameters(layer_sizes):
    sizes = [int(n) for n in layer_sizes]
    if len(sizes) < 2:
        return 0
    return sizes[0] * sizes[1] + sizes[1] + count_parameters(sizes[1:])
""",
        "dense_forward": """def dense_forward(x, W, b):
    x = np.asarray(x, dtype=float)
    return x.dot(W) + b, (x, W, b)
""",
        "mlp_forward": """def forward_from(a, params, l, L, activation, output_activation):
    if l > L:
        return a, []
    name = output_activation if l == L else activation
    z, dense_cache = dense_forward(a, params["W" + str(l)], params["b" + str(l)])
    out, rest = forward_from(ACTIVATIONS[name][0](z), params, l + 1, L, activation, output_activation)
    return out, [(dense_cache, (z, name))] + rest


def mlp_forward(X, params, activation="relu", output_activation="identity"):
    L = len([k for k in params if k.startswith("W")])
    return forward_from(np.asarray(X, dtype=float), params, 1, L, activation, output_activation)
""",
        "predict_binary": """def predict_binary(p, threshold=0.5):
    p = np.asarray(p, dtype=float).reshape(-1)
    # heaviside(0) = 1: a probability exactly at the threshold is class 1
    return np.heaviside(p - threshold, 1.0).astype(int)
""",
        "xor_params": """def xor_params():
    # h1 = relu(1 - x1 - x2) fires on (0, 0) only, h2 = relu(x1 + x2 - 1) on (1, 1) only,
    # and the output 1 - h1 - h2 is 0, 1, 1, 0
    keys = ["W1", "b1", "W2", "b2"]
    values = [
        np.array([[-1.0, 1.0], [-1.0, 1.0]]),
        np.array([1.0, -1.0]),
        np.array([[-1.0], [-1.0]]),
        np.array([1.0]),
    ]
    return dict(zip(keys, values))
""",
        "answer_q1": """answer_q1 = None
gain = (8 * 32 + 32 + 32 * 32 + 32 + 32 * 4 + 4) - (8 * 16 + 16 + 16 * 16 + 16 + 16 * 4 + 4)
answer_q1 = "d" if gain == 992 else "?"
""",
        "answer_q3": """_out, _ = mlp_forward(q3_x[None, :], q3_params, activation="relu", output_activation="identity")
answer_q3 = _out[0, 0]  # with my own mlp_forward
""",
    },
    "add": [
        (
            "setup",
            "import gc\nimport inspect\nimport course.network\n"
            "print(inspect.getsource(course.network.mlp_forward))\ngc.collect()\n",
        ),
        (
            "dense_forward",
            "_X = np.ones((32, 20))\n_W = np.full((20, 5), 0.1)\n"
            "%timeit dense_forward(_X, _W, np.zeros(5))\nhelp(dense_forward)\n",
        ),
        (
            "mlp_forward",
            "_params = course.network.init_params([2, 4, 3], rng=np.random.default_rng(1))\n"
            "_out, _caches = mlp_forward(np.eye(2), _params, 'tanh', 'softmax')\n"
            "print(np.allclose(_out, course.network.mlp_forward(np.eye(2), _params, 'tanh', 'softmax')[0]))\n"
            "gc.collect()\n",
        ),
        (
            "xor_params",
            "_params = xor_params()\nprint(mlp_forward(np.array([[0, 0], [1, 1]]), _params)[0])\n",
        ),
    ],
}

SOLUTIONS = [LOOPS, FORMULAS, SCRATCH, TYPES, IMPORTS_AND_REGISTRIES, RECURSION_AND_SCRATCH]
