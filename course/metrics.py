"""Classification metrics from counts: accuracy, confusion matrix, precision, recall, F1.

Every function takes ``y_true`` and ``y_pred``, array-likes of shape (N,) holding class
labels, targets first as in ``sklearn.metrics``. Results match scikit-learn's with
``zero_division=0``: a ratio whose denominator is 0 is defined as 0.0, silently.
"""

import numpy as np


def _labels_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError(
            f"expected two arrays of shape (N,), got {y_true.shape} and {y_pred.shape}"
        )
    return y_true, y_pred


def _ratio(num, den):
    """``num / den`` elementwise, 0.0 where ``den == 0`` (silently: that division never happens)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.zeros_like(num), where=den != 0)


def accuracy(y_true, y_pred) -> float:
    """Fraction of correct predictions, ``mean(y_true == y_pred)``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (N,), class labels.

    Returns
    -------
    float in [0, 1].
    """
    y_true, y_pred = _labels_pair(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred, n_classes=None) -> np.ndarray:
    """Counts of (true class, predicted class) pairs.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (N,), integer labels in ``0 .. K-1``.
    n_classes : K; default ``max(y_true.max(), y_pred.max()) + 1``.

    Returns
    -------
    C : integer array of shape (K, K); ``C[i, j]`` is the number of samples whose
        **true** label is ``i`` and **predicted** label is ``j`` (rows are truths, as in
        ``sklearn.metrics.confusion_matrix(y_true, y_pred, labels=range(K))``).

    Notes
    -----
    The diagonal holds the correct predictions; row ``i`` sums to the number of samples
    of class ``i``, column ``j`` to the number of predictions of class ``j``.
    """
    y_true, y_pred = _labels_pair(y_true, y_pred)
    y_true, y_pred = y_true.astype(np.int64), y_pred.astype(np.int64)
    if n_classes is None:
        n_classes = int(max(y_true.max(), y_pred.max())) + 1
    if y_true.size and (
        min(y_true.min(), y_pred.min()) < 0 or max(y_true.max(), y_pred.max()) >= n_classes
    ):
        raise ValueError(f"labels must lie in 0 .. {n_classes - 1}")
    # pair (i, j) -> the single index i * K + j, counted in one pass
    counts = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes)


def precision_recall_f1(y_true, y_pred, average: str = "macro", pos_label=1) -> tuple:
    """Precision, recall and F1 score, averaged over classes.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (N,), class labels.
    average : ``"macro"``, ``"micro"`` or ``"binary"``.
        ``"binary"``: the scores of the class ``pos_label`` alone.
        ``"macro"``: the unweighted mean of the per-class scores, over the classes that occur
        in ``y_true`` or ``y_pred`` (F1 is averaged per class, not recomputed from the means).
        ``"micro"``: the scores of the pooled counts ``sum TP``, ``sum FP``, ``sum FN``; for
        single-label data all three equal the accuracy.
    pos_label : the positive class for ``average="binary"``.

    Returns
    -------
    (precision, recall, f1) : three floats in [0, 1].

    Notes
    -----
    For one class with true positives TP, false positives FP and false negatives FN:
    ``precision = TP / (TP + FP)``, ``recall = TP / (TP + FN)`` and
    ``F1 = 2 PR / (P + R) = 2 TP / (2 TP + FP + FN)``. A zero denominator gives 0.0,
    as ``sklearn.metrics.precision_recall_fscore_support(..., zero_division=0)``.
    """
    y_true, y_pred = _labels_pair(y_true, y_pred)
    if average == "binary":
        labels = np.array([pos_label])
    elif average in ("macro", "micro"):
        labels = np.union1d(y_true, y_pred)
    else:
        raise ValueError(f"average must be 'macro', 'micro' or 'binary', got {average!r}")
    tp = np.array([np.sum((y_true == c) & (y_pred == c)) for c in labels])
    predicted = np.array([np.sum(y_pred == c) for c in labels])  # TP + FP
    actual = np.array([np.sum(y_true == c) for c in labels])  # TP + FN
    if average == "micro":
        tp, predicted, actual = tp.sum(), predicted.sum(), actual.sum()
    precision = _ratio(tp, predicted)
    recall = _ratio(tp, actual)
    f1 = _ratio(2 * tp, predicted + actual)
    return float(np.mean(precision)), float(np.mean(recall)), float(np.mean(f1))
