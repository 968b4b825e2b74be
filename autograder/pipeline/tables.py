"""The grader's own tables in the course gradebook, next to nbgrader's: one home for all.

SQLAlchemy tables on one :data:`METADATA`, created where missing by :func:`create_tables`
(SQLite or PostgreSQL alike), read by :func:`rows` and written one row at a time by
:func:`replace_row`:

- ``grader_results``: the record of each grading (:mod:`~autograder.pipeline.gradebook`);
- ``grader_audit``, ``grader_held``, ``grader_decisions``, ``grader_archive``: score changes,
  held points, the instructor's decisions, and manual grades a changed source orphaned
  (:mod:`~autograder.pipeline.decisions`);
- ``grader_assignments``, ``grader_extensions``: late policies and extensions
  (:mod:`~autograder.pipeline.late`);
- ``grader_roster``: the ids an LMS knows each student by (:mod:`~autograder.pipeline.lms`).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
)
from sqlalchemy import inspect as sql_inspect

METADATA = MetaData()
RESULTS = Table(
    "grader_results",
    METADATA,
    Column("assignment", String(128), primary_key=True),
    Column("student", String(128), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("scores", Text, nullable=False),
    Column("max_scores", Text, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("flags", Text, nullable=False),
    Column("graded_at", DateTime, nullable=False),
)
AUDIT = Table(
    "grader_audit",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("assignment", String(128), nullable=False),
    Column("student", String(128), nullable=False),
    Column("part", String(128), nullable=False),
    Column("old", Float, nullable=True),
    Column("new", Float, nullable=True),
    Column("reason", Text, nullable=False),
)
HELD = Table(
    "grader_held",
    METADATA,
    Column("assignment", String(128), primary_key=True),
    Column("student", String(128), primary_key=True),
    Column("part", String(128), primary_key=True),
    Column("earned", Float, nullable=False),
    Column("max_score", Float, nullable=False),
    Column("finding", Text, nullable=False),
    Column("file", String(64), nullable=False),
)
DECISIONS = Table(
    "grader_decisions",
    METADATA,
    Column("assignment", String(128), primary_key=True),
    Column("student", String(128), primary_key=True),
    Column("part", String(128), primary_key=True),
    Column("action", String(16), nullable=False),
    Column("score", Float, nullable=True),
    Column("reason", Text, nullable=False),
    Column("by", String(128), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("file", String(64), nullable=False),
)
ARCHIVE = Table(
    "grader_archive",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("assignment", String(128), nullable=False),
    Column("student", String(128), nullable=False),
    Column("part", String(128), nullable=False),
    Column("manual_score", Float, nullable=True),
    Column("comment", Text, nullable=True),
    Column("reason", Text, nullable=False),
)
POLICIES = Table(
    "grader_assignments",
    METADATA,
    Column("assignment", String(128), primary_key=True),
    Column("late_policy", String(16), nullable=False),
    Column("penalty", Float, nullable=False),
    Column("cap", Float, nullable=False),
)
EXTENSIONS = Table(
    "grader_extensions",
    METADATA,
    Column("assignment", String(128), primary_key=True),
    Column("student", String(128), primary_key=True),
    Column("until", DateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("by", String(128), nullable=False),
    Column("at", DateTime, nullable=False),
)
ROSTER = Table(
    "grader_roster",
    METADATA,
    Column("student", String(128), primary_key=True),
    Column("lms", String(16), nullable=False),
    Column("lms_user_id", String(64), nullable=False),
    Column("sis_user_id", String(128), nullable=False),
    Column("sis_login_id", String(128), nullable=False),
    Column("section", String(256), nullable=False),
    Column("display_name", String(256), nullable=False),
    Column("id_number", String(128), nullable=False),
)


def create_tables(engine) -> None:
    """Create the grader's tables that do not exist yet."""
    METADATA.create_all(engine)


def rows(db_url: str, table: Table, *where) -> list[dict]:
    """The rows of one of the grader's tables that match ``where`` (none before it exists)."""
    engine = create_engine(db_url)
    try:
        if not sql_inspect(engine).has_table(table.name):
            return []
        with engine.connect() as conn:
            query = table.select()
            for condition in where:
                query = query.where(condition)
            return [dict(row) for row in conn.execute(query).mappings().all()]
    finally:
        engine.dispose()


def replace_row(db_url: str, table: Table, key, values: dict) -> None:
    """Replace the rows of ``table`` matching ``key`` with one row of ``values``."""
    engine = create_engine(db_url)
    try:
        create_tables(engine)
        with engine.begin() as conn:
            conn.execute(table.delete().where(key))
            conn.execute(table.insert().values(**values))
    finally:
        engine.dispose()
