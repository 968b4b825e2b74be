"""Rebuild a student's scikit-learn estimator in the grading process, from data only.

A test that grades an estimator (module 08's ``make_model``) must not trust the object the
kernel holds: its ``isinstance``, ``fit`` and ``predict`` would all be the submission's to
answer. Instead the kernel describes the estimator as data (each part's class name and its
``get_params(deep=False)``), and the estimator is built again here from classes of an
allowed list, with the submission's own functions (a ``FunctionTransformer``'s ``func``)
kept in the kernel as handles that are called with data. Whatever the kernel claims, what
is graded is what was rebuilt: a real pipeline of real classes with the stated parameters.
"""

from __future__ import annotations

import importlib
import numbers

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
ALLOWED_TEXT = (
    "a step before the last may be a class of sklearn.preprocessing (FunctionTransformer "
    "included), sklearn.decomposition, sklearn.feature_selection (not RFE, RFECV, "
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


def rebuild(description, budget: list[int] | None = None):
    """An unfitted estimator built from ``description`` (see the module docstring)."""
    from sklearn.base import BaseEstimator

    budget = [MAX_PARTS] if budget is None else budget
    if type(description) is not dict or not {"class", "params"} <= set(description):
        raise RebuildError("the model could not be described as a scikit-learn estimator")
    name, params = description["class"], description["params"]
    if type(name) is not str or type(params) is not dict:
        raise RebuildError("the model's description is malformed")
    module, _, qualname = name.rpartition(".")
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
        built[key] = FORCED[key] if key in FORCED else rebuild_value(value, budget)
    for key, value in built.items():
        check_cap(qualname, key, value)
    try:
        return kind(**built)
    except Exception as exc:
        raise RebuildError(f"{qualname} could not be built again: {type(exc).__name__}") from None


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


def rebuild_value(value, budget: list[int]):
    budget[0] -= 1
    if budget[0] < 0:
        raise RebuildError("the model has too many parts")
    if type(value) is not dict or len(value) not in (1, 2):
        raise RebuildError("the model's parameters are malformed")
    if "estimator" in value:
        return rebuild(value["estimator"], budget)
    if "sequence" in value:
        items = [rebuild_value(v, budget) for v in value["sequence"]]
        return tuple(items) if value.get("tuple") is True else items
    if "callable" in value:
        return value["callable"]  # a handle: the student's function runs in the kernel
    if "value" in value:
        return value["value"]
    raise RebuildError("the model's parameters are malformed")
