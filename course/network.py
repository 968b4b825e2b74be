"""Multi-layer perceptrons: a functional core and the ``MLP`` class that wraps it.

A network with ``layer_sizes = [D, H1, ..., K]`` has ``L = len(layer_sizes) - 1``
dense layers (the input layer is not counted). Its parameters are a dict
``{"W1": (D, H1), "b1": (H1,), ..., "WL": (H_{L-1}, K), "bL": (K,)}``. Layer ``l``
computes ``a_l = g(a_{l-1} @ W_l + b_l)`` with the hidden ``activation`` for
``l < L`` and ``output_activation`` for the last layer.

``mlp_forward`` returns the output and ``caches``, a list with one tuple per layer,
``(dense_cache, activation_cache)`` (plus a dropout cache when dropout is on);
``mlp_backward`` walks it backwards and returns gradients under the same keys
as the parameters.

With ``norm="batch"`` or ``norm="layer"`` every hidden layer normalizes its
pre-activation, ``a_l = g(norm(a_{l-1} @ W_l + b_l))`` (Ioffe & Szegedy's
placement), with a learned scale and shift ``"gamma{l}", "beta{l}"`` of shape
(H_l,) in ``params``; a hidden layer's cache is then
``(dense_cache, activation_cache, dropout_cache or None, (norm, norm_cache))``.
"""

from itertools import pairwise

import numpy as np

from course.initializers import INITIALIZERS
from course.layers import (
    activation_backward,
    activation_forward,
    batchnorm_backward,
    batchnorm_forward,
    dense_backward,
    dense_forward,
    dropout_backward,
    dropout_forward,
    init_running_stats,
    layernorm_backward,
    layernorm_forward,
)
from course.losses import LOSSES
from course.optimizers import sgd_step
from course.regularization import l1_penalty, l2_penalty


def count_parameters(layer_sizes) -> int:
    """Number of weights and biases, ``sum(n_in * n_out + n_out)`` over the layers.

    The two networks on the slides of *CSE-403 Machine Learning, Chapter 6: Neural Networks*:
    ``[3, 4, 2]`` has 26 parameters, ``[3, 4, 4, 1]`` has 41.
    """
    return sum(n_in * n_out + n_out for n_in, n_out in pairwise(layer_sizes))


def init_params(layer_sizes, init: str = "he_normal", rng=None) -> dict:
    """Initial parameters: ``W_l = INITIALIZERS[init](n_in, n_out, rng)`` in order l = 1..L, b = 0.

    Returns
    -------
    dict ``{"W1": (n_0, n_1), "b1": (n_1,), ...}`` of float64 arrays.
    """
    rng = np.random.default_rng() if rng is None else rng
    params = {}
    for l, (n_in, n_out) in enumerate(pairwise(layer_sizes), start=1):
        params[f"W{l}"] = INITIALIZERS[init](n_in, n_out, rng)
        params[f"b{l}"] = np.zeros(n_out)
    return params


NORMS = ("batch", "layer")
"""Normalization layers an MLP can put between each hidden dense layer and its activation."""


def init_norm_params(layer_sizes) -> dict:
    """Scale and shift of the normalization of each hidden layer: ``gamma = 1``, ``beta = 0``.

    Returns
    -------
    dict ``{"gamma1": (n_1,), "beta1": (n_1,), ..., "beta{L-1}": (n_{L-1},)}``; the
    output layer is not normalized.
    """
    params = {}
    for l, n in enumerate(list(layer_sizes)[1:-1], start=1):
        params[f"gamma{l}"] = np.ones(n)
        params[f"beta{l}"] = np.zeros(n)
    return params


def init_norm_running(layer_sizes) -> dict:
    """Running statistics for batch normalization: ``{l: {"mean": (n_l,), "var": (n_l,)}}``."""
    return {l: init_running_stats(n) for l, n in enumerate(list(layer_sizes)[1:-1], start=1)}


def _norm_forward(z, params, l, norm, running, training):
    """Normalize hidden layer ``l``'s pre-activation ``z``; returns ``(out, (norm, cache))``."""
    gamma, beta = params[f"gamma{l}"], params[f"beta{l}"]
    if norm == "batch":
        stats = None if running is None else running[l]
        out, cache = batchnorm_forward(z, gamma, beta, stats, training=training)
    elif norm == "layer":
        out, cache = layernorm_forward(z, gamma, beta)
    else:
        raise ValueError(f"norm must be None or one of {NORMS}, got {norm!r}")
    return out, (norm, cache)


