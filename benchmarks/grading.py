"""Benchmark: ``grader grade --jobs 2`` against one plain ``nbgrader autograde`` call.

All runs grade the same 24 submissions of one module (reference solutions, untouched releases
and mutated solutions, in turn) in identical fresh course folders on this machine, each with
its release step done beforehand, untimed, as an instructor's course would have: ``nbgrader
generate_assignment`` for the plain run, ``grader release`` (which also builds the grading
kit) for ours. Ours runs twice: with kernels forked from a warm template (the default) and
with ``--cold-kernels`` (every kernel started from nothing, as before the template), both in
the sandbox. The runs are repeated in rounds (fresh courses each time, default 3) because a
shared machine's timings wander; the medians and their ratios are printed, and whether the
gradebooks agree on every student's total.

It also prints where a submission's time goes, per phase (the median over the submissions of
the median round, as ``grader grade`` reports it): the kernel's start, the notebook's own
cells, the test cells, and the rest. The cost of a submission beyond the notebook's own cells
is its kernel's start and the rest. The run's fixed costs (starting the workers and their
templates, the pre-flight's process, opening the gradebook) are shown spread over the
submissions too: the wall time times the jobs, divided by the submissions, less the median
time of the notebook's cells and test cells.

    .venv/bin/python benchmarks/grading.py [--module 02-forward] [--students 24] [--jobs 2]
        [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import re
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
from autograder.cli import PHASES
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


def run(command: list[str], cwd: Path) -> tuple[float, str]:
    """Run a command in ``cwd``; its wall time in seconds and its stderr (raise if it fails)."""
    env = {k: v for k, v in os.environ.items() if k != "NN_COURSE_DB_URL"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{proc.stderr[-2000:]}")
    return seconds, proc.stderr


def phases(stderr: str) -> dict[str, float]:
    """The per-phase medians of ``grader grade``'s time line."""
    line = next((x for x in stderr.splitlines() if x.startswith("time per submission")), "")
    found = re.findall(r"([a-z' ]+?) (\d+\.\d+) s", line.split(":", 1)[-1])
    names = {label: name for name, label in PHASES.items()}
    return {names[label.strip()]: float(seconds) for label, seconds in found}


def totals(course: Path) -> dict[str, float]:
    """Every student's total score in a course's gradebook."""
    with sqlite3.connect(course / "gradebook.db") as db:
        return {student: round(score, 6) for student, score in db.execute(TOTALS)}


RUNS = ("plain", "warm", "cold")


def time_once(
    folder: Path, origin: Path, module: str, submissions: list[bytes], jobs: int
) -> tuple[dict[str, float], dict[str, dict[str, float]], bool]:
    """One round: each run's wall time, our runs' phases, and whether the totals agree."""
    courses = {
        name: make_course(folder / name, origin, module, submissions, plain=name == "plain")
        for name in RUNS
    }
    run(["nbgrader", "generate_assignment", module], courses["plain"])
    walls = {"plain": run(["nbgrader", "autograde", module], courses["plain"])[0]}
    found = {}
    for name in ("warm", "cold"):
        course = courses[name]
        run(["grader", "release", module, "--course-dir", str(course)], course)
        grade = ["grader", "grade", module, "--jobs", str(jobs), "--no-progress"]
        grade += ["--sandbox", "require", "--course-dir", str(course)]
        grade += ["--cold-kernels"] if name == "cold" else []
        walls[name], stderr = run(grade, course)
        found[name] = phases(stderr)
    agree = len({tuple(sorted(totals(c).items())) for c in courses.values()}) == 1
    return walls, found, agree


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
            walls, found, same = time_once(Path(tmp), origin, module, submissions, args.jobs)
        rounds.append((walls, found))
        agree = agree and same
        print(f"round {i + 1}: " + ", ".join(f"{k} {t:.1f} s" for k, t in walls.items()))
    median = {name: statistics.median(w[name] for w, _ in rounds) for name in RUNS}
    print(f"module {module}, {args.students} submissions, {os.cpu_count()} cores")
    print(f"median of {args.rounds} round(s):")
    print(f"plain nbgrader autograde (one process):     {median['plain']:6.1f} s")
    print(f"grader grade --jobs {args.jobs} (warm kernels):      {median['warm']:6.1f} s")
    print(f"grader grade --jobs {args.jobs} --cold-kernels:      {median['cold']:6.1f} s")
    print(
        f"speed-up over plain nbgrader: {median['plain'] / median['warm']:.2f}x warm, "
        f"{median['plain'] / median['cold']:.2f}x cold"
    )
    print(f"same totals for every student in all gradebooks: {agree}")
    print("per submission (medians of the median round), seconds:")
    print(f"{'phase':24s} {'cold kernels':>13s} {'warm kernels':>13s}")
    for name in ("cold", "warm"):
        walls = [w[name] for w, _ in rounds]
        _, found = rounds[walls.index(sorted(walls)[len(walls) // 2])]
        median[name + "-phases"] = found[name]
    for phase, label in PHASES.items():
        cold, warm = median["cold-phases"].get(phase, 0), median["warm-phases"].get(phase, 0)
        print(f"{label:24s} {cold:13.2f} {warm:13.2f}")
    for name in ("cold", "warm"):
        found = median[name + "-phases"]
        beyond = found.get("start", 0) + found.get("other", 0)
        own = found.get("cells", 0) + found.get("tests", 0)
        spread = median[name] * args.jobs / args.students - own
        print(
            f"{name} kernels: cost per submission beyond its own cells {beyond:.2f} s "
            f"(kernel start and the rest); with the run's fixed costs spread over the "
            f"submissions (wall x jobs / submissions - own cells) {spread:.2f} s"
        )


if __name__ == "__main__":
    main()
