"""Plausible bugs in module 01's exercises; each must lose points to a hidden test."""

_SOFTMAX_BODY = (
    "shifted = z - np.max(z, axis=axis, keepdims=True)  # exponents <= 0: no overflow\n"
    "    e = np.exp(shifted)\n"
    "    return e / np.sum(e, axis=axis, keepdims=True)"
)
_PERCEPTRON_LOOP = (
    "        for x_i, y_i in zip(X, y):\n"
    "            error = y_i - float(x_i @ w + b >= 0)\n"
    "            w = w + lr * error * x_i\n"
    "            b = b + lr * error"
)

BUGS = [
    # sigmoid
    {
        "name": "sigmoid written as 1/(1+exp(-z)): overflows (warns) for large negative z",
        "cell": "sigmoid",
        "old": "return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
        "new": "return 1.0 / (1.0 + np.exp(-z))",
        "loses": ["test_sigmoid"],
    },
    {
        "name": "sigmoid via np.where over two unstable branches (both run, one overflows)",
        "cell": "sigmoid",
        "old": "return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
        "new": "return np.where(z >= 0, 1.0 / (1.0 + np.exp(-z)), np.exp(z) / (1.0 + np.exp(z)))",
        "loses": ["test_sigmoid"],
    },
    # sigmoid_grad
    {
        "name": "sigmoid_grad applies s(1-s) to z instead of to sigmoid(z)",
        "cell": "sigmoid_grad",
        "old": "s = sigmoid(z)",
        "new": "s = np.asarray(z, dtype=float)",
        "loses": ["test_sigmoid_grad"],
    },
    {
        "name": "sigmoid_grad as exp(-z)/(1+exp(-z))**2: NaN and overflow for large negative z",
        "cell": "sigmoid_grad",
        "old": "s = sigmoid(z)\n    return s * (1.0 - s)",
        "new": "e = np.exp(-np.asarray(z, dtype=float))\n    return e / (1.0 + e) ** 2",
        "loses": ["test_sigmoid_grad"],
    },
    # tanh
    {
        "name": "tanh as the literal quotient of exponentials: inf/inf = NaN for |z| > 710",
        "cell": "tanh",
        "old": "return np.tanh(np.asarray(z, dtype=float))",
        "new": (
            "z = np.asarray(z, dtype=float)\n"
            "    return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))"
        ),
        "loses": ["test_tanh"],
    },
    # tanh_grad
    {
        "name": "tanh_grad computes 1 - z**2 (derivative applied to z, not tanh(z))",
        "cell": "tanh_grad",
        "old": "return 1.0 - tanh(z) ** 2",
        "new": "return 1.0 - np.asarray(z, dtype=float) ** 2",
        "loses": ["test_tanh_grad"],
    },
    # relu
    {
        "name": "relu overwrites its input in place",
        "cell": "relu",
        "old": "return np.maximum(np.asarray(z, dtype=float), 0.0)",
        "new": "z[z < 0] = 0\n    return z",
        "loses": ["test_relu"],
    },
    {
        "name": "relu returns |z|",
        "cell": "relu",
        "old": "return np.maximum(np.asarray(z, dtype=float), 0.0)",
        "new": "return np.abs(np.asarray(z, dtype=float))",
        "loses": ["test_relu"],
    },
    # relu_grad
    {
        "name": "relu_grad(0) = 1 instead of the convention 0",
        "cell": "relu_grad",
        "old": "(np.asarray(z) > 0)",
        "new": "(np.asarray(z) >= 0)",
        "loses": ["test_relu_grad"],
    },
    # leaky_relu
    {
        "name": "leaky_relu ignores alpha (hard-coded 0.01)",
        "cell": "leaky_relu",
        "old": "return np.where(z > 0, z, alpha * z)",
        "new": "return np.where(z > 0, z, 0.01 * z)",
        "loses": ["test_leaky_relu"],
    },
    {
        "name": "leaky_relu as max(alpha z, z): wrong for alpha > 1",
        "cell": "leaky_relu",
        "old": "return np.where(z > 0, z, alpha * z)",
        "new": "return np.maximum(alpha * z, z)",
        "loses": ["test_leaky_relu"],
    },
    {
        "name": "leaky_relu returns alpha (not alpha * z) for negative z",
        "cell": "leaky_relu",
        "old": "return np.where(z > 0, z, alpha * z)",
        "new": "return np.where(z > 0, z, alpha)",
        "loses": ["test_leaky_relu"],
    },
    # leaky_relu_grad
    {
        "name": "leaky_relu_grad(0) = 1 instead of alpha",
        "cell": "leaky_relu_grad",
        "old": "np.where(z > 0, 1.0, alpha)",
        "new": "np.where(z >= 0, 1.0, alpha)",
        "loses": ["test_leaky_relu_grad"],
    },
    {
        "name": "leaky_relu_grad ignores alpha",
        "cell": "leaky_relu_grad",
        "old": "np.where(z > 0, 1.0, alpha)",
        "new": "np.where(z > 0, 1.0, 0.01)",
        "loses": ["test_leaky_relu_grad"],
    },
    # softmax
    {
        "name": "softmax without the max shift: overflow and NaN for large logits",
        "cell": "softmax",
        "old": "shifted = z - np.max(z, axis=axis, keepdims=True)",
        "new": "shifted = z",
        "loses": ["test_softmax"],
    },
    {
        "name": "softmax ignores the axis argument (always the last axis)",
        "cell": "softmax",
        "old": _SOFTMAX_BODY,
        "new": _SOFTMAX_BODY.replace("axis=axis", "axis=-1"),
        "loses": ["test_softmax"],
    },
    {
        "name": "softmax over the wrong axis (axis 0, the batch axis)",
        "cell": "softmax",
        "old": _SOFTMAX_BODY,
        "new": _SOFTMAX_BODY.replace("axis=axis", "axis=0"),
        "loses": ["test_softmax"],
    },
    {
        "name": "softmax without keepdims (wrong broadcasting on square batches)",
        "cell": "softmax",
        "old": _SOFTMAX_BODY,
        "new": _SOFTMAX_BODY.replace(", keepdims=True", ""),
        "loses": ["test_softmax"],
    },
    {
        "name": "softmax normalizes over the whole array instead of one axis",
        "cell": "softmax",
        "old": "return e / np.sum(e, axis=axis, keepdims=True)",
        "new": "return e / np.sum(e)",
        "loses": ["test_softmax"],
    },
    # softmax_jacobian
    {
        "name": "softmax_jacobian with the wrong sign (s s^T - diag(s))",
        "cell": "softmax_jacobian",
        "old": "(np.eye(s.shape[-1]) - s[..., None, :])",
        "new": "(s[..., None, :] - np.eye(s.shape[-1]))",
        "loses": ["test_softmax_jacobian"],
    },
    {
        "name": "softmax_jacobian handles one vector only (np.diag / np.outer), not a batch",
        "cell": "softmax_jacobian",
        "old": "return s[..., :, None] * (np.eye(s.shape[-1]) - s[..., None, :])",
        "new": "return np.diag(s) - np.outer(s, s)",
        "loses": ["test_softmax_jacobian"],
    },
    # neuron_forward
    {
        "name": "neuron_forward forgets the bias",
        "cell": "neuron_forward",
        "old": "np.asarray(w, dtype=float) + b",
        "new": "np.asarray(w, dtype=float)",
        "loses": ["test_neuron_forward"],
    },
    {
        "name": "neuron_forward computes w @ x (transposed product)",
        "cell": "neuron_forward",
        "old": "z = np.asarray(x, dtype=float) @ np.asarray(w, dtype=float) + b",
        "new": "z = np.asarray(w, dtype=float) @ np.asarray(x, dtype=float) + b",
        "loses": ["test_neuron_forward"],
    },
    {
        "name": "neuron_forward ignores the activation argument (always sigmoid)",
        "cell": "neuron_forward",
        "old": "g, _ = ACTIVATIONS[activation]",
        "new": 'g, _ = ACTIVATIONS["sigmoid"]',
        "loses": ["test_neuron_forward"],
    },
    # perceptron_predict
    {
        "name": "perceptron_predict uses > 0 instead of >= 0",
        "cell": "perceptron_predict",
        "old": "+ b >= 0)",
        "new": "+ b > 0)",
        "loses": ["test_perceptron_predict"],
    },
    # perceptron_fit
    {
        "name": "perceptron_fit with the update sign flipped (y_hat - y)",
        "cell": "perceptron_fit",
        "old": "error = y_i - float(x_i @ w + b >= 0)",
        "new": "error = float(x_i @ w + b >= 0) - y_i",
        "loses": ["test_perceptron_fit"],
    },
    {
        "name": "perceptron_fit never updates the bias",
        "cell": "perceptron_fit",
        "old": "b = b + lr * error",
        "new": "b = b",
        "loses": ["test_perceptron_fit"],
    },
    {
        "name": "perceptron_fit updates once per epoch (batch) instead of after each sample",
        "cell": "perceptron_fit",
        "old": _PERCEPTRON_LOOP,
        "new": (
            "        dw, db = np.zeros_like(w), 0.0\n"
            "        for x_i, y_i in zip(X, y):\n"
            "            error = y_i - float(x_i @ w + b >= 0)\n"
            "            dw = dw + lr * error * x_i\n"
            "            db = db + lr * error\n"
            "        w = w + dw\n"
            "        b = b + db"
        ),
        "loses": ["test_perceptron_fit"],
    },
    {
        "name": "perceptron_fit visits the samples in reverse order",
        "cell": "perceptron_fit",
        "old": "for x_i, y_i in zip(X, y):",
        "new": "for x_i, y_i in zip(X[::-1], y[::-1]):",
        "loses": ["test_perceptron_fit"],
    },
    {
        "name": "perceptron_fit predicts with > 0 instead of >= 0",
        "cell": "perceptron_fit",
        "old": "float(x_i @ w + b >= 0)",
        "new": "float(x_i @ w + b > 0)",
        "loses": ["test_perceptron_fit"],
    },
    {
        "name": "perceptron_fit ignores the learning rate in the weight update",
        "cell": "perceptron_fit",
        "old": "w = w + lr * error * x_i",
        "new": "w = w + error * x_i",
        "loses": ["test_perceptron_fit"],
    },
    # questions
    {
        "name": "Q1: picks a labelling a line can separate (x1 = 1 and x3 = 0)",
        "cell": "q_xor",
        "old": 'answer_q1 = "c"',
        "new": 'answer_q1 = "b"',
        "loses": ["test_q_xor"],
    },
    {
        "name": "Q2: believes products of weight matrices multiply inputs together",
        "cell": "q_linear",
        "old": 'answer_q2 = "a"',
        "new": 'answer_q2 = "b"',
        "loses": ["test_q_linear"],
    },
    {
        "name": "Q3: checks the corners (0, 0) and (1, 1) only and misses the live corner (1, 0)",
        "cell": "q_activation",
        "old": 'answer_q3 = "d"',
        "new": 'answer_q3 = "c"',
        "loses": ["test_q_activation"],
    },
    {
        "name": "Q1: believes a majority vote of three inputs is not linearly separable",
        "cell": "q_xor",
        "old": 'answer_q1 = "c"',
        "new": 'answer_q1 = "a"',
        "loses": ["test_q_xor"],
    },
    {
        "name": "Q2: believes wide hidden layers add power without a nonlinearity",
        "cell": "q_linear",
        "old": 'answer_q2 = "a"',
        "new": 'answer_q2 = "c"',
        "loses": ["test_q_linear"],
    },
    {
        "name": "Q3: checks the centre of the square only",
        "cell": "q_activation",
        "old": 'answer_q3 = "d"',
        "new": 'answer_q3 = "a"',
        "loses": ["test_q_activation"],
    },
    # more function bugs
    {
        "name": "tanh_grad forgets the square (1 - tanh(z))",
        "cell": "tanh_grad",
        "old": "return 1.0 - tanh(z) ** 2",
        "new": "return 1.0 - tanh(z)",
        "loses": ["test_tanh_grad"],
    },
    {
        "name": "softmax subtracts the max of the whole array, not of each slice (0/0)",
        "cell": "softmax",
        "old": "shifted = z - np.max(z, axis=axis, keepdims=True)",
        "new": "shifted = z - np.max(z)",
        "loses": ["test_softmax"],
    },
    {
        "name": "neuron_forward adds the bias after the activation",
        "cell": "neuron_forward",
        "old": "z = np.asarray(x, dtype=float) @ np.asarray(w, dtype=float) + b\n    return g(z)",
        "new": "z = np.asarray(x, dtype=float) @ np.asarray(w, dtype=float)\n    return g(z) + b",
        "loses": ["test_neuron_forward"],
    },
    {
        "name": "perceptron_fit restarts from w = 0, b = 0 at every epoch",
        "cell": "perceptron_fit",
        "old": "    for _ in range(n_epochs):\n",
        "new": "    for _ in range(n_epochs):\n        w = np.zeros(X.shape[1])\n        b = 0.0\n",
        "loses": ["test_perceptron_fit"],
    },
    # question 4: the per-student neuron (its numbers come from the graded student's id)
    {
        "name": "question 4: the pre-activation z given instead of the output g(z)",
        "cell": "q_neuron_output",
        "old": "answer_q4 = float(_g(_x @ _w + _b))",
        "new": "answer_q4 = float(_x @ _w + _b)",
        "loses": ["test_q_neuron_output"],
    },
    {
        "name": "question 4: the bias left out",
        "cell": "q_neuron_output",
        "old": "answer_q4 = float(_g(_x @ _w + _b))",
        "new": "answer_q4 = float(_g(_x @ _w))",
        "loses": ["test_q_neuron_output"],
    },
    {
        "name": "question 4: rounded to 3 decimal places (the text asks for 6)",
        "cell": "q_neuron_output",
        "old": "answer_q4 = float(_g(_x @ _w + _b))",
        "new": "answer_q4 = round(float(_g(_x @ _w + _b)), 3)",
        "loses": ["test_q_neuron_output"],
    },
    {
        "name": "question 4: worked out for another student's id",
        "cell": "q_neuron_output",
        "old": 'variant_seed(STUDENT_ID, "01-neuron", "q_neuron_output")',
        "new": 'variant_seed("alice", "01-neuron", "q_neuron_output")',
        "loses": ["test_q_neuron_output"],
    },
]
