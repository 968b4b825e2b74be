"""Helpers the test modules share: the fixture course, environment-gated tests, spec files.

Plain functions, imported as ``from support import ...`` (the fixtures built on them are in
``tests/conftest.py``):

- **the fixture course** (``tests/fixtures/course``, one assignment, :data:`ASSIGNMENT`, with
  three graded parts): :func:`new_course` copies it, :func:`submit` and :func:`submit_clean`
  place submissions, :func:`grader` runs the command line on it and :func:`results` reads
  back what grading recorded;
- :func:`skip_or_fail` for tests that need something the machine may lack (a sandbox,
  PostgreSQL, Chromium, root for the exchange): skipped, or failed where CI asks for them;
- **the sandbox**: tests that check *confinement* (an attack on files or the machine gains
  nothing) call :func:`require_sandbox` first, and skip where neither bubblewrap nor
  ``unshare`` works. Tests that check *scores* grade with whatever sandbox the machine has;
  where none works, :func:`grader` passes ``--sandbox off`` to ``grade`` explicitly (what
  :func:`unconfined_args` gives), so they still run everywhere; ``REQUIRE_SANDBOX=1`` turns
  both into failures instead. ``autograder.testing`` (the bug and fairness tests) grades
  our own solutions with kernels forked from a confined template where a sandbox works, and
  unconfined where none does: nothing there is hostile;
- **graded courses shared by test modules**: :func:`shared` builds a folder once per test
  session, for every module and every xdist worker; ``tests/conftest.py``'s
  ``graded_clean`` is the fixture course with :func:`submit_clean`'s students, graded once.
  Tests read it; a test that changes a course works on its own copy (:func:`copy_course`);
- :func:`specs` loads the course's spec files, the plausible bugs ``tests/bugs/bugs_NN.py``
  and the correct solutions ``tests/fairness/fair_NN.py``; :func:`apply_solution` writes one
  such solution into a notebook.
"""

from __future__ import annotations

import fcntl
import functools
import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal, NoReturn

import nbformat
import pytest

from autograder import samples
from autograder.pipeline.coursedir import REPO_ROOT
from autograder.pipeline.tasks import Flag
from course.notebooks import grade_id

TESTS = Path(__file__).resolve().parent

# -- the fixture course --------------------------------------------------------------------
FIXTURE = TESTS / "fixtures" / "course"
ASSIGNMENT = "00-numpy-basics"
FULL = {"test_relu": 1.0, "test_softmax": 2.0, "test_mse": 2.0}
ZERO = dict.fromkeys(FULL, 0.0)
CLEAN_EXPECTED = {
    "ref": FULL,
    "untouched": ZERO,
    "bug-relu": {**FULL, "test_relu": 0.0},
    "bug-mse": {**FULL, "test_mse": 0.0},
}
"""The scores of the students :func:`submit_clean` places."""


