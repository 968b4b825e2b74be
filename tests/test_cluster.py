"""Grading on a Dask cluster gives the same gradebook as local worker processes.

The clean students and a sample of the first corpus's attack classes score on a
``LocalCluster`` exactly as with local workers. The second corpus's classes (the codec's
budget, leftovers for the next student, loops, memory, the connection file) are graded in one
run on a cluster of one worker process (a real ``dask worker``, not a daemon, as the README
asks) beside honest classmates graded after them on the same grading process: no attack
gains, no classmate's score changes, the run ends, and no grading process passes 1 GB.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from attacks import (
    BOUNDARY,
    CODEC_BUDGET,
    REACH_AND_PATCH,
    RESULT_OBJECTS,
    REVIEWED,
    leftovers,
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
from autograder.pipeline.worker import peak_memory_mb

pytestmark = pytest.mark.autograder


def test_dask_cluster_grades_like_local_workers(tmp_path: Path, graded_clean) -> None:
    """The same submissions as the session's clean course, graded locally (``--jobs 2``)."""
    from distributed import LocalCluster

    local, proc = graded_clean
    assert proc.returncode == 0, proc.stdout + proc.stderr
    remote = new_course(tmp_path / "remote")
    submit_clean(remote)
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


CHEATED = {**FULL, "test_relu": 0.0}
MARK, SLEEP = "LEFT-ON-DASK", 601  # tests/test_boundary.py's run leaves a "sleep 600"


def test_new_attack_classes_on_a_cluster_cost_only_their_authors(tmp_path: Path) -> None:
    """One run on a one-process cluster: each attack loses its own points only.

    The attackers (``a-*``) are graded first and the classmates after them, in that order,
    by the one grading process of the one Dask worker: ``b-peek`` looks for what ``a-litter``
    left (its inverted control, ``d-peek-control``, must lose relu), ``c-ref`` is the
    reference. ``a-codec-colliding-keys`` once hung a Dask run for good; ``a-codec-wide-json``
    took the grader past 1.5 GB. A forged kernel (``None`` below) may lose every part.
    """
    import dask
    from distributed import Client, LocalCluster

    require_sandbox()  # the attacks aim at the machine and at the next student
    course = new_course(tmp_path / "course")
    source = notebook(course, "source")
    left, machine = leftovers(MARK, SLEEP), runtime_attacks(course)
    students = {
        "a-codec-colliding-keys": (CODEC_BUDGET["colliding-keys"], None),
        "a-codec-wide-json": (CODEC_BUDGET["wide-json"], None),
        "a-litter": (left["litter"], FULL),
        "a-loop-ignoring-sigint": (machine["loop-ignoring-sigint"], CHEATED),
        "a-memory-bomb": (machine["memory-bomb"], FULL),
        "a-poison-connection-file": (machine["poison-connection-file"], CHEATED),
        "b-peek": (left["peek"], FULL),
        "c-ref": (None, FULL),
        "d-peek-control": (left["peek-control"], CHEATED),
    }
    for student, (code, _) in students.items():
        submit(course, student, with_relu(source, code) if code else samples.to_bytes(source))

    def kit_folders() -> list[str]:  # run on the Dask worker
        from autograder.pipeline import cluster

        return [str(folder) for *_, folder in cluster._pools.values()]

    start = time.monotonic()
    with (
        dask.config.set({"distributed.worker.daemon": False}),
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        remote = ("--scheduler", cluster.scheduler_address, "--no-progress")
        limits = ("--timeout", "5", "--student-timeout", "60")
        # a hang fails at the timeout instead of holding the suite
        proc = grader(course, "grade", *remote, *limits, timeout=300)
        dask_worker = max(client.run(peak_memory_mb).values())
        folders = [Path(f) for found in client.run(kit_folders).values() for f in found]
    seconds = time.monotonic() - start
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    found = results(course)
    for student, (_, scores) in students.items():
        assert found[student]["status"] == "graded", (student, found[student])
        if scores is None:
            assert found[student]["scores"]["test_relu"] == 0.0, (student, found[student])
            assert all(found[student]["scores"][k] <= v for k, v in CHEATED.items())
        else:
            assert found[student]["scores"] == scores, (student, found[student])
    line = re.search(r"memory: largest grading process (\d+) MB; coordinator (\d+) MB", proc.stderr)
    assert line, proc.stderr
    worker, coordinator = int(line.group(1)), int(line.group(2))
    print(
        f"largest grading process {worker} MB, Dask worker process {dask_worker:.0f} MB, "
        f"coordinator {coordinator} MB, {seconds:.0f} s"
    )
    assert 0 < worker < 1024 and dask_worker < 1024 and coordinator < 1024
    # nothing of the attacker is left on the host: files, its sleeper; nor the kit's folder
    # (hidden tests) once the Dask worker has gone
    assert not list(course.rglob(MARK))
    sleepers = subprocess.run(["pgrep", "-f", f"sleep {SLEEP}"], capture_output=True, text=True)
    assert sleepers.stdout.strip() == "", "a process the attacker started outlived grading"
    assert len(folders) == 1 and not folders[0].exists(), folders
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
        manual = db.execute("select count(*) from grade where manual_score is not null")
        assert manual.fetchone()[0] == 0
        rows = db.execute("select student from grader_results order by graded_at")
        order = [student for (student,) in rows]
    assert order == sorted(order), "the classmates must follow the attackers"
