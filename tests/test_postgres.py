"""The gradebook in PostgreSQL: one-line errors for a bad database URL, and a real server.

The server test grades the fixture course into a fresh database on the server that
``$NN_COURSE_TEST_PG_URL`` names (``.ci/run`` starts Debian's PostgreSQL and sets it), then
compares the gradebook with a SQLite run of the same submissions. Without the variable it is
skipped, with the reason; with ``REQUIRE_POSTGRES=1`` (as in CI) it fails instead.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import (
    ASSIGNMENT,
    CLEAN_EXPECTED,
    FULL,
    ZERO,
    grader,
    new_course,
    notebook,
    skip_or_fail,
    submit,
    submit_clean,
)

from autograder import samples
from autograder.pipeline.coursedir import load_course
from autograder.pipeline.gradebook import recorded_results

pytestmark = [pytest.mark.autograder, pytest.mark.postgres]

PG_ENV = "NN_COURSE_TEST_PG_URL"
REQUIRE_ENV = "REQUIRE_POSTGRES"


def need_psycopg() -> None:
    if importlib.util.find_spec("psycopg") is None:
        skip_or_fail('psycopg is not installed (pip install -e ".[postgres]")', REQUIRE_ENV)


def one_line_error(proc, *expected: str) -> str:
    """The grader's message, checked: exit 2, one line on stderr, no traceback."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    # after the course line every command starts with (issue 19)
    lines = [ln for ln in proc.stderr.strip().splitlines() if not ln.startswith("course: ")]
    assert len(lines) == 1 and lines[0].startswith("grader: error: "), proc.stderr
    for text in expected:
        assert text in lines[0]
    return lines[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "is not a URL"),
        ("postgresql+nosuchdriver://me@localhost/gradebook", "no database driver named"),
        ("postgresql+pg8000://me@localhost/gradebook", "'pg8000' is not installed"),
        ("sqlite:////no/such/folder/gradebook.db", "/no/such/folder does not exist"),
    ],
)
def test_bad_database_url_is_one_line(tmp_path: Path, url: str, expected: str) -> None:
    if "pg8000" in url and importlib.util.find_spec("pg8000"):
        pytest.skip("pg8000 is installed here: it cannot stand for a missing driver")
    course = new_course(tmp_path / "course")
    one_line_error(grader(course, "grade", "--db", url), expected)
    assert not (course / "gradebook.db").exists()


def test_missing_psycopg_tells_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a psycopg that cannot be imported, first on the path: the driver is "not installed"
    shadow = tmp_path / "shadow" / "psycopg"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'psycopg'\", name='psycopg')\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(shadow.parent))
    course = new_course(tmp_path / "course")
    proc = grader(course, "export", "--db", "postgresql://me:s3cret@localhost/gradebook")
    line = one_line_error(proc, "'psycopg' is not installed", '".[postgres]"')
    assert "s3cret" not in line


def test_unreachable_server_is_one_line(tmp_path: Path) -> None:
    need_psycopg()
    course = new_course(tmp_path / "course")
    url = f"postgresql+psycopg://me:s3cret@127.0.0.1:{free_port()}/gradebook"
    line = one_line_error(grader(course, "feedback", "--db", url), "cannot be reached", "refused")
    assert "s3cret" not in line


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL to a new, empty database on the test server, dropped afterwards."""
    base = os.environ.get(PG_ENV)
    if not base:
        skip_or_fail(
            f"no PostgreSQL server: set {PG_ENV} (e.g. postgresql:///postgres?host=/run/postgresql)",
            REQUIRE_ENV,
        )
    need_psycopg()
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"nn_course_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def gradebook(url: str, course_id: str) -> dict:
    """Students, each grade cell's scores, and the grader's status and flags per submission."""
    from nbgrader.api import Gradebook

    with Gradebook(url, course_id) as gb:
        students = {s.id: (s.first_name, s.last_name, s.email) for s in gb.students}
        cells = {}
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                for nb in submission.notebooks:
                    for grade in nb.grades:
                        key = (assignment.name, submission.student_id, nb.name, grade.name)
                        cells[key] = (grade.auto_score, grade.manual_score, grade.max_score)
    recorded = {
        key: (r.status, r.digest, r.scores, r.max_scores, r.flags)
        for key, r in recorded_results(url).items()
    }
    return {"students": students, "cells": cells, "results": recorded}


def test_postgres_gradebook_matches_sqlite(tmp_path: Path, pg_url: str) -> None:
    lite = new_course(tmp_path / "sqlite")
    submit_clean(lite)
    submit(lite, "v3", samples.nbformat3(notebook(lite, "source")))
    submit(lite, "empty", b"")
    pg = tmp_path / "postgres"
    shutil.copytree(lite, pg)

    for course, db in ((lite, []), (pg, ["--db", pg_url])):
        proc = grader(course, "grade", "--jobs", "2", "--no-progress", *db)
        assert proc.returncode == 1, proc.stdout + proc.stderr  # the empty file is rejected
        assert "6 submission(s); 1 need(s) attention" in proc.stdout
    assert not (pg / "gradebook.db").exists(), "the PostgreSQL run wrote a SQLite gradebook"

    course_id = load_course(lite, "sqlite://").course_id
    expected = gradebook(f"sqlite:///{lite / 'gradebook.db'}", course_id)
    found = gradebook(pg_url, course_id)
    assert found == expected
    scores = {student: r[2] for (_, student), r in found["results"].items()}
    assert scores == {**CLEAN_EXPECTED, "v3": FULL, "empty": ZERO}
    assert len(found["students"]) == 6 and len(found["cells"]) >= 5 * len(ZERO)

    # the outputs read PostgreSQL too (export alone: feedback reads the same two sources)
    proc = grader(pg, "export", "--output", str(pg / "out"), "--db", pg_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with (pg / "out" / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert {
        student: {part: float(row[f"{ASSIGNMENT}:{part}"]) for part in FULL}
        for student, row in rows.items()
    } == scores
    assert "empty file" in rows["empty"]["flags"]
    assert "converted from nbformat 3" in rows["v3"]["flags"]
