"""Correct solutions of module 06's exercises, unlike the reference: each gets full marks."""

LOOPS = {
    "name": "loops everywhere, best - loss > min_delta, manual fold loop, np.pad-free pixel loops",
    "cells": {
        "l1_penalty": '''def l1_penalty(params, lam):
    """L1 penalty and its gradient, entry by entry."""
    value = 0.0
    grads = {}
    for name in params:
        p = np.asarray(params[name], dtype=float)
        g = np.zeros(p.shape)
        if name[0] == "W":
            for idx in np.ndindex(p.shape):
                value += lam * abs(p[idx])
                if p[idx] > 0:
                    g[idx] = lam
                elif p[idx] < 0:
                    g[idx] = -lam
        grads[name] = g
    return value, grads
''',
        "l2_penalty": '''def l2_penalty(params, lam):
    """L2 penalty and its gradient, entry by entry."""
    value = 0.0
    grads = {}
    for name in params:
        p = np.asarray(params[name], dtype=float)
        g = np.zeros(p.shape)
        if name[0] == "W":
            for idx in np.ndindex(p.shape):
                value += lam * p[idx] ** 2
                g[idx] = 2 * lam * p[idx]
        grads[name] = g
    return value, grads
''',
        "dropout_forward": '''def dropout_forward(x, rate, rng=None, training=True, mask=None):
    """Inverted dropout, forward pass."""
    x = np.array(x, dtype=float)
    if training == False or rate == 0:
        return x, None
    if mask is None:
        u = rng.random(x.shape)
        drop = u < rate
        keep = ~drop
    else:
        keep = np.asarray(mask, dtype=bool)
    scaled = np.zeros(x.shape)
    scaled[keep] = 1 / (1 - rate)
    out = np.where(keep, x / (1 - rate), 0.0)
    return out, scaled
''',
        "dropout_backward": '''def dropout_backward(dout, cache):
    """Inverted dropout, backward pass."""
    if cache is None:
        return np.array(dout, dtype=float)
    return np.multiply(dout, cache)
''',
        "should_stop": '''def should_stop(val_losses, patience, min_delta=0.0):
    """Whether early stopping halts training after the last epoch."""
    best = float("inf")
    wait = 0
    for loss in val_losses:
        if best - loss > min_delta:
            best = loss
            wait = 0
        else:
            wait = wait + 1
    return wait >= patience
''',
        "kfold_score": '''def kfold_score(X, y, n_splits, make_model, rng):
    """Per-fold accuracies, folds walked by hand."""
    seed = int(rng.integers(2**31 - 1))
    folds = list(KFold(n_splits, shuffle=True, random_state=seed).split(X))
    scores = np.zeros(n_splits)
    for k in range(len(folds)):
        train, val = folds[k]
        model = make_model()
        model.fit(X[train], y[train])
        pred = model.predict(X[val])
        correct = 0
        for a, b in zip(pred, y[val]):
            correct += int(a == b)
        scores[k] = correct / len(val)
    return scores
''',
        "augment_digits": '''def augment_digits(X, rng, max_shift=1, noise_std=1.0):
    """Shifted and noised copies, one target pixel at a time."""
    X = np.asarray(X, dtype=float)
    N = len(X)
    shifts = rng.integers(-max_shift, max_shift + 1, size=(N, 2))
    noise = rng.normal(0.0, noise_std, size=(N, 64))
    out = np.zeros((N, 64))
    for n in range(N):
        dy, dx = int(shifts[n, 0]), int(shifts[n, 1])
        for p in range(64):
            i, j = divmod(p, 8)
            si, sj = i - dy, j - dx
            if si in range(8) and sj in range(8):
                out[n, p] = X[n, si * 8 + sj]
        for p in range(64):
            out[n, p] = min(16.0, max(0.0, out[n, p] + noise[n, p]))
    return out
''',
        "q_dropout_convention": '# rate = 1 - 0.6; 3.0 / 0.6 = 5.0 in training, 3.0 at test time\nanswer_dropout = "d"\n',
        "q_weight_decay": "answer_weight_decay = 'c'  # wd = 2 * lam, 1 - 0.05 * 0.006\n",
    },
}

