"""Plausible bugs in module 02's exercises; each must lose points to a hidden test."""

BUGS = [
    # count_parameters
    {
        "name": "count_parameters forgets the biases",
        "cell": "count_parameters",
        "old": "n_in * n_out + n_out for",
        "new": "n_in * n_out for",
        "loses": ["test_count_parameters"],
    },
    {
        "name": "count_parameters counts one bias per input instead of per output unit",
        "cell": "count_parameters",
        "old": "n_in * n_out + n_out for",
        "new": "n_in * n_out + n_in for",
        "loses": ["test_count_parameters"],
    },
    # dense_forward
    {
        "name": "dense_forward with transposed weights (x @ W.T)",
        "cell": "dense_forward",
        "old": "out = x @ W + b",
        "new": "out = x @ W.T + b",
        "loses": ["test_dense_forward"],
    },
    {
        "name": "dense_forward forgets the bias",
        "cell": "dense_forward",
        "old": "out = x @ W + b",
        "new": "out = x @ W",
        "loses": ["test_dense_forward"],
    },
    {
        "name": "dense_forward caches the output instead of the input",
        "cell": "dense_forward",
        "old": "return out, (x, W, b)",
        "new": "return out, (out, W, b)",
        "loses": ["test_dense_forward"],
    },
    # mlp_forward
    {
        "name": "mlp_forward applies the hidden activation on the output layer too",
        "cell": "mlp_forward",
        "old": "name = activation if l < L else output_activation",
        "new": "name = activation",
        "loses": ["test_mlp_forward"],
    },
    {
        "name": "mlp_forward forgets the hidden activation",
        "cell": "mlp_forward",
        "old": "name = activation if l < L else output_activation",
        "new": 'name = output_activation if l == L else "identity"',
        "loses": ["test_mlp_forward"],
    },
    {
        "name": "mlp_forward with transposed weights",
        "cell": "mlp_forward",
        "old": 'dense_forward(a, params[f"W{l}"], params[f"b{l}"])',
        "new": 'dense_forward(a, params[f"W{l}"].T, params[f"b{l}"])',
        "loses": ["test_mlp_forward"],
    },
    {
        "name": "mlp_forward skips the last layer (off by one)",
        "cell": "mlp_forward",
        "old": "for l in range(1, L + 1):",
        "new": "for l in range(1, L):",
        "loses": ["test_mlp_forward"],
    },
    {
        "name": "mlp_forward counts every key of params as a layer",
        "cell": "mlp_forward",
        "old": 'L = sum(1 for key in params if key.startswith("W"))',
        "new": "L = len(params)",
        "loses": ["test_mlp_forward"],
    },
    # predict_binary
    {
        "name": "predict_binary uses p > threshold instead of p >= threshold",
        "cell": "predict_binary",
        "old": "(p >= threshold)",
        "new": "(p > threshold)",
        "loses": ["test_predict_binary"],
    },
    {
        "name": "predict_binary ignores the threshold argument",
        "cell": "predict_binary",
        "old": "(p >= threshold)",
        "new": "(p >= 0.5)",
        "loses": ["test_predict_binary"],
    },
    {
        "name": "predict_binary keeps the (N, 1) shape",
        "cell": "predict_binary",
        "old": "p = np.asarray(p, dtype=float).reshape(len(p), -1)[:, 0]",
        "new": "p = np.asarray(p, dtype=float)",
        "loses": ["test_predict_binary"],
    },
    # predict_multiclass
    {
        "name": "predict_multiclass takes the argmax over the batch (axis 0)",
        "cell": "predict_multiclass",
        "old": "axis=1",
        "new": "axis=0",
        "loses": ["test_predict_multiclass"],
    },
    {
        "name": "predict_multiclass takes the argmax of the flattened array",
        "cell": "predict_multiclass",
        "old": "np.argmax(np.asarray(p), axis=1)",
        "new": "np.argmax(np.asarray(p))",
        "loses": ["test_predict_multiclass"],
    },
    {
        "name": "predict_multiclass returns the largest probability instead of its index",
        "cell": "predict_multiclass",
        "old": "np.argmax(np.asarray(p), axis=1)",
        "new": "np.max(np.asarray(p), axis=1)",
        "loses": ["test_predict_multiclass"],
    },
    # xor_params
    {
        "name": "xor_params without the hidden bias that separates (1, 1)",
        "cell": "xor_params",
        "old": '"b1": np.array([0.0, -1.0])',
        "new": '"b1": np.array([0.0, 0.0])',
        "loses": ["test_xor_params"],
    },
    {
        "name": "xor_params with the wrong sign on the second hidden unit's output weight",
        "cell": "xor_params",
        "old": '"W2": np.array([[1.0], [-2.0]])',
        "new": '"W2": np.array([[1.0], [2.0]])',
        "loses": ["test_xor_params"],
    },
    {
        "name": "xor_params with W2 as a row, shape (1, 2)",
        "cell": "xor_params",
        "old": '"W2": np.array([[1.0], [-2.0]])',
        "new": '"W2": np.array([[1.0, -2.0]])',
        "loses": ["test_xor_params"],
    },
    # questions
    {
        "name": "question 1: forgets the biases (counts only the extra weights)",
        "cell": "answer_q1",
        "old": 'answer_q1 = "d"',
        "new": 'answer_q1 = "b"',
        "loses": ["test_answer_q1"],
    },
    {
        "name": "question 1: assumes the parameter count doubles with the hidden widths",
        "cell": "answer_q1",
        "old": 'answer_q1 = "d"',
        "new": 'answer_q1 = "a"',
        "loses": ["test_answer_q1"],
    },
    {
        "name": "question 2: shapes transposed (features first instead of batch first)",
        "cell": "answer_q2",
        "old": 'answer_q2 = "a"',
        "new": 'answer_q2 = "c"',
        "loses": ["test_answer_q2"],
    },
    {
        "name": "question 2: the second layer's z taken with the first layer's width",
        "cell": "answer_q2",
        "old": 'answer_q2 = "a"',
        "new": 'answer_q2 = "b"',
        "loses": ["test_answer_q2"],
    },
]
