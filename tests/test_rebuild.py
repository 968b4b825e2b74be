"""Module 08's rebuilt model: caps on what a description may ask the grader to fit, and the
steps of the student's own classes, which stay in the kernel.

The grader fits the rebuilt pipeline in its own process, so a description past a cap is
refused before anything is built, in one line that states the cap; a step of a kind that
is not allowed is refused with a line that lists what is. A step of the student's own
class becomes a ``KernelStep`` whose calls go to the kernel's object with data; here a
``FakeKernel`` stands for the kernel (real handles, data copied both ways). In a real kernel,
the fairness suite grades both (``tests/fairness/fair_08.py``: a transformer class of the
student's own, and a ``RandomState`` made in ``make_model``) at full marks.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from autograder.runtime.agent import describe
from autograder.runtime.kernel import Handle
from autograder.runtime.rebuild import (
    CAPS,
    MAX_LAYERS,
    MAX_UNITS,
    KernelStep,
    RebuildError,
    rebuild,
)

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
        "__main__.MyScaler",  # with no kernel object to keep it in
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


# -- a step of the student's own class stays in the kernel ------------------------------------
class FakeKernel:
    """Kernel objects behind real :class:`Handle`\\ s, without a kernel: data crosses by value
    (copied both ways, as the codec does), anything else comes back as a handle."""

    def __init__(self) -> None:
        self.objects: dict[int, object] = {}
        self.requests: list[str] = []

    def handle(self, obj) -> Handle:
        self.objects[len(self.objects) + 1] = obj
        return Handle(self, len(self.objects))

    def cross(self, value):
        if value is None or isinstance(value, bool | int | float | str | np.ndarray | np.generic):
            return copy.deepcopy(value)
        if type(value) in (list, tuple):
            return type(value)(self.cross(v) for v in value)
        if type(value) is dict:
            return {k: self.cross(v) for k, v in value.items()}
        return self.handle(value)

    def request(self, message: dict, **values):
        self.requests.append(message["op"])
        assert message["op"] == "getattr"
        return self.cross(getattr(self.objects[message["target"]], message["name"]))

    def call(self, handle: Handle, args: tuple, kwargs: dict):
        self.requests.append("call")
        target = self.objects[handle._hid]
        return self.cross(target(*copy.deepcopy(args), **copy.deepcopy(kwargs)))

    def rebuild(self, model):
        """What ``Backend.as_estimator`` does with the kernel's ``model``."""
        return rebuild(self.cross(describe(model)), root=self.handle(model))


OWN = '''
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class Scale16(BaseEstimator, TransformerMixin):
    """Pixels 0..16 to 0..1, shifted by the training mean of a chosen pixel."""

    def __init__(self, shift=False):
        self.shift = shift

    def fit(self, X, y=None):
        self.offset_ = float(np.mean(X[:, 0])) / 16 if self.shift else 0.0
        return self

    def transform(self, X):
        return X / 16.0 - self.offset_


class Returns(BaseEstimator, TransformerMixin):
    """A transformer whose transform returns what it is told to."""

    def __init__(self, what="rows"):
        self.what = what

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return {
            "rows": X[:-1], "flat": X.ravel(), "text": np.full(X.shape, "a"),
            "object": object(), "lists": X.tolist(), "ints": X.astype(np.int8),
        }[self.what]


class Plain:
    """fit and transform, no fit_transform: a Pipeline fits, then transforms."""

    def get_params(self, deep=True):
        return {}

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def transform(self, X):
        return X * 2.0


def make_model():
    class Inner(BaseEstimator, TransformerMixin):
        def fit(self, X, y=None):
            return self

        def transform(self, X):
            return X + 1.0

    return Inner()
'''


@pytest.fixture(scope="module")
def own() -> dict:
    """The classes above, defined as a notebook defines them (in ``__main__``)."""
    namespace = {"__name__": "__main__"}
    exec(compile(OWN, "<cell>", "exec"), namespace)
    return namespace


def digits_like(n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = np.arange(n) % 3
    return rng.integers(0, 17, size=(n, 8)).astype(float) + 4 * y[:, None], y


def test_a_step_of_your_own_class_is_kept_in_the_kernel_and_crosses_with_data(own) -> None:
    from sklearn.preprocessing import StandardScaler

    from course.estimators import MLPClassifier

    kernel = FakeKernel()
    scale = own["Scale16"](shift=True)
    model = kernel.rebuild(
        make_pipeline(scale, StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), max_iter=5))
    )
    step = model.steps[0][1]
    assert isinstance(step, KernelStep) and step.name == "Scale16"
    assert isinstance(model.steps[1][1], StandardScaler)
    X, y = digits_like()
    assert model.fit(X, y) is model and step.fit(X, y) is step
    assert scale.offset_ == np.mean(X[:, 0]) / 16  # the kernel's object was fitted
    assert model.predict(X).shape == (len(X),)
    expected = X / 16.0 - scale.offset_
    assert np.array_equal(step.transform(X), expected)
    assert np.array_equal(step.fit_transform(X, y), expected)


