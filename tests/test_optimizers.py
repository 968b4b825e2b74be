"""Tests of course.optimizers: the pure step functions and the classes built on them."""

import math

import numpy as np
import pytest

from course import optimizers as opt

pytestmark = pytest.mark.course


def torch_rule_scalar(name, gs, lr, **hp):
    """The ``torch.optim`` algorithm boxes transcribed literally, on one scalar parameter p0 = 1."""
    p, state, t = 1.0, None, 0
    for g in gs:
        t += 1
        if name == "sgd":
            mu = hp["momentum"]
            state = g if t == 1 else mu * state + g
            d = g + mu * state if hp.get("nesterov") else state
            p = p - lr * d
        elif name == "adagrad":
            state = (state or 0.0) + g * g
            p = p - lr * g / (math.sqrt(state) + hp["eps"])
        elif name == "rmsprop":
            a = hp["alpha"]
            state = a * (state or 0.0) + (1 - a) * g * g
            p = p - lr * g / (math.sqrt(state) + hp["eps"])
        elif name == "adam":
            b1, b2 = hp["beta1"], hp["beta2"]
            m, v = state or (0.0, 0.0)
            m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
            state = (m, v)
            p = p - lr * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + hp["eps"])
    return p


def test_sgd_momentum_step_by_hand():
    p, b = opt.sgd_momentum_step(np.array([1.0]), np.array([2.0]), None, lr=0.1, momentum=0.9)
    assert np.allclose(p, 0.8) and np.allclose(b, 2.0)  # b_1 = g_1, undampened
    p, b = opt.sgd_momentum_step(p, np.array([1.0]), b, lr=0.1, momentum=0.9)
    assert np.allclose(b, 0.9 * 2.0 + 1.0) and np.allclose(p, 0.8 - 0.1 * 2.8)
    p, b = opt.sgd_momentum_step(np.array([1.0]), np.array([2.0]), None, 0.1, 0.9, nesterov=True)
    assert np.allclose(p, 1.0 - 0.1 * (2.0 + 0.9 * 2.0)) and np.allclose(b, 2.0)


def test_adagrad_rmsprop_adam_first_step_by_hand():
    one, two = np.array([1.0]), np.array([2.0])
    p, s = opt.adagrad_step(one, two, np.zeros(1), lr=0.1, eps=0.0)
    assert np.allclose(s, 4.0) and np.allclose(p, 0.9)
    p, v = opt.rmsprop_step(one, two, np.zeros(1), lr=0.1, alpha=0.99, eps=0.0)
    assert np.allclose(v, 0.04) and np.allclose(p, 0.0)  # 1 - 0.1 * 2 / 0.2
    p, m, v = opt.adam_step(one, two, np.zeros(1), np.zeros(1), 1, lr=0.1, eps=0.0)
    assert np.allclose(m, 0.2) and np.allclose(v, 0.004)
    assert np.allclose(p, 0.9)  # bias correction: the first step is lr * sign(g)


