"""A grading kit: a private nbgrader course generated from a course's ``source/``.

The kit holds a copy of ``source/<assignment>/``, the release nbgrader generates from it
and a gradebook that knows the assignment's cells and nothing about students. Workers copy
its gradebook and grade in scratch folders of their own, so the course's gradebook is never
opened by them; the notebook tests and ``grader release --check`` use the kit's release as
the freshly regenerated one.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config

from autograder.coursedir import EXERCISES, Course

IGNORED = (".ipynb_checkpoints", "__pycache__", "*.pyc", ".DS_Store")


class KitError(Exception):
    """nbgrader could not generate an assignment; the message is one line."""


@dataclass(frozen=True)
class Kit:
    """A generated private course: ``source/``, ``release/`` and ``gradebook.db`` under ``root``."""

    root: Path
    config: Config
    assignments: tuple[str, ...]

    @property
    def db_path(self) -> Path:
        """The kit's gradebook, which workers copy."""
        return self.root / "gradebook.db"

    def release_dir(self, assignment: str) -> Path:
        """The freshly generated release of ``assignment``."""
        return self.root / "release" / assignment

    def release_notebook(self, assignment: str) -> Path:
        """The generated student version of the assignment's exercises notebook."""
        return self.release_dir(assignment) / f"{EXERCISES}.ipynb"


def generate_assignment(config: Config, assignment: str) -> None:
    """Run nbgrader's ``generate_assignment`` with ``config``; raise ``KitError`` on failure."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config)
    result = NbGraderAPI(coursedir=coursedir, config=config).generate_assignment(
        assignment, force=True
    )
    if not result["success"]:
        raise KitError(f"nbgrader could not generate {assignment}: {last_error_line(result)}")


def last_error_line(result: dict) -> str:
    """The most telling line of a failed nbgrader API call's traceback and log."""
    lines = [ln.strip() for ln in (result.get("error", "") + result.get("log", "")).splitlines()]
    errors = [ln for ln in lines if "Error" in ln or "[ERROR]" in ln]
    return (errors or [ln for ln in lines if ln] or ["unknown error"])[-1]


def build_kit(course: Course, assignments: list[str], dest: Path) -> Kit:
    """Copy the assignments' sources into ``dest`` and generate them with a fresh gradebook."""
    dest.mkdir(parents=True, exist_ok=True)
    for assignment in assignments:
        target = dest / "source" / assignment
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(
            course.step_dir("source") / assignment, target, ignore=shutil.ignore_patterns(*IGNORED)
        )
    config = course.nbgrader_config(root=dest, db_url=f"sqlite:///{dest / 'gradebook.db'}")
    for assignment in assignments:
        generate_assignment(config, assignment)
    return Kit(root=dest, config=config, assignments=tuple(assignments))


def source_digest(course: Course, assignment: str) -> str:
    """A hash of every file in ``source/<assignment>``: when it changes, grades are stale."""
    digest = hashlib.sha256()
    folder = course.step_dir("source") / assignment
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if any(part in IGNORED for part in path.parts) or path.suffix == ".pyc":
            continue
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
