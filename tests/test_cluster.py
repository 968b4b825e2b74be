"""Grading on a Dask cluster gives the same gradebook as local worker processes."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from attacks import (
    BOUNDARY,
    REACH_AND_PATCH,
    RESULT_OBJECTS,
    REVIEWED,
    runtime_attacks,
    tampered,
    with_relu,
)
from support import (
    CLEAN_EXPECTED,
    FULL,
    grader,
    new_course,
    notebook,
    require_sandbox,
    results,
    submit,
    submit_clean,
)

from autograder import samples

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


def test_dask_cluster_grades_attacks_like_local_workers(tmp_path: Path) -> None:
    """A sample of every attack class gets the same result on a LocalCluster as locally."""
    from distributed import LocalCluster

    require_sandbox()  # the sample attacks the gradebook and plants symlinks
    local = new_course(tmp_path / "local")
    source = notebook(local, "source")
    submit(local, "ref", samples.to_bytes(source))
    attacks = {
        "patch-allclose": REACH_AND_PATCH["patch-allclose"],
        "lying-array": RESULT_OBJECTS["lying-array"],
        "agent-garbage": BOUNDARY["agent-garbage"],
        "wrap-ref": REVIEWED["wrap-ref"],
        "write-gradebook": runtime_attacks(local)["write-gradebook"],
        "plant-symlinks": runtime_attacks(local)["plant-symlinks"],
    }
    for student, code in attacks.items():
        submit(local, student, with_relu(source, code))
    submit(local, "test-as-raw", tampered(source)["test-as-raw"])
    remote = tmp_path / "remote"
    shutil.copytree(local, remote)
    proc = grader(local, "grade", "--jobs", "2", "--no-progress", "--timeout", "5")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None
    ) as cluster:
        proc = grader(
            remote,
            "grade",
            "--scheduler",
            cluster.scheduler_address,
            "--no-progress",
            "--timeout",
            "5",
        )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    here, there = results(local), results(remote)
    assert {s: r["scores"] for s, r in there.items()} == {s: r["scores"] for s, r in here.items()}
    assert here["ref"]["scores"] == FULL
    assert all(here[s]["scores"]["test_relu"] == 0.0 for s in [*attacks, "test-as-raw"])
    with sqlite3.connect(remote / "gradebook.db") as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
