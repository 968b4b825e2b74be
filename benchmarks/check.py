"""Benchmark: the students' check (the last cell of every exercises notebook) on a complete
notebook, per module: what a student waits for before submitting.

Each module's source solution is saved where a student would save it
(``<assignment>/exercises.ipynb``) and checked as the check cell checks it, in this process:
the pre-flight against the release, then the notebook's visible checks in a fresh kernel.
The median of ``--rounds`` runs is printed per module.

    .venv/bin/python benchmarks/check.py [--rounds 3] [module ...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import nbformat

from autograder.pipeline.coursedir import REPO_ROOT, load_course
from course import check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="default: every module")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    course = load_course(REPO_ROOT)
    modules = args.modules or course.assignments()
    print(f"{'module':22s} {'median':>8s}  passing parts  all runs")
    for module in modules:
        solved = nbformat.read(course.exercises_path("source", module), as_version=4)
        times, passing = [], ""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / module / "exercises.ipynb"
            path.parent.mkdir()
            nbformat.write(solved, path)
            for _ in range(args.rounds):
                start = time.perf_counter()
                report = check.check_notebook(path)
                times.append(time.perf_counter() - start)
                ok = sum(p.failure is None for p in report.parts)
                passing = f"{ok} of {len(report.parts)}"
        shown = " ".join(f"{t:.2f}" for t in times)
        print(f"{module:22s} {statistics.median(times):7.2f}s  {passing:>13s}  {shown}")


if __name__ == "__main__":
    main()