def n_layers(params: dict) -> int:
    """Number of dense layers in ``params``."""
    return sum(1 for k in params if k.startswith("W"))


def mlp_forward(
    X,
    params,
    activation="relu",
    output_activation="identity",
    dropout=0.0,
    rng=None,
    norm=None,
    running=None,
    training=True,
):
    """Forward pass of an MLP for a batch.

    Parameters
    ----------
    X : array of shape (N, D)
    params : dict ``W1, b1, ..., WL, bL`` (plus ``gamma{l}, beta{l}`` for hidden
        layers when ``norm`` is set).
    activation : hidden activation name; output_activation : last layer's.
    dropout : inverted-dropout rate applied after every hidden activation
        (training only; 0 switches it off). ``rng`` draws the masks.
    norm : None, ``"batch"`` or ``"layer"``: normalization of each hidden
        pre-activation (``course.layers.batchnorm_forward`` / ``layernorm_forward``).
    running : for ``norm="batch"``, ``{l: {"mean", "var"}}`` running statistics
        (see ``init_norm_running``), updated in place in training mode and used
        in inference mode; None skips the update (training mode only).
    training : batch normalization uses batch statistics (True) or the running
        ones (False). Layer normalization and dropout ignore it.

    Returns
    -------
    out : array of shape (N, K), after ``output_activation``
    caches : list of L tuples ``(dense_cache, activation_cache[, dropout_cache])``;
        with ``norm``, hidden layers hold
        ``(dense_cache, activation_cache, dropout_cache or None, (norm, norm_cache))``.
    """
    a = np.asarray(X, dtype=float)
    caches = []
    L = n_layers(params)
    for l in range(1, L + 1):
        z, dense_cache = dense_forward(a, params[f"W{l}"], params[f"b{l}"])
        norm_cache = None
        if norm is not None and l < L:
            z, norm_cache = _norm_forward(z, params, l, norm, running, training)
        a, act_cache = activation_forward(z, activation if l < L else output_activation)
        drop_cache = None
        if dropout and l < L:
            a, drop_cache = dropout_forward(a, dropout, rng=rng)
        if norm_cache is not None:
            caches.append((dense_cache, act_cache, drop_cache, norm_cache))
        elif drop_cache is not None:
            caches.append((dense_cache, act_cache, drop_cache))
        else:
            caches.append((dense_cache, act_cache))
    return a, caches


def mlp_backward(dout, caches) -> dict:
    """Backward pass of an MLP.

    Parameters
    ----------
    dout : gradient of the loss with respect to the network's output, shape (N, K)
    caches : from ``mlp_forward``

    Returns
    -------
    grads : dict ``{"W1": dW1, "b1": db1, ...}`` with the parameters' shapes
        (and ``gamma{l}, beta{l}`` where a layer is normalized).
    """
    grads = {}
    norm_backward = {"batch": batchnorm_backward, "layer": layernorm_backward}
    for l in range(len(caches), 0, -1):
        dense_cache, act_cache, *rest = caches[l - 1]
        if rest and rest[0] is not None:
            dout = dropout_backward(dout, rest[0])
        dz = activation_backward(dout, act_cache)
        if len(rest) > 1:
            norm, norm_cache = rest[1]
            dz, grads[f"gamma{l}"], grads[f"beta{l}"] = norm_backward[norm](dz, norm_cache)
        dout, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(dz, dense_cache)
    return grads


def predict_binary(p, threshold: float = 0.5) -> np.ndarray:
    """Class 1 where the probability ``p``, shape (N,) or (N, 1), is ``>= threshold``; (N,)."""
    return (np.asarray(p).reshape(len(p), -1)[:, 0] >= threshold).astype(int)


def predict_multiclass(p) -> np.ndarray:
    """The most probable class of each row of ``p`` (N, K); shape (N,)."""
    return np.argmax(np.asarray(p), axis=1)


