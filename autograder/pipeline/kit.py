"""A grading kit: a private nbgrader course generated from a course's ``source/``.

The kit holds a copy of ``source/<assignment>/``, the release nbgrader generates from it
and a gradebook that knows the assignment's cells and nothing about students. Workers read
the tests from the kit's source notebooks and never open a gradebook; the coordinator
compares the kit's gradebook with the course's to register an assignment only when it
changed; the notebook tests and ``grader release --check`` use the kit's release as the
freshly regenerated one.

Generating a kit takes about a second per assignment, so ``grader release`` and ``grader
grade`` keep the kits they build in ``.grader/kits/`` under the course directory
(:func:`cached_kit`), named by a hash of what they are made from: the assignments' sources,
the course configuration and nbgrader's version. A kit is never changed once it is there.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import tempfile
import textwrap
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import nbformat
from traitlets.config import Config

from autograder.pipeline.coursedir import Course, exercises_path
from course.messages import shorten
from course.notebooks import split_hidden_tests

IGNORED = (".ipynb_checkpoints", "__pycache__", "*.pyc", ".DS_Store")
CACHE = ".grader"
"""The course's folder of runtime data that can be rebuilt (git-ignored)."""
KEPT_KITS = 32
"""How many cached kits (a few hundred kB each) to keep, more than a course has assignments;
the least recently used are removed when a new one is built."""


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
        """The kit's gradebook: the assignment's cells as nbgrader records them."""
        return self.root / "gradebook.db"

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL of the kit's gradebook."""
        return f"sqlite:///{self.db_path}"

    def release_dir(self, assignment: str) -> Path:
        """The freshly generated release of ``assignment``."""
        return self.root / "release" / assignment

    def release_notebook(self, assignment: str) -> Path:
        """The generated student version of the assignment's exercises notebook."""
        return exercises_path(self.root, "release", assignment)

    def source_notebook(self, assignment: str) -> Path:
        """The instructor's exercises notebook the kit was generated from."""
        return exercises_path(self.root, "source", assignment)


def generate_assignment(config: Config, assignment: str) -> None:
    """Run nbgrader's ``generate_assignment`` with ``config``; raise ``KitError`` on failure."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    create_gradebook(config.CourseDirectory.db_url)
    coursedir = CourseDirectory(config=config)
    result = NbGraderAPI(coursedir=coursedir, config=config).generate_assignment(
        assignment, force=True
    )
    if not result["success"]:
        raise KitError(f"nbgrader could not generate {assignment}: {api_failure(result)}")
    # where nbgrader was told to write, which need not be root/release (a scratch folder
    # when grading registers an assignment: grading never writes release/)
    root = Path(config.CourseDirectory.root)
    source = config.CourseDirectory.get("source_directory", "source")
    release = config.CourseDirectory.get("release_directory", "release")
    stamp_release(
        exercises_path(root, source, assignment), exercises_path(root, release, assignment)
    )


def stamp_release(source_path: Path, release_path: Path) -> None:
    """Write into the release what the students' check says about hidden tests.

    The release notebook's ``course`` metadata gets the assignment's name, the number of
    hidden checks (assertions and ``check_*``/``assert_*`` calls in hidden-test blocks) and
    the grade ids of the test cells that have them. The check cell reads them from the
    release installed with the library, never from the student's file.
    """
    source = nbformat.read(source_path, as_version=4)
    release = nbformat.read(release_path, as_version=4)
    parts, checks = [], 0
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        blocks = split_hidden_tests(cell.source)[1] if meta.get("grade") else []
        if blocks and not meta.get("solution"):
            parts.append(meta["grade_id"])
            checks += sum(count_checks(block) for block in blocks)
    release.metadata.setdefault("course", {}).update(
        assignment=release_path.parent.name, hidden_checks=checks, hidden_parts=parts
    )
    nbformat.write(release, release_path)


def count_checks(block: str) -> int:
    """Assertions and checking calls in a block of test code (at least one per block)."""
    try:
        tree = ast.parse(textwrap.dedent(block))
    except SyntaxError:
        return 1
    found = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            found += 1
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
            found += name.startswith(("check_", "assert_"))
    return max(found, 1)


def create_gradebook(db_url: str) -> None:
    """Create nbgrader's tables in a new gradebook and stamp its schema revision.

    nbgrader's ``Gradebook`` does the same for a database without tables, but learns the
    revision by running ``alembic heads`` in a new process, which takes 3 s (measured); here
    it is read from nbgrader's migration scripts in milliseconds. A gradebook that has tables
    is left as it is.
    """
    import nbgrader
    from alembic.script import ScriptDirectory
    from nbgrader.api import Base
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(db_url)
    try:
        if inspect(engine).get_table_names():
            return
        scripts = ScriptDirectory(str(Path(nbgrader.__file__).parent / "alembic"))
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            conn.execute(
                text("INSERT INTO alembic_version (version_num) VALUES (:head)"),
                {"head": scripts.get_current_head()},
            )
    finally:
        engine.dispose()


def api_failure(result: dict) -> str:
    """Why an nbgrader API call failed: the most telling line of its traceback and log."""
    lines = [ln.strip() for ln in (result.get("error", "") + result.get("log", "")).splitlines()]
    errors = [ln for ln in lines if "Error" in ln or "[ERROR]" in ln]
    return shorten((errors or [ln for ln in lines if ln] or ["unknown error"])[-1])


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
    kit = open_kit(course, assignments, dest)
    for assignment in assignments:
        generate_assignment(kit.config, assignment)
    return kit


def open_kit(course: Course, assignments: list[str], root: Path) -> Kit:
    """The kit of ``assignments`` whose files are (or will be) under ``root``."""
    config = course.nbgrader_config(root=root, db_url=f"sqlite:///{root / 'gradebook.db'}")
    return Kit(root=root, config=config, assignments=tuple(assignments))


def cached_kit(course: Course, assignments: list[str]) -> Kit:
    """The kit of ``assignments`` from the course's cache, built and stored there if missing.

    A kit is built in a private folder and renamed into place, so a kit in the cache is
    always complete, and two runs building the same kit at once both end up using one.
    """
    kits = course.step_dir(CACHE) / "kits"
    folder = kits / kit_key(course, assignments)
    if not folder.is_dir():
        kits.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f"{folder.name}.partial-", dir=kits))
        try:
            build_kit(course, assignments, partial)
            os.rename(partial, folder)
        except OSError:
            if not folder.is_dir():
                raise
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        prune(kits)
    os.utime(folder)
    return open_kit(course, assignments, folder)


def kit_key(course: Course, assignments: list[str]) -> str:
    """A hash of what a kit is made from: sources, configuration, nbgrader and this module."""
    digest = hashlib.sha256(version("nbgrader").encode())
    digest.update(Path(__file__).read_bytes())  # how kits are generated (the release stamp)
    digest.update(json.dumps(course.config, sort_keys=True, default=repr).encode())
    for assignment in sorted(assignments):
        digest.update(f"{assignment}:{source_digest(course, assignment)};".encode())
    return digest.hexdigest()[:16]


def prune(kits: Path) -> None:
    """Remove all but the :data:`KEPT_KITS` most recently used kits in ``kits``."""
    folders = sorted(
        (p for p in kits.iterdir() if p.is_dir() and ".partial-" not in p.name),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in folders[KEPT_KITS:]:
        shutil.rmtree(old, ignore_errors=True)


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
