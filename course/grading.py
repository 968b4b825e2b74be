"""Helpers for the tests of the exercise notebooks, in a student's kernel and at grading.

Feedback must never reveal an expected value, so failure messages name *what* failed and
by how much, never the reference's numbers. Comparing never warns: NumPy's floating-point
warnings are silenced while comparing.

At grading, test cells run in the grader's own process and reach the student's functions
through the kernel boundary; while one runs, the grader installs a backend with
:func:`grading_backend`, so that the same calls (:func:`graded_student`,
:func:`global_random_state`, :func:`call_limit`, :func:`as_estimator`, :func:`is_fitted`)
mean the same thing in a student's JupyterLab and at grading.
"""

import contextlib
import hashlib
import warnings
from contextvars import ContextVar

import numpy as np

BACKEND: ContextVar = ContextVar("course_grading_backend", default=None)
"""The grader's backend while a test cell runs (see :func:`grading_backend`), else ``None``."""


@contextlib.contextmanager
def grading_backend(backend):
    """Install ``backend`` for the test cell run inside the block, and remove it after.

    ``backend`` has ``student`` and ``random_state()``, ``call_limit(seconds)``,
    ``as_estimator(model)`` and ``is_fitted(model)``.
    """
    token = BACKEND.set(backend)
    try:
        yield backend
    finally:
        BACKEND.reset(token)


def check_close(actual, expected, what: str, rtol: float = 1e-6, atol: float = 1e-8) -> None:
    """Raise ``AssertionError`` unless ``actual`` matches ``expected`` elementwise.

    Parameters
    ----------
    actual : the student's result (array-like or scalar).
    expected : the reference result.
    what : a short description used in the message, e.g. ``"sigmoid(z) for z of shape (5, 3)"``.
    rtol, atol : tolerances as in ``numpy.allclose``.

    Notes
    -----
    The message gives the shapes on a shape mismatch, otherwise the number of
    mismatching entries and the largest relative error, never the expected values.
    """
    assert actual is not None, f"{what}: your function returned None (did you forget `return`?)"
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            actual = np.asarray(actual, dtype=float)
        except (TypeError, ValueError):
            raise AssertionError(f"{what}: the result is not a numeric array") from None
        expected = np.asarray(expected, dtype=float)
        assert actual.shape == expected.shape, (
            f"{what}: wrong shape {actual.shape}, expected shape {expected.shape}"
        )
        assert not np.isnan(actual).any() or np.isnan(expected).any(), (
            f"{what}: the result contains NaN (is it numerically stable?)"
        )
        assert np.isfinite(actual).all() or not np.isfinite(expected).all(), (
            f"{what}: the result contains inf (is it numerically stable for large inputs?)"
        )
        close = np.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
        if not close.all():
            denom = np.maximum(np.abs(expected), atol)
            worst = np.nanmax(np.where(close, 0.0, np.abs(actual - expected) / denom))
            raise AssertionError(
                f"{what}: {int((~close).sum())} of {close.size} values are wrong "
                f"(largest relative error {worst:.2g}, tolerance {rtol:.0e})"
            )


def graded_student() -> str | None:
    """The id of the student being graded, or ``None`` outside grading."""
    backend = BACKEND.get()
    return None if backend is None else backend.student


def variant_seed(student_id: str, assignment: str, salt: str = "") -> int:
    """A per-student seed in ``[0, 2**32)`` derived from the id, the assignment and ``salt``.

    The exercises derive a student's own numbers from it, and the hidden tests derive the
    same numbers from the id the grader knows the submission by.
    """
    text = f"{assignment}|{student_id.strip().lower()}|{salt}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:4], "big")


def global_random_state():
    """NumPy's legacy global random state where the student's code runs."""
    backend = BACKEND.get()
    return np.random.get_state() if backend is None else backend.random_state()  # noqa: NPY002


def as_estimator(model):
    """An unfitted copy of a scikit-learn ``model`` to test: ``sklearn.base.clone`` of it.

    At grading, the copy is rebuilt in the grader's process from the model's description
    (class names and parameters), so what is tested is what the model says it is.
    """
    backend = BACKEND.get()
    if backend is not None:
        return backend.as_estimator(model)
    from sklearn.base import clone

    return clone(model)


def is_fitted(model) -> bool:
    """Whether ``model`` or any part of it was fitted: it has attributes ending in ``_``.

    This is scikit-learn's own rule (``check_is_fitted``), applied to the attributes each
    part holds, so that a stateless step such as ``FunctionTransformer`` does not count.
    """
    backend = BACKEND.get()
    if backend is not None:
        return backend.is_fitted(model)
    parts = [model] + [step for _, step in getattr(model, "steps", [])]
    for part in parts:
        try:
            names = vars(part)
        except TypeError:
            continue
        if any(k.endswith("_") and not k.startswith("__") for k in names):
            return True
    return False


def student_id() -> str:
    """The student's id: the grader's at grading, else the JupyterHub user name, else ``""``."""
    import os

    return os.environ.get("COURSE_STUDENT_ID") or os.environ.get("JUPYTERHUB_USER") or ""


def call_limit(seconds: float):
    """A context in which one call to the student's code may take up to ``seconds``."""
    backend = BACKEND.get()
    return contextlib.nullcontext() if backend is None else backend.call_limit(seconds)