def xor_params() -> dict:
    """Weights of a 2-2-1 ReLU network that computes XOR exactly.

    With ``mlp_forward(X, xor_params(), "relu", "identity")`` the four points
    (0, 0), (0, 1), (1, 0), (1, 1) map to 0, 1, 1, 0.

    Returns
    -------
    dict ``{"W1": (2, 2), "b1": (2,), "W2": (2, 1), "b2": (1,)}`` of float64 arrays.

    Notes
    -----
    The hidden units are ``h1 = relu(x1 + x2)`` and ``h2 = relu(x1 + x2 - 1)``;
    the output is ``y = h1 - 2 h2``. The hidden layer maps (0, 1) and (1, 0) to
    the same point, which makes XOR linearly separable there.
    Goodfellow, Bengio & Courville, *Deep Learning* (2016), section 6.1.
    """
    return {
        "W1": np.array([[1.0, 1.0], [1.0, 1.0]]),
        "b1": np.array([0.0, -1.0]),
        "W2": np.array([[1.0], [-2.0]]),
        "b2": np.array([0.0]),
    }


_FUSED = {
    ("softmax", "categorical_cross_entropy"): "softmax_cross_entropy",
    ("softmax", "softmax_cross_entropy"): "softmax_cross_entropy",
    ("identity", "softmax_cross_entropy"): "softmax_cross_entropy",
    ("sigmoid", "binary_cross_entropy"): "sigmoid_binary_cross_entropy",
    ("sigmoid", "sigmoid_binary_cross_entropy"): "sigmoid_binary_cross_entropy",
    ("identity", "sigmoid_binary_cross_entropy"): "sigmoid_binary_cross_entropy",
}
"""(output activation, loss) pairs computed from the logits, stably."""


class MLP:
    """A multi-layer perceptron over ``mlp_forward`` and ``mlp_backward``.

    Parameters
    ----------
    layer_sizes : ``[D, H1, ..., K]``
    activation, output_activation : names in ``course.activations.ACTIVATIONS``.
    init : name in ``course.initializers.INITIALIZERS``.
    dropout : inverted-dropout rate after each hidden layer, in training mode only.
    rng : ``numpy.random.Generator`` for the initial weights and dropout masks.
    l1, l2 : penalty strengths added by ``loss_and_grads`` (see ``course.regularization``).
    norm : None, ``"batch"`` or ``"layer"``: normalize every hidden layer's
        pre-activation before its activation. Batch normalization uses batch
        statistics in training mode (``loss_and_grads``; every training batch
        needs at least 2 samples) and running statistics in inference mode
        (``forward``, ``loss``, ``predict``).

    Attributes
    ----------
    params : dict ``W1, b1, ...`` (and ``gamma{l}, beta{l}`` with ``norm``);
        may be replaced or edited by hand.
    running : with ``norm="batch"``, the running statistics ``{l: {"mean", "var"}}``
        (momentum 0.1, as PyTorch's ``BatchNorm1d``); otherwise None.
    """

    def __init__(
        self,
        layer_sizes,
        activation="relu",
        output_activation="identity",
        init="he_normal",
        dropout=0.0,
        rng=None,
        l1=0.0,
        l2=0.0,
        norm=None,
    ):
        if norm is not None and norm not in NORMS:
            raise ValueError(f"norm must be None or one of {NORMS}, got {norm!r}")
        self.layer_sizes = list(layer_sizes)
        self.activation = activation
        self.output_activation = output_activation
        self.dropout = dropout
        self.rng = np.random.default_rng() if rng is None else rng
        self.l1 = l1
        self.l2 = l2
        self.params = init_params(self.layer_sizes, init, self.rng)
        self.norm = norm
        self.running = None
        if norm is not None:
            self.params.update(init_norm_params(self.layer_sizes))
        if norm == "batch":
            self.running = init_norm_running(self.layer_sizes)
        self._out = None
        self._caches = None

    def forward(self, X, training: bool = False) -> np.ndarray:
        """Output after ``output_activation``, shape (N, K).

        Dropout, batch statistics and running-statistics updates only when ``training``.
        """
        self._out, self._caches = mlp_forward(
            X,
            self.params,
            self.activation,
            self.output_activation,
            dropout=self.dropout if training else 0.0,
            rng=self.rng,
            norm=self.norm,
            running=self.running,
            training=training,
        )
        return self._out

    def backward(self, dout) -> dict:
        """Gradients of the loss given ``dout``, its gradient with respect to the last output."""
        return mlp_backward(dout, self._caches)

    def loss_and_grads(self, X, y, loss: str) -> tuple[float, dict]:
        """Loss (plus penalties) and gradients for a batch, in training mode.

        Parameters
        ----------
        X : array of shape (N, D)
        y : targets: integer labels (N,) or one-hot (N, K) for categorical losses,
            otherwise an array of the output's shape (or (N,) for one output).
        loss : a name in ``course.losses.LOSSES``.

        Notes
        -----
        A softmax or sigmoid output with its cross-entropy is differentiated from
        the logits: ``dz = (p - y) / N`` without the ill-conditioned division by p.
        """
        self.forward(X, training=True)
        value, dout = self._data_loss(y, loss, with_grad=True)
        grads = self.backward(dout)
        for lam, penalty in ((self.l1, l1_penalty), (self.l2, l2_penalty)):
            if lam:
                extra, extra_grads = penalty(self.params, lam)
                value += extra
                grads = {k: g + extra_grads[k] for k, g in grads.items()}
        return value, grads

    def loss(self, X, y, loss: str) -> float:
        """Loss in inference mode (no dropout, no penalties)."""
        self.forward(X)
        return self._data_loss(y, loss, with_grad=False)[0]

    def _data_loss(self, y, loss, with_grad):
        """Loss of the last forward pass and, if asked, the ``dout`` for ``backward``.

        For a fused pair the last cache's activation is replaced by the identity,
        so ``backward`` starts from the gradient with respect to the logits.
        """
        dense_cache, (z, _), *rest = self._caches[-1]
        fused = _FUSED.get((self.output_activation, loss))
        if fused is None:
            scores = self._out
        else:
            loss, scores = fused, z
            self._caches[-1] = (dense_cache, (z, "identity"), *rest)
        loss_fn, grad_fn = LOSSES[loss]
        y = np.asarray(y)
        categorical = loss in ("categorical_cross_entropy", "softmax_cross_entropy")
        if not categorical and y.ndim == 1 and scores.shape[1:] == (1,):
            y = y[:, None]
        return loss_fn(y, scores), grad_fn(y, scores) if with_grad else None

    def predict(self, X) -> np.ndarray:
        """Class labels for a softmax or sigmoid output, the raw output otherwise."""
        out = self.forward(X)
        if self.output_activation == "softmax":
            return predict_multiclass(out)
        if self.output_activation == "sigmoid":
            return predict_binary(out)
        return out