def test_a_step_of_your_own_class_behaves_as_a_scikit_learn_transformer(own) -> None:
    from sklearn.base import clone
    from sklearn.compose import ColumnTransformer

    kernel = FakeKernel()
    model = kernel.rebuild(make_pipeline(own["Scale16"](), own["Plain"](), StandardScaler()))
    step, plain = model.steps[0][1], model.steps[1][1]
    before = len(kernel.requests)
    params = model.get_params(deep=True)  # what a search reads: nothing asked of the kernel
    assert params["scale16__name"] == "Scale16" and params["scale16__handle"] is step.handle
    assert len(kernel.requests) == before
    twin = clone(step)
    assert twin is not step and twin.handle is step.handle and twin.name == step.name
    assert clone(model).steps[0][1].handle is step.handle
    step.set_params(name="Renamed")
    assert step.get_params() == {"handle": twin.handle, "name": "Renamed"}
    X, y = digits_like()
    assert np.allclose(model.fit_transform(X, y).mean(axis=0), 0)  # Plain: fit, then transform
    assert plain.handle.fitted_ is True
    columns = kernel.rebuild(ColumnTransformer([("own", own["Scale16"](), [0, 1, 2])]))
    assert np.array_equal(columns.fit_transform(X), X[:, :3] / 16.0)  # fits a clone


@pytest.mark.parametrize(
    ("what", "words"),
    [
        ("rows", "(60 rows here); it returned an array of shape (59, 8)"),
        ("flat", "it returned an array of shape (480,)"),
        ("text", "dtype <U1"),
        ("object", "it returned something that is not an array"),
    ],
)
def test_a_transform_of_your_own_must_return_a_2d_numeric_array(own, what, words) -> None:
    step = FakeKernel().rebuild(make_pipeline(own["Returns"](what), StandardScaler())).steps[0][1]
    X, _ = digits_like()
    for method in (step.transform, step.fit_transform):
        with pytest.raises(AssertionError) as caught:
            method(X)
        message = str(caught.value)
        assert words in message and "\n" not in message
        assert message.startswith("Returns.") and "2-D NumPy array of numbers" in message


def test_a_transform_of_your_own_may_return_lists_or_integers(own) -> None:
    X, _ = digits_like()
    for what in ("lists", "ints"):
        step = FakeKernel().rebuild(make_pipeline(own["Returns"](what), StandardScaler()))
        assert np.array_equal(step.steps[0][1].transform(X), X)


def test_a_class_of_your_own_is_refused_as_the_model_or_its_last_step(own) -> None:
    kernel = FakeKernel()
    for model, words in [
        (own["Scale16"](), "Scale16 is a class of your own, and the model itself must be"),
        (make_pipeline(StandardScaler(), own["Scale16"]()), "the last step, Scale16, is a class"),
    ]:
        with pytest.raises(RebuildError) as caught:
            kernel.rebuild(model)
        message = str(caught.value)
        assert words in message and "course.estimators.MLPClassifier" in message
        assert "\n" not in message
    inner = kernel.rebuild(make_pipeline(own["make_model"](), StandardScaler())).steps[0][1]
    assert isinstance(inner, KernelStep) and inner.name == "Inner"  # a class made in a function


def test_a_random_state_held_by_the_kernel_is_rebuilt_from_its_state() -> None:
    from course.estimators import MLPClassifier

    kernel = FakeKernel()
    seeded = np.random.RandomState(0)
    seeded.rand(3)
    model = kernel.rebuild(make_pipeline(StandardScaler(), MLPClassifier(random_state=seeded)))
    rebuilt = model.steps[-1][1].random_state
    assert isinstance(rebuilt, np.random.RandomState) and rebuilt is not seeded
    assert rebuilt.rand() == seeded.rand()
    same = rebuild(described(MLP, random_state=np.random.RandomState(5)))  # sent by value
    assert same.random_state.randint(1000) == np.random.RandomState(5).randint(1000)
    with pytest.raises(RebuildError) as caught:
        kernel.rebuild(MLPClassifier(random_state=object()))
    assert "must be None, an int or a numpy.random.RandomState" in str(caught.value)


def test_the_exercise_states_every_cap_and_what_may_be_a_step() -> None:
    """The release text of 08 says what rebuild() enforces: each cap, the final estimator,
    the steps of one's own."""
    import re

    import nbformat

    from autograder.pipeline.coursedir import REPO_ROOT

    notebook = nbformat.read(REPO_ROOT / "release/08-practice/exercises.ipynb", as_version=4)
    text = " ".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    text = re.sub(r"\s+", " ", re.sub(r"[`*]", "", text))
    assert f"hidden_layer_sizes at most {MAX_LAYERS} layers of at most {MAX_UNITS} units" in text
    for name, cap in CAPS.items():
        assert re.search(rf"\b{name}\b[^;.]*? at most {cap}\b", text), f"{name} <= {cap}"
    assert "the last step, must be course.estimators.MLPClassifier" in text
    assert "a transformer class you write yourself in this notebook" in text