FORMULAS = {
    "name": "vectorised formulas, np.float64 / 0-d values, loss < best - min_delta, list scores",
    "cells": {
        "l1_penalty": """def l1_penalty(params, lam):
    weights = [k for k in params if k.startswith("W")]
    total = sum(np.abs(params[k]).sum() for k in weights)
    grads = {k: (lam * np.sign(v) if k in weights else np.zeros(np.shape(v))) for k, v in params.items()}
    return np.float64(lam * total), grads
""",
        "l2_penalty": """def l2_penalty(params, lam):
    value = np.array(0.0)
    grads = dict()
    for k, v in params.items():
        v = np.asarray(v, dtype=np.float64)
        is_weight = k.startswith("W")
        value = value + lam * np.sum(v**2) * is_weight
        grads[k] = 2 * lam * v * is_weight
    return value, grads  # a 0-d array
""",
        "dropout_forward": """def dropout_forward(x, rate, rng=None, training=True, mask=None):
    x = np.asarray(x, dtype=np.float64)
    if (not training) or rate == 0.0:
        return x, None
    keep = mask if mask is not None else rng.uniform(size=x.shape) >= rate
    cache = keep.astype(np.float64) / (1 - rate)
    return cache * x, cache
""",
        "dropout_backward": """def dropout_backward(dout, cache):
    return dout if cache is None else cache * dout
""",
        "should_stop": """def should_stop(val_losses, patience, min_delta=0.0):
    best, since = np.inf, 0
    for loss in val_losses:
        improved = loss < best - min_delta
        best = loss if improved else best
        since = 0 if improved else since + 1
    return np.bool_(since >= patience)
""",
        "kfold_score": """def kfold_score(X, y, n_splits, make_model, rng):
    seed = int(rng.integers(2**31 - 1))
    cv = KFold(n_splits=n_splits, shuffle=True, random_state=seed)

    def fold_accuracy(train, val):
        model = make_model().fit(X[train], y[train])
        return np.mean(model.predict(X[val]) == y[val])

    return [fold_accuracy(train, val) for train, val in cv.split(X, y)]  # a list of np.float64
""",
        "augment_digits": """def augment_digits(X, rng, max_shift=1, noise_std=1.0):
    X = np.asarray(X, dtype=float)
    n = X.shape[0]
    shifts = rng.integers(-max_shift, max_shift + 1, size=(n, 2))
    noise = rng.normal(0.0, noise_std, size=(n, 64))
    m = max_shift
    padded = np.pad(X.reshape(n, 8, 8), ((0, 0), (m, m), (m, m)))
    out = np.empty((n, 8, 8))
    for k, (dy, dx) in enumerate(shifts):
        out[k] = padded[k, m - dy : m - dy + 8, m - dx : m - dx + 8]
    return np.clip(out.reshape(n, -1) + noise, 0, 16)
""",
        "q_dropout_convention": 'answer_dropout = "d"',
        "q_weight_decay": 'answer_weight_decay = "c"',
    },
}

