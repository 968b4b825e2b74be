"""``tests/xdist_groups.py`` keeps the tests of one ``xdist_group`` on one worker.

A small suite runs under ``pytest -n 2`` in a separate pytest: two modules marked with a
group each, and one module unmarked. Each test records the worker that ran it. With the
plugin each group runs on one worker; without it (the control) xdist's ``--dist load``
spreads the first group over both workers, so the check can tell the difference.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.pipeline.coursedir import REPO_ROOT

# make test-autograder relies on it: the grader's module fixtures are built on one worker
pytestmark = pytest.mark.autograder

MODULE = """\
import os
from pathlib import Path

import pytest

{mark}


@pytest.mark.parametrize("n", range(6))
def test_records_its_worker(n):
    with open(Path(__file__).parent / "workers.txt", "a") as out:
        out.write(f"{{__name__}} {{os.environ['PYTEST_XDIST_WORKER']}}\\n")
"""


def workers_per_module(tmp_path: Path, *plugin: str) -> dict[str, set[str]]:
    """Run the small suite under ``pytest -n 2 [*plugin]``: the workers each module ran on."""
    suite = tmp_path / "suite"
    suite.mkdir()
    for name, mark in [
        ("test_first_group", 'pytestmark = pytest.mark.xdist_group("first")'),
        ("test_second_group", 'pytestmark = pytest.mark.xdist_group(name="second")'),
        ("test_no_group", ""),
    ]:
        (suite / f"{name}.py").write_text(MODULE.format(mark=mark))
    # xdist alone: the other installed plugins take seconds to import, in every worker
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "xdist.plugin", "-n", "2", *plugin,
         "-p", "no:cacheprovider", "-q", "-o", "addopts=", str(suite)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found: dict[str, set[str]] = {}
    for line in (suite / "workers.txt").read_text().splitlines():
        module, worker = line.split()
        found.setdefault(module, set()).add(worker)
    assert sum(1 for _ in (suite / "workers.txt").open()) == 18
    return found


def test_a_group_runs_on_one_worker(tmp_path: Path) -> None:
    found = workers_per_module(tmp_path, "-p", "tests.xdist_groups")
    assert len(found["test_first_group"]) == 1, found
    assert len(found["test_second_group"]) == 1, found


def test_without_the_plugin_a_group_is_spread(tmp_path: Path) -> None:
    found = workers_per_module(tmp_path)
    assert found["test_first_group"] == {"gw0", "gw1"}, found
