"""Benchmark: ``grader grade --jobs 2`` against one plain ``nbgrader autograde`` call.

Both grade the same 24 submissions of one module (reference solutions, untouched releases and
mutated solutions, in turn) in identical fresh course folders on this machine. Each gets its
release step done beforehand, untimed, as an instructor's course would have: ``nbgrader
generate_assignment`` for the plain run, ``grader release`` (which also builds the grading
kit) for ours. A third course is graded cold, with no release step, to show what that step
saves. The three runs are repeated in rounds (fresh courses each time, default 3) because a
shared machine's timings wander; the medians and their ratios are printed, and whether the
gradebooks agree on every student's total. They need not: plain nbgrader runs the tests in
the student's kernel and scores a cell 0 for any output on stderr, while ``grader`` runs them
in its own process.

    .venv/bin/python benchmarks/grading.py [--module 02-forward] [--students 24] [--jobs 2]
        [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder import samples
from autograder.demo import FIXTURE_COURSE
from autograder.pipeline.coursedir import CONFIG_FILE, REPO_ROOT, exercises_path, load_course

TOTALS = """
select sa.student_id, sum(coalesce(g.manual_score, g.auto_score, 0))
from grade g join submitted_notebook sn on g.notebook_id = sn.id
join submitted_assignment sa on sn.assignment_id = sa.id group by sa.student_id
"""


PLAIN_CONFIG = """c = get_config()
c.CourseDirectory.course_id = "nn-course"
c.ExecutePreprocessor.timeout = 60
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}
"""
"""nbgrader as it comes: the course's own configuration routes autograding to ``grader``."""


def make_course(
    folder: Path, origin: Path, module: str, submissions: list[bytes], plain: bool = False
) -> Path:
    """A course folder with one module's source and the submissions, one per student."""
    folder.mkdir(parents=True)
    if plain:
        (folder / CONFIG_FILE).write_text(PLAIN_CONFIG, encoding="utf-8")
    else:
        shutil.copy(origin / CONFIG_FILE, folder / CONFIG_FILE)
    shutil.copytree(origin / "source" / module, folder / "source" / module)
    for i, data in enumerate(submissions):
        target = exercises_path(folder, "submitted", module, f"student{i:02d}")
        target.parent.mkdir(parents=True)
        target.write_bytes(data)
    return folder


def sample_submissions(origin: Path, module: str, count: int) -> list[bytes]:
    """``count`` submissions cycling through reference, release and mutants."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / CONFIG_FILE).write_text(PLAIN_CONFIG, encoding="utf-8")
        shutil.copytree(origin / "source" / module, Path(tmp) / "source" / module)
        run(["nbgrader", "generate_assignment", module, "--force"], Path(tmp))
        release = nbformat.read(exercises_path(Path(tmp), "release", module), 4)
    source = nbformat.read(exercises_path(origin, "source", module), 4)
    kinds = [source, release, *samples.mutants(source).values()]
    return [samples.to_bytes(kinds[i % len(kinds)]) for i in range(count)]


def run(command: list[str], cwd: Path) -> float:
    """Run a command in ``cwd``; return its wall time in seconds (raise if it fails badly)."""
    env = {k: v for k, v in os.environ.items() if k != "NN_COURSE_DB_URL"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{proc.stderr[-2000:]}")
    return seconds


def totals(course: Path) -> dict[str, float]:
    """Every student's total score in a course's gradebook."""
    with sqlite3.connect(course / "gradebook.db") as db:
        return {student: round(score, 6) for student, score in db.execute(TOTALS)}


def time_once(
    folder: Path, origin: Path, module: str, submissions: list[bytes], jobs: int
) -> tuple[tuple[float, float, float], bool]:
    """One round: the three wall times (plain, ours, ours cold) and whether totals agree."""
    plain, ours, cold = (
        make_course(folder / name, origin, module, submissions, plain=name == "plain")
        for name in ("plain", "ours", "cold")
    )
    run(["nbgrader", "generate_assignment", module], plain)
    plain_time = run(["nbgrader", "autograde", module], plain)
    run(["grader", "release", module, "--course-dir", str(ours)], ours)
    grade = ["grader", "grade", module, "--jobs", str(jobs), "--no-progress"]
    our_time = run([*grade, "--course-dir", str(ours)], ours)
    cold_time = run([*grade, "--course-dir", str(cold)], cold)
    agree = totals(plain) == totals(ours) == totals(cold)
    return (plain_time, our_time, cold_time), agree


def main() -> None:
    """Set up the courses, time the runs, print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    modules = load_course(REPO_ROOT).assignments()
    parser.add_argument("--module", default=modules[0] if modules else None)
    parser.add_argument("--students", type=int, default=24)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="report the median of this many")
    args = parser.parse_args()
    origin = REPO_ROOT if args.module else FIXTURE_COURSE
    module = args.module or load_course(FIXTURE_COURSE).assignments()[0]
    submissions = sample_submissions(origin, module, args.students)
    rounds, agree = [], True
    for i in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            times, same = time_once(Path(tmp), origin, module, submissions, args.jobs)
        rounds.append(times)
        agree = agree and same
        print(f"round {i + 1}: " + ", ".join(f"{t:.1f} s" for t in times), flush=True)
    plain_time, our_time, cold_time = (
        statistics.median(column) for column in zip(*rounds, strict=True)
    )
    print(f"module {module}, {args.students} submissions, {os.cpu_count()} cores")
    print(f"median of {args.rounds} round(s):")
    print(f"plain nbgrader autograde (one process):  {plain_time:6.1f} s")
    print(f"grader grade --jobs {args.jobs}:                {our_time:6.1f} s")
    print(f"grader grade --jobs {args.jobs}, no release:    {cold_time:6.1f} s")
    print(f"speed-up: {plain_time / our_time:.2f}x ({plain_time / cold_time:.2f}x cold)")
    print(f"same totals for every student in all gradebooks: {agree}")


if __name__ == "__main__":
    main()
