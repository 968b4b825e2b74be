"""Module 08's rebuilt model: caps on what a description may ask the grader to fit.

The grader fits the rebuilt pipeline in its own process, so a description past a cap is
refused before anything is built, in one line that states the cap; a step of a kind that
is not allowed is refused with a line that lists what is.
"""

from __future__ import annotations

import pytest

from autograder.runtime.rebuild import CAPS, MAX_LAYERS, MAX_UNITS, RebuildError, rebuild

MLP = "course.estimators.MLPClassifier"


def described(name: str, **params) -> dict:
    return {"class": name, "params": {k: {"value": v} for k, v in params.items()}}


def pipeline(*steps: dict) -> dict:
    sequence = [
        {"sequence": [{"value": f"s{i}"}, {"estimator": step}], "tuple": True}
        for i, step in enumerate(steps)
    ]
    return {"class": "sklearn.pipeline.Pipeline", "params": {"steps": {"sequence": sequence}}}


@pytest.mark.parametrize(
    ("description", "words"),
    [
        (described(MLP, hidden_layer_sizes=(5000, 5000), max_iter=100000), "512 units"),
        (described(MLP, hidden_layer_sizes=[64] * (MAX_LAYERS + 1)), f"at most {MAX_LAYERS}"),
        (described(MLP, hidden_layer_sizes=MAX_UNITS + 1), f"{MAX_UNITS} units"),
        (described(MLP, max_iter=CAPS["max_iter"] + 1), f"max_iter <= {CAPS['max_iter']}"),
        (described(MLP, n_iter_no_change=10**6), "n_iter_no_change <= 500"),
        (described("sklearn.preprocessing.PolynomialFeatures", degree=5), "degree <= 2"),
        (described("sklearn.decomposition.PCA", n_components=5000), "n_components <= 64"),
        (described("sklearn.feature_selection.SelectKBest", k=10**6), "k <= 64"),
        (
            pipeline(
                described("sklearn.preprocessing.StandardScaler"), described(MLP, max_iter=10**6)
            ),
            "max_iter <= 500",
        ),
    ],
)
def test_a_description_past_a_cap_is_refused_with_the_cap(description: dict, words: str) -> None:
    with pytest.raises(RebuildError) as caught:
        rebuild(description)
    message = str(caught.value)
    assert words in message and "\n" not in message


@pytest.mark.parametrize(
    "name",
    [
        "sklearn.feature_selection.RFE",
        "sklearn.feature_selection.SequentialFeatureSelector",
        "sklearn.neighbors.KNeighborsClassifier",
        "__main__.MyScaler",
    ],
)
def test_a_step_not_allowed_is_refused_with_what_is_allowed(name: str) -> None:
    with pytest.raises(RebuildError) as caught:
        rebuild(described(name))
    assert "course.estimators.MLPClassifier" in str(caught.value)
    assert "sklearn.preprocessing" in str(caught.value)


def test_models_within_the_caps_are_built() -> None:
    """The reference and the fairness solutions' settings, and every cap itself."""
    for params in (
        dict(hidden_layer_sizes=(256,), alpha=1.0, max_iter=300, early_stopping=True),
        dict(hidden_layer_sizes=(128,), max_iter=200, n_iter_no_change=15),
        dict(
            hidden_layer_sizes=(MAX_UNITS,) * MAX_LAYERS,
            max_iter=CAPS["max_iter"],
            n_iter_no_change=CAPS["n_iter_no_change"],
        ),
    ):
        model = rebuild(
            pipeline(described("sklearn.preprocessing.StandardScaler"), described(MLP, **params))
        )
        assert model.steps[-1][1].get_params()["max_iter"] == params["max_iter"]
    pca = rebuild(described("sklearn.decomposition.PCA", n_components=64))
    assert pca.n_components == 64
    assert rebuild(described("sklearn.decomposition.PCA", n_components=0.95)).n_components == 0.95
