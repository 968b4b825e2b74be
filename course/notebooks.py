"""nbgrader's notebook vocabulary, as the course's tools read it.

Notebook files here are JSON as nbgrader writes them, or as a student's editor left them:
every reader tolerates a malformed cell (a list for a string, a missing key) and never
trusts a type. What an exercises notebook is called (:data:`EXERCISES` and the copies
students make of it), which cell is which (:func:`grade_id`, :func:`nbgrader_meta`), the
text of a cell (:func:`cell_source`), the hidden-test blocks of a test cell
(:func:`split_hidden_tests`), and :func:`read_json`, the one reader of a notebook file as
plain JSON. The pre-flight (:mod:`course.submission`), the students' check
(:mod:`course.check`) and the grader all use these.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

EXERCISES = "exercises"
"""The one notebook of each assignment that is collected and graded."""
RENAMED_EXERCISES = re.compile(rf"^{EXERCISES}(\s*\(\d+\)|[-_ ]?copy\d*)*\.ipynb$", re.IGNORECASE)
CHECK_CELL = "check_submission"
"""The grade id of the check cell that ends each exercises notebook; grading skips it."""
HIDDEN_BEGIN, HIDDEN_END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
READ_LIMIT = 50 * 2**20
"""The largest notebook file :func:`read_json` reads."""


def is_exercises_name(filename: str) -> bool:
    """Whether a file name is the exercises notebook, allowing the copies students make.

    ``exercises.ipynb``, ``Exercises.ipynb``, ``exercises (1).ipynb``, ``exercises-Copy1.ipynb``
    and ``exercises_copy.ipynb`` all count.
    """
    return bool(RENAMED_EXERCISES.match(filename))


def nbgrader_meta(cell: object) -> dict:
    """A cell's nbgrader metadata, or an empty dict for anything malformed."""
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    meta = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return meta if isinstance(meta, dict) else {}


def grade_id(cell: object) -> str | None:
    """The cell's nbgrader grade id, if its metadata has a usable one."""
    value = nbgrader_meta(cell).get("grade_id")
    return value if isinstance(value, str) and value else None


def text_of(value: object) -> str:
    """A notebook text field (a string, or a list of strings) as one string."""
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


def cell_source(cell: object) -> str:
    """A cell's source as one string, whatever shape the JSON gave it."""
    return text_of(cell.get("source", "")) if isinstance(cell, dict) else ""


def split_hidden_tests(source: str) -> tuple[str, list[str]]:
    """A test cell's source without its hidden-test blocks, and those blocks' texts."""
    kept, blocks, block = [], [], None
    for line in source.splitlines():
        if HIDDEN_BEGIN in line:
            block = []
        elif HIDDEN_END in line:
            if block is not None:
                blocks.append("\n".join(block))
            block = None
        elif block is None:
            kept.append(line)
        else:
            block.append(line)
    return "\n".join(kept), blocks


def without_hidden_tests(source: str) -> str:
    """``source`` without its hidden-test blocks (a source notebook submitted as is has them)."""
    return split_hidden_tests(source)[0]


def read_json(path: Path, limit: int = READ_LIMIT) -> dict | None:
    """A notebook file as plain JSON (no validation), or ``None`` if missing, too big or damaged.

    Only a JSON object with a list of cells counts as a notebook.
    """
    try:
        if path.stat().st_size > limit:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("cells"), list) else None
