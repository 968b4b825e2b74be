"""scikit-learn estimators around ``course.network.MLP``.

``MLPClassifier`` and ``MLPRegressor`` follow ``sklearn.neural_network``'s
parameter names where the concept is the same, so ``GridSearchCV``,
``cross_val_score``, pipelines and ``permutation_importance`` work with them.
Training is mini-batch gradient descent with ``course.optimizers``; the
classifier uses a softmax output with the fused softmax cross-entropy, the
regressor an identity output with the mean squared error.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from course.network import MLP
from course.optimizers import SGD, Adam
from course.regularization import EarlyStopping
from course.training import iterate_minibatches


class _BaseMLP(BaseEstimator):
    """Shared parameters and training loop.

    Parameters
    ----------
    hidden_layer_sizes : sizes of the hidden layers.
    activation : hidden activation, a name in ``course.activations.ACTIVATIONS``.
    solver : ``"adam"`` or ``"sgd"`` (with Nesterov ``momentum``, as scikit-learn).
    alpha : L2 strength with scikit-learn's scaling, ``alpha / (2 * batch_size) * sum W^2``.
    batch_size : samples per step, or ``"auto"`` for ``min(200, n_samples)``.
    learning_rate_init : the optimizer's learning rate.
    max_iter : maximum number of epochs.
    tol, n_iter_no_change : stop when the monitored loss has not improved by
        ``tol`` for ``n_iter_no_change`` consecutive epochs.
    early_stopping : monitor the loss on a held-out ``validation_fraction`` of
        the training data (and restore the best weights) instead of the training loss.
    momentum : momentum of the ``"sgd"`` solver.
    dropout : inverted-dropout rate after each hidden layer.
    init : a name in ``course.initializers.INITIALIZERS``.
    random_state : seed for initialization, shuffling, dropout and the validation split.
    """

    _output_activation = "identity"
    _loss = "mse"

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate_init=0.001,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        momentum=0.9,
        dropout=0.0,
        init="he_normal",
        random_state=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.momentum = momentum
        self.dropout = dropout
        self.init = init
        self.random_state = random_state

    def _optimizer(self):
        if self.solver == "adam":
            return Adam(lr=self.learning_rate_init)
        if self.solver == "sgd":
            return SGD(lr=self.learning_rate_init, momentum=self.momentum, nesterov=True)
        raise ValueError(f"solver must be 'adam' or 'sgd', got {self.solver!r}")

    def _fit(self, X, targets, n_outputs, stratify=None):
        """Train a fresh network on ``X`` (N, D) and ``targets`` as the loss takes them."""
        rng = np.random.default_rng(check_random_state(self.random_state).randint(2**31 - 1))
        X_val = y_val = None
        if self.early_stopping:
            X, X_val, targets, y_val = train_test_split(
                X,
                targets,
                test_size=self.validation_fraction,
                random_state=int(rng.integers(2**31 - 1)),
                stratify=stratify,
            )
        n = X.shape[0]
        batch_size = min(200, n) if self.batch_size == "auto" else min(self.batch_size, n)
        sizes = [X.shape[1], *np.atleast_1d(self.hidden_layer_sizes).tolist(), n_outputs]
        self.model_ = MLP(
            sizes,
            activation=self.activation,
            output_activation=self._output_activation,
            init=self.init,
            dropout=self.dropout,
            rng=rng,
            l2=self.alpha / (2 * batch_size),
        )
        optimizer = self._optimizer()
        stopper = EarlyStopping(patience=self.n_iter_no_change, min_delta=self.tol)
        self.loss_curve_ = []
        self.validation_loss_curve_ = []
        for _ in range(self.max_iter):
            total = 0.0
            for X_batch, y_batch in iterate_minibatches(X, targets, batch_size, rng):
                value, grads = self.model_.loss_and_grads(X_batch, y_batch, self._loss)
                optimizer.step(self.model_.params, grads)
                total += value * len(X_batch)
            self.loss_curve_.append(total / n)
            monitored = self.loss_curve_[-1]
            if self.early_stopping:
                monitored = self.model_.loss(X_val, y_val, self._loss)
                self.validation_loss_curve_.append(monitored)
            if stopper.step(monitored, self.model_.params):
                break
        if self.early_stopping:
            stopper.restore(self.model_.params)
        self.n_iter_ = len(self.loss_curve_)
        return self

    def _forward(self, X):
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.model_.forward(X)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier: softmax output, cross-entropy loss.

    See ``_BaseMLP`` for the parameters. Attributes after ``fit``: ``classes_``,
    ``n_features_in_``, ``model_`` (the trained ``course.network.MLP``),
    ``loss_curve_``, ``validation_loss_curve_`` (with early stopping), ``n_iter_``.
    """

    _output_activation = "softmax"
    _loss = "softmax_cross_entropy"

    def fit(self, X, y):
        """Fit on X of shape (N, D) and class labels y of shape (N,)."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        labels = encoder.transform(y)
        stratify = labels if self.early_stopping and np.bincount(labels).min() > 1 else None
        return self._fit(X, labels, len(self.classes_), stratify=stratify)

    def predict_proba(self, X):
        """Class probabilities, shape (N, n_classes), columns ordered as ``classes_``."""
        return self._forward(X)

    def predict(self, X):
        """Most probable class labels, shape (N,)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor: identity output, mean squared error.

    See ``_BaseMLP`` for the parameters; attributes as ``MLPClassifier`` without ``classes_``.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        """Fit on X of shape (N, D) and targets y of shape (N,) or (N, K)."""
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        self._single_output = y.ndim == 1
        targets = y.reshape(len(y), -1)
        return self._fit(X, targets, targets.shape[1])

    def predict(self, X):
        """Predictions, shape (N,) for a single target, else (N, K)."""
        out = self._forward(X)
        return out[:, 0] if self._single_output else out
