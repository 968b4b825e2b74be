"""Plausible bugs in module 07's exercises; each must lose points to a hidden test."""

BUGS = [
    {
        # issue 20: a generator that yields nothing passed the checks written with zip(); an
        # epoch is now read with a cap and its batches counted first
        "name": "iterate_minibatches yields batches only while the visible test runs",
        "cell": "iterate_minibatches",
        "old": "for start in range(0, n, batch_size):",
        "new": "if len(X) != 10:\n        return\n    for start in range(0, n, batch_size):",
        "loses": ["test_iterate_minibatches"],
    },
    {
        "name": "iterate_minibatches never ends: it starts the epoch again",
        "cell": "iterate_minibatches",
        "old": "for start in range(0, n, batch_size):",
        "new": "import itertools\n\n    for start in itertools.cycle(range(0, n, batch_size)):",
        "loses": ["test_iterate_minibatches"],
    },
    {
        "name": "iterate_minibatches drops the last, partial batch",
        "cell": "iterate_minibatches",
        "old": "for start in range(0, n, batch_size):",
        "new": "for start in range(0, n - batch_size + 1, batch_size):",
        "loses": ["test_iterate_minibatches"],
    },
    {
        "name": "iterate_minibatches samples indices with replacement",
        "cell": "iterate_minibatches",
        "old": "order = rng.permutation(n)",
        "new": "order = rng.integers(0, n, size=n)",
        "loses": ["test_iterate_minibatches"],
    },
    {
        "name": "iterate_minibatches shuffles X and y with different permutations",
        "cell": "iterate_minibatches",
        "old": "order = rng.permutation(n)",
        "new": "X, y = rng.permutation(X), rng.permutation(y)\n        order = np.arange(n)",
        "loses": ["test_iterate_minibatches"],
    },
    {
        "name": "iterate_minibatches uses the global np.random instead of rng",
        "cell": "iterate_minibatches",
        "old": "order = rng.permutation(n)",
        "new": "order = np.random.permutation(n)",
        "loses": ["test_iterate_minibatches"],
    },
    {
        "name": "iterate_minibatches draws a new permutation for every batch",
        "cell": "iterate_minibatches",
        "old": "idx = order[start : start + batch_size]\n        yield",
        "new": (
            "idx = (rng.permutation(n) if shuffle else order)[start : start + batch_size]\n"
            "        yield"
        ),
        "loses": ["test_iterate_minibatches"],
    },
    {
        "name": "momentum dampened: velocity is an average, mu * b + (1 - mu) * g",
        "cell": "sgd_momentum_step",
        "old": "b = g.copy() if velocity is None else momentum * velocity + g",
        "new": "b = g.copy() if velocity is None else momentum * velocity + (1 - momentum) * g",
        "loses": ["test_sgd_momentum_step"],
    },
    {
        "name": "momentum starts from a zero velocity written as an average: b_1 = (1 - mu) g",
        "cell": "sgd_momentum_step",
        "old": "b = g.copy() if velocity is None else momentum * velocity + g",
        "new": "b = momentum * (0.0 if velocity is None else velocity) + (1 - momentum) * g",
        "loses": ["test_sgd_momentum_step"],
    },
    {
        "name": "momentum with the learning rate inside the velocity (Sutskever's form)",
        "cell": "sgd_momentum_step",
        "old": (
            "b = g.copy() if velocity is None else momentum * velocity + g\n"
            "    direction = g + momentum * b if nesterov else b\n"
            "    return p - lr * direction, b"
        ),
        "new": (
            "b = lr * g if velocity is None else momentum * velocity + lr * g\n"
            "    direction = lr * g + momentum * b if nesterov else b\n"
            "    return p - direction, b"
        ),
        "loses": ["test_sgd_momentum_step"],
    },
    {
        "name": "Nesterov ignored: the step direction is always the velocity",
        "cell": "sgd_momentum_step",
        "old": "direction = g + momentum * b if nesterov else b",
        "new": "direction = b",
        "loses": ["test_sgd_momentum_step"],
    },
    {
        "name": "Nesterov steps with the velocity passed in instead of this step's (g + mu * b_{t-1})",
        "cell": "sgd_momentum_step",
        "old": "direction = g + momentum * b if nesterov else b",
        "new": "direction = g + momentum * (b if velocity is None else velocity) if nesterov else b",
        "loses": ["test_sgd_momentum_step"],
    },
    {
        "name": "momentum step updates p in place",
        "cell": "sgd_momentum_step",
        "old": "return p - lr * direction, b",
        "new": "p -= lr * direction\n    return p, b",
        "loses": ["test_sgd_momentum_step"],
    },
    {
        "name": "Adagrad keeps a running average instead of a sum",
        "cell": "adagrad_step",
        "old": "s = sum_sq + g * g",
        "new": "s = 0.9 * sum_sq + 0.1 * g * g",
        "loses": ["test_adagrad_step"],
    },
    {
        "name": "Adagrad with eps inside the square root",
        "cell": "adagrad_step",
        "old": "np.sqrt(s) + eps",
        "new": "np.sqrt(s + eps)",
        "loses": ["test_adagrad_step"],
    },
    {
        "name": "Adagrad without eps (0/0 for a zero gradient)",
        "cell": "adagrad_step",
        "old": "np.sqrt(s) + eps",
        "new": "np.sqrt(s)",
        "loses": ["test_adagrad_step"],
    },
    {
        "name": "RMSprop sums the squared gradients",
        "cell": "rmsprop_step",
        "old": "v = alpha * square_avg + (1.0 - alpha) * g * g",
        "new": "v = square_avg + g * g",
        "loses": ["test_rmsprop_step"],
    },
    {
        "name": "RMSprop with alpha and 1 - alpha swapped",
        "cell": "rmsprop_step",
        "old": "v = alpha * square_avg + (1.0 - alpha) * g * g",
        "new": "v = (1.0 - alpha) * square_avg + alpha * g * g",
        "loses": ["test_rmsprop_step"],
    },
    {
        "name": "RMSprop with eps inside the square root",
        "cell": "rmsprop_step",
        "old": "np.sqrt(v) + eps",
        "new": "np.sqrt(v + eps)",
        "loses": ["test_rmsprop_step"],
    },
    {
        "name": "Adam without bias correction",
        "cell": "adam_step",
        "old": "m_hat = m / (1.0 - beta1**t)\n    v_hat = v / (1.0 - beta2**t)",
        "new": "m_hat = m\n    v_hat = v",
        "loses": ["test_adam_step"],
    },
    {
        "name": "Adam corrects only the first moment",
        "cell": "adam_step",
        "old": "v_hat = v / (1.0 - beta2**t)",
        "new": "v_hat = v",
        "loses": ["test_adam_step"],
    },
    {
        "name": "Adam with eps inside the square root",
        "cell": "adam_step",
        "old": "np.sqrt(v_hat) + eps",
        "new": "np.sqrt(v_hat + eps)",
        "loses": ["test_adam_step"],
    },
    {
        "name": "Adam's bias correction off by one step (t + 1)",
        "cell": "adam_step",
        "old": "m_hat = m / (1.0 - beta1**t)\n    v_hat = v / (1.0 - beta2**t)",
        "new": "m_hat = m / (1.0 - beta1 ** (t + 1))\n    v_hat = v / (1.0 - beta2 ** (t + 1))",
        "loses": ["test_adam_step"],
    },
    {
        "name": "Adam returns the bias-corrected moments as its state",
        "cell": "adam_step",
        "old": "return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v",
        "new": "return p - lr * m_hat / (np.sqrt(v_hat) + eps), m_hat, v_hat",
        "loses": ["test_adam_step"],
    },
    {
        "name": "iterations counted without the last partial batch (floor)",
        "cell": "q_iterations",
        "old": "answer_iterations = math.ceil(_n_samples / _batch_size) * _n_epochs",
        "new": "answer_iterations = (_n_samples // _batch_size) * _n_epochs",
        "loses": ["test_q_iterations"],
    },
    {
        "name": "iterations of one epoch only (n_epochs forgotten)",
        "cell": "q_iterations",
        "old": "answer_iterations = math.ceil(_n_samples / _batch_size) * _n_epochs",
        "new": "answer_iterations = math.ceil(_n_samples / _batch_size)",
        "loses": ["test_q_iterations"],
    },
    {
        "name": "iterations worked out for another student's id",
        "cell": "q_iterations",
        "old": 'variant_seed(STUDENT_ID, "07-optimizers", "q_iterations")',
        "new": 'variant_seed("alice", "07-optimizers", "q_iterations")',
        "loses": ["test_q_iterations"],
    },
    {
        "name": "Adam's second step taken without bias correction",
        "cell": "q_adam_second_step",
        "old": 'answer_adam_second_step = "a"',
        "new": 'answer_adam_second_step = "d"',
        "loses": ["test_q_adam_second_step"],
    },
    {
        "name": "Adam's momentum forgotten: a zero gradient taken to mean no step",
        "cell": "q_adam_second_step",
        "old": 'answer_adam_second_step = "a"',
        "new": 'answer_adam_second_step = "b"',
        "loses": ["test_q_adam_second_step"],
    },
    {
        "name": "iterate_minibatches converts X to float64",
        "cell": "iterate_minibatches",
        "old": "    n = len(X)\n",
        "new": "    X = np.asarray(X, dtype=np.float64)\n    n = len(X)\n",
        "loses": ["test_iterate_minibatches"],
    },
    {
        "name": "momentum step that updates a copy of p in place (fails for integer p)",
        "cell": "sgd_momentum_step",
        "old": "return p - lr * direction, b",
        "new": "new_p = np.array(p, copy=True)\n    new_p -= lr * direction\n    return new_p, b",
        "loses": ["test_sgd_momentum_step"],
    },
    {
        "name": "warm-up from 0: lr0 * step / warmup_steps (the first update does not move)",
        "cell": "warmup_cosine",
        "old": "return lr0 * (step + 1) / warmup_steps",
        "new": "return lr0 * step / warmup_steps",
        "loses": ["test_warmup_cosine"],
    },
    {
        "name": "warm-up boundary off by one: step <= warmup_steps (the rate overshoots lr0)",
        "cell": "warmup_cosine",
        "old": "if step < warmup_steps:",
        "new": "if step <= warmup_steps:",
        "loses": ["test_warmup_cosine"],
    },
    {
        "name": "cosine from lr0 to 0, lr_min ignored",
        "cell": "warmup_cosine",
        "old": "return lr_min + 0.5 * (lr0 - lr_min) * (1.0 + math.cos(math.pi * progress))",
        "new": "return 0.5 * lr0 * (1.0 + math.cos(math.pi * progress))",
        "loses": ["test_warmup_cosine"],
    },
    {
        "name": "cosine over all n_steps instead of the n_steps - warmup_steps after the warm-up",
        "cell": "warmup_cosine",
        "old": "progress = (step - warmup_steps) / (n_steps - warmup_steps)",
        "new": "progress = step / n_steps",
        "loses": ["test_warmup_cosine"],
    },
    {
        "name": "cosine with lr_min added on top: lr_min + 0.5 * lr0 * (1 + cos)",
        "cell": "warmup_cosine",
        "old": "return lr_min + 0.5 * (lr0 - lr_min) * (1.0 + math.cos(math.pi * progress))",
        "new": "return lr_min + 0.5 * lr0 * (1.0 + math.cos(math.pi * progress))",
        "loses": ["test_warmup_cosine"],
    },
    {
        "name": "schedule loop: the rate set after the update (each update uses the previous rate)",
        "cell": "train_with_schedule",
        "old": (
            "            optimizer.lr = optimizers.warmup_cosine(lr0, step, n_steps, warmup_steps, lr_min)\n"
            "            optimizer.step(params, grads)\n"
        ),
        "new": (
            "            optimizer.step(params, grads)\n"
            "            optimizer.lr = optimizers.warmup_cosine(lr0, step, n_steps, warmup_steps, lr_min)\n"
        ),
        "loses": ["test_train_with_schedule"],
    },
    {
        "name": "schedule loop: the update counter restarts every epoch",
        "cell": "train_with_schedule",
        "old": "        order = rng.permutation(len(X))\n",
        "new": "        order = rng.permutation(len(X))\n        step = 0\n",
        "loses": ["test_train_with_schedule"],
    },
    {
        "name": "schedule loop: the length of an epoch counted without its last, smaller batch",
        "cell": "train_with_schedule",
        "old": "n_steps = n_epochs * math.ceil(len(X) / batch_size)",
        "new": "n_steps = n_epochs * (len(X) // batch_size)",
        "loses": ["test_train_with_schedule"],
    },
    {
        "name": "schedule loop: a new Adam every epoch (its state and bias correction restart)",
        "cell": "train_with_schedule",
        "old": "        order = rng.permutation(len(X))\n",
        "new": "        order = rng.permutation(len(X))\n        optimizer = optimizers.Adam(lr=lr0)\n",
        "loses": ["test_train_with_schedule"],
    },
    {
        "name": "schedule loop: the schedule stepped per epoch (one rate for a whole epoch)",
        "cell": "train_with_schedule",
        "old": "optimizers.warmup_cosine(lr0, step, n_steps, warmup_steps, lr_min)",
        "new": "optimizers.warmup_cosine(lr0, step // math.ceil(len(X) / batch_size), n_steps, warmup_steps, lr_min)",
        "loses": ["test_train_with_schedule"],
    },
    {
        "name": "schedule loop: trains the arrays of params in place (params is read-only)",
        "cell": "train_with_schedule",
        "old": "params = {key: np.array(p, dtype=float) for key, p in params.items()}",
        "new": "params = dict(params)",
        "loses": ["test_train_with_schedule"],
    },
    {
        "name": "schedule loop: records the rate of the schedule one step ahead",
        "cell": "train_with_schedule",
        "old": 'history["lr"].append(float(optimizer.lr))',
        "new": 'history["lr"].append(optimizers.warmup_cosine(lr0, step + 1, n_steps, warmup_steps, lr_min))',
        "loses": ["test_train_with_schedule"],
    },
    {
        "name": "warm-up in epochs taken to shrink with a larger batch (updates see more samples)",
        "cell": "q_schedule_units",
        "old": 'answer_schedule_units = "b"',
        "new": 'answer_schedule_units = "c"',
        "loses": ["test_q_schedule_units"],
    },
    {
        "name": "a schedule counted in updates taken to last the same number of epochs",
        "cell": "q_schedule_units",
        "old": 'answer_schedule_units = "b"',
        "new": 'answer_schedule_units = "a"',
        "loses": ["test_q_schedule_units"],
    },
]
