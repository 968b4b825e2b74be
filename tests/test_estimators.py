"""course.estimators: scikit-learn's estimator checks, accuracy on digits, search compatibility."""

import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from course.data import load_digits
from course.estimators import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.course


@parametrize_with_checks([MLPClassifier(random_state=0), MLPRegressor(random_state=0)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def digits_split():
    X, y = load_digits()
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


def test_digits_accuracy_on_a_held_out_split(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    model = make_pipeline(
        StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,), max_iter=60, random_state=0)
    )
    assert model.fit(X_train, y_train).score(X_test, y_test) >= 0.95


def test_early_stopping_stops_and_keeps_the_best_weights(digits_split):
    X_train, _, y_train, _ = digits_split
    model = MLPClassifier(
        hidden_layer_sizes=(32,),
        max_iter=500,
        early_stopping=True,
        n_iter_no_change=5,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X_train / 16, y_train)
    assert model.n_iter_ < 500
    assert len(model.validation_loss_curve_) == model.n_iter_
    best = min(model.validation_loss_curve_)
    assert model.validation_loss_curve_[-1] > best  # it stopped after failing to improve


def test_same_seed_same_model(digits_split):
    X_train, X_test, y_train, _ = digits_split
    a = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=3).fit(X_train, y_train)
    b = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=3).fit(X_train, y_train)
    assert np.array_equal(a.predict_proba(X_test), b.predict_proba(X_test))


def test_grid_search_over_course_estimators(digits_split):
    X_train, _, y_train, _ = digits_split
    search = GridSearchCV(
        MLPClassifier(max_iter=20, random_state=0),
        {"hidden_layer_sizes": [(8,), (32,)], "alpha": [1e-4, 1e-1]},
        cv=2,
    ).fit(X_train / 16, y_train)
    assert search.best_params_["hidden_layer_sizes"] == (32,)


def test_regressor_fits_a_linear_target():
    X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    model = make_pipeline(
        StandardScaler(),
        MLPRegressor(
            hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=300, random_state=0
        ),
    )
    assert model.fit(X, y / y.std()).score(X, y / y.std()) > 0.95


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_reference_make_model_passes_the_capstone_bar(seed):
    """course.pipelines.make_model: unfitted, and >= 0.95 on a fresh stratified 75/25 split."""
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    from course.pipelines import make_model

    model = make_model()
    assert isinstance(model, Pipeline) and isinstance(model[-1], MLPClassifier)
    assert model[-1].early_stopping and len(model.steps) >= 2
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=seed
    )
    assert clone(model).fit(X_train, y_train).score(X_test, y_test) >= 0.95
