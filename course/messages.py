"""One-line messages: how the course's tools state an error, wherever it is shown.

A message goes into a summary table, a CSV cell, a feedback page or the students' check, so
it is one line, shortened, and never a traceback. :func:`one_line` states an exception;
:func:`error_output_line` the error output a notebook cell recorded.
"""

from __future__ import annotations

LIMIT = 500


def shorten(text: str, limit: int = LIMIT) -> str:
    """``text`` on one line (whitespace runs become one space), cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def one_line(exc: BaseException, *, with_type: bool = True, limit: int = LIMIT) -> str:
    """``Type: message`` (or the message alone) of ``exc`` on one line; the type if it is empty.

    An exception whose ``str`` itself raises (a hostile one) is stated by its type.
    """
    try:
        text = str(exc)
    except Exception:
        text = ""
    name = type(exc).__name__
    if not text.strip():
        return name
    return shorten(f"{name}: {text}" if with_type else text, limit)


def error_output_line(output: dict, limit: int = LIMIT) -> str:
    """``ExceptionType: message`` of a notebook's error output, on one line."""
    name = str(output.get("ename") or "Error")
    value = str(output.get("evalue") or "")
    return shorten(f"{name}: {value}" if value.strip() else name, limit)
