"""Correct solutions of module 07's exercises written differently from the reference.

Each must get full marks (``tests/test_fairness.py``). They cover: loops and other formulas;
a list of batches instead of a generator, ``rng.shuffle`` of ``np.arange(N)`` instead of
``rng.permutation(N)``, index loops; PyTorch's folded Adam step size; a zero velocity at the
first momentum step; float32 kept for float32 inputs; helpers with any names; answers as int,
``np.int64``, float and typed in by hand; scratch cells with magics, plots, ``help``,
``import warnings`` and variables named ``input``, ``x``, ``W``, ``params``, ``X``, ``y``.
The schedule (part 8) as a branch with NumPy, vectorised over steps (a 0-d array for one step),
a scheduler-like class, ``math.cos(x / 2) ** 2`` and ``np.interp``; its training loop (part 9)
with the student's own Adam steps and iterator, ``course.training.iterate_minibatches`` and
rates computed up front, PyTorch's ``LambdaLR`` factor form, the update number from epoch and
batch index, a ``while`` over updates, and a generator of numbered updates; question 10's
answer worked out with code.

The test at the end shows that the per-student question is per student: the source gets full
marks under any id, and an answer worked out for another id loses that point.
"""

import math

import numpy as np

from course.grading import variant_seed

MODULE = "07-optimizers"


def iterations_for(student: str) -> int:
    """Question 6's answer for ``student``: the draw of the notebook's ``q_iterations_inputs``."""
    rng = np.random.default_rng(variant_seed(student, MODULE, "q_iterations"))
    batch_size = int(rng.choice([16, 32, 50, 64, 100, 128, 256]))
    n_samples = batch_size * int(rng.integers(10, 150)) + int(rng.integers(1, batch_size))
    n_epochs = int(rng.integers(5, 41))
    return math.ceil(n_samples / batch_size) * n_epochs


LOOPS = {
    "iterate_minibatches": '''def iterate_minibatches(X, y, batch_size, rng=None, shuffle=True):
    """Mini-batches of one epoch, with a while loop."""
    N = X.shape[0]
    if shuffle:
        if rng is None:
            rng = np.random.default_rng()
        perm = rng.permutation(N)
    else:
        perm = np.arange(N)
    i = 0
    while i < N:
        j = min(i + batch_size, N)
        batch = perm[i:j]
        yield X[batch], y[batch]
        i = j
''',
    "sgd_momentum_step": """def sgd_momentum_step(p, g, velocity, lr, momentum, nesterov=False):
    new_p = np.zeros(np.shape(p))
    new_b = np.zeros(np.shape(p))
    for idx in np.ndindex(*np.shape(p)):
        gi = float(g[idx])
        bi = gi if velocity is None else momentum * float(velocity[idx]) + gi
        d = gi + momentum * bi if nesterov else bi
        new_b[idx] = bi
        new_p[idx] = float(p[idx]) - lr * d
    return new_p, new_b
""",
    "adagrad_step": """def adagrad_step(p, g, sum_sq, lr, eps=1e-10):
    p = np.array(p, dtype=float)
    g = np.array(g, dtype=float)
    s = np.array(sum_sq, dtype=float)
    flat_p, flat_g, flat_s = p.reshape(-1), g.reshape(-1), s.reshape(-1)
    for k in range(flat_p.size):
        flat_s[k] += flat_g[k] ** 2
        flat_p[k] -= lr * flat_g[k] / (math.sqrt(flat_s[k]) + eps)
    return p, s
""",
    "rmsprop_step": """def rmsprop_step(p, g, square_avg, lr, alpha=0.99, eps=1e-8):
    g = np.asarray(g, dtype=float)
    v = alpha * square_avg + (1 - alpha) * np.square(g)
    return p - lr * g / (np.sqrt(v) + eps), v
""",
    "adam_step": """def adam_step(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    out_p, out_m, out_v = (np.zeros(np.shape(p)) for _ in range(3))
    for i in np.ndindex(*np.shape(p)):
        out_m[i] = beta1 * m[i] + (1 - beta1) * g[i]
        out_v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
        m_hat = out_m[i] / (1 - beta1**t)
        v_hat = out_v[i] / (1 - beta2**t)
        out_p[i] = p[i] - lr * m_hat / (math.sqrt(v_hat) + eps)
    return out_p, out_m, out_v
""",
    "q_iterations": """answer_iterations = 0
for epoch in range(_n_epochs):
    start = 0
    while start < _n_samples:
        answer_iterations += 1
        start += _batch_size
""",
    "q_adam_second_step": "answer_adam_second_step = 'a'\n",
    "warmup_cosine": """def warmup_cosine(lr0, step, n_steps, warmup_steps, lr_min=0.0):
    if warmup_steps > 0 and step < warmup_steps:
        rate = lr0 * (step + 1) / warmup_steps
    elif step >= n_steps:
        rate = lr_min
    else:
        decay_steps = n_steps - warmup_steps
        done = step - warmup_steps
        rate = lr_min + (lr0 - lr_min) * (1 + np.cos(np.pi * done / decay_steps)) / 2
    return float(rate)
""",
    "train_with_schedule": """def train_with_schedule(params, loss_and_grads, X, y, rng, n_epochs, batch_size, lr0,
                        warmup_steps, lr_min=0.0):
    # my own Adam (one m, v per parameter, t from 1), my iterator and my schedule
    params = {key: np.array(value, dtype=float) for key, value in params.items()}
    m = {key: np.zeros_like(value) for key, value in params.items()}
    v = {key: np.zeros_like(value) for key, value in params.items()}
    batches_per_epoch = 0
    start = 0
    while start < len(X):
        batches_per_epoch += 1
        start += batch_size
    n_steps = n_epochs * batches_per_epoch
    lrs, losses = [], []
    t = 0
    for epoch in range(n_epochs):
        for X_batch, y_batch in iterate_minibatches(X, y, batch_size, rng):
            loss, grads = loss_and_grads(params, X_batch, y_batch)
            lr = warmup_cosine(lr0, t, n_steps, warmup_steps, lr_min)
            t += 1
            for key in params:
                params[key], m[key], v[key] = adam_step(params[key], grads[key], m[key], v[key], t, lr)
            lrs.append(lr)
            losses.append(loss)
    return params, {"lr": lrs, "loss": losses}
""",
}

