"""course.training: K-fold cross-validation against scikit-learn's cross_val_score."""

import numpy as np
import pytest
from sklearn.model_selection import KFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from course.data import load_digits
from course.training import kfold_score

pytestmark = pytest.mark.course


@pytest.mark.parametrize(("n_splits", "seed"), [(2, 0), (5, 1), (7, 2)])
def test_kfold_score_matches_cross_val_score(n_splits, seed):
    X, y = load_digits()
    X, y = X[:300], y[:300]
    scores = kfold_score(
        X, y, n_splits, lambda: KNeighborsClassifier(1), np.random.default_rng(seed)
    )
    cv_seed = int(np.random.default_rng(seed).integers(2**31 - 1))
    cv = KFold(n_splits, shuffle=True, random_state=cv_seed)
    expected = cross_val_score(KNeighborsClassifier(1), X, y, cv=cv, scoring="accuracy")
    assert scores.shape == (n_splits,)
    assert np.allclose(scores, expected)


def test_kfold_score_uses_a_fresh_model_per_fold_and_one_draw():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10) % 2
    made = []

    class Memorizer:
        def __init__(self):
            self.table = {}
            made.append(self)

        def fit(self, X, y):
            self.table.update({tuple(row): label for row, label in zip(X, y, strict=True)})
            return self

        def predict(self, X):
            return np.array([self.table.get(tuple(row), -1) for row in X])

    rng = np.random.default_rng(3)
    scores = kfold_score(X, y, 5, Memorizer, rng)
    assert len(made) == 5 and np.all(scores == 0.0)  # never validates on what it saw
    reference = np.random.default_rng(3)
    reference.integers(2**31 - 1)
    assert rng.random() == reference.random()
