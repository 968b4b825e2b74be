"""Rebuild a student's scikit-learn estimator in the grading process, from data only.

A test that grades an estimator (module 08's ``make_model``) must not trust the object the
kernel holds: its ``isinstance``, ``fit`` and ``predict`` would all be the submission's to
answer. Instead the kernel describes the estimator as data (each part's class name and its
``get_params(deep=False)``), and the estimator is built again here from classes of an
allowed list, with the submission's own functions (a ``FunctionTransformer``'s ``func``)
kept in the kernel as handles that are called with data. Whatever the kernel claims, what
is graded is what was rebuilt: a real pipeline of real classes with the stated parameters.

A step of the student's own class (defined in the notebook, so its module is ``__main__``)
cannot be built here: its code is the student's. It becomes a :class:`KernelStep`, a
transformer whose ``fit``, ``transform`` and ``fit_transform`` call the kernel's object with
data and accept nothing back but a 2-D array of numbers with a row per sample. The kernel
object is found the way the kernel described it: ``get_params(deep=False)`` of each part,
then an index into a list of steps. A ``random_state`` the kernel holds as a NumPy
``RandomState`` and sends as a handle is rebuilt from the state the kernel reports.
"""

from __future__ import annotations

import importlib
import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

from autograder.runtime.kernel import Handle

ALLOWED_MODULES = (
    "sklearn.pipeline",
    "sklearn.preprocessing",
    "sklearn.decomposition",
    "sklearn.feature_selection",
    "sklearn.compose",
    "sklearn.impute",
    "course.estimators",
)
FORCED = {"memory": None, "n_jobs": None, "verbose": False}
"""Parameters that would touch files, processes or the terminal of the grading process."""
MAX_PARTS = 200
DENIED = {"RFE", "RFECV", "SequentialFeatureSelector", "SelectFromModel"}
"""Steps that fit another estimator again and again: their cost is not the parameters'."""
OWN_MODULES = ("__main__",)
"""Where the classes a student defines in the notebook live: kept in the kernel."""
ALLOWED_TEXT = (
    "a step before the last may be a transformer class of your own (it runs in your kernel) "
    "or a class of sklearn.preprocessing (FunctionTransformer included), "
    "sklearn.decomposition, sklearn.feature_selection (not RFE, RFECV, "
    "SequentialFeatureSelector or SelectFromModel), sklearn.impute or sklearn.compose, and the "
    "last step course.estimators.MLPClassifier, all in a sklearn.pipeline Pipeline"
)
MAX_LAYERS, MAX_UNITS = 4, 512
CAPS = {
    "max_iter": 500,
    "n_iter_no_change": 500,
    "n_iter": 100,
    "iterated_power": 100,
    "n_components": 64,
    "k": 64,
    "degree": 2,
    "n_bins": 64,
    "n_knots": 32,
    "n_neighbors": 100,
    "n_quantiles": 2000,
}
"""The largest whole number each parameter may take, whatever the class; ``CAP_TEXT`` says it."""
CAP_TEXT = (
    f"hidden_layer_sizes: at most {MAX_LAYERS} layers of at most {MAX_UNITS} units; "
    + ", ".join(f"{name} <= {cap}" for name, cap in CAPS.items())
)


class RebuildError(AssertionError):
    """The description does not rebuild into an allowed estimator; one-line message."""


def rebuild(description, budget: list[int] | None = None, root=None, path: tuple = ()):
    """An unfitted estimator built from ``description`` (see the module docstring).

    ``root`` is the kernel's object the description was made from (a handle), if there is
    one; ``path`` is where in it this part sits. Without a root, a class of the student's own
    is refused like any class that is not allowed.
    """
    budget = [MAX_PARTS] if budget is None else budget
    if type(description) is not dict or not {"class", "params"} <= set(description):
        raise RebuildError("the model could not be described as a scikit-learn estimator")
    name, params = description["class"], description["params"]
    if type(name) is not str or type(params) is not dict:
        raise RebuildError("the model's description is malformed")
    module, _, qualname = name.rpartition(".")
    if root is not None and name.startswith(tuple(f"{m}." for m in OWN_MODULES)):
        if not path:
            raise RebuildError(
                f"{qualname} is a class of your own, and the model itself must be a "
                f"Pipeline: {ALLOWED_TEXT}"
            )
        return KernelStep(kernel_part(root, path), qualname)
    allowed = any(module == m or module.startswith(m + ".") for m in ALLOWED_MODULES)
    if not allowed or qualname in DENIED:
        raise RebuildError(f"{qualname or name} is not allowed here: {ALLOWED_TEXT}")
    try:
        kind = getattr(importlib.import_module(module), qualname)
    except (ImportError, AttributeError, ValueError):
        raise RebuildError(f"{name} is not a public scikit-learn or course class") from None
    if not (isinstance(kind, type) and issubclass(kind, BaseEstimator)):
        raise RebuildError(f"{name} is not an estimator")
    built = {}
    for key, value in params.items():
        if type(key) is not str or key.startswith("_"):
            raise RebuildError("the model's parameters are malformed")
        if key in FORCED:
            built[key] = FORCED[key]
        else:
            built[key] = rebuild_value(value, budget, root, (*path, key))
        if key == "random_state":
            built[key] = rebuild_random_state(qualname, built[key])
    for key, value in built.items():
        check_cap(qualname, key, value)
    try:
        estimator = kind(**built)
    except Exception as exc:
        raise RebuildError(f"{qualname} could not be built again: {type(exc).__name__}") from None
    steps = estimator.steps if not path and isinstance(estimator, Pipeline) else None
    final = steps[-1] if isinstance(steps, list | tuple) and steps else None
    if isinstance(final, tuple) and len(final) == 2 and isinstance(final[1], KernelStep):
        raise RebuildError(
            f"the last step, {final[1].name}, is a class of your own, which may only transform "
            f"the data before the last step: {ALLOWED_TEXT}"
        )
    return estimator


