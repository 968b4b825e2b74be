"""Plausible bugs in module 08's exercises; each must lose points to a hidden test."""

_PIPE = "return make_pipeline(StandardScaler(), mlp)"

BUGS = [
    {
        "name": "make_model returns a pipeline already fitted on the digits",
        "cell": "make_model",
        "old": _PIPE,
        "new": "X, y = load_digits()\n    return make_pipeline(StandardScaler(), mlp).fit(X, y)",
        "loses": ["test_make_model_pipeline"],
    },
    {
        "name": "make_model has no scaling step",
        "cell": "make_model",
        "old": _PIPE,
        "new": "return make_pipeline(mlp)",
        "loses": ["test_make_model_pipeline"],
    },
    {
        "name": "make_model: no scaling, and SGD at a rate that only suits scaled inputs",
        "cell": "make_model",
        "old": "learning_rate_init=1e-3,\n        max_iter=300,\n        early_stopping=True,\n"
        "        n_iter_no_change=20,\n        random_state=0,\n    )\n    " + _PIPE,
        "new": 'learning_rate_init=0.1,\n        solver="sgd",\n        max_iter=300,\n'
        "        early_stopping=True,\n        n_iter_no_change=20,\n        random_state=0,\n"
        "    )\n    return make_pipeline(mlp)",
        "loses": ["test_make_model_pipeline", "test_make_model_accuracy"],
    },
    {
        "name": "make_model returns the bare classifier, not a pipeline",
        "cell": "make_model",
        "old": _PIPE,
        "new": "return mlp",
        "loses": ["test_make_model_pipeline"],
    },
    {
        "name": "make_model turns early stopping off",
        "cell": "make_model",
        "old": "early_stopping=True,",
        "new": "early_stopping=False,",
        "loses": ["test_make_model_pipeline"],
    },
    {
        "name": "make_model trains for far too few epochs",
        "cell": "make_model",
        "old": "max_iter=300,",
        "new": "max_iter=2,",
        "loses": ["test_make_model_accuracy"],
    },
    {
        "name": "make_model uses a learning rate so large that training diverges",
        "cell": "make_model",
        "old": "learning_rate_init=1e-3,",
        "new": "learning_rate_init=5.0,",
        "loses": ["test_make_model_accuracy"],
    },
    {
        # issue 20: a FunctionTransformer (kept in the kernel) looked up each digit's label in
        # scikit-learn's own copy of the data set, and a network trained for one epoch scored 1.0
        # on the hidden split. The graded rows are noised and their columns permuted, so the
        # lookup finds nothing and the one-epoch network fails as it would without the trick.
        # Measured on the hidden split's seed: 1.0 with the lookup on unchanged rows, 0.10 on
        # the changed ones; the same network without the lookup, 0.90 and 0.83.
        "name": "make_model looks each held-out digit up in scikit-learn's copy of load_digits",
        "cell": "make_model",
        "old": "learning_rate_init=1e-3,\n        max_iter=300,\n        early_stopping=True,\n"
        "        n_iter_no_change=20,\n        random_state=0,\n    )\n    " + _PIPE,
        "new": "learning_rate_init=0.05,\n        max_iter=1,\n        early_stopping=True,\n"
        "        n_iter_no_change=20,\n        random_state=0,\n    )\n"
        "    from sklearn.datasets import load_digits as sk_digits\n"
        "    from sklearn.preprocessing import FunctionTransformer\n\n"
        "    public = {tuple(row): label for row, label in zip(*sk_digits(return_X_y=True))}\n\n"
        "    def lookup(X):\n"
        "        out = np.zeros((len(X), 10))\n"
        "        for i, row in enumerate(np.asarray(X, dtype=float).tolist()):\n"
        "            if tuple(row) in public:\n"
        "                out[i, public[tuple(row)]] = 10.0\n"
        "        return out\n\n"
        "    return make_pipeline(FunctionTransformer(lookup), StandardScaler(), mlp)",
        "loses": ["test_make_model_accuracy"],
    },
    {
        "name": "make_model uses scikit-learn's MLPClassifier instead of the course's",
        "cell": "make_model",
        "old": "mlp = MLPClassifier(",
        "new": "from sklearn.neural_network import MLPClassifier as SkMLP\n\n    mlp = SkMLP(",
        "loses": ["test_make_model_pipeline"],
    },
    {
        "name": "make_model keeps one global pipeline and returns it on every call",
        "cell": "make_model",
        "old": _PIPE,
        "new": (
            "global _MODEL\n    if '_MODEL' not in globals():\n"
            "        _MODEL = make_pipeline(StandardScaler(), mlp)\n    return _MODEL"
        ),
        "loses": ["test_make_model_pipeline"],
    },
    {
        "name": "confusion matrix transposed: rows are predictions",
        "cell": "confusion_matrix",
        "old": "np.add.at(C, (y_true, y_pred), 1)",
        "new": "np.add.at(C, (y_pred, y_true), 1)",
        "loses": ["test_confusion_matrix"],
    },
    {
        "name": "confusion matrix counts repeated pairs once (C[i, j] += 1 with fancy indexing)",
        "cell": "confusion_matrix",
        "old": "np.add.at(C, (y_true, y_pred), 1)",
        "new": "C[y_true, y_pred] += 1",
        "loses": ["test_confusion_matrix"],
    },
    {
        "name": "confusion matrix infers K from y_true only",
        "cell": "confusion_matrix",
        "old": "n_classes = int(max(y_true.max(), y_pred.max())) + 1",
        "new": "n_classes = int(y_true.max()) + 1",
        "loses": ["test_confusion_matrix"],
    },
    {
        "name": "confusion matrix ignores n_classes",
        "cell": "confusion_matrix",
        "old": "if n_classes is None:",
        "new": "if True:",
        "loses": ["test_confusion_matrix"],
    },
    {
        "name": "confusion matrix of float counts",
        "cell": "confusion_matrix",
        "old": "C = np.zeros((n_classes, n_classes), dtype=int)",
        "new": "C = np.zeros((n_classes, n_classes))",
        "loses": ["test_confusion_matrix"],
    },
    {
        "name": "macro and micro averaging swapped",
        "cell": "precision_recall_f1",
        "old": 'if average == "micro":',
        "new": 'if average == "macro":',
        "loses": ["test_precision_recall_f1"],
    },
    {
        "name": "micro averaging computed as macro (counts never pooled)",
        "cell": "precision_recall_f1",
        "old": 'if average == "micro":',
        "new": 'if average == "never":',
        "loses": ["test_precision_recall_f1"],
    },
    {
        "name": "macro F1 computed from the macro precision and recall",
        "cell": "precision_recall_f1",
        "old": "return float(np.mean(precision)), float(np.mean(recall)), float(np.mean(f1))",
        "new": (
            "P, R = float(np.mean(precision)), float(np.mean(recall))\n"
            "    return P, R, (2 * P * R / (P + R) if P + R > 0 else 0.0)"
        ),
        "loses": ["test_precision_recall_f1"],
    },
    {
        "name": "zero denominators divided anyway: nan and a RuntimeWarning",
        "cell": "precision_recall_f1",
        "old": "return np.divide(num, den, out=np.zeros_like(num), where=den > 0)",
        "new": "return num / den",
        "loses": ["test_precision_recall_f1"],
    },
    {
        "name": "zero denominators: nan replaced by 0 after a warning",
        "cell": "precision_recall_f1",
        "old": "return np.divide(num, den, out=np.zeros_like(num), where=den > 0)",
        "new": "return np.nan_to_num(num / den)",
        "loses": ["test_precision_recall_f1"],
    },
    {
        "name": "precision and recall swapped",
        "cell": "precision_recall_f1",
        "old": "precision = ratio(tp, n_predicted)\n    recall = ratio(tp, n_actual)",
        "new": "precision = ratio(tp, n_actual)\n    recall = ratio(tp, n_predicted)",
        "loses": ["test_precision_recall_f1"],
    },
    {
        "name": "macro averages over 0..max label, counting classes that never occur",
        "cell": "precision_recall_f1",
        "old": "labels = np.union1d(y_true, y_pred)",
        "new": "labels = np.arange(max(y_true.max(), y_pred.max()) + 1)",
        "loses": ["test_precision_recall_f1"],
    },
    {
        "name": "macro averages over the true labels only",
        "cell": "precision_recall_f1",
        "old": "labels = np.union1d(y_true, y_pred)",
        "new": "labels = np.unique(y_true)",
        "loses": ["test_precision_recall_f1"],
    },
    {
        "name": "binary ignores pos_label",
        "cell": "precision_recall_f1",
        "old": "labels = [pos_label]",
        "new": "labels = [1]",
        "loses": ["test_precision_recall_f1"],
    },
    {
        "name": "binary averages both classes like macro",
        "cell": "precision_recall_f1",
        "old": 'if average == "binary":',
        "new": 'if average == "binary!":',
        "loses": ["test_precision_recall_f1"],
    },
    {
        "name": "accuracy returns the error rate",
        "cell": "accuracy",
        "old": "np.asarray(y_true) == np.asarray(y_pred)",
        "new": "np.asarray(y_true) != np.asarray(y_pred)",
        "loses": ["test_accuracy"],
    },
    {
        "name": "accuracy returns the number of correct predictions",
        "cell": "accuracy",
        "old": "float(np.mean(",
        "new": "float(np.sum(",
        "loses": ["test_accuracy"],
    },
    {
        "name": "Q1: grid search with two values each",
        "cell": "q1_search_budget",
        "old": 'answer_q1 = "c"',
        "new": 'answer_q1 = "a"',
        "loses": ["test_q1_search_budget"],
    },
    {
        "name": "Q1: many learning rates, alpha never tuned",
        "cell": "q1_search_budget",
        "old": 'answer_q1 = "c"',
        "new": 'answer_q1 = "b"',
        "loses": ["test_q1_search_budget"],
    },
    {
        "name": "Q2: the highest recall, over the clinic's follow-up capacity",
        "cell": "q2_screening_metric",
        "old": 'answer_q2 = "a"',
        "new": 'answer_q2 = "b"',
        "loses": ["test_q2_screening_metric"],
    },
    {
        "name": "Q2: the highest accuracy (and precision) for a screening test",
        "cell": "q2_screening_metric",
        "old": 'answer_q2 = "a"',
        "new": 'answer_q2 = "d"',
        "loses": ["test_q2_screening_metric"],
    },
    {
        "name": "Q3: the last round forgotten",
        "cell": "q3_halving_budget",
        "old": "    _total += q3_folds * _n * _epochs  # every candidate of the round, once per "
        "fold\n    if _n <= 1:\n        break\n",
        "new": "    if _n <= 1:\n        break\n    _total += q3_folds * _n * _epochs\n",
        "loses": ["test_q3_halving_budget"],
    },
    {
        "name": "Q3: the winner's final training run forgotten",
        "cell": "q3_halving_budget",
        "old": "answer_q3 = _total + _epochs",
        "new": "answer_q3 = _total",
        "loses": ["test_q3_halving_budget"],
    },
    {
        "name": "Q3: cross-validation forgotten (one run per candidate and round)",
        "cell": "q3_halving_budget",
        "old": "_total += q3_folds * _n * _epochs",
        "new": "_total += _n * _epochs",
        "loses": ["test_q3_halving_budget"],
    },
    {
        "name": "Q3: survivors rounded down",
        "cell": "q3_halving_budget",
        "old": "math.ceil(_n / q3_factor)",
        "new": "max(_n // q3_factor, 1)",
        "loses": ["test_q3_halving_budget"],
    },
    {
        "name": "Q3: worked out for the placeholder id (the student never typed theirs)",
        "cell": "q3_halving_budget",
        "old": "answer_q3 = _total + _epochs",
        "new": "answer_q3 = 5180",
        "loses": ["test_q3_halving_budget"],
    },
]