def grader(
    course: Path, *args: str, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run ``grader`` on ``course`` with this interpreter's tools on PATH.

    ``grade`` without ``--sandbox`` gets :func:`unconfined_args` (``--sandbox off`` only where
    no sandbox works). ``env`` replaces the environment (PATH still gets the tools first).
    """
    env = dict(os.environ if env is None else env)
    env.pop("NN_COURSE_DB_URL", None)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if args[:1] == ("grade",) and "--sandbox" not in args:
        args = (*args, *unconfined_args())
    return subprocess.run(
        [sys.executable, "-m", "autograder.cli", *args, "--course-dir", str(course)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def new_course(folder: Path) -> Path:
    """A fresh copy of the fixture course with its committed release."""
    shutil.copytree(
        FIXTURE, folder, ignore=shutil.ignore_patterns("gradebook.db", "submitted", ".grader")
    )
    return folder


def copy_course(course: Path, folder: Path) -> Path:
    """A copy of a (graded) course, gradebook and submissions included, to change freely."""
    shutil.copytree(course, folder, symlinks=True)
    return folder


def shared(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A folder that ``build`` fills once per test session, for every test module and worker.

    Under ``pytest -n``, each worker's temporary root is a folder of the session's: the first
    worker to ask builds the folder there while holding a lock, and the others wait for it
    and reuse it. A build that fails leaves nothing behind, and the next to ask tries again.
    Tests only read the folder.
    """
    base = factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / f"shared-{name}"
    with (root / f"shared-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / ".built").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            try:
                build(folder)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            (folder / ".built").touch()
    return folder


def graded_clean_course(folder: Path) -> None:
    """:func:`shared`'s build of ``graded_clean``: the course, then ``grade --jobs 2``'s output."""
    course = new_course(folder / "course")
    submit_clean(course)
    proc = grader(course, "grade", "--jobs", "2")
    saved = {"args": proc.args, "returncode": proc.returncode}
    saved |= {"stdout": proc.stdout, "stderr": proc.stderr}
    (folder / "grade.json").write_text(json.dumps(saved), encoding="utf-8")


def graded_clean_run(folder: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """The course :func:`graded_clean_course` built in ``folder`` and its ``grade`` run."""
    saved = json.loads((folder / "grade.json").read_text(encoding="utf-8"))
    return folder / "course", subprocess.CompletedProcess(**saved)


def notebook(course: Path, step: str) -> nbformat.NotebookNode:
    """The fixture's exercises notebook from ``source`` or ``release``."""
    return nbformat.read(course / step / ASSIGNMENT / "exercises.ipynb", as_version=4)


def submit(course: Path, student: str, data: bytes, name: str = "exercises.ipynb") -> None:
    """Place a student's file in ``submitted/``."""
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def submit_clean(course: Path) -> None:
    """The reference, the untouched release and two plausible bugs (:data:`CLEAN_EXPECTED`)."""
    source = notebook(course, "source")
    submit(course, "ref", samples.to_bytes(source))
    submit(course, "untouched", samples.to_bytes(notebook(course, "release")))
    bugs = samples.mutants(source)
    submit(course, "bug-relu", samples.to_bytes(bugs["minimum-instead-of-maximum"]))
    submit(course, "bug-mse", samples.to_bytes(bugs["sum-instead-of-mean"]))


def results(course: Path) -> dict[str, dict]:
    """The recorded results per student: status, scores, flags."""
    with sqlite3.connect(course / "gradebook.db") as db:
        rows = db.execute("select student, status, scores, flags from grader_results").fetchall()
    return {
        s: {"status": st, "scores": json.loads(sc), "flags": stored_flags(f)}
        for s, st, sc, f in rows
    }


def stored_flags(text: str) -> list[str]:
    """The flags of a ``grader_results`` row, as the summary table prints them."""
    return [str(Flag.from_json(flag)) for flag in json.loads(text)]


# -- tests that need something the machine may lack ----------------------------------------
def required(variable: str) -> bool:
    """Whether ``variable`` (``REQUIRE_SANDBOX``, ...) is set to anything but ``""`` or ``0``."""
    return os.environ.get(variable, "") not in ("", "0")


def skip_or_fail(reason: str, variable: str) -> NoReturn:
    """Skip the test with ``reason``; fail it instead when :func:`required` says ``variable``.

    The variables are ``REQUIRE_SANDBOX``, ``REQUIRE_POSTGRES``, ``REQUIRE_BROWSER`` and
    ``REQUIRE_EXCHANGE``: CI sets them, so that what it installed is tested, never skipped.
    """
    if required(variable):
        pytest.fail(f"{reason} ({variable} is set)", pytrace=False)
    pytest.skip(reason)


# -- the sandbox -------------------------------------------------------------------------
@functools.cache
def sandbox_problem() -> str | None:
    """Why no sandbox confines kernels here (bubblewrap's and ``unshare``'s probes), or None."""
    from autograder.runtime.sandbox import bwrap_problem, unshare_problem

    problems = []
    for probe in (bwrap_problem, unshare_problem):
        problem = probe()
        if problem is None:
            return None
        problems.append(problem)
    return "; ".join(problems)


def require_sandbox() -> None:
    """Skip (with the reason) where no sandbox works; fail instead under ``REQUIRE_SANDBOX``."""
    problem = sandbox_problem()
    if problem is not None:
        skip_or_fail(f"needs a sandbox (bubblewrap or unshare): {problem}", "REQUIRE_SANDBOX")


def unconfined_args() -> tuple[str, ...]:
    """``("--sandbox", "off")`` where no sandbox works and none is required, else nothing.

    For tests that check scores, not confinement: ``grader grade`` refuses to grade
    unconfined unless told so explicitly.
    """
    if sandbox_problem() is None or required("REQUIRE_SANDBOX"):
        return ()
    return ("--sandbox", "off")


# -- the course's spec files ---------------------------------------------------------------
SPEC_FILES = {"bugs": ("bugs_", "BUGS"), "fairness": ("fair_", "SOLUTIONS")}


def course_module(number: str) -> str | None:
    """The course module ``source/NN-*`` numbered ``number`` (``"02"``), if there is one."""
    found = sorted(p.name for p in (REPO_ROOT / "source").glob(f"{number}-*"))
    return found[0] if found else None


def specs(kind: Literal["bugs", "fairness"]) -> dict[str, list[dict]]:
    """The spec files of ``kind``, keyed by the course module each is written for.

    ``"bugs"``: ``BUGS`` of ``tests/bugs/bugs_NN.py``, plausible bugs, each
    ``{"name", "cell", "old", "new", "loses"}`` (``old`` becomes ``new`` in the answer cell
    ``cell``; the test cells named in ``loses`` must lose points). ``"fairness"``:
    ``SOLUTIONS`` of ``tests/fairness/fair_NN.py``, correct solutions, each ``{"name",
    "cells", "add"}`` (see :func:`apply_solution`). In the modules' order; a file whose
    module is not in ``source/`` is left out.
    """
    prefix, variable = SPEC_FILES[kind]
    found = {}
    for path in sorted((TESTS / kind).glob(f"{prefix}[0-9][0-9].py")):
        module = course_module(path.stem[-2:])
        if module is None:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        loaded = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded)
        found[module] = getattr(loaded, variable)
    return found


def apply_solution(notebook: nbformat.NotebookNode, solution: dict) -> nbformat.NotebookNode:
    """The notebook with a fairness solution's answer cells replaced and scratch cells added.

    ``solution["cells"]`` maps grade ids to new sources; ``solution["add"]`` lists
    ``(after_grade_id, source)`` code cells to insert. Edits ``notebook`` and returns it.
    """
    cells = {grade_id(c): c for c in notebook.cells if grade_id(c)}
    for gid, source in solution.get("cells", {}).items():
        if gid not in cells:
            raise ValueError(f"no cell {gid}")
        cells[gid].source = source
    for after, source in solution.get("add", []):
        index = next(i for i, c in enumerate(notebook.cells) if grade_id(c) == after)
        notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    return notebook
