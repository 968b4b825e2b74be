"""Plausible bugs in module 04's exercises; each must lose points to a hidden test."""

BUGS = [
    {
        "name": "dense_backward: dW transposed (dout.T @ x)",
        "cell": "dense_backward",
        "old": "dW = x.T @ dout",
        "new": "dW = dout.T @ x",
        "loses": ["test_dense_backward"],
    },
    {
        "name": "dense_backward: db averaged over the batch instead of summed",
        "cell": "dense_backward",
        "old": "db = dout.sum(axis=0)",
        "new": "db = dout.mean(axis=0)",
        "loses": ["test_dense_backward"],
    },
    {
        "name": "dense_backward: db summed over the wrong axis",
        "cell": "dense_backward",
        "old": "db = dout.sum(axis=0)",
        "new": "db = dout.sum(axis=1)",
        "loses": ["test_dense_backward"],
    },
    {
        "name": "dense_backward: wrong sign of dx",
        "cell": "dense_backward",
        "old": "dx = dout @ W.T",
        "new": "dx = -dout @ W.T",
        "loses": ["test_dense_backward"],
    },
    {
        "name": "activation_backward: forgets to multiply by da",
        "cell": "activation_backward",
        "old": "return da * local",
        "new": "return local",
        "loses": ["test_activation_backward"],
    },
    {
        "name": "activation_backward: sigmoid derivative taken of z instead of sigmoid(z)",
        "cell": "activation_backward",
        "old": "s = sigmoid(z)",
        "new": "s = z",
        "loses": ["test_activation_backward"],
    },
    {
        "name": "activation_backward: sigmoid' as exp(-z) / (1 + exp(-z))**2, NaN for large |z|",
        "cell": "activation_backward",
        "old": "s = sigmoid(z)\n        local = s * (1.0 - s)",
        "new": "local = np.exp(-z) / (1.0 + np.exp(-z)) ** 2",
        "loses": ["test_activation_backward"],
    },
    {
        "name": "activation_backward: tanh' without the square",
        "cell": "activation_backward",
        "old": "local = 1.0 - tanh(z) ** 2",
        "new": "local = 1.0 - tanh(z)",
        "loses": ["test_activation_backward"],
    },
    {
        "name": "activation_backward: relu'(0) = 1",
        "cell": "activation_backward",
        "old": "local = (z > 0).astype(float)",
        "new": "local = (z >= 0).astype(float)",
        "loses": ["test_activation_backward"],
    },
    {
        "name": "activation_backward: wrong sign",
        "cell": "activation_backward",
        "old": "return da * local",
        "new": "return -da * local",
        "loses": ["test_activation_backward"],
    },
    {
        "name": "mlp_backward: skips the output layer's activation",
        "cell": "mlp_backward",
        "old": "dz = activation_backward(dout, act_cache)",
        "new": "dz = activation_backward(dout, act_cache) if l < len(caches) else dout",
        "loses": ["test_mlp_backward"],
    },
    {
        "name": "mlp_backward: passes da instead of dz to the dense layer",
        "cell": "mlp_backward",
        "old": "dense_backward(dz, dense_cache)",
        "new": "dense_backward(dout, dense_cache)",
        "loses": ["test_mlp_backward"],
    },
    {
        "name": "mlp_backward: keys off by one (W0, b0, ...)",
        "cell": "mlp_backward",
        "old": 'grads[f"W{l}"], grads[f"b{l}"]',
        "new": 'grads[f"W{l - 1}"], grads[f"b{l - 1}"]',
        "loses": ["test_mlp_backward"],
    },
    {
        "name": "mlp_backward: calls the course's mlp_backward",
        "cell": "mlp_backward",
        "old": "    grads = {}\n",
        "new": (
            "    from course.network import mlp_backward as ref\n\n"
            "    return ref(dout, caches)\n    grads = {}\n"
        ),
        "loses": ["test_mlp_backward"],
    },
    {
        "name": "numerical_gradient: forward instead of centred differences",
        "cell": "numerical_gradient",
        "old": (
            "x[i] = old - h\n        f_minus = f(x)\n        x[i] = old\n"
            "        grad[i] = (f_plus - f_minus) / (2 * h)"
        ),
        "new": "x[i] = old\n        f_minus = f(x)\n        grad[i] = (f_plus - f_minus) / h",
        "loses": ["test_numerical_gradient"],
    },
    {
        "name": "numerical_gradient: x not restored",
        "cell": "numerical_gradient",
        "old": "        x[i] = old\n        grad[i]",
        "new": "        grad[i]",
        "loses": ["test_numerical_gradient"],
    },
    {
        "name": "numerical_gradient: missing factor 2 in the denominator",
        "cell": "numerical_gradient",
        "old": "/ (2 * h)",
        "new": "/ h",
        "loses": ["test_numerical_gradient"],
    },
    {
        "name": "numerical_gradient: loops over the first axis only",
        "cell": "numerical_gradient",
        "old": "for i in np.ndindex(x.shape):",
        "new": "for i in range(len(x)):",
        "loses": ["test_numerical_gradient"],
    },
    {
        "name": "numerical_gradient: perturbs a copy, so f closing over x sees no change",
        "cell": "numerical_gradient",
        "old": "    for i in np.ndindex(x.shape):",
        "new": "    x = x.copy()\n    for i in np.ndindex(x.shape):",
        "loses": ["test_numerical_gradient"],
    },
    {
        "name": "sgd_step: gradient ascent",
        "cell": "sgd_step",
        "old": "p - lr * grads[key]",
        "new": "p + lr * grads[key]",
        "loses": ["test_sgd_step"],
    },
    {
        "name": "sgd_step: updates the input params in place",
        "cell": "sgd_step",
        "old": "return {key: p - lr * grads[key] for key, p in params.items()}",
        "new": "for key in params:\n        params[key] -= lr * grads[key]\n    return params",
        "loses": ["test_sgd_step"],
    },
    {
        "name": "sgd_step: shallow copy of the dict, arrays updated in place",
        "cell": "sgd_step",
        "old": "return {key: p - lr * grads[key] for key, p in params.items()}",
        "new": (
            "new = dict(params)\n    for key in new:\n"
            "        new[key] -= lr * grads[key]\n    return new"
        ),
        "loses": ["test_sgd_step"],
    },
    {
        "name": "worked example: dout = t - o (the slides' Err sign)",
        "cell": "worked_example_update",
        "old": "mlp_backward(a - t, caches)",
        "new": "mlp_backward(t - a, caches)",
        "loses": ["test_worked_example_update"],
    },
    {
        "name": "worked example: derivative of (t - o)^2 without the 1/2",
        "cell": "worked_example_update",
        "old": "mlp_backward(a - t, caches)",
        "new": "mlp_backward(2 * (a - t), caches)",
        "loses": ["test_worked_example_update"],
    },
    {
        "name": "worked example: W1 transposed, (2, 3) with rows per hidden unit",
        "cell": "worked_example_update",
        "old": '"W1": np.array([[0.2, -0.3], [0.4, 0.1], [-0.5, 0.2]])',
        "new": '"W1": np.array([[0.2, 0.4, -0.5], [-0.3, 0.1, 0.2]])',
        "loses": ["test_worked_example_update"],
    },
    {
        "name": "worked example: hard-coded slide numbers, ignores lr",
        "cell": "worked_example_update",
        "old": "    return sgd_step(params, grads, lr)",
        "new": "    return sgd_step(params, grads, 0.9)",
        "loses": ["test_worked_example_update"],
    },
    {
        "name": "worked example: b1 and b4/b5 swapped",
        "cell": "worked_example_update",
        "old": '"b1": np.array([-0.4, 0.2])',
        "new": '"b1": np.array([0.2, -0.4])',
        "loses": ["test_worked_example_update"],
    },
    {
        "name": "sgd_step: rebinds the input dict's keys and returns it",
        "cell": "sgd_step",
        "old": "return {key: p - lr * grads[key] for key, p in params.items()}",
        "new": (
            "for key in params:\n        params[key] = params[key] - lr * grads[key]\n"
            "    return params"
        ),
        "loses": ["test_sgd_step"],
    },
    {
        "name": "Q1: batch and stochastic swapped (c)",
        "cell": "answer_gd_type",
        "old": 'answer_gd_type = "a"',
        "new": 'answer_gd_type = "c"',
        "loses": ["test_answer_gd_type"],
    },
    {
        "name": "Q1: updates of one epoch, not of three (b)",
        "cell": "answer_gd_type",
        "old": 'answer_gd_type = "a"',
        "new": 'answer_gd_type = "b"',
        "loses": ["test_answer_gd_type"],
    },
    {
        "name": "Q2: Err is the gradient, so the slides ascend",
        "cell": "answer_err_sign",
        "old": 'answer_err_sign = "b"',
        "new": 'answer_err_sign = "a"',
        "loses": ["test_answer_err_sign"],
    },
    {
        "name": "Q2: the factor 2 the wrong way round (rate 2 eta)",
        "cell": "answer_err_sign",
        "old": 'answer_err_sign = "b"',
        "new": 'answer_err_sign = "c"',
        "loses": ["test_answer_err_sign"],
    },
    {
        "name": "Q3: the oscillating but converging rate",
        "cell": "answer_lr",
        "old": 'answer_lr = "c"',
        "new": 'answer_lr = "b"',
        "loses": ["test_answer_lr"],
    },
    {
        "name": "Q3: the smallest rate",
        "cell": "answer_lr",
        "old": 'answer_lr = "c"',
        "new": 'answer_lr = "a"',
        "loses": ["test_answer_lr"],
    },
]