LIST_AND_SHUFFLE = {
    "iterate_minibatches": '''def iterate_minibatches(X, y, batch_size, rng=None, shuffle=True):
    """All batches of one epoch, as a list; the order is a shuffled copy of arange(N)."""
    order = np.arange(len(X))
    if shuffle:
        rng = rng if rng is not None else np.random.default_rng()
        rng.shuffle(order)
    n_batches = -(-len(X) // batch_size)
    slices = [order[k * batch_size : (k + 1) * batch_size] for k in range(n_batches)]
    return [(X[idx], y[idx]) for idx in slices]
''',
    "sgd_momentum_step": """def sgd_momentum_step(p, g, velocity, lr, momentum, nesterov=False):
    g = np.asarray(g, dtype=np.float64)
    if velocity is None:
        velocity = np.zeros_like(g)  # mu * 0 + g is the gradient itself
    buf = momentum * velocity + g
    step = g + momentum * buf if nesterov else buf
    return p - lr * step, buf
""",
    "adagrad_step": """def adagrad_step(p, g, sum_sq, lr, eps=1e-10):
    new_sum = np.add(sum_sq, np.asarray(g, dtype=float) ** 2)
    return p - lr * np.divide(g, np.sqrt(new_sum) + eps), new_sum
""",
    "rmsprop_step": """def rmsprop_step(p, g, square_avg, lr, alpha=0.99, eps=1e-8):
    g = np.asarray(g, dtype=float)
    new_v = alpha * square_avg + (1.0 - alpha) * g**2
    new_p = p - lr * g / (np.sqrt(new_v) + eps)
    return [new_p, new_v]
""",
    "adam_step": """def adam_step(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    # PyTorch's own arrangement: bias corrections folded into the step size and into eps
    g = np.asarray(g, dtype=float)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    bc1 = 1 - beta1**t
    bc2 = 1 - beta2**t
    step_size = lr / bc1
    denom = np.sqrt(v) / math.sqrt(bc2) + eps
    return p - step_size * m / denom, m, v
""",
    "q_iterations": (
        "answer_iterations = np.int64(np.ceil(_n_samples / _batch_size)) * _n_epochs\n"
    ),
    "q_adam_second_step": 'answer_adam_second_step = "a"  # m_2 = 0.09 g, v_2 = 0.000999 g**2\n',
    "warmup_cosine": """def warmup_cosine(lr0, step, n_steps, warmup_steps, lr_min=0.0):
    # vectorised: one step or an array of steps (a 0-d array for one step)
    s = np.asarray(step, dtype=float)
    ramp = lr0 * (s + 1) / max(warmup_steps, 1)
    progress = np.clip((s - warmup_steps) / (n_steps - warmup_steps), 0.0, 1.0)
    decay = lr_min + 0.5 * (lr0 - lr_min) * (1 + np.cos(np.pi * progress))
    return np.where(s < warmup_steps, ramp, decay)
""",
    "train_with_schedule": """def train_with_schedule(params, loss_and_grads, X, y, rng, n_epochs, batch_size, lr0,
                        warmup_steps, lr_min=0.0):
    import itertools

    from course.optimizers import Adam
    from course.training import iterate_minibatches as batches

    params = {k: np.array(p, dtype=float) for k, p in params.items()}
    n_steps = n_epochs * -(-len(X) // batch_size)
    rates = warmup_cosine(lr0, np.arange(n_steps), n_steps, warmup_steps, lr_min)  # all at once
    adam = Adam(lr=lr0)
    counter = itertools.count()
    history = {"lr": [], "loss": []}
    for _ in range(n_epochs):
        for xb, yb in batches(X, y, batch_size, rng):
            s = next(counter)
            loss, grads = loss_and_grads(params, xb, yb)
            adam.lr = float(rates[s])
            adam.step(params, grads)
            history["lr"].append(adam.lr)
            history["loss"].append(loss)
    return params, history
""",
}

