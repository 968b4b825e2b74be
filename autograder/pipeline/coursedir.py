"""Where a course's files live, and the nbgrader configuration that goes with them.

The course directory is the folder holding ``nbgrader_config.py`` and ``source/``; the
gradebook is SQLite at ``<root>/gradebook.db`` unless a database URL is given (``--db`` or
the environment variable ``NN_COURSE_DB_URL``). Any SQLAlchemy URL whose driver is installed
works; ``pip install -e ".[postgres]"`` adds PostgreSQL's (``postgresql://...``, psycopg 3).
"""

from __future__ import annotations

import copy
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from course.notebooks import EXERCISES

DB_ENV = "NN_COURSE_DB_URL"
CONFIG_FILE = "nbgrader_config.py"
REPO_ROOT = Path(__file__).resolve().parents[2]
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DB_CONNECT_SECONDS = 10
DRIVER_HINTS = {"postgresql": 'pip install -e ".[postgres]"'}


class CourseError(Exception):
    """A problem with the course directory or its configuration, told in one line."""


@dataclass(frozen=True)
class Course:
    """An nbgrader course directory and its configuration."""

    root: Path
    db_url: str
    config: Config

    @property
    def course_id(self) -> str:
        """The course id from ``nbgrader_config.py`` (nbgrader's default otherwise)."""
        return self.config.CourseDirectory.get("course_id", "default_course")

    def step_dir(self, step: str) -> Path:
        """The folder of one nbgrader step: ``source``, ``release``, ``submitted``, ..."""
        return self.root / step

    def exercises_path(
        self, step: str, assignment: str, student: str | None = None, suffix: str = ".ipynb"
    ) -> Path:
        """The exercises file of ``assignment`` in ``step`` (:func:`exercises_path`)."""
        return exercises_path(self.root, step, assignment, student, suffix)

    def assignments(self) -> list[str]:
        """Assignments in ``source/`` that have an exercises notebook, sorted by name."""
        source = self.step_dir("source")
        if not source.is_dir():
            return []
        return sorted(
            d.name for d in source.iterdir() if self.exercises_path("source", d.name).is_file()
        )

    def nbgrader_config(self, root: Path | None = None, db_url: str | None = None) -> Config:
        """A copy of the course configuration pointed at ``root`` and ``db_url``.

        The copy is deep: ``Config.merge`` would share the sections, so setting the root of
        one copy would move every other.
        """
        config = copy.deepcopy(self.config)
        config.CourseDirectory.root = str(root or self.root)
        config.CourseDirectory.db_url = db_url or self.db_url
        return config


def exercises_path(
    root: Path, step: str, assignment: str, student: str | None = None, suffix: str = ".ipynb"
) -> Path:
    """``<root>/<step>/[<student>/]<assignment>/exercises<suffix>``: where a step keeps a file.

    The layout nbgrader's ``CourseDirectory.format_path`` gives: per student for
    ``submitted``, ``autograded`` and ``feedback``, per assignment for ``source`` and
    ``release``. ``root`` is a course directory or a grading kit.
    """
    folder = root / step / student if student is not None else root / step
    return folder / assignment / f"{EXERCISES}{suffix}"


def default_course_dir() -> Path:
    """The current directory if it is a course directory (it has ``nbgrader_config.py`` or
    ``source/``); :class:`CourseError` otherwise: a command never falls back to another
    course."""
    cwd = Path.cwd()
    if (cwd / CONFIG_FILE).is_file() or (cwd / "source").is_dir():
        return cwd
    raise CourseError(
        f"{cwd} is not a course directory (no {CONFIG_FILE} or source/): cd into your course,"
        " pass --course-dir DIR, or create one with `grader init DIR`"
    )


def load_course(course_dir: Path | str | None = None, db_url: str | None = None) -> Course:
    """Read a course directory's ``nbgrader_config.py`` and settle its database URL.

    The URL is, in order: ``db_url``, ``$NN_COURSE_DB_URL``, a SQLite ``gradebook.db`` in the
    course directory. (The configuration file's own ``db_url`` is not used because it
    usually names the folder the file was written in, not the one it was copied to.)
    """
    root = Path(course_dir).resolve() if course_dir else default_course_dir()
    if not root.is_dir():
        raise CourseError(f"course directory {root} does not exist")
    config = Config()
    if (root / CONFIG_FILE).is_file():
        config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    url = db_url or os.environ.get(DB_ENV) or f"sqlite:///{root / 'gradebook.db'}"
    ensure_tools_on_path()
    return Course(root=root, db_url=url, config=config)


def ensure_tools_on_path() -> None:
    """Put this interpreter's ``bin/`` on ``PATH``: nbgrader shells out to ``alembic``."""
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + path


def check_database(url: str) -> None:
    """Raise ``CourseError`` in one line unless the gradebook database at ``url`` can be opened.

    Checked in order: the URL parses, SQLAlchemy knows its dialect and driver, the driver is
    installed, and the database answers (a server connection with a timeout; for SQLite, only
    that the file's folder exists, so a check creates no file). Passwords are never printed.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise CourseError(
            f"database URL {url!r} is not a URL such as postgresql://user@host:5432/gradebook"
        ) from None
    shown = parsed.render_as_string(hide_password=True)
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        raise CourseError(
            f"database URL {shown}: SQLAlchemy has no database driver named {parsed.drivername!r}"
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        hint = DRIVER_HINTS.get(parsed.get_backend_name())
        raise CourseError(
            f"database URL {shown}: its driver {parsed.get_driver_name()!r} is not installed"
            f" (no module {exc.name!r})" + (f"; {hint}" if hint else "")
        ) from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).expanduser().resolve().parent
            if not folder.is_dir():
                raise CourseError(f"database URL {shown}: folder {folder} does not exist")
        return
    connect_args = {"connect_timeout": DB_CONNECT_SECONDS} if dialect.name == "postgresql" else {}
    engine = create_engine(parsed, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        # libpq's messages run over several lines (the failure, then a hint)
        reason = "; ".join(line.strip() for line in str(exc.orig).splitlines() if line.strip())
        raise CourseError(f"database {shown} cannot be reached: {reason}") from None
    finally:
        engine.dispose()


def check_id(kind: str, value: str) -> str:
    """Return ``value`` if it is a safe student or assignment id, else raise ``CourseError``."""
    if not SAFE_ID.match(value):
        raise CourseError(f"{kind} id {value!r} is not a safe name (letters, digits, . _ -)")
    return value
