"""Correct solutions of module 08 that differ from the reference: each must get full marks.

Run with ``pytest -q tests/test_fairness.py -k 08-practice``. The tests at the end of this
file (``pytest -q tests/fairness/fair_08.py``) show that question 3's numbers are the
student's own: the source solution scores full marks for any id, and an answer worked out
for another student's id loses the point.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.testing import autograde, edit_cell, exercises, max_scores
from course.grading import variant_seed

pytestmark = pytest.mark.notebooks


def q3_epochs(student: str) -> int:
    """Question 3's answer for ``student``, worked out independently of the notebook."""
    rng = np.random.default_rng(variant_seed(student, "08-practice", "q3"))
    n, factor = int(rng.integers(20, 91)), int(rng.choice([2, 3, 4]))
    epochs, folds = int(rng.choice([1, 2, 3, 5])), int(rng.integers(3, 6))
    rounds = [(n, epochs)]
    while n > 1:
        n, epochs = -(-n // factor), epochs * factor
        rounds.append((n, epochs))
    return folds * sum(c * e for c, e in rounds) + rounds[-1][1]


# -- make_model ------------------------------------------------------------------------------
FUNCTION_TRANSFORMER = '''from sklearn.preprocessing import FunctionTransformer


def scale_pixels(X):
    """Pixels 0..16 to 0..1."""
    return X / 16.0


def make_model():
    """Divide by 16 in a FunctionTransformer, then the course's MLP."""
    ### BEGIN SOLUTION
    net = MLPClassifier(hidden_layer_sizes=(128,), alpha=1e-3, learning_rate_init=3e-3,
                        max_iter=200, early_stopping=True, n_iter_no_change=15, random_state=1)
    return make_pipeline(FunctionTransformer(scale_pixels), net)
    ### END SOLUTION
'''

MINMAX_PIPELINE = """def make_model():
    ### BEGIN SOLUTION
    steps = [
        ("scale", MinMaxScaler()),
        ("mlp", MLPClassifier(hidden_layer_sizes=(100,), alpha=1e-2, learning_rate_init=5e-3,
                              max_iter=200, early_stopping=True, n_iter_no_change=15,
                              random_state=42)),
    ]
    return Pipeline(steps)
    ### END SOLUTION
"""

STANDARD_PIPELINE = """from sklearn.pipeline import Pipeline as SkPipeline
from sklearn.preprocessing import StandardScaler as Scaler

params = dict(hidden_layer_sizes=(64,), alpha=0.3, max_iter=300, early_stopping=True,
              validation_fraction=0.15, n_iter_no_change=20, random_state=7)


def make_model():
    ### BEGIN SOLUTION
    return SkPipeline([("s", Scaler()), ("net", MLPClassifier(**params))])
    ### END SOLUTION
"""

TWO_STEPS = """from sklearn.preprocessing import FunctionTransformer


def make_model():
    ### BEGIN SOLUTION
    return make_pipeline(
        FunctionTransformer(np.sqrt),
        StandardScaler(),
        MLPClassifier(hidden_layer_sizes=(200,), alpha=1.0, max_iter=300, early_stopping=True,
                      n_iter_no_change=20, random_state=3),
    )
    ### END SOLUTION
"""

# -- confusion_matrix ----------------------------------------------------------------------
CM_LOOPS = """def confusion_matrix(y_true, y_pred, n_classes=None):
    ### BEGIN SOLUTION
    truth = [int(v) for v in y_true]
    guess = [int(v) for v in y_pred]
    if n_classes is None:
        n_classes = max(truth + guess) + 1
    C = np.zeros((n_classes, n_classes), dtype=np.int64)
    for i in range(len(truth)):
        C[truth[i], guess[i]] = C[truth[i], guess[i]] + 1
    return C
    ### END SOLUTION
"""

CM_BINCOUNT = """def confusion_matrix(y_true, y_pred, n_classes=None):
    ### BEGIN SOLUTION
    a, b = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)
    K = n_classes if n_classes is not None else int(np.max(np.concatenate([a, b]))) + 1
    return np.bincount(K * a + b, minlength=K * K).reshape(K, K)
    ### END SOLUTION
"""

CM_NESTED = """def confusion_matrix(y_true, y_pred, n_classes=None):
    ### BEGIN SOLUTION
    y_true, y_pred = np.array(y_true), np.array(y_pred)
    K = n_classes or int(max(y_true.max(), y_pred.max()) + 1)
    W = np.zeros((K, K), dtype=np.int32)
    for i in range(K):
        for j in range(K):
            W[i, j] = np.count_nonzero((y_true == i) & (y_pred == j))
    return W
    ### END SOLUTION
"""

# -- precision_recall_f1 ---------------------------------------------------------------------
PRF_VIA_CM = """def safe_ratio(num, den):
    return num / den if den > 0 else 0.0


def precision_recall_f1(y_true, y_pred, average="macro", pos_label=1):
    ### BEGIN SOLUTION
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    C = confusion_matrix(y_true, y_pred)  # my own, rows = true classes
    K = C.shape[0]
    if average == "binary":
        classes = [pos_label]
    else:
        classes = sorted(set(y_true.tolist()) | set(y_pred.tolist()))
    tp = [C[c, c] if c < K else 0 for c in classes]
    fp = [C[:, c].sum() - C[c, c] if c < K else 0 for c in classes]
    fn = [C[c, :].sum() - C[c, c] if c < K else 0 for c in classes]
    if average == "micro":
        P = safe_ratio(sum(tp), sum(tp) + sum(fp))
        R = safe_ratio(sum(tp), sum(tp) + sum(fn))
        return P, R, safe_ratio(2 * P * R, P + R)
    P = [safe_ratio(t, t + f) for t, f in zip(tp, fp)]
    R = [safe_ratio(t, t + f) for t, f in zip(tp, fn)]
    F = [safe_ratio(2 * p * r, p + r) for p, r in zip(P, R)]
    return np.mean(P), np.mean(R), np.mean(F)
    ### END SOLUTION
"""

PRF_LOOP_LIST = """def precision_recall_f1(y_true, y_pred, average="macro", pos_label=1):
    ### BEGIN SOLUTION
    y_true, y_pred = list(y_true), list(y_pred)
    labels = [pos_label] if average == "binary" else sorted(set(y_true) | set(y_pred))
    counts = []
    for c in labels:
        tp = fp = fn = 0
        for t, p in zip(y_true, y_pred):
            if p == c and t == c:
                tp += 1
            elif p == c:
                fp += 1
            elif t == c:
                fn += 1
        counts.append((tp, fp, fn))
    if average == "micro":
        counts = [tuple(sum(col) for col in zip(*counts))]
    scores = []
    for tp, fp, fn in counts:
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
        scores.append([p, r, f])
    return list(np.mean(np.array(scores), axis=0))
    ### END SOLUTION
"""

# -- accuracy ----------------------------------------------------------------------------------
ACC_FLOAT64 = """def accuracy(y_true, y_pred):
    ### BEGIN SOLUTION
    return np.mean(np.asarray(y_true) == np.asarray(y_pred))
    ### END SOLUTION
"""

ACC_ZERO_D = """def accuracy(y_true, y_pred):
    ### BEGIN SOLUTION
    correct = np.sum(np.asarray(y_true) == np.asarray(y_pred))
    return np.array(correct / len(y_true))
    ### END SOLUTION
"""

ACC_VIA_CM = """def accuracy(y_true, y_pred):
    ### BEGIN SOLUTION
    x = confusion_matrix(y_true, y_pred)
    return np.trace(x) / np.sum(x)
    ### END SOLUTION
"""

# -- questions -------------------------------------------------------------------------------
Q3_LOOP = """answer_q3 = None
### BEGIN SOLUTION
rounds = []
n, r = q3_candidates, q3_first_epochs
while True:
    rounds.append((n, r))
    if n == 1:
        break
    n = -(-n // q3_factor)
    r = r * q3_factor
answer_q3 = np.int64(q3_folds * sum(a * b for a, b in rounds) + rounds[-1][1])
### END SOLUTION
"""

Q3_FLOAT = """answer_q3 = None
### BEGIN SOLUTION
n_i = [q3_candidates]
while n_i[-1] > 1:
    n_i.append(math.ceil(n_i[-1] / q3_factor))
r_i = [q3_first_epochs * q3_factor**i for i in range(len(n_i))]
answer_q3 = float(q3_folds * np.dot(n_i, r_i) + r_i[-1])
### END SOLUTION
"""

SCRATCH_MAGICS = """%matplotlib inline
import warnings
import matplotlib.pyplot as plt

warnings.simplefilter("ignore")
input = [0, 1, 2, 2, 1]
x, W = np.array(input), np.eye(3)
params = {"W": W}
C_demo = confusion_matrix(x, [0, 2, 2, 2, 1])
plt.imshow(C_demo)
plt.title(f"accuracy {accuracy(x, [0, 2, 2, 2, 1]):.2f}")
plt.show()
"""

SCRATCH_TIMEIT = """%timeit accuracy(np.arange(100) % 3, np.arange(100) % 4)
help(precision_recall_f1)
from sklearn.metrics import precision_recall_fscore_support as prfs
X, y = load_digits()
print(prfs(y[:50], y[:50], average="macro"), precision_recall_f1(y[:50], y[:50]))
"""

SCRATCH_SEARCH = """import time
from sklearn.model_selection import cross_val_score

X, y = load_digits()
start = time.perf_counter()
model = make_model()
print(type(model).__name__, [name for name, _ in model.steps], time.perf_counter() - start)
print(cross_val_score(make_model(), X[:300], y[:300], cv=2).mean())
"""

# -- two more entries (issue 21) ------------------------------------------------------------------
# variants: make_model with a transformer class of the student's own (BaseEstimator,
# TransformerMixin) dividing by 16; confusion_matrix counting into a LOCAL variable `cm` while a
# scratch cell imported scikit-learn's confusion_matrix under the name `cm`; precision_recall_f1
# from a bincount confusion matrix over np.unique codes; accuracy by np.count_nonzero; question 3
# by a recursive function.
OWN_TRANSFORMER = """from sklearn.base import BaseEstimator, TransformerMixin


class Sixteenths(BaseEstimator, TransformerMixin):
    \"\"\"Pixels 0..16 to 0..1.\"\"\"

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float) / 16.0


def make_model():
    ### BEGIN SOLUTION
    net = MLPClassifier(hidden_layer_sizes=(192,), alpha=1e-2, learning_rate_init=3e-3,
                        max_iter=200, early_stopping=True, n_iter_no_change=15, random_state=5)
    return make_pipeline(Sixteenths(), net)
    ### END SOLUTION
"""

CM_LOCAL_NAME = """def confusion_matrix(y_true, y_pred, n_classes=None):
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true).astype(int)
    y_pred = np.asarray(y_pred).astype(int)
    K = int(max(y_true.max(), y_pred.max())) + 1 if n_classes is None else n_classes
    cm = np.zeros((K, K), dtype=int)  # my own counts: a local name
    for t, p in zip(y_true, y_pred):
        cm[t, p] += 1
    return cm
    ### END SOLUTION
"""

PRF_UNIQUE_CODES = """def precision_recall_f1(y_true, y_pred, average="macro", pos_label=1):
    ### BEGIN SOLUTION
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if average == "binary":
        t, p = y_true == pos_label, y_pred == pos_label
        tp, n_pred, n_true = (np.array([np.sum(a)]) for a in (t & p, p, t))
    else:
        classes, codes = np.unique(np.concatenate([y_true, y_pred]), return_inverse=True)
        k, n = len(classes), len(y_true)
        C = np.bincount(codes[:n] * k + codes[n:], minlength=k * k).reshape(k, k)
        tp, n_pred, n_true = np.diag(C), C.sum(axis=0), C.sum(axis=1)
        if average == "micro":
            tp, n_pred, n_true = tp.sum(keepdims=True), n_pred.sum(keepdims=True), n_true.sum(keepdims=True)

    def ratio(a, b):
        return np.where(b > 0, a / np.maximum(b, 1), 0.0)  # never divides by zero

    P, R, F = ratio(tp, n_pred), ratio(tp, n_true), ratio(2 * tp, n_pred + n_true)
    return float(P.mean()), float(R.mean()), float(F.mean())
    ### END SOLUTION
"""

ACC_COUNT_NONZERO = """def accuracy(y_true, y_pred):
    ### BEGIN SOLUTION
    a, b = np.asarray(y_true), np.asarray(y_pred)
    return np.count_nonzero(a == b) / a.size
    ### END SOLUTION
"""

Q3_RECURSIVE = """answer_q3 = None
### BEGIN SOLUTION
def halving(n, epochs):
    # epochs of this round and of every later one, then the final refit
    spent = q3_folds * n * epochs
    if n <= 1:
        return spent + epochs
    return spent + halving(math.ceil(n / q3_factor), epochs * q3_factor)


answer_q3 = halving(q3_candidates, q3_first_epochs)
### END SOLUTION
"""

SCRATCH_CM_IMPORT = """# scikit-learn's version, to compare with mine
from sklearn.metrics import confusion_matrix as cm

print(cm([0, 1, 2, 2], [0, 2, 2, 1]))
"""

# variants: make_model with MinMaxScaler(feature_range=(-1, 1)) and a np.random.RandomState made
# inside make_model as the network's random_state; confusion_matrix by np.histogram2d;
# precision_recall_f1 from a collections.Counter of (true, predicted) pairs; accuracy as a sum
# over zip; scratch cells with inspect.getsource of the reference, gc.collect, %timeit, help and
# names the tests use (_model, _C, halving_epochs).
RANDOM_STATE_PIPELINE = """def make_model():
    ### BEGIN SOLUTION
    net = MLPClassifier(hidden_layer_sizes=(256,), alpha=0.3, max_iter=300, early_stopping=True,
                        n_iter_no_change=20, random_state=np.random.RandomState(0))
    return Pipeline(steps=[("minmax", MinMaxScaler(feature_range=(-1, 1))), ("mlp", net)])
    ### END SOLUTION
"""

CM_HISTOGRAM = """def confusion_matrix(y_true, y_pred, n_classes=None):
    ### BEGIN SOLUTION
    t, p = np.asarray(y_true), np.asarray(y_pred)
    K = n_classes if n_classes is not None else int(max(t.max(), p.max())) + 1
    edges = np.arange(K + 1) - 0.5  # one bin per class, centred on its label
    counts, _, _ = np.histogram2d(t, p, bins=[edges, edges])
    return counts.astype(int)
    ### END SOLUTION
"""

PRF_COUNTER = """from collections import Counter


def precision_recall_f1(y_true, y_pred, average="macro", pos_label=1):
    ### BEGIN SOLUTION
    pairs = Counter(zip(np.asarray(y_true).tolist(), np.asarray(y_pred).tolist()))
    true_count, pred_count = Counter(), Counter()
    for (t, p), c in pairs.items():
        true_count[t] += c
        pred_count[p] += c
    if average == "binary":
        labels = [pos_label]
    else:
        labels = sorted(set(true_count) | set(pred_count))
    rows = [(pairs[(c, c)], pred_count[c], true_count[c]) for c in labels]
    if average == "micro":
        rows = [tuple(map(sum, zip(*rows)))]

    def div(a, b):
        return a / b if b else 0.0

    P = [div(tp, n_pred) for tp, n_pred, _ in rows]
    R = [div(tp, n_true) for tp, _, n_true in rows]
    F = [div(2 * tp, n_pred + n_true) for tp, n_pred, n_true in rows]
    return sum(P) / len(P), sum(R) / len(R), sum(F) / len(F)
    ### END SOLUTION
"""

ACC_ZIP = """def accuracy(y_true, y_pred):
    ### BEGIN SOLUTION
    hits = sum(1 for t, p in zip(y_true, y_pred) if t == p)
    return hits / len(y_true)
    ### END SOLUTION
"""

SCRATCH_INSPECT = """import gc
import inspect

import course.metrics

print(inspect.getsource(course.metrics.confusion_matrix))
_C = confusion_matrix([0, 1, 2], [0, 2, 2])
_model = None
halving_epochs = "my notes"
%timeit confusion_matrix(np.arange(1000) % 10, np.arange(1000) % 7)
help(confusion_matrix)
gc.collect()
"""

# variants: precision_recall_f1 one-hot encoding the labels with sklearn.preprocessing's
# label_binarize (an import the answer cells may use; it is not a metric), with its two-class
# shortcut worked around; confusion_matrix by np.unique over (true, predicted) columns with
# return_counts.
PRF_LABEL_BINARIZE = """from sklearn.preprocessing import label_binarize


def indicator(y, classes):
    # label_binarize gives a single column for two classes: build those by comparison
    if len(classes) > 2:
        return label_binarize(y, classes=classes)
    return (np.asarray(y)[:, None] == np.asarray(classes)[None, :]).astype(int)


def precision_recall_f1(y_true, y_pred, average="macro", pos_label=1):
    ### BEGIN SOLUTION
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    classes = [pos_label] if average == "binary" else list(np.union1d(y_true, y_pred))
    T, P = indicator(y_true, classes), indicator(y_pred, classes)
    tp, n_pred, n_true = (T * P).sum(axis=0), P.sum(axis=0), T.sum(axis=0)
    if average == "micro":
        tp, n_pred, n_true = tp.sum(), n_pred.sum(), n_true.sum()
    tp, n_pred, n_true = (np.atleast_1d(a).astype(float) for a in (tp, n_pred, n_true))
    P_c = np.divide(tp, n_pred, out=np.zeros_like(tp), where=n_pred > 0)
    R_c = np.divide(tp, n_true, out=np.zeros_like(tp), where=n_true > 0)
    F_c = np.divide(2 * tp, n_pred + n_true, out=np.zeros_like(tp), where=n_pred + n_true > 0)
    return P_c.mean(), R_c.mean(), F_c.mean()
    ### END SOLUTION
"""

CM_UNIQUE_PAIRS = """def confusion_matrix(y_true, y_pred, n_classes=None):
    ### BEGIN SOLUTION
    pairs = np.stack([np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)])
    K = int(pairs.max()) + 1 if n_classes is None else n_classes
    C = np.zeros((K, K), dtype=np.int64)
    seen, counts = np.unique(pairs, axis=1, return_counts=True)
    C[seen[0], seen[1]] = counts
    return C
    ### END SOLUTION
"""

SOLUTIONS = [
    {
        "name": "FunctionTransformer with my own function; confusion matrix by a loop over the "
        "samples; precision/recall/F1 from my confusion matrix; accuracy as np.float64",
        "cells": {
            "make_model": FUNCTION_TRANSFORMER,
            "confusion_matrix": CM_LOOPS,
            "precision_recall_f1": PRF_VIA_CM,
            "accuracy": ACC_FLOAT64,
            "q1_search_budget": 'answer_q1 = "c"  # 32 values of each that matters\n',
            "q2_screening_metric": "answer_q2 = 'a'\n",
        },
        "add": [("accuracy", SCRATCH_MAGICS), ("setup", "%load_ext autoreload\nimport warnings")],
    },
    {
        "name": "MinMaxScaler in Pipeline([...]); np.bincount; counting loops with ifs returning a "
        "list; accuracy as a 0-d array; Q3 computed as np.int64",
        "cells": {
            "make_model": MINMAX_PIPELINE,
            "confusion_matrix": CM_BINCOUNT,
            "precision_recall_f1": PRF_LOOP_LIST,
            "accuracy": ACC_ZERO_D,
            "q3_halving_budget": Q3_LOOP,
        },
        "add": [("make_model", SCRATCH_SEARCH), ("precision_recall_f1", SCRATCH_TIMEIT)],
    },
    {
        "name": "Pipeline from aliased imports with a global params dict; nested loops with int32 "
        "counts; accuracy from the trace of my confusion matrix; Q3 as a float",
        "cells": {
            "make_model": STANDARD_PIPELINE,
            "confusion_matrix": CM_NESTED,
            "accuracy": ACC_VIA_CM,
            "q3_halving_budget": Q3_FLOAT,
        },
        "add": [("test_accuracy", SCRATCH_MAGICS)],
    },
    {
        "name": "two preprocessing steps (FunctionTransformer(np.sqrt) and StandardScaler); Q3 "
        "worked out by hand for my id and typed in",
        "student": "alice",
        "cells": {
            "make_model": TWO_STEPS,
            "q3_halving_budget": f"answer_q3 = {q3_epochs('alice')}  # by hand, for my id\n",
        },
        "add": [("q3_inputs", "print(q3_candidates * q3_first_epochs)")],
    },
    {
        "name": "a transformer class of my own; a local `cm` after a scratch cell imported "
        "sklearn's confusion_matrix as cm; bincount over np.unique codes; count_nonzero; "
        "Q3 by recursion",
        "cells": {
            "make_model": OWN_TRANSFORMER,
            "confusion_matrix": CM_LOCAL_NAME,
            "precision_recall_f1": PRF_UNIQUE_CODES,
            "accuracy": ACC_COUNT_NONZERO,
            "q3_halving_budget": Q3_RECURSIVE,
        },
        "add": [("test_make_model_accuracy", SCRATCH_CM_IMPORT)],
    },
    {
        "name": "MinMaxScaler(-1, 1) and a RandomState made in make_model; histogram2d; a Counter "
        "of (true, predicted) pairs; a sum over zip; inspect.getsource, gc.collect, %timeit, "
        "help, _C/_model/halving_epochs",
        "cells": {
            "make_model": RANDOM_STATE_PIPELINE,
            "confusion_matrix": CM_HISTOGRAM,
            "precision_recall_f1": PRF_COUNTER,
            "accuracy": ACC_ZIP,
        },
        "add": [("test_confusion_matrix", SCRATCH_INSPECT)],
    },
    {
        "name": "precision/recall/F1 on indicators from sklearn.preprocessing.label_binarize; "
        "confusion_matrix from np.unique over (true, predicted) pairs",
        "cells": {
            "confusion_matrix": CM_UNIQUE_PAIRS,
            "precision_recall_f1": PRF_LABEL_BINARIZE,
        },
    },
]


# -- question 3 is per student -------------------------------------------------------------------
def test_q3_inputs_differ_between_students() -> None:
    assert q3_epochs("alice") != q3_epochs("bob")


def test_q3_source_solution_gets_full_marks_for_any_id() -> None:
    scores = autograde("08-practice", exercises("08-practice"), student="bob")
    assert scores == max_scores("08-practice")


def test_q3_answer_worked_out_for_another_id_loses_the_point() -> None:
    notebook = exercises("08-practice")
    edit_cell(
        notebook,
        "q3_halving_budget",
        "answer_q3 = _total + _epochs",
        f"answer_q3 = {q3_epochs('alice')}",
    )
    as_alice = autograde("08-practice", notebook, student="alice")
    as_bob = autograde("08-practice", notebook, student="bob")
    assert as_alice["test_q3_halving_budget"] == max_scores("08-practice")["test_q3_halving_budget"]
    assert as_bob["test_q3_halving_budget"] == 0
    others = {k: v for k, v in as_bob.items() if k != "test_q3_halving_budget"}
    assert others == {k: v for k, v in max_scores("08-practice").items() if k in others}