def kernel_part(root, path: tuple):
    """The kernel's object at ``path`` in ``root``, reached as :func:`rebuild` walked it:
    ``get_params(deep=False)[key]`` for a name, an index into a list or tuple for a number.
    """
    part = root
    for step in path:
        if type(step) is str:
            if not isinstance(part, Handle):
                raise RebuildError("the model changed while it was graded")
            params = part.get_params(deep=False)
            if type(params) is not dict or step not in params:
                raise RebuildError("the model changed while it was graded")
            part = params[step]
        elif type(part) in (list, tuple) and 0 <= step < len(part):
            part = part[step]
        else:
            raise RebuildError("the model changed while it was graded")
    if not isinstance(part, Handle):
        raise RebuildError("the model changed while it was graded")
    return part


def rebuild_random_state(owner: str, value):
    """``value``, or for the handle of a kernel's ``RandomState`` a copy made from its state.

    Anything else is left as it is: the estimator judges it when it fits, as in the kernel.
    """
    if not isinstance(value, Handle):
        return value
    try:
        state = value.get_state()
        copy = np.random.RandomState()
        copy.set_state(state)
    except Exception:
        raise RebuildError(
            f"{owner}(random_state=...) must be None, an int or a numpy.random.RandomState"
        ) from None
    return copy


class KernelStep(TransformerMixin, BaseEstimator):
    """A step of the student's own class: the object stays in the kernel, data crosses.

    ``fit``, ``transform`` and ``fit_transform`` call the kernel's object with the data
    (by value); what a transform returns must be a 2-D array of numbers with as many rows
    as it was given, or the step fails in one line. A clone refers to the same kernel
    object, so fitting a clone refits it.
    """

    def __init__(self, handle=None, name="a step of your own"):
        self.handle = handle
        self.name = name

    def get_params(self, deep=True):  # never asks the handle anything
        return {"handle": self.handle, "name": self.name}

    def __sklearn_clone__(self):
        return type(self)(self.handle, self.name)

    def fit(self, X, y=None, **params):
        self.handle.fit(X, y, **params)
        return self

    def transform(self, X):
        return self.checked(self.handle.transform(X), X, "transform")

    def fit_transform(self, X, y=None, **params):
        try:
            method = self.handle.fit_transform
        except AttributeError:  # a class without one: what a Pipeline does then
            self.fit(X, y, **params)
            return self.transform(X)
        return self.checked(method(X, y, **params), X, "fit_transform")

    def checked(self, result, X, method: str) -> np.ndarray:
        """``result`` as a 2-D array of numbers with a row per row of ``X``, or one line why."""
        rows = np.shape(X)[0]
        array, got = None, "something that is not an array"
        if isinstance(result, np.ndarray):
            array = result
        elif type(result) in (list, tuple) and all(
            type(row) in (list, tuple) and all(isinstance(v, numbers.Real | np.number) for v in row)
            for row in result
        ):
            array = np.asarray(result)
        if array is not None:
            got = f"an array of shape {array.shape} and dtype {array.dtype}"
            if array.ndim == 2 and array.dtype.kind in "biuf" and array.shape[0] == rows:
                return array
        raise AssertionError(
            f"{self.name}.{method} must return a 2-D NumPy array of numbers with one row per "
            f"sample ({rows} rows here); it returned {got}"
        )


def check_cap(owner: str, key: str, value) -> None:
    """Refuse, in one line that states the cap, a parameter past what grading will fit."""
    if key == "hidden_layer_sizes":
        sizes = [value] if isinstance(value, numbers.Integral) else value
        if not isinstance(sizes, list | tuple) or not all(
            isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in sizes
        ):
            return  # not a size: the class itself refuses it when it fits
        if len(sizes) > MAX_LAYERS or any(n > MAX_UNITS for n in sizes):
            raise RebuildError(
                f"{owner}(hidden_layer_sizes={tuple(int(n) for n in sizes)[:8]}) is past the "
                f"cap grading fits: at most {MAX_LAYERS} hidden layers of at most {MAX_UNITS} "
                "units each"
            )
        return
    cap = CAPS.get(key)
    if (
        cap is not None
        and isinstance(value, numbers.Integral)
        and not isinstance(value, bool)
        and value > cap
    ):
        raise RebuildError(
            f"{owner}({key}={int(value)}) is past the cap grading fits: {key} <= {cap}"
        )


def any_fitted(description, depth: int = 0) -> bool:
    """Whether the kernel said that some part of the described estimator is fitted."""
    if depth > 100:
        return False
    if type(description) is dict:
        if description.get("fitted") is True:
            return True
        return any(any_fitted(v, depth + 1) for v in description.values())
    if type(description) is list:
        return any(any_fitted(v, depth + 1) for v in description)
    return False


def rebuild_value(value, budget: list[int], root=None, path: tuple = ()):
    budget[0] -= 1
    if budget[0] < 0:
        raise RebuildError("the model has too many parts")
    if type(value) is not dict or len(value) not in (1, 2):
        raise RebuildError("the model's parameters are malformed")
    if "estimator" in value:
        return rebuild(value["estimator"], budget, root, path)
    if "sequence" in value:
        if type(value["sequence"]) is not list:
            raise RebuildError("the model's parameters are malformed")
        items = [
            rebuild_value(v, budget, root, (*path, i)) for i, v in enumerate(value["sequence"])
        ]
        return tuple(items) if value.get("tuple") is True else items
    if "callable" in value:
        return value["callable"]  # a handle: the student's function runs in the kernel
    if "value" in value:
        return value["value"]
    raise RebuildError("the model's parameters are malformed")
