"""Plausible bugs in module 06's exercises; each must lose points to a hidden test."""

BUGS = [
    # ---- l1_penalty
    {
        "name": "l1_penalty penalizes the biases too",
        "cell": "l1_penalty",
        "old": 'if key.startswith("W"):',
        "new": 'if key.startswith(("W", "b")):',
        "loses": ["test_l1_penalty"],
    },
    {
        "name": "l1_penalty gradient has the wrong sign",
        "cell": "l1_penalty",
        "old": "grads[key] = lam * np.sign(p)",
        "new": "grads[key] = -lam * np.sign(p)",
        "loses": ["test_l1_penalty"],
    },
    {
        "name": "l1_penalty sums W instead of |W|",
        "cell": "l1_penalty",
        "old": "value += lam * float(np.sum(np.abs(p)))",
        "new": "value += lam * float(np.sum(p))",
        "loses": ["test_l1_penalty"],
    },
    {
        "name": "l1_penalty gradient W / |W| is NaN at W = 0",
        "cell": "l1_penalty",
        "old": "grads[key] = lam * np.sign(p)",
        "new": "grads[key] = lam * p / np.abs(p)",
        "loses": ["test_l1_penalty"],
    },
    {
        "name": "l1_penalty gradient treats sign(0) as +1",
        "cell": "l1_penalty",
        "old": "grads[key] = lam * np.sign(p)",
        "new": "grads[key] = lam * np.where(p >= 0, 1.0, -1.0)",
        "loses": ["test_l1_penalty"],
    },
    {
        "name": "l1_penalty leaves the bias keys out of grads",
        "cell": "l1_penalty",
        "old": "        else:\n            grads[key] = np.zeros_like(p)",
        "new": "        else:\n            pass",
        "loses": ["test_l1_penalty"],
    },
    # ---- l2_penalty
    {
        "name": "l2_penalty gradient misses the factor 2",
        "cell": "l2_penalty",
        "old": "grads[key] = 2.0 * lam * p",
        "new": "grads[key] = lam * p",
        "loses": ["test_l2_penalty"],
    },
    {
        "name": "l2_penalty penalizes the biases too",
        "cell": "l2_penalty",
        "old": 'if key.startswith("W"):',
        "new": 'if key.startswith(("W", "b")):',
        "loses": ["test_l2_penalty"],
    },
    {
        "name": "l2_penalty value uses the lam / 2 convention",
        "cell": "l2_penalty",
        "old": "value += lam * float(np.sum(p * p))",
        "new": "value += 0.5 * lam * float(np.sum(p * p))",
        "loses": ["test_l2_penalty"],
    },
    {
        "name": "l2_penalty value is the norm, not the squared norm",
        "cell": "l2_penalty",
        "old": "value += lam * float(np.sum(p * p))",
        "new": "value += lam * float(np.sqrt(np.sum(p * p)))",
        "loses": ["test_l2_penalty"],
    },
    # ---- dropout_forward
    {
        "name": "dropout_forward uses rate as the keep probability",
        "cell": "dropout_forward",
        "old": "mask = rng.random(x.shape) >= rate",
        "new": "mask = rng.random(x.shape) < rate",
        "loses": ["test_dropout_forward"],
    },
    {
        "name": "dropout_forward does not scale at training time",
        "cell": "dropout_forward",
        "old": "scale = np.asarray(mask, dtype=float) / (1.0 - rate)",
        "new": "scale = np.asarray(mask, dtype=float)",
        "loses": ["test_dropout_forward"],
    },
    {
        "name": "dropout_forward also scales at test time (classic and inverted mixed)",
        "cell": "dropout_forward",
        "old": "        return x, None",
        "new": "        return x * (1.0 - rate), None",
        "loses": ["test_dropout_forward"],
    },
    {
        "name": "dropout_forward scales by 1 / rate instead of 1 / (1 - rate)",
        "cell": "dropout_forward",
        "old": "scale = np.asarray(mask, dtype=float) / (1.0 - rate)",
        "new": "scale = np.asarray(mask, dtype=float) / rate",
        "loses": ["test_dropout_forward"],
    },
    {
        "name": "dropout_forward caches a fresh mask, not the one it applied",
        "cell": "dropout_forward",
        "old": "return x * scale, scale",
        "new": "return x * scale, (rng.random(x.shape) >= rate) / (1.0 - rate)",
        "loses": ["test_dropout_forward"],
    },
    {
        "name": "dropout_forward caches the unscaled mask",
        "cell": "dropout_forward",
        "old": "return x * scale, scale",
        "new": "return x * scale, np.asarray(mask, dtype=float)",
        "loses": ["test_dropout_forward"],
    },
    {
        "name": "dropout_forward ignores a given mask",
        "cell": "dropout_forward",
        "old": "    if mask is None:\n        mask = rng.random(x.shape) >= rate",
        "new": "    mask = rng.random(x.shape) >= rate",
        "loses": ["test_dropout_forward"],
    },
    {
        "name": "dropout_forward draws keep = random < 1 - rate (not the documented draw)",
        "cell": "dropout_forward",
        "old": "mask = rng.random(x.shape) >= rate",
        "new": "mask = rng.random(x.shape) < 1.0 - rate",
        "loses": ["test_dropout_forward"],
    },
    # ---- dropout_backward
    {
        "name": "dropout_backward ignores the mask",
        "cell": "dropout_backward",
        "old": "return dout * cache",
        "new": "return dout",
        "loses": ["test_dropout_backward"],
    },
    {
        "name": "dropout_backward uses the mask without the 1 / (1 - rate) scaling",
        "cell": "dropout_backward",
        "old": "return dout * cache",
        "new": "return dout * (cache > 0)",
        "loses": ["test_dropout_backward"],
    },
    {
        "name": "dropout_backward fails on the identity's None cache",
        "cell": "dropout_backward",
        "old": "    if cache is None:\n        return dout\n",
        "new": "",
        "loses": ["test_dropout_backward"],
    },
    # ---- questions
    {
        "name": "dropout question: keep probability used as rate",
        "cell": "q_dropout_convention",
        "old": 'answer_dropout = "d"',
        "new": 'answer_dropout = "a"',
        "loses": ["test_q_dropout_convention"],
    },
    {
        "name": "dropout question: the slides' classic dropout numbers, not what dropout_forward does",
        "cell": "q_dropout_convention",
        "old": 'answer_dropout = "d"',
        "new": 'answer_dropout = "b"',
        "loses": ["test_q_dropout_convention"],
    },
    {
        "name": "dropout question: inverted and classic scaling both applied",
        "cell": "q_dropout_convention",
        "old": 'answer_dropout = "d"',
        "new": 'answer_dropout = "c"',
        "loses": ["test_q_dropout_convention"],
    },
    {
        "name": "weight-decay question: factor 2 forgotten",
        "cell": "q_weight_decay",
        "old": 'answer_weight_decay = "c"',
        "new": 'answer_weight_decay = "a"',
        "loses": ["test_q_weight_decay"],
    },
    {
        "name": "weight-decay question: lam / 2 convention",
        "cell": "q_weight_decay",
        "old": 'answer_weight_decay = "c"',
        "new": 'answer_weight_decay = "b"',
        "loses": ["test_q_weight_decay"],
    },
    {
        "name": "weight-decay question: decoupled AdamW taken for SGD on the L2-penalized loss",
        "cell": "q_weight_decay",
        "old": 'answer_weight_decay = "c"',
        "new": 'answer_weight_decay = "d"',
        "loses": ["test_q_weight_decay"],
    },
    # ---- should_stop
    {
        "name": "should_stop off by one in patience (> instead of >=)",
        "cell": "should_stop",
        "old": "return n_bad_epochs >= patience",
        "new": "return n_bad_epochs > patience",
        "loses": ["test_should_stop"],
    },
    {
        "name": "should_stop ignores min_delta",
        "cell": "should_stop",
        "old": "if loss < best - min_delta:",
        "new": "if loss < best:",
        "loses": ["test_should_stop"],
    },
    {
        "name": "should_stop counts a tie as an improvement",
        "cell": "should_stop",
        "old": "if loss < best - min_delta:",
        "new": "if loss <= best - min_delta:",
        "loses": ["test_should_stop"],
    },
    {
        "name": "should_stop counts a tie as an improvement (best - loss >= min_delta)",
        "cell": "should_stop",
        "old": "if loss < best - min_delta:",
        "new": "if best - loss >= min_delta:",
        "loses": ["test_should_stop"],
    },
    {
        "name": "should_stop compares with the previous epoch instead of the best",
        "cell": "should_stop",
        "old": "            best = loss\n            n_bad_epochs = 0\n        else:\n            n_bad_epochs += 1",
        "new": "            n_bad_epochs = 0\n        else:\n            n_bad_epochs += 1\n        best = loss",
        "loses": ["test_should_stop"],
    },
    {
        "name": "should_stop adds min_delta on the wrong side",
        "cell": "should_stop",
        "old": "if loss < best - min_delta:",
        "new": "if loss < best + min_delta:",
        "loses": ["test_should_stop"],
    },
    {
        "name": "should_stop lowers best on epochs that do not improve by min_delta",
        "cell": "should_stop",
        "old": "        else:\n            n_bad_epochs += 1",
        "new": "        else:\n            best = min(best, loss)\n            n_bad_epochs += 1",
        "loses": ["test_should_stop"],
    },
    {
        "name": "should_stop never resets the counter after an improvement",
        "cell": "should_stop",
        "old": "            best = loss\n            n_bad_epochs = 0",
        "new": "            best = loss",
        "loses": ["test_should_stop"],
    },
    # ---- kfold_score
    {
        "name": "kfold_score does not shuffle",
        "cell": "kfold_score",
        "old": "KFold(n_splits=n_splits, shuffle=True, random_state=seed)",
        "new": "KFold(n_splits=n_splits)",
        "loses": ["test_kfold_score"],
    },
    {
        "name": "kfold_score uses StratifiedKFold",
        "cell": "kfold_score",
        "old": (
            "splitter = KFold(n_splits=n_splits, shuffle=True, random_state=seed)\n"
            "    scores = []\n"
            "    for train_idx, val_idx in splitter.split(X):"
        ),
        "new": (
            "from sklearn.model_selection import StratifiedKFold\n"
            "    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)\n"
            "    scores = []\n"
            "    for train_idx, val_idx in splitter.split(X, y):"
        ),
        "loses": ["test_kfold_score"],
    },
    {
        "name": "kfold_score ignores rng and shuffles with a fixed seed",
        "cell": "kfold_score",
        "old": "KFold(n_splits=n_splits, shuffle=True, random_state=seed)",
        "new": "KFold(n_splits=n_splits, shuffle=True, random_state=0)",
        "loses": ["test_kfold_score"],
    },
    {
        "name": "kfold_score draws its seed from a different range",
        "cell": "kfold_score",
        "old": "seed = int(rng.integers(2**31 - 1))",
        "new": "seed = int(rng.integers(2**32 - 1))",
        "loses": ["test_kfold_score"],
    },
    {
        "name": "kfold_score reuses one model for every fold",
        "cell": "kfold_score",
        "old": "    for train_idx, val_idx in splitter.split(X):\n        model = make_model()\n",
        "new": "    model = make_model()\n    for train_idx, val_idx in splitter.split(X):\n",
        "loses": ["test_kfold_score"],
    },
    {
        "name": "kfold_score returns the mean instead of the per-fold scores",
        "cell": "kfold_score",
        "old": "return np.array(scores, dtype=float)",
        "new": "return float(np.mean(scores))",
        "loses": ["test_kfold_score"],
    },
    {
        "name": "kfold_score fits on the validation fold",
        "cell": "kfold_score",
        "old": "model.fit(X[train_idx], y[train_idx])",
        "new": "model.fit(X[val_idx], y[val_idx])",
        "loses": ["test_kfold_score"],
    },
    # ---- augment_digits
    {
        "name": "augment_digits wraps around with np.roll",
        "cell": "augment_digits",
        "old": (
            "        for i in range(8):\n"
            "            for j in range(8):\n"
            "                if 0 <= i - dy < 8 and 0 <= j - dx < 8:\n"
            "                    out[k, i, j] = images[k, i - dy, j - dx]\n"
        ),
        "new": "        out[k] = np.roll(images[k], (dy, dx), axis=(0, 1))\n",
        "loses": ["test_augment_digits"],
    },
    {
        "name": "augment_digits swaps rows and columns",
        "cell": "augment_digits",
        "old": "dy, dx = shifts[k]",
        "new": "dx, dy = shifts[k]",
        "loses": ["test_augment_digits"],
    },
    {
        "name": "augment_digits shifts in the opposite direction",
        "cell": "augment_digits",
        "old": "dy, dx = shifts[k]",
        "new": "dy, dx = -shifts[k]",
        "loses": ["test_augment_digits"],
    },
    {
        "name": "augment_digits draws the noise before the shifts",
        "cell": "augment_digits",
        "old": (
            "    shifts = rng.integers(-max_shift, max_shift + 1, size=(n, 2))\n"
            "    noise = rng.normal(0.0, noise_std, size=(n, 64))\n"
        ),
        "new": (
            "    noise = rng.normal(0.0, noise_std, size=(n, 64))\n"
            "    shifts = rng.integers(-max_shift, max_shift + 1, size=(n, 2))\n"
        ),
        "loses": ["test_augment_digits"],
    },
    {
        "name": "augment_digits does not clip",
        "cell": "augment_digits",
        "old": "return np.clip(out.reshape(n, 64) + noise, 0.0, 16.0)",
        "new": "return out.reshape(n, 64) + noise",
        "loses": ["test_augment_digits"],
    },
    {
        "name": "augment_digits clips before adding the noise",
        "cell": "augment_digits",
        "old": "return np.clip(out.reshape(n, 64) + noise, 0.0, 16.0)",
        "new": "return np.clip(out.reshape(n, 64), 0.0, 16.0) + noise",
        "loses": ["test_augment_digits"],
    },
    {
        "name": "augment_digits never shifts by +max_shift (exclusive upper bound)",
        "cell": "augment_digits",
        "old": "rng.integers(-max_shift, max_shift + 1, size=(n, 2))",
        "new": "rng.integers(-max_shift, max_shift, size=(n, 2))",
        "loses": ["test_augment_digits"],
    },
    {
        "name": "weight-decay step with the penalty's gradient lambda * w (the factor 2 dropped)",
        "cell": "q_decay_step",
        "old": "answer_decay_step = _w - _lr * (_g + 2 * _lam * _w)",
        "new": "answer_decay_step = _w - _lr * (_g + _lam * _w)",
        "loses": ["test_q_decay_step"],
    },
    {
        "name": "weight-decay step without the penalty",
        "cell": "q_decay_step",
        "old": "answer_decay_step = _w - _lr * (_g + 2 * _lam * _w)",
        "new": "answer_decay_step = _w - _lr * _g",
        "loses": ["test_q_decay_step"],
    },
    {
        "name": "weight-decay step along the gradient (ascent)",
        "cell": "q_decay_step",
        "old": "answer_decay_step = _w - _lr * (_g + 2 * _lam * _w)",
        "new": "answer_decay_step = _w + _lr * (_g + 2 * _lam * _w)",
        "loses": ["test_q_decay_step"],
    },
    {
        "name": "weight-decay step with the penalty's gradient subtracted (g - 2 lambda w)",
        "cell": "q_decay_step",
        "old": "answer_decay_step = _w - _lr * (_g + 2 * _lam * _w)",
        "new": "answer_decay_step = _w - _lr * (_g - 2 * _lam * _w)",
        "loses": ["test_q_decay_step"],
    },
    {
        "name": "weight-decay step worked out for another student's id",
        "cell": "q_decay_step",
        "old": 'variant_seed(STUDENT_ID, "06-regularization", "q_decay_step")',
        "new": 'variant_seed("alice", "06-regularization", "q_decay_step")',
        "loses": ["test_q_decay_step"],
    },
]