HELPERS = {
    "iterate_minibatches": """def chunks(order, size):
    for s in range(0, len(order), size):
        yield order[s : s + size]


def iterate_minibatches(X, y, batch_size, rng=None, shuffle=True):
    if not shuffle:
        order = np.arange(X.shape[0])
    else:
        order = (rng or np.random.default_rng()).permutation(X.shape[0])
    for idx in chunks(order, batch_size):
        yield X[idx], y[idx]
""",
    "sgd_momentum_step": """def _as_float(a):
    a = np.asarray(a)
    return a if a.dtype.kind == "f" else a.astype(np.float64)


def sgd_momentum_step(p, g, velocity, lr, momentum, nesterov=False):
    p, g = _as_float(p), _as_float(g)
    b = g.copy() if velocity is None else momentum * _as_float(velocity) + g
    if nesterov:
        return p - lr * (g + momentum * b), b
    return p - lr * b, b
""",
    "adagrad_step": """def adagrad_step(p, g, sum_sq, lr, eps=1e-10):
    g = _as_float(g)
    total = _as_float(sum_sq) + g * g
    return _as_float(p) - lr * g / (np.sqrt(total) + eps), total
""",
    "rmsprop_step": """def rmsprop_step(p, g, square_avg, lr, alpha=0.99, eps=1e-8):
    g = _as_float(g)
    avg = alpha * _as_float(square_avg) + (1.0 - alpha) * (g * g)
    return _as_float(p) - lr * g / (np.sqrt(avg) + eps), avg
""",
    "adam_step": """def debias(x, beta, t):
    return x / (1 - beta**t)


def adam_step(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    g = _as_float(g)
    m = beta1 * _as_float(m) + (1 - beta1) * g
    v = beta2 * _as_float(v) + (1 - beta2) * g * g
    return _as_float(p) - lr * debias(m, beta1, t) / (np.sqrt(debias(v, beta2, t)) + eps), m, v
""",
    "q_iterations": """n_batches = len(list(iterate_minibatches(
    np.zeros((_n_samples, 1)), np.zeros(_n_samples), _batch_size, shuffle=False)))
answer_iterations = float(n_batches * _n_epochs)
""",
    "q_adam_second_step": 'answer_adam_second_step = "a"\n',
    "warmup_cosine": """class WarmupCosine:
    \"\"\"The schedule as an object, like a scheduler: call it with the step.\"\"\"

    def __init__(self, lr0, n_steps, warmup_steps, lr_min=0.0):
        self.lr0, self.n_steps, self.warmup, self.lr_min = lr0, n_steps, warmup_steps, lr_min

    def __call__(self, step):
        if step < self.warmup:
            return self.lr0 * (step + 1) / self.warmup
        frac = (step - self.warmup) / (self.n_steps - self.warmup)
        return self.lr_min + (self.lr0 - self.lr_min) * 0.5 * (1 + math.cos(math.pi * frac))


def warmup_cosine(lr0, step, n_steps, warmup_steps, lr_min=0.0):
    return WarmupCosine(lr0, n_steps, warmup_steps, lr_min)(step)
""",
    "train_with_schedule": """def make_factor(n_steps, warmup_steps, ratio):
    # PyTorch's LambdaLR form: the rate is lr0 times a factor of the step
    def factor(step):
        return warmup_cosine(1.0, step, n_steps, warmup_steps, ratio)

    return factor


def train_with_schedule(params, loss_and_grads, X, y, rng, n_epochs, batch_size, lr0,
                        warmup_steps, lr_min=0.0):
    from course import optimizers

    params = {k: _as_float(p).copy() for k, p in params.items()}
    per_epoch = math.ceil(len(X) / batch_size)
    factor = make_factor(n_epochs * per_epoch, warmup_steps, lr_min / lr0)
    opt = optimizers.Adam(lr=lr0)
    lr_history, loss_history = [], []
    for epoch in range(n_epochs):
        order = rng.permutation(len(X))
        for b in range(per_epoch):
            idx = order[b * batch_size : (b + 1) * batch_size]
            loss, grads = loss_and_grads(params, X[idx], y[idx])
            opt.lr = lr0 * factor(epoch * per_epoch + b)
            opt.step(params, grads)
            lr_history.append(opt.lr)
            loss_history.append(loss)
    return params, {"lr": lr_history, "loss": loss_history}
""",
}

