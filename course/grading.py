"""Helpers for the hidden tests of the exercise notebooks.

Two rules shape them. Feedback must never reveal an expected value, so failure
messages name *what* failed and by how much, never the reference's numbers.
And nbgrader scores a test cell 0 if anything reaches stderr, so nothing here
may warn: NumPy's floating-point warnings are silenced while comparing.
"""

import sys
import types
import warnings

import numpy as np


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


class _ReferenceCalled(Exception):
    """Raised by the stand-in that replaces the reference during ``assert_own``."""


def _reaches(obj, target, depth: int = 3, seen=None) -> bool:
    """Whether ``target`` is ``obj`` or reachable from it through course modules and containers."""
    seen = set() if seen is None else seen
    if obj is target:
        return True
    if depth == 0 or id(obj) in seen:
        return False
    seen.add(id(obj))
    if isinstance(obj, types.ModuleType):
        if not obj.__name__.startswith("course"):
            return False
        children = list(vars(obj).values())
    elif isinstance(obj, dict):
        children = list(obj.values())
    elif isinstance(obj, (list, tuple, set, frozenset)):
        children = list(obj)
    elif isinstance(obj, types.FunctionType):
        children = _referenced(obj)
    elif isinstance(obj, type) or hasattr(obj, "__wrapped__") or hasattr(obj, "func"):
        children = [getattr(obj, "__wrapped__", None), getattr(obj, "func", None)]
        children += list(getattr(obj, "__dict__", {}).values())
    else:
        return False
    return any(_reaches(child, target, depth - 1, seen) for child in children)


def _referenced(fn: types.FunctionType) -> list:
    """Objects a function can reach: globals it names, closure cells, defaults, nested code."""
    names = set()
    stack = [fn.__code__]
    while stack:
        code = stack.pop()
        names.update(code.co_names)
        stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    found = [fn.__globals__[n] for n in names if n in fn.__globals__]
    found += [cell.cell_contents for cell in fn.__closure__ or () if _filled(cell)]
    found += list(fn.__defaults__ or ()) + list((fn.__kwdefaults__ or {}).values())
    return found


def _filled(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018  (an empty cell raises ValueError)
    except ValueError:
        return False
    return True


def assert_own(fn, reference, *args, **kwargs) -> None:
    """Raise ``AssertionError`` unless ``fn`` is the student's own code.

    ``fn`` must be a Python function defined in the notebook (``__main__``) that
    neither is, aliases, wraps nor calls ``reference``. Statically, no object it
    can reach (globals it names, closures, defaults, and course modules or
    containers among them) may be the reference. When ``args`` are given, ``fn``
    is also run on them while every binding of the reference in the loaded
    ``course`` modules is replaced by a stand-in that raises.
    """
    name = getattr(reference, "__name__", "the reference")
    assert fn is not reference, f"`{name}` is the course's reference, not your own function"
    assert isinstance(fn, types.FunctionType) and fn.__module__ == "__main__", (
        f"`{name}` must be a function you define in this notebook with `def`"
    )
    assert fn.__code__ is not getattr(reference, "__code__", None), (
        f"`{name}` reuses the reference's code"
    )
    assert not _reaches(fn, reference, depth=6), (
        f"`{name}` must not use the course's reference implementation"
    )
    if args or kwargs:
        _assert_not_called(fn, reference, name, args, kwargs)


def _assert_not_called(fn, reference, name, args, kwargs) -> None:
    """Run ``fn`` with every module-level binding of ``reference`` raising when called."""

    def stand_in(*_a, **_k):
        raise _ReferenceCalled

    patched = []
    for mod_name, module in list(sys.modules.items()):
        if mod_name.split(".")[0] != "course" or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if value is reference:
                patched.append((module, attr))
                setattr(module, attr, stand_in)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            fn(*args, **kwargs)
    except _ReferenceCalled:
        raise AssertionError(f"`{name}` calls the course's reference implementation") from None
    except Exception:  # the student's own errors are judged by other tests
        pass
    finally:
        for module, attr in patched:
            setattr(module, attr, reference)
