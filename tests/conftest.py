"""Fixtures the test modules share; the plain helpers they use are in ``tests/support.py``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support import graded_clean_course, graded_clean_run, new_course, shared


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A fresh copy of the fixture course in ``tmp_path / "course"``, nothing submitted yet."""
    return new_course(tmp_path / "course")


@pytest.fixture(scope="session")
def graded_clean(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess]:
    """The fixture course with ``submit_clean``'s students, graded once (``grade --jobs 2``)
    for every test module of the session, and that run. Read it only; copy it to change it."""
    return graded_clean_run(shared(tmp_path_factory, "graded-clean", graded_clean_course))