TYPED = {
    "iterate_minibatches": """def iterate_minibatches(X, y, batch_size, rng=None, shuffle=True):
    n = len(y)
    if shuffle:
        gen = np.random.default_rng() if rng is None else rng
        order = gen.permutation(n)
    else:
        order = list(range(n))
    order = np.asarray(order, dtype=int)
    for k in range(math.ceil(n / batch_size)):
        idx = order[k * batch_size : min(n, (k + 1) * batch_size)]
        X_batch = X[idx]
        y_batch = y[idx]
        yield X_batch, y_batch
""",
    "sgd_momentum_step": """def sgd_momentum_step(p, g, velocity, lr, momentum, nesterov=False):
    g = np.asarray(g) * 1.0
    if velocity is None:
        new_v = g * 1.0
    else:
        new_v = np.add(np.multiply(momentum, velocity), g)
    if nesterov:
        new_p = p - lr * g - lr * momentum * new_v
    else:
        new_p = p - lr * new_v
    return new_p, new_v
""",
    "adagrad_step": """def adagrad_step(p, g, sum_sq, lr, eps=1e-10):
    s = sum_sq + np.power(g, 2)
    return p - lr * g / (np.sqrt(s) + eps), s
""",
    "rmsprop_step": """def rmsprop_step(p, g, square_avg, lr, alpha=0.99, eps=1e-8):
    g = np.asarray(g, dtype=float)
    v = square_avg + (1 - alpha) * (g**2 - square_avg)  # the same average, written as a nudge
    return p - lr * g / (np.sqrt(v) + eps), v
""",
    "adam_step": """def adam_step(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m_new = beta1 * m + (1 - beta1) * np.asarray(g, dtype=float)
    v_new = beta2 * v + (1 - beta2) * np.asarray(g, dtype=float) ** 2
    m_hat = m_new / (1 - math.pow(beta1, t))
    v_hat = v_new / (1 - math.pow(beta2, t))
    return p - lr * m_hat / (v_hat**0.5 + eps), m_new, v_new
""",
    "q_iterations": f"answer_iterations = {iterations_for('carol')}\n",
    "q_adam_second_step": 'answer_adam_second_step = "a"\n',
    "warmup_cosine": """def warmup_cosine(lr0, step, n_steps, warmup_steps, lr_min=0.0):
    if step < warmup_steps:
        return lr0 * (step + 1) / warmup_steps
    # (1 + cos x) / 2 = cos(x / 2)**2
    half_angle = math.pi / 2 * (step - warmup_steps) / (n_steps - warmup_steps)
    return lr_min + (lr0 - lr_min) * math.cos(half_angle) ** 2
""",
    "train_with_schedule": """def train_with_schedule(params, loss_and_grads, X, y, rng, n_epochs, batch_size, lr0,
                        warmup_steps, lr_min=0.0):
    import course.optimizers

    trained = {}
    for key in params:
        trained[key] = np.array(params[key], dtype=np.float64)
    batches_per_epoch = math.ceil(X.shape[0] / batch_size)
    total = batches_per_epoch * n_epochs
    optimizer = course.optimizers.Adam(lr0)
    lr_list = []
    loss_list = []
    for epoch in range(n_epochs):
        for b, (X_batch, y_batch) in enumerate(iterate_minibatches(X, y, batch_size, rng)):
            s = epoch * batches_per_epoch + b
            value, grads = loss_and_grads(trained, X_batch, y_batch)
            setattr(optimizer, "lr", warmup_cosine(lr0, s, total, warmup_steps, lr_min))
            optimizer.step(trained, grads)
            lr_list.append(float(optimizer.lr))
            loss_list.append(float(value))
    return trained, {"lr": lr_list, "loss": loss_list}
""",
}

