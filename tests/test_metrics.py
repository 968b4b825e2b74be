"""course.metrics against sklearn.metrics: random labels, absent classes, zero denominators."""

import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

from course import metrics as M

pytestmark = pytest.mark.course

RNG = np.random.default_rng(0)


def label_pairs():
    """(y_true, y_pred, K) with K classes, some absent from the predictions or the truths."""
    cases = [(np.array([0]), np.array([0]), 1), (np.array([1]), np.array([0]), 2)]
    for n, k in [(5, 2), (40, 3), (200, 5), (300, 10)]:
        y_true = RNG.integers(0, k, size=n)
        cases.append((y_true, RNG.integers(0, k, size=n), k))
        cases.append(
            (y_true, RNG.integers(0, max(k - 1, 1), size=n), k)
        )  # class k-1 never predicted
        cases.append((RNG.integers(1, k, size=n), RNG.integers(0, k, size=n), k))  # 0 never true
    return cases


@pytest.mark.filterwarnings("ignore:A single label was found")
@pytest.mark.parametrize(("y_true", "y_pred", "k"), label_pairs())
def test_confusion_matrix_matches_sklearn(y_true, y_pred, k):
    expected = skm.confusion_matrix(y_true, y_pred, labels=np.arange(k))
    assert np.array_equal(M.confusion_matrix(y_true, y_pred, n_classes=k), expected)
    inferred = M.confusion_matrix(list(y_true), list(y_pred))
    size = max(y_true.max(), y_pred.max()) + 1
    assert np.array_equal(inferred, expected[:size, :size])
    assert np.issubdtype(inferred.dtype, np.integer)


def test_confusion_matrix_rows_are_true_labels():
    C = M.confusion_matrix([0, 0, 0, 1], [1, 1, 1, 1])
    assert C.tolist() == [[0, 3], [0, 1]]


@pytest.mark.parametrize(("y_true", "y_pred", "k"), label_pairs())
@pytest.mark.parametrize("average", ["macro", "micro"])
def test_precision_recall_f1_matches_sklearn(y_true, y_pred, k, average):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = M.precision_recall_f1(y_true, y_pred, average=average)
    p, r, f, _ = skm.precision_recall_fscore_support(
        y_true, y_pred, average=average, zero_division=0
    )
    assert np.allclose(got, (p, r, f), rtol=1e-12, atol=0)
    assert all(isinstance(v, float) for v in got)


@pytest.mark.parametrize("n", [1, 6, 100])
def test_binary_matches_sklearn(n):
    for _ in range(10):
        y_true, y_pred = RNG.integers(0, 2, size=n), RNG.integers(0, 2, size=n)
        p, r, f, _ = skm.precision_recall_fscore_support(
            y_true, y_pred, average="binary", zero_division=0
        )
        assert np.allclose(M.precision_recall_f1(y_true, y_pred, average="binary"), (p, r, f))
        p0, r0, f0, _ = skm.precision_recall_fscore_support(
            y_true, y_pred, average="binary", pos_label=0, zero_division=0
        )
        got = M.precision_recall_f1(y_true, y_pred, average="binary", pos_label=0)
        assert np.allclose(got, (p0, r0, f0))


def test_zero_denominators_give_zero_without_warnings():
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        assert M.precision_recall_f1([1, 1, 0], [0, 0, 0], average="binary") == (0.0, 0.0, 0.0)
        assert M.precision_recall_f1([0, 0, 0], [0, 0, 0], average="binary") == (0.0, 0.0, 0.0)
        assert M.precision_recall_f1([0, 0, 0], [0, 0, 1], average="binary") == (0.0, 0.0, 0.0)


def test_micro_scores_equal_accuracy_and_macro_differs_on_imbalance():
    y_true = np.array([0] * 90 + [1] * 10)
    y_pred = np.zeros(100, dtype=int)
    micro = M.precision_recall_f1(y_true, y_pred, average="micro")
    assert np.allclose(micro, M.accuracy(y_true, y_pred)) and M.accuracy(y_true, y_pred) == 0.9
    macro = M.precision_recall_f1(y_true, y_pred, average="macro")
    assert np.allclose(macro, (0.45, 0.5, 90 / 190))  # class 1: never predicted, all zeros


@pytest.mark.parametrize(("y_true", "y_pred", "k"), label_pairs())
def test_accuracy_matches_sklearn(y_true, y_pred, k):
    assert M.accuracy(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred))


def test_mismatched_shapes_raise():
    with pytest.raises(ValueError):
        M.accuracy(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(ValueError):
        M.precision_recall_f1([0, 1], [0, 1, 1])
