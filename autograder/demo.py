"""``grader demo``: the whole pipeline on sample submissions, in a git-ignored workspace.

It copies the course's ``source/`` (or, while it has no module yet, the test fixture course)
into ``demo-workspace/course``, releases every module, writes an LMS-style zip per module with
sample submissions (the reference solution, the untouched release, plausible bugs made by
mutating the solution, a metadata-stripped renamed copy, a damaged file), collects it, grades
everything in parallel, and writes feedback, the grades CSV and the report. Nothing outside
the workspace changes.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import nbformat

from autograder import samples
from autograder.intake.collect import collect
from autograder.outputs.export import export
from autograder.outputs.feedback import write_feedback
from autograder.pipeline.coursedir import CONFIG_FILE, REPO_ROOT, Course, load_course
from autograder.pipeline.grade import GradeOptions, grade, summary_table
from autograder.pipeline.release import release
from autograder.runtime.sandbox import NoSandbox, Sandbox, choose

FIXTURE_COURSE = REPO_ROOT / "tests" / "fixtures" / "course"
BUG_STUDENTS = ("cy", "dee", "eve")


def run_demo(workspace: Path | None = None, jobs: int = os.cpu_count() or 1) -> int:
    """Run the demo in ``workspace`` (default ``demo-workspace/``); return the exit status."""
    workspace = (workspace or REPO_ROOT / "demo-workspace").resolve()
    course = fresh_course(workspace)
    assignments = course.assignments()
    print(f"== 1. release {len(assignments)} module(s) into {course.step_dir('release')}")
    problems = release(course, assignments)
    print("\n".join(problems) or "release/ verified: no solution, hidden test or stray file")
    print("== 2. collect sample submissions from LMS-style zips")
    for assignment in assignments:
        archive, bugs = sample_zip(course, assignment, workspace / "lms")
        print(f"-- {archive.name}: " + ", ".join(f"{s} has the bug '{b}'" for s, b in bugs.items()))
        print(collect(course, archive, assignment).render())
    sandbox = demo_sandbox(course)
    print(f"== 3. grade with {jobs} worker(s), kernels confined by: {sandbox.kind}")
    results = grade(course, assignments, options=GradeOptions(jobs=jobs, sandbox=sandbox))
    print(summary_table(results))
    print("== 4. feedback, CSV and report")
    pages = write_feedback(course)
    csv_path, report = export(course, course.step_dir("reports"))
    print(f"{len(pages)} feedback pages under {course.step_dir('feedback')}")
    print(f"grades: {csv_path}\nreport: {report}")
    attention = sum(r.needs_attention for r in results)
    print(f"{len(results)} submissions graded; {attention} need the instructor's attention")
    return 1 if problems else 0


def demo_sandbox(course: Course) -> Sandbox:
    """The sandbox ``grader grade`` would choose; unconfined, with a notice, where none works.

    The demo grades only its own samples, so it may go on without a sandbox, unlike ``grader
    grade``; with ``REQUIRE_SANDBOX=1`` it refuses too (``SandboxError``, exit status 2).
    """
    try:
        return choose("auto", hidden=(str(course.root),))
    except NoSandbox as exc:
        sandbox = choose("off", hidden=(str(course.root),))  # SandboxError if required
        print(f"NOTICE: no sandbox works here: {'; '.join(exc.problems)}.")
        print("The demo grades only its own samples, so it goes on unconfined;")
        print("grader grade refuses without --sandbox off.")
        return sandbox


def fresh_course(workspace: Path) -> Course:
    """A new course in ``workspace/course`` with the repository's modules (or the fixture's)."""
    origin = REPO_ROOT if load_course(REPO_ROOT).assignments() else FIXTURE_COURSE
    if workspace.exists():
        shutil.rmtree(workspace)
    target = workspace / "course"
    target.mkdir(parents=True)
    shutil.copy(origin / CONFIG_FILE, target / CONFIG_FILE)
    shutil.copytree(origin / "source", target / "source")
    return load_course(target, f"sqlite:///{target / 'gradebook.db'}")


def sample_zip(course: Course, assignment: str, folder: Path) -> tuple[Path, dict[str, str]]:
    """An LMS download for ``assignment`` (files ``<student>_exercises.ipynb``).

    Returns the zip's path and which bug each bug-carrying student has.
    """
    source = nbformat.read(course.exercises_path("source", assignment), 4)
    released = nbformat.read(course.exercises_path("release", assignment), 4)
    files = {
        "ada_exercises.ipynb": samples.to_bytes(source),
        "ben_exercises.ipynb": samples.to_bytes(released),
        "fay_exercises (1).ipynb": samples.stripped_metadata(source),
        "gus_exercises.ipynb": samples.broken_json(source),
    }
    bugs = {}
    for student, (bug, mutant) in zip(BUG_STUDENTS, samples.mutants(source).items(), strict=False):
        bugs[student] = bug
        files[f"{student}_exercises.ipynb"] = samples.to_bytes(mutant)
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / f"{assignment}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data in sorted(files.items()):
            zf.writestr(name, data)
    return archive, bugs