# variants: sgd_momentum_step returning a namedtuple, its Nesterov direction written with the
# velocity the docstring states (this step's, after the update); iterate_minibatches by np.split
# of the order at multiples of batch_size; one ema() helper shared by rmsprop_step and adam_step;
# adagrad_step by np.reciprocal; the number of iterations by integer ceiling division.
SPLIT_AND_EMA = {
    "iterate_minibatches": """def iterate_minibatches(X, y, batch_size, rng=None, shuffle=True):
    n = len(X)
    if shuffle:
        order = (np.random.default_rng() if rng is None else rng).permutation(n)
    else:
        order = np.arange(n)
    for idx in np.split(order, np.arange(batch_size, n, batch_size)):
        yield X[idx], y[idx]
""",
    "sgd_momentum_step": """from collections import namedtuple

Step = namedtuple("Step", ["p", "velocity"])


def sgd_momentum_step(p, g, velocity, lr, momentum, nesterov=False):
    g = np.array(g, dtype=float)
    new_velocity = g if velocity is None else momentum * velocity + g
    if nesterov:
        # the velocity of this step, already updated with g (not the one passed in)
        direction = g + momentum * new_velocity
    else:
        direction = new_velocity
    return Step(p - lr * direction, new_velocity)
""",
    "adagrad_step": """def adagrad_step(p, g, sum_sq, lr, eps=1e-10):
    g = np.asarray(g, dtype=float)
    s = sum_sq + g * g
    return p - lr * g * np.reciprocal(np.sqrt(s) + eps), s
""",
    "rmsprop_step": """def ema(old, new, beta):
    # exponential moving average: beta of the old value, 1 - beta of the new one
    return beta * old + (1.0 - beta) * new


def rmsprop_step(p, g, square_avg, lr, alpha=0.99, eps=1e-8):
    g = np.asarray(g, dtype=float)
    v = ema(square_avg, g * g, alpha)
    return p - lr * g / (np.sqrt(v) + eps), v
""",
    "adam_step": """def adam_step(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    g = np.asarray(g, dtype=float)
    m, v = ema(m, g, beta1), ema(v, g * g, beta2)
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
""",
    "q_iterations": "answer_iterations = -(-_n_samples // _batch_size) * _n_epochs\n",
    "q_adam_second_step": 'answer_adam_second_step = "a"\n',
    "warmup_cosine": """def warmup_cosine(lr0, step, n_steps, warmup_steps, lr_min=0.0):
    if step < warmup_steps:
        # the straight line through (-1, 0) and (warmup_steps - 1, lr0)
        return float(np.interp(step, [-1, warmup_steps - 1], [0.0, lr0]))
    cosine = np.cos(np.pi * (step - warmup_steps) / (n_steps - warmup_steps))
    return float(lr_min + (lr0 - lr_min) * (1 + cosine) / 2)
""",
    "train_with_schedule": """def train_with_schedule(params, loss_and_grads, X, y, rng, n_epochs, batch_size, lr0,
                        warmup_steps, lr_min=0.0):
    from course.optimizers import Adam

    p = {k: np.array(v, dtype=float) for k, v in params.items()}
    n = len(X)
    n_steps = n_epochs * len(range(0, n, batch_size))
    opt = Adam(lr=lr0)
    history = {"lr": [], "loss": []}
    step = 0
    while step < n_steps:
        order = rng.permutation(n)  # a new epoch
        for idx in np.split(order, np.arange(batch_size, n, batch_size)):
            loss, grads = loss_and_grads(p, X[idx], y[idx])
            opt.lr = warmup_cosine(lr0, step, n_steps, warmup_steps, lr_min)
            opt.step(p, grads)
            history["lr"].append(opt.lr)
            history["loss"].append(loss)
            step += 1
    return p, history
""",
}

