"""Plausible bugs in module 05's exercises; each must lose points to a hidden test."""

BUGS = [
    # ---- initializers
    {
        "name": "xavier_normal passes the variance instead of the standard deviation",
        "cell": "xavier_normal",
        "old": "std = gain * math.sqrt(2.0 / (fan_in + fan_out))",
        "new": "std = gain * 2.0 / (fan_in + fan_out)",
        "loses": ["test_xavier_normal"],
    },
    {
        "name": "xavier_normal uses LeCun's variance 1 / fan_in (the Part II slides' Xavier)",
        "cell": "xavier_normal",
        "old": "std = gain * math.sqrt(2.0 / (fan_in + fan_out))",
        "new": "std = gain * math.sqrt(1.0 / fan_in)",
        "loses": ["test_xavier_normal"],
    },
    {
        "name": "xavier_normal ignores the gain",
        "cell": "xavier_normal",
        "old": "std = gain * math.sqrt(2.0 / (fan_in + fan_out))",
        "new": "std = math.sqrt(2.0 / (fan_in + fan_out))",
        "loses": ["test_xavier_normal"],
    },
    {
        "name": "xavier_normal returns the transposed shape (fan_out, fan_in)",
        "cell": "xavier_normal",
        "old": "return rng.normal(0.0, std, size=(fan_in, fan_out))",
        "new": "return rng.normal(0.0, std, size=(fan_out, fan_in))",
        "loses": ["test_xavier_normal"],
    },
    {
        "name": "xavier_uniform uses the standard deviation as the bound (sqrt(3) missing)",
        "cell": "xavier_uniform",
        "old": "a = gain * math.sqrt(6.0 / (fan_in + fan_out))",
        "new": "a = gain * math.sqrt(2.0 / (fan_in + fan_out))",
        "loses": ["test_xavier_uniform"],
    },
    {
        "name": "xavier_uniform uses the mixed fan_in bound of the Neural Network Block slides",
        "cell": "xavier_uniform",
        "old": "a = gain * math.sqrt(6.0 / (fan_in + fan_out))",
        "new": "a = gain * math.sqrt(6.0 / fan_in)",
        "loses": ["test_xavier_uniform"],
    },
    {
        "name": "xavier_uniform makes an extra draw from rng before the weights",
        "cell": "xavier_uniform",
        "old": "return rng.uniform(-a, a, size=(fan_in, fan_out))",
        "new": "rng.random()\n    return rng.uniform(-a, a, size=(fan_in, fan_out))",
        "loses": ["test_xavier_uniform"],
    },
    {
        "name": "he_normal uses fan_out instead of fan_in",
        "cell": "he_normal",
        "old": "std = math.sqrt(2.0 / fan_in)",
        "new": "std = math.sqrt(2.0 / fan_out)",
        "loses": ["test_he_normal"],
    },
    {
        "name": "he_normal passes the variance 2 / fan_in as the standard deviation",
        "cell": "he_normal",
        "old": "std = math.sqrt(2.0 / fan_in)",
        "new": "std = 2.0 / fan_in",
        "loses": ["test_he_normal"],
    },
    {
        "name": "he_uniform uses the standard deviation as the bound",
        "cell": "he_uniform",
        "old": "a = math.sqrt(6.0 / fan_in)",
        "new": "a = math.sqrt(2.0 / fan_in)",
        "loses": ["test_he_uniform"],
    },
    {
        "name": "he_uniform uses fan_out instead of fan_in",
        "cell": "he_uniform",
        "old": "a = math.sqrt(6.0 / fan_in)",
        "new": "a = math.sqrt(6.0 / fan_out)",
        "loses": ["test_he_uniform"],
    },
    {
        "name": "he_uniform ignores the rng it is given",
        "cell": "he_uniform",
        "old": "rng = np.random.default_rng() if rng is None else rng",
        "new": "rng = np.random.default_rng()",
        "loses": ["test_he_uniform"],
    },
    {
        "name": "orthogonal skips the sign correction from R's diagonal",
        "cell": "orthogonal",
        "old": "Q = Q * np.sign(np.diag(R))",
        "new": "Q = Q",
        "loses": ["test_orthogonal"],
    },
    {
        "name": "orthogonal ignores the gain",
        "cell": "orthogonal",
        "old": "return gain * (Q.T if wide else Q)",
        "new": "return Q.T if wide else Q",
        "loses": ["test_orthogonal"],
    },
    {
        "name": "orthogonal does not handle wide matrices (fan_in < fan_out)",
        "cell": "orthogonal",
        "old": "wide = fan_in < fan_out",
        "new": "wide = False",
        "loses": ["test_orthogonal"],
    },
    # ---- batch normalization, forward
    {
        "name": "batchnorm running variance uses the biased batch variance",
        "cell": "batchnorm_forward",
        "old": "momentum * var * n / (n - 1)",
        "new": "momentum * var",
        "loses": ["test_batchnorm_forward_train"],
    },
    {
        "name": "batchnorm normalizes with the unbiased variance",
        "cell": "batchnorm_forward",
        "old": "var = x.var(axis=0)",
        "new": "var = x.var(axis=0, ddof=1)",
        "loses": ["test_batchnorm_forward_train"],
    },
    {
        "name": "batchnorm running statistics not updated in the caller's dict",
        "cell": "batchnorm_forward",
        "old": '        if running is not None:\n            running["mean"]',
        "new": (
            "        if running is not None:\n"
            "            running = dict(running)\n"
            '            running["mean"]'
        ),
        "loses": ["test_batchnorm_forward_train"],
    },
    {
        "name": "batchnorm momentum convention swapped (Keras style)",
        "cell": "batchnorm_forward",
        "old": 'running["mean"] = (1.0 - momentum) * running["mean"] + momentum * mean',
        "new": 'running["mean"] = momentum * running["mean"] + (1.0 - momentum) * mean',
        "loses": ["test_batchnorm_forward_train"],
    },
    {
        "name": "batchnorm eps added to the standard deviation instead of the variance",
        "cell": "batchnorm_forward",
        "old": "inv_std = 1.0 / np.sqrt(var + eps)",
        "new": "inv_std = 1.0 / (np.sqrt(var) + eps)",
        "loses": ["test_batchnorm_forward_train"],
    },
    {
        "name": "batchnorm centres the caller's x in place (x -= mean), which the docstring forbids",
        "cell": "batchnorm_forward",
        "old": "    x_hat = (x - mean) * inv_std",
        "new": "    x -= mean\n    x_hat = x * inv_std",
        "loses": ["test_batchnorm_forward_train"],
    },
    {
        "name": "batchnorm normalizes over the wrong axis (features instead of batch)",
        "cell": "batchnorm_forward",
        "old": "mean = x.mean(axis=0)\n        var = x.var(axis=0)",
        "new": "mean = x.mean(axis=1, keepdims=True)\n        var = x.var(axis=1, keepdims=True)",
        "loses": ["test_batchnorm_forward_train"],
    },
    {
        "name": "batchnorm inference mode uses the batch statistics",
        "cell": "batchnorm_forward",
        "old": "    if training:\n        n = x.shape[0]",
        "new": "    if True:\n        n = x.shape[0]",
        "loses": ["test_batchnorm_forward_eval"],
    },
    {
        "name": "batchnorm inference mode normalizes with batch stats and leaves running alone",
        "cell": "batchnorm_forward",
        "old": '        mean, var = running["mean"], running["var"]',
        "new": "        mean, var = x.mean(axis=0), x.var(axis=0)",
        "loses": ["test_batchnorm_forward_eval"],
    },
    {
        "name": "batchnorm updates the running statistics in inference mode too",
        "cell": "batchnorm_forward",
        "old": '        mean, var = running["mean"], running["var"]',
        "new": (
            '        mean, var = running["mean"], running["var"]\n'
            '        running["mean"] = (1.0 - momentum) * mean + momentum * x.mean(axis=0)'
        ),
        "loses": ["test_batchnorm_forward_eval"],
    },
    # ---- batch normalization, backward
    {
        "name": "batchnorm backward ignores the dependence of the batch statistics on x",
        "cell": "batchnorm_backward",
        "old": "    if not training:\n        return g * inv_std, dgamma, dbeta",
        "new": "    if True:\n        return g * inv_std, dgamma, dbeta",
        "loses": ["test_batchnorm_backward"],
    },
    {
        "name": "batchnorm backward drops the mean term of dx",
        "cell": "batchnorm_backward",
        "old": "(n * g - g.sum(axis=0) - x_hat",
        "new": "(n * g - x_hat",
        "loses": ["test_batchnorm_backward"],
    },
    {
        "name": "batchnorm backward uses the training formula in inference mode",
        "cell": "batchnorm_backward",
        "old": "    if not training:\n        return g * inv_std, dgamma, dbeta",
        "new": "",
        "loses": ["test_batchnorm_backward"],
    },
    {
        "name": "batchnorm backward forgets gamma in dx",
        "cell": "batchnorm_backward",
        "old": "g = dout * gamma",
        "new": "g = dout",
        "loses": ["test_batchnorm_backward"],
    },
    {
        "name": "batchnorm backward averages dgamma and dbeta instead of summing",
        "cell": "batchnorm_backward",
        "old": "dgamma = np.sum(dout * x_hat, axis=0)\n    dbeta = np.sum(dout, axis=0)",
        "new": "dgamma = np.mean(dout * x_hat, axis=0)\n    dbeta = np.mean(dout, axis=0)",
        "loses": ["test_batchnorm_backward"],
    },
    # ---- gradient clipping
    {
        "name": "clip_grad_norm clips each array separately instead of by the global norm",
        "cell": "clip_grad_norm",
        "old": "clipped = {k: np.asarray(g, dtype=float) * coef for k, g in grads.items()}",
        "new": (
            "clipped = {k: g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6))"
            " for k, g in grads.items()}"
        ),
        "loses": ["test_clip_grad_norm"],
    },
    {
        "name": "clip_grad_norm modifies its input in place",
        "cell": "clip_grad_norm",
        "old": "clipped = {k: np.asarray(g, dtype=float) * coef for k, g in grads.items()}",
        "new": "for g in grads.values():\n        g *= coef\n    clipped = dict(grads)",
        "loses": ["test_clip_grad_norm"],
    },
    {
        "name": "clip_grad_norm also scales gradients up (no min with 1)",
        "cell": "clip_grad_norm",
        "old": "coef = min(1.0, max_norm / (total_norm + 1e-6))",
        "new": "coef = max_norm / (total_norm + 1e-6)",
        "loses": ["test_clip_grad_norm"],
    },
    {
        "name": "clip_grad_norm returns the squared norm",
        "cell": "clip_grad_norm",
        "old": "total_norm = math.sqrt(sum(float(np.sum(np.square(g))) for g in grads.values()))",
        "new": (
            "total_norm = math.sqrt(sum(float(np.sum(np.square(g))) for g in grads.values()))\n"
            "    coef = min(1.0, max_norm / (total_norm + 1e-6))\n"
            "    total_norm = total_norm**2"
        ),
        "loses": ["test_clip_grad_norm"],
    },
    {
        "name": "clip_grad_norm returns the input arrays when no clipping is needed",
        "cell": "clip_grad_norm",
        "old": "clipped = {k: np.asarray(g, dtype=float) * coef for k, g in grads.items()}",
        "new": "clipped = {k: g * coef if coef < 1.0 else g for k, g in grads.items()}",
        "loses": ["test_clip_grad_norm"],
    },
    # ---- questions
    {
        "name": "Q1: Xavier's uniform bound chosen for a ReLU layer",
        "cell": "answer_q1",
        "old": 'answer_q1 = "c"',
        "new": 'answer_q1 = "a"',
        "loses": ["test_answer_q1"],
    },
    {
        "name": "Q1: He's standard deviation used as the uniform bound",
        "cell": "answer_q1",
        "old": 'answer_q1 = "c"',
        "new": 'answer_q1 = "b"',
        "loses": ["test_answer_q1"],
    },
    {
        "name": "Q2: plain He for leaky ReLU (the kept negative half ignored)",
        "cell": "answer_q2",
        "old": 'answer_q2 = "a"',
        "new": 'answer_q2 = "b"',
        "loses": ["test_answer_q2"],
    },
    {
        "name": "Q3: ReLU's halving of the mean square forgotten",
        "cell": "answer_q3",
        "old": 'answer_q3 = "d"',
        "new": 'answer_q3 = "c"',
        "loses": ["test_answer_q3"],
    },
    {
        "name": "Xavier uniform bound given as the standard deviation sqrt(2 / (n_in + n_out))",
        "cell": "q_xavier_bound",
        "old": "answer_xavier_bound = math.sqrt(6 / (_n_in + _n_out))",
        "new": "answer_xavier_bound = math.sqrt(2 / (_n_in + _n_out))",
        "loses": ["test_q_xavier_bound"],
    },
    {
        "name": "Xavier uniform bound with He's variance (fan-in only, 6 / n_in)",
        "cell": "q_xavier_bound",
        "old": "answer_xavier_bound = math.sqrt(6 / (_n_in + _n_out))",
        "new": "answer_xavier_bound = math.sqrt(6 / _n_in)",
        "loses": ["test_q_xavier_bound"],
    },
    {
        "name": "Xavier uniform bound with LeCun's variance (3 / n_in)",
        "cell": "q_xavier_bound",
        "old": "answer_xavier_bound = math.sqrt(6 / (_n_in + _n_out))",
        "new": "answer_xavier_bound = math.sqrt(3 / _n_in)",
        "loses": ["test_q_xavier_bound"],
    },
    {
        "name": "Xavier uniform bound without the square root",
        "cell": "q_xavier_bound",
        "old": "answer_xavier_bound = math.sqrt(6 / (_n_in + _n_out))",
        "new": "answer_xavier_bound = 6 / (_n_in + _n_out)",
        "loses": ["test_q_xavier_bound"],
    },
    {
        "name": "Xavier uniform bound worked out for another student's id",
        "cell": "q_xavier_bound",
        "old": 'variant_seed(STUDENT_ID, "05-initialization", "q_xavier_bound")',
        "new": 'variant_seed("alice", "05-initialization", "q_xavier_bound")',
        "loses": ["test_q_xavier_bound"],
    },
]
