"""``grader init DIR``: a new course directory, as ``nbgrader quickstart`` makes one for nbgrader.

The course gets an ``nbgrader_config.py`` like this repository's (its own course id, the
gradebook in the folder, nbgrader's own autograde and feedback switched off), a
``.gitignore`` for the runtime data, and ``source/`` with one module: copied from this
repository's ``source/`` (``--module 02-forward``), or with ``--empty`` a ``01-first``
module whose exercises notebook has one answer cell and one graded test cell to start from.
Nothing is written into a folder that already holds files.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.pipeline.coursedir import CONFIG_FILE, REPO_ROOT, CourseError
from autograder.pipeline.kit import IGNORED
from course.notebooks import EXERCISES

EMPTY_MODULE = "01-first"
CONFIG = '''"""nbgrader configuration of the course {course_id} (this folder is the course)."""

import os

c = get_config()  # noqa: F821  (injected by traitlets)

c.CourseDirectory.course_id = "{course_id}"
ROOT = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = ROOT
c.CourseDirectory.db_url = os.environ.get("NN_COURSE_DB_URL", f"sqlite:///{{ROOT}}/gradebook.db")
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".DS_Store"]
# nbgrader's exchange on a JupyterHub (grader collect --exchange, grader feedback --release)
c.Exchange.root = os.environ.get("NN_COURSE_EXCHANGE", "/srv/nbgrader/exchange")

c.ExecutePreprocessor.timeout = int(os.environ.get("NN_COURSE_CELL_TIMEOUT", "60"))
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}

# nbgrader's own autograde and feedback (CLI and formgrader's buttons) would undo `grader`:
# they refuse here, before writing anything (see autograder/nbgrader_hooks.py).
c.Autograde.exporter_class = "autograder.nbgrader_hooks.AutogradeRefused"
c.GenerateFeedback.exporter_class = "autograder.nbgrader_hooks.FeedbackRefused"
'''
GITIGNORE = """# runtime data of the grader (rebuilt or private)
gradebook.db
submitted/
autograded/
feedback/
reports/
.grader/
.ipynb_checkpoints/
__pycache__/
"""


def init_course(folder: Path, module: str | None = None, empty: bool = False) -> list[Path]:
    """Create a course in ``folder``; return the files written."""
    folder = folder.resolve()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise CourseError(f"{folder} is not empty: grader init makes a new course folder")
    if module is None and not empty:
        raise CourseError(
            "grader init needs --module NAME (a module of this repository) or --empty"
        )
    if module is not None:
        origin = REPO_ROOT / "source" / module
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", module) or not origin.is_dir():
            known = ", ".join(sorted(p.name for p in (REPO_ROOT / "source").glob("[0-9]*")))
            raise CourseError(
                f"no module {module!r} in {REPO_ROOT / 'source'} (there are: {known})"
            )
    course_id = re.sub(r"[^A-Za-z0-9_-]+", "-", folder.name).strip("-") or "course"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG_FILE).write_text(CONFIG.format(course_id=course_id), encoding="utf-8")
    (folder / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    source = folder / "source"
    if module is not None:
        shutil.copytree(origin, source / module, ignore=shutil.ignore_patterns(*IGNORED))
    else:
        target = source / EMPTY_MODULE / f"{EXERCISES}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(example_notebook(), target)
    return sorted(p for p in folder.rglob("*") if p.is_file())


def example_notebook() -> nbformat.NotebookNode:
    """An exercises notebook with one answer cell and one graded test cell (2 points)."""

    def meta(grade_id: str, **flags) -> dict:
        base = {"grade": False, "locked": True, "solution": False, "task": False}
        return {"nbgrader": {**base, **flags, "grade_id": grade_id, "schema_version": 3}}

    return new_notebook(
        cells=[
            new_markdown_cell(
                "# Module 01 · Exercises\n\nWrite `double(x)`, which returns `2 * x`.",
                metadata=meta("intro"),
            ),
            new_code_cell(
                "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
                metadata=meta("double", locked=False, solution=True),
            ),
            new_code_cell(
                'assert double(2) == 4, "double(2) must be 4"\n'
                "### BEGIN HIDDEN TESTS\nassert double(-1.5) == -3.0\n### END HIDDEN TESTS",
                metadata=meta("test_double", grade=True, points=2),
            ),
        ],
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