# variants: iterate_minibatches with `yield from` a generator expression over slices; adam_step
# updating both moments in one generator expression; the answer to question 7 worked out with
# the student's own adam_step; scratch cells with inspect.getsource of the reference, gc.collect,
# %timeit, help and names of the tests' helpers (reference, _global_state, _batches).
YIELD_FROM = {
    "iterate_minibatches": """def iterate_minibatches(X, y, batch_size, rng=None, shuffle=True):
    n = X.shape[0]
    if rng is None:
        rng = np.random.default_rng()
    order = rng.permutation(n) if shuffle else np.arange(n)
    slices = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    yield from ((X[idx], y[idx]) for idx in slices)
""",
    "adam_step": """def adam_step(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    g = np.asarray(g, dtype=float)
    m, v = (b * s + (1 - b) * x for b, s, x in ((beta1, m, g), (beta2, v, g * g)))
    step = (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return p - lr * step, m, v
""",
    "q_adam_second_step": """answer_adam_second_step = None
_p0, _g = np.array([0.0]), np.array([3.0])
_p1, _m, _v = adam_step(_p0, _g, np.zeros(1), np.zeros(1), 1, lr=1.0, eps=0.0)
_p2, _m, _v = adam_step(_p1, np.zeros(1), _m, _v, 2, lr=1.0, eps=0.0)
_ratio = float((_p2 - _p1)[0] / (_p1 - _p0)[0])  # the second step, in units of the first
answer_adam_second_step = "a" if 0.6 < _ratio < 0.7 else "?"
""",
    "q_schedule_units": """answer_schedule_units = None
_updates_per_epoch = {bs: math.ceil(12_800 / bs) for bs in (64, 128)}
_warmup_epochs = {bs: 500 / n for bs, n in _updates_per_epoch.items()}
answer_schedule_units = "b" if _warmup_epochs[128] == 2 * _warmup_epochs[64] == 5 else "?"
""",
    "train_with_schedule": """def _updates(X, y, rng, n_epochs, batch_size):
    # every update of the run, numbered across epochs
    s = 0
    for _ in range(n_epochs):
        for X_batch, y_batch in iterate_minibatches(X, y, batch_size, rng):
            yield s, X_batch, y_batch
            s += 1


def train_with_schedule(params, loss_and_grads, X, y, rng, n_epochs, batch_size, lr0,
                        warmup_steps, lr_min=0.0):
    from course import optimizers

    params = {k: np.array(v, dtype=float) for k, v in params.items()}
    n_steps = n_epochs * math.ceil(len(X) / batch_size)
    adam = optimizers.Adam(lr=lr0)
    out = {"lr": [], "loss": []}
    for s, X_batch, y_batch in _updates(X, y, rng, n_epochs, batch_size):
        loss, grads = loss_and_grads(params, X_batch, y_batch)
        adam.lr = optimizers.warmup_cosine(lr0, s, n_steps, warmup_steps, lr_min)
        adam.step(params, grads)
        out["lr"].append(adam.lr)
        out["loss"].append(loss)
    return params, out
""",
}

