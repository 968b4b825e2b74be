"""Grading on a Dask cluster gives the same gradebook as local worker processes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_autograder_cli import CLEAN_EXPECTED, grader, new_course, results, submit_clean

pytestmark = pytest.mark.autograder


def test_dask_cluster_grades_like_local_workers(tmp_path: Path) -> None:
    from distributed import LocalCluster

    local = new_course(tmp_path / "local")
    submit_clean(local)
    remote = tmp_path / "remote"
    shutil.copytree(local, remote)
    proc = grader(local, "grade", "--jobs", "2", "--no-progress")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None
    ) as cluster:
        proc = grader(remote, "grade", "--scheduler", cluster.scheduler_address, "--no-progress")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    graded = results(remote)
    assert {s: r["scores"] for s, r in graded.items()} == CLEAN_EXPECTED
    assert graded == results(local)