HELPERS = {
    "name": "helpers with any names (also _call, check_close), loss + min_delta < best, float32 kept",
    "cells": {
        "l1_penalty": """def is_weight(key):
    return key.startswith("W")


def _call(p, lam):
    return lam * np.sign(p)


def l1_penalty(params, lam):
    value = float(sum(lam * np.linalg.norm(np.ravel(v), 1) for k, v in params.items() if is_weight(k)))
    return value, {k: _call(v, lam) if is_weight(k) else np.zeros_like(v) for k, v in params.items()}
""",
        "l2_penalty": """def check_close(key):
    return key[:1] == "W"


def l2_penalty(params, lam):
    value, grads = 0.0, {}
    for key, W in params.items():
        if check_close(key):
            flat = np.ravel(W).astype(float)
            value += lam * float(flat @ flat)
            grads[key] = lam * (W + W)
        else:
            grads[key] = 0 * W
    return value, grads
""",
        "dropout_forward": """def make_keep(rng, shape, rate):
    return rng.random(shape) >= rate


def dropout_forward(x, rate, rng=None, training=True, mask=None):
    if not training or rate == 0:
        return np.asarray(x, dtype=float), None
    keep = make_keep(rng, np.shape(x), rate) if mask is None else mask
    scale = np.where(keep, 1.0 / (1.0 - rate), 0.0)
    return np.asarray(x) * scale, scale
""",
        "should_stop": """def improves(loss, best, min_delta):
    return loss + min_delta < best


def should_stop(val_losses, patience, min_delta=0.0):
    best = math.inf
    last_improvement = -1
    for epoch, loss in enumerate(val_losses):
        if improves(loss, best, min_delta):
            best, last_improvement = loss, epoch
    return len(val_losses) - 1 - last_improvement >= patience
""",
        "kfold_score": """from sklearn.model_selection import KFold as Folds


def accuracy(y_true, y_pred):
    return float(np.count_nonzero(np.asarray(y_true) == np.asarray(y_pred))) / len(y_true)


def kfold_score(X, y, n_splits, make_model, rng):
    X, y = np.asarray(X), np.asarray(y)
    seed = int(rng.integers(2**31 - 1))
    result = []
    for train_idx, val_idx in Folds(n_splits, shuffle=True, random_state=seed).split(X):
        clf = make_model()
        clf.fit(X[train_idx], y[train_idx])
        result.append(accuracy(y[val_idx], clf.predict(X[val_idx])))
    return np.array(result)
""",
        "augment_digits": """def shift_image(img, dy, dx):
    out = np.zeros((8, 8))
    rows_to = slice(max(dy, 0), 8 + min(dy, 0))
    rows_from = slice(max(-dy, 0), 8 + min(-dy, 0))
    cols_to = slice(max(dx, 0), 8 + min(dx, 0))
    cols_from = slice(max(-dx, 0), 8 + min(-dx, 0))
    out[rows_to, cols_to] = img[rows_from, cols_from]
    return out


def augment_digits(X, rng, max_shift=1, noise_std=1.0):
    N = len(X)
    shifts = rng.integers(-max_shift, max_shift + 1, size=(N, 2))
    noise = rng.normal(0.0, noise_std, size=(N, 64))
    images = np.asarray(X, dtype=float).reshape(N, 8, 8)
    moved = np.stack([shift_image(images[n], *shifts[n]) for n in range(N)]) if N else images
    return np.minimum(np.maximum(moved.reshape(N, 64) + noise, 0.0), 16.0)
""",
    },
}

SCRATCH = {
    "name": "reference answers with scratch cells: magics, plots, help, imports, x / W / params / input",
    "cells": {
        "q_dropout_convention": 'answer_dropout = "d"\n',
        "q_weight_decay": 'answer_weight_decay = "c"\n',
    },
    "add": [
        (
            "setup",
            "%matplotlib inline\nimport warnings\nimport matplotlib.pyplot as plt\n"
            "input = 'my notes'\nx = np.linspace(-2, 2, 5)\nW = np.ones((3, 2))\n"
            "params = {'W1': W, 'b1': np.zeros(2)}\nX, y = np.eye(4), np.arange(4)\n",
        ),
        (
            "l1_penalty",
            "help(l1_penalty)\nprint(l1_penalty(params, 0.1))\n%timeit -n 3 -r 1 l1_penalty(params, 0.1)\n",
        ),
        (
            "l2_penalty",
            "lams = np.linspace(0, 1, 11)\nplt.plot(lams, [l2_penalty(params, lam)[0] for lam in lams])\n"
            "plt.xlabel('lam')\nplt.show()\n",
        ),
        (
            "dropout_forward",
            "with warnings.catch_warnings():\n    warnings.simplefilter('ignore')\n"
            "    out, cache = dropout_forward(x, 0.5, rng=np.random.default_rng(0))\n"
            "print(out, cache)\nrate = 0.3\nrng = np.random.default_rng(123)\n",
        ),
        ("dropout_backward", "dout = np.ones_like(x)\nprint(dropout_backward(dout, cache))\n"),
        (
            "should_stop",
            "losses = [1.0, 0.9, 0.95, 0.91]\nprint([should_stop(losses[:t], 2) for t in range(5)])\n",
        ),
        (
            "kfold_score",
            "from sklearn.tree import DecisionTreeClassifier\n"
            "print(kfold_score(np.eye(6), np.arange(6) % 2, 3, DecisionTreeClassifier, np.random.default_rng(1)))\n",
        ),
        (
            "augment_digits",
            "import time\nstart = time.perf_counter()\n"
            "aug = augment_digits(X_digits[:4], np.random.default_rng(2))\n"
            "print(f'{time.perf_counter() - start:.4f} s')\n"
            "fig, axes = plt.subplots(1, 4)\n"
            "for ax, img in zip(axes, aug):\n    ax.imshow(img.reshape(8, 8), cmap='gray')\nplt.show()\n",
        ),
    ],
}

SOLUTIONS = [LOOPS, FORMULAS, HELPERS, SCRATCH]
