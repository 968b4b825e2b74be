"""Fixtures the test modules share; the plain helpers they use are in ``tests/support.py``."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import new_course


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A fresh copy of the fixture course in ``tmp_path / "course"``, nothing submitted yet."""
    return new_course(tmp_path / "course")