def worked_example_update(lr: float = 0.9) -> dict:
    """The worked backpropagation example of *CSE-403 Machine Learning, Chapter 6: Neural
    Networks*: the parameters after one step.

    The 3-2-1 network has sigmoid units everywhere; units 4 and 5 form the
    hidden layer, unit 6 is the output. With input ``x = (1, 0, 1)``, target
    ``t = 1`` and loss ``E = 1/2 (t - o6)^2`` it takes one gradient-descent step
    ``sgd_step(params, grads, lr)``.

    Parameters
    ----------
    lr : learning rate; the slides use 0.9.

    Returns
    -------
    dict ``{"W1": (3, 2), "b1": (2,), "W2": (2, 1), "b2": (1,)}``: the updated
    parameters. ``W1[i - 1, 0]`` is ``w_i4`` and ``W1[i - 1, 1]`` is ``w_i5``;
    ``W2`` holds ``w46, w56``.

    Notes
    -----
    Initial weights: ``w14 = 0.2, w24 = 0.4, w34 = -0.5, b4 = -0.4,
    w15 = -0.3, w25 = 0.1, w35 = 0.2, b5 = 0.2, w46 = -0.3, w56 = -0.2, b6 = 0.1``.
    The gradient of ``E`` with respect to ``o6`` is ``o6 - t``. With ``lr = 0.9``
    the slides find ``w46 = -0.261, w56 = -0.138, b6 = 0.218, w15 = -0.306,
    w35 = 0.194, b5 = 0.194, b4 = -0.408`` (rounded).
    """
    params = {
        "W1": np.array([[0.2, -0.3], [0.4, 0.1], [-0.5, 0.2]]),
        "b1": np.array([-0.4, 0.2]),
        "W2": np.array([[-0.3], [-0.2]]),
        "b2": np.array([0.1]),
    }
    x = np.array([[1.0, 0.0, 1.0]])
    out, caches = mlp_forward(x, params, "sigmoid", "sigmoid")
    grads = mlp_backward(out - 1.0, caches)
    return sgd_step(params, grads, lr)