SCRATCH_INSPECT = [
    (
        "setup",
        "import gc\nimport inspect\nimport course.optimizers\n"
        "print(inspect.getsource(course.optimizers.adam_step))\ngc.collect()",
    ),
    (
        "iterate_minibatches",
        "reference = course.optimizers  # a name the tests use too\n"
        "_batches = list(iterate_minibatches(np.arange(20).reshape(10, 2), np.arange(10), 4))\n"
        "print([len(b) for _, b in _batches])\n"
        "%timeit list(iterate_minibatches(np.zeros((1000, 3)), np.zeros(1000), 32))\n"
        "help(iterate_minibatches)",
    ),
    (
        "adam_step",
        "def _global_state():\n    return 'mine'\n\n\n"
        "print(inspect.getsource(course.optimizers.sgd_momentum_step))\n"
        "print(adam_step(np.ones(2), np.ones(2), np.zeros(2), np.zeros(2), 1, 0.1))\ngc.collect()",
    ),
]

SOLUTIONS = [
    {
        "name": "loops everywhere (while-loop batches, per-element steps, counted iterations)",
        "cells": LOOPS,
        "add": [
            ("setup", "%matplotlib inline\nimport matplotlib.pyplot as plt"),
            (
                "test_adam_step",
                "path = [np.array([1.0, -1.0])]\n"
                "m = v = np.zeros(2)\n"
                "for t in range(1, 51):\n"
                "    p, m, v = adam_step(path[-1], 2 * path[-1], m, v, t, lr=0.05)\n"
                "    path.append(p)\n"
                "path = np.array(path)\n"
                "plt.plot(path[:, 0], path[:, 1], '.-')\n"
                "plt.title('my Adam on x**2 + y**2')\n"
                "plt.show()",
            ),
        ],
    },
    {
        "name": "list of batches, rng.shuffle of arange(N), PyTorch's folded Adam, np.int64 "
        "answer, %timeit, help, warnings and variables named like the tests'",
        "cells": LIST_AND_SHUFFLE,
        "add": [
            ("student_id", "import warnings\nwarnings.simplefilter('ignore')"),
            (
                "test_iterate_minibatches",
                "X = np.arange(12.0).reshape(6, 2)\ny = np.arange(6)\n"
                "for xb, yb in iterate_minibatches(X, y, 4, np.random.default_rng(1)):\n"
                "    print(xb.shape, yb)",
            ),
            (
                "test_sgd_momentum_step",
                "input = np.array([1.0, 2.0])\nx = input * 2\nW = np.eye(2)\n"
                "params = {'W': W}\np = g = velocity = m = v = None",
            ),
            ("adam_step", "help(adam_step)"),
            (
                "test_adam_step",
                "%timeit adam_step(np.ones(9), np.ones(9), np.zeros(9), np.zeros(9), 1, 0.1)",
            ),
        ],
    },
    {
        "name": "helpers with any names, float32 kept for float32 inputs, answer counted with "
        "the student's own iterator (a float)",
        "cells": HELPERS,
        "add": [
            (
                "test_rmsprop_step",
                "import matplotlib.pyplot as plt\n"
                "p, s, sizes = np.array([1.0]), np.zeros(1), []\n"
                "for t in range(30):\n"
                "    new_p, s = rmsprop_step(p, np.array([2.0]), s, lr=0.1)\n"
                "    sizes.append(abs(new_p - p)[0])\n"
                "    p = new_p\n"
                "plt.plot(sizes)\nplt.ylabel('|step|')",
            ),
            ("q_adam_second_step", "np.random.seed(0)\nx = np.random.rand(3)\nx"),
        ],
    },
    {
        "name": "numbers typed in by hand for the student's own id, index loop over "
        "ceil(N / batch_size), Nesterov expanded, math.pow",
        "student": "carol",
        "cells": TYPED,
        "add": [
            ("student_id", "x = 3\nW = None\nparams = {}\nX, y = None, None"),
            ("q_iterations_inputs", "input = 'my notes: count the partial batch too'"),
        ],
    },
    {
        "name": "Nesterov with this step's velocity, returned as a namedtuple; np.split batches; "
        "one ema() helper for RMSprop and Adam; np.reciprocal; integer ceiling division",
        "cells": SPLIT_AND_EMA,
    },
    {
        "name": "yield from a generator expression, both Adam moments in one expression, question "
        "7 worked out with my adam_step; inspect.getsource, gc.collect, %timeit, help, reference",
        "cells": YIELD_FROM,
        "add": SCRATCH_INSPECT,
    },
]