@pytest.mark.parametrize(
    ("name", "hp"),
    [
        ("sgd", {"momentum": 0.9}),
        ("sgd", {"momentum": 0.5, "nesterov": True}),
        ("adagrad", {"eps": 1e-10}),
        ("rmsprop", {"alpha": 0.9, "eps": 1e-8}),
        ("adam", {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
    ],
)
def test_step_functions_follow_the_torch_rules(name, hp):
    gs = [2.0, -1.0, 0.5, 3.0, -0.25, 1e-3]
    lr = 0.05
    p = np.array([1.0])
    if name == "sgd":
        state = None
        for g in gs:
            p, state = opt.sgd_momentum_step(p, np.array([g]), state, lr, **hp)
    elif name == "adam":
        m = v = np.zeros(1)
        for t, g in enumerate(gs, start=1):
            p, m, v = opt.adam_step(p, np.array([g]), m, v, t, lr, **hp)
    else:
        fn = opt.adagrad_step if name == "adagrad" else opt.rmsprop_step
        state = np.zeros(1)
        for g in gs:
            p, state = fn(p, np.array([g]), state, lr, **hp)
    assert np.isclose(p[0], torch_rule_scalar(name, gs, lr, **hp), rtol=1e-12, atol=0)


def test_step_functions_leave_their_inputs_alone():
    rng = np.random.default_rng(0)
    p, g, s1, s2 = (rng.normal(size=(3, 2)) for _ in range(4))
    s1, s2 = np.abs(s1), np.abs(s2)
    copies = [a.copy() for a in (p, g, s1, s2)]
    opt.sgd_momentum_step(p, g, s1, 0.1, 0.9)
    opt.adagrad_step(p, g, s2, 0.1)
    opt.rmsprop_step(p, g, s2, 0.1)
    opt.adam_step(p, g, s1, s2, 3, 0.1)
    for a, c in zip((p, g, s1, s2), copies, strict=True):
        assert np.array_equal(a, c)


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (opt.SGD, {"lr": 0.1, "momentum": 0.9}),
        (opt.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
        (opt.Adagrad, {"lr": 0.1}),
        (opt.RMSprop, {"lr": 0.01}),
        (opt.Adam, {"lr": 0.01}),
    ],
)
def test_classes_use_the_step_functions(cls, kwargs):
    rng = np.random.default_rng(1)
    params = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    optimizer = cls(**kwargs)
    p = params["W"].copy()
    state = None if cls is opt.SGD else np.zeros_like(p)
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t in range(1, 6):
        grads = {k: rng.normal(size=a.shape) for k, a in params.items()}
        optimizer.step(params, grads)
        g = grads["W"]
        if cls is opt.SGD:
            p, state = opt.sgd_momentum_step(p, g, state, **kwargs)
        elif cls is opt.Adagrad:
            p, state = opt.adagrad_step(p, g, state, **kwargs)
        elif cls is opt.RMSprop:
            p, state = opt.rmsprop_step(p, g, state, **kwargs)
        else:
            p, m, v = opt.adam_step(p, g, m, v, t, **kwargs)
        assert np.array_equal(params["W"], p)


def test_sgd_step_is_pure_and_descends():
    params = {"W1": np.array([[1.0, -2.0], [0.5, 0.0]]), "b1": np.array([3, -1])}
    grads = {"W1": np.array([[0.5, 1.0], [-2.0, 4.0]]), "b1": np.array([1.0, -1.0])}
    before = {k: v.copy() for k, v in params.items()}
    new = opt.sgd_step(params, grads, 0.1)
    assert new is not params and set(new) == set(params)
    assert np.allclose(new["W1"], [[0.95, -2.1], [0.7, -0.4]])  # computed by hand
    assert np.allclose(new["b1"], [2.9, -0.9])
    for key in params:
        assert np.array_equal(params[key], before[key])
        assert not np.shares_memory(new[key], params[key])
    # a small step along -grad lowers a smooth loss: f = sum(p^2) / 2, grad = p
    f = lambda ps: sum(float(np.sum(p**2)) / 2 for p in ps.values())  # noqa: E731
    p = {"w": np.array([1.0, -2.0, 3.0])}
    assert f(opt.sgd_step(p, {"w": p["w"]}, 0.1)) < f(p)
    assert np.allclose(opt.sgd_step(p, {"w": p["w"]}, 1.0)["w"], 0.0)


def test_weight_decay_is_added_to_the_gradient_and_adamw_decouples_it():
    p0, g = np.array([2.0]), np.array([0.5])
    sgd = {"w": p0.copy()}
    opt.SGD(lr=0.1, weight_decay=0.2).step(sgd, {"w": g})
    assert np.allclose(sgd["w"], 2.0 - 0.1 * (0.5 + 0.2 * 2.0))
    adamw = {"w": p0.copy()}
    opt.AdamW(lr=0.1, weight_decay=0.2).step(adamw, {"w": g})
    decayed = 2.0 * (1 - 0.1 * 0.2)
    assert np.allclose(adamw["w"], decayed - 0.1 * 1.0 / (1.0 + 1e-8))  # m_hat/sqrt(v_hat) = 1
    adam = {"w": p0.copy()}
    opt.Adam(lr=0.1, weight_decay=0.2).step(adam, {"w": g})
    assert np.allclose(adam["w"], 2.0 - 0.1 * 1.0 / (1.0 + 1e-8))  # sign of the coupled gradient


def test_learning_rate_schedules():
    assert opt.step_decay(1.0, 25, drop=0.5, every=10) == 0.25
    assert np.isclose(opt.exponential_decay(1.0, 3, gamma=0.5), 0.125)
    assert np.isclose(opt.cosine_decay(1.0, 0, 10), 1.0)
    assert np.isclose(opt.cosine_decay(1.0, 5, 10, lr_min=0.2), 0.6)
    assert np.isclose(opt.cosine_decay(1.0, 10, 10, lr_min=0.2), 0.2)


def test_warmup_cosine_ramps_linearly_then_follows_the_cosine():
    lr0, n_steps, warmup = 0.4, 100, 10
    ramp = [opt.warmup_cosine(lr0, k, n_steps, warmup) for k in range(warmup)]
    assert np.allclose(ramp, np.linspace(lr0 / warmup, lr0, warmup))
    # after the warm-up: the cosine schedule of the remaining steps, shifted
    for k in (0, 1, 45, 89, 90):
        expected = opt.cosine_decay(lr0, k, n_steps - warmup, lr_min=0.01)
        assert np.isclose(
            opt.warmup_cosine(lr0, warmup + k, n_steps, warmup, lr_min=0.01), expected
        )
    assert np.isclose(opt.warmup_cosine(lr0, 55, n_steps, warmup), lr0 / 2)  # half-way: mean
    assert np.isclose(opt.warmup_cosine(lr0, 0, n_steps, 0), lr0)  # no warm-up: plain cosine


@pytest.mark.parametrize(("warmup", "n_steps"), [(7, 60), (2, 5), (30, 31)])
def test_warmup_cosine_is_pytorchs_linear_lr_then_cosine_annealing(warmup, n_steps):
    """The oracle: PyTorch's documented rules, LinearLR(start_factor=1/W, total_iters=W-1)
    for steps 0..W-1, then CosineAnnealingLR(T_max=S-W, eta_min) in its recursive form."""
    lr0, lr_min = 0.3, 0.02
    start, total = 1 / warmup, warmup - 1
    # LinearLR: factor(e) = start + (end - start) * min(e, total_iters) / total_iters
    expected = [lr0 * (start + (1 - start) * min(e, total) / total) for e in range(warmup)]
    # CosineAnnealingLR: eta_{t+1} = eta_min + (eta_t - eta_min)
    #     * (1 + cos(pi (t + 1) / T_max)) / (1 + cos(pi t / T_max)), from eta_0 = lr0
    t_max, eta = n_steps - warmup, lr0
    expected.append(eta)
    for t in range(t_max):
        ratio = (1 + math.cos(math.pi * (t + 1) / t_max)) / (1 + math.cos(math.pi * t / t_max))
        eta = lr_min + (eta - lr_min) * ratio
        expected.append(eta)
    got = [opt.warmup_cosine(lr0, s, n_steps, warmup, lr_min) for s in range(n_steps + 1)]
    assert np.allclose(got, expected, rtol=1e-12, atol=1e-15)
