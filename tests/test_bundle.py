"""The students' package, installed the way its README says, in a fresh virtual environment.

``tests/student_env.py`` runs ``grader bundle`` and installs the bundle into a new venv made
from a system Python. nbval runs every ``release/`` notebook in that venv (``make test``,
``tests/nbval_course.py``): every lecture without an error, every untouched exercises notebook
with errors only in the cells tagged ``raises-exception``. Here: those notebooks are the
bundle's (the exercises byte for byte, the lectures once the outputs the bundle gives them are
cleared), the tags sit only on answer and test cells, nbval's kernel is the student venv's,
the pins and the Jupyter configuration are a student's, and no solution or hidden test is
anywhere in the bundle, its wheel and the lectures' outputs included. How the bundle runs a
lecture is checked on one short lecture, and a failing one stops it in one line.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from student_env import StudentEnv, student_env

from autograder.pipeline.bundle import (
    LECTURE,
    TOP_LEVEL,
    bundle_leaks,
    is_grader_file,
    run_lecture,
)
from autograder.pipeline.coursedir import CourseError, load_course

REPO = Path(__file__).resolve().parent.parent
MODULES = sorted(p.parent.name for p in (REPO / "release").glob("*/exercises.ipynb"))
MARKER = re.compile(r"BEGIN (SOLUTION|HIDDEN TESTS)(.*?)END (SOLUTION|HIDDEN TESTS)", re.S)

pytestmark = pytest.mark.bundle


@pytest.fixture(scope="module")
def env() -> StudentEnv:
    return student_env()


def test_nbval_runs_the_release_in_the_student_environment(env: StudentEnv) -> None:
    """nbval's kernel for a ``release/`` notebook is the student venv's Python, which imports
    the installed ``course`` and cannot import the grader."""
    from tests.nbval_course import IpcKernelManager

    manager = IpcKernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(REPO / "release" / "02-forward"))
    client = manager.client()
    try:
        client.start_channels()
        client.wait_for_ready(timeout=60)
        code = (
            "import course, importlib.util, sys\n"
            "print(course.__file__, sys.executable, importlib.util.find_spec('autograder'))"
        )
        printed = []
        client.execute_interactive(
            code, timeout=60, output_hook=lambda m: printed.append(m["content"].get("text", ""))
        )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    library, python, grader = "".join(printed).split()
    assert library.startswith(str(env.venv)) and python.startswith(str(env.venv))
    assert grader == "None"


def without_outputs(path: Path) -> str:
    """The notebook's text with every code cell's outputs and execution count cleared."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nbformat.writes(notebook) + "\n"


@pytest.mark.parametrize("module", MODULES)
def test_bundle_notebooks_are_the_release(env: StudentEnv, module: str) -> None:
    """nbval's run of release/ (in the student venv) is a run of the bundle: the exercises byte
    for byte, the lecture byte for byte once the outputs the bundle added are cleared."""
    release = REPO / "release" / module
    assert (env.bundle / module / "exercises.ipynb").read_bytes() == (
        release / "exercises.ipynb"
    ).read_bytes()
    assert without_outputs(env.bundle / module / LECTURE) == (release / LECTURE).read_text()


def test_a_bundled_lecture_carries_its_figures(tmp_path: Path, monkeypatch) -> None:
    """run_lecture, as grader bundle runs it, on one short lecture: figures and printed numbers
    in the notebook, no error, the cells and metadata as released, even from a shell whose
    MPLBACKEND shows no figures (the Makefile's Agg)."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    shutil.copytree(REPO / "release" / "03-losses", tmp_path / "03-losses")
    lecture = tmp_path / "03-losses" / LECTURE
    run_lecture(lecture, "03-losses/lecture.ipynb")
    outputs = [o for c in nbformat.read(lecture, as_version=4).cells for o in c.get("outputs", [])]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 5
    assert any(o.output_type == "stream" and o.name == "stdout" for o in outputs)
    assert not [o for o in outputs if o.output_type == "error"]
    assert without_outputs(lecture) == (REPO / "release" / "03-losses" / LECTURE).read_text()


def test_a_failing_lecture_stops_the_bundle_in_one_line(tmp_path: Path) -> None:
    """A cell that raises, even one tagged raises-exception, and a cell past the time limit are
    each named in one line, and the notebook is left as it was. The kernel is this Python."""
    failing = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(f"import sys\nassert sys.executable == {sys.executable!r}"),
            nbformat.v4.new_code_cell(
                "raise ValueError('no data')", metadata={"tags": ["raises-exception"]}
            ),
            nbformat.v4.new_code_cell("1 / 0"),
        ]
    )
    slow = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("import time; time.sleep(30)")]
    )
    for name, notebook in (("failing", failing), ("slow", slow)):
        notebook.metadata.kernelspec = {"name": "python3", "display_name": "Python 3"}
        nbformat.write(notebook, tmp_path / f"{name}.ipynb")
    before = (tmp_path / "failing.ipynb").read_bytes()
    with pytest.raises(CourseError) as raised:
        run_lecture(tmp_path / "failing.ipynb", "09-x/lecture.ipynb")
    assert str(raised.value) == "09-x/lecture.ipynb: cell 1 raised ValueError: no data"
    assert (tmp_path / "failing.ipynb").read_bytes() == before
    with pytest.raises(CourseError, match=r"^09-x/lecture.ipynb: cell 0 ran past 2 s$"):
        run_lecture(tmp_path / "slow.ipynb", "09-x/lecture.ipynb", timeout=2)


@pytest.mark.parametrize("module", MODULES)
def test_only_answer_and_test_cells_may_raise(module: str) -> None:
    """nbval lets a release cell raise only with the raises-exception tag: answers and tests."""
    notebook = nbformat.read(REPO / "release" / module / "exercises.ipynb", as_version=4)
    tagged = [c for c in notebook.cells if "raises-exception" in c.metadata.get("tags", [])]
    assert tagged
    for cell in tagged:
        meta = cell.metadata.get("nbgrader", {})
        assert meta.get("solution") or meta.get("grade"), meta.get("grade_id")
    lecture = nbformat.read(REPO / "release" / module / "lecture.ipynb", as_version=4)
    assert not [c for c in lecture.cells if c.metadata.get("tags")]


def test_bundle_holds_what_the_readme_promises(env: StudentEnv) -> None:
    bundle = env.bundle
    assert sorted(p.name for p in bundle.iterdir() if p.is_dir()) == [*MODULES, "wheels"]
    for module in MODULES:
        assert sorted(p.name for p in (bundle / module).iterdir()) == [
            "exercises.ipynb",
            "lecture.ipynb",
        ]
        assert f"`{module}/`" in (bundle / "README.md").read_text()
    wheels = list((bundle / "wheels").glob("*.whl"))
    assert len(wheels) == 1 and f"wheels/{wheels[0].name}" in (bundle / "README.md").read_text()
    with zipfile.ZipFile(wheels[0]) as wheel:
        tops = {name.split("/", 1)[0] for name in wheel.namelist()}
        assert not [n for n in wheel.namelist() if is_grader_file(n)]
        releases = {n for n in wheel.namelist() if n.startswith("course/releases/")}
    assert {t for t in tops if not t.endswith((".dist-info", ".data"))} == {"course"}
    assert releases == {f"course/releases/{m}/exercises.ipynb" for m in MODULES}


def test_requirements_are_pinned_and_conda_agrees(env: StudentEnv) -> None:
    lines = [
        ln
        for ln in (env.bundle / "requirements.txt").read_text().splitlines()
        if ln and not ln.startswith("#")
    ]
    pins = dict(ln.split("==") for ln in lines)
    assert all(
        re.fullmatch(r"[a-z0-9.-]+", n) and re.fullmatch(r"[\w.]+", v) for n, v in pins.items()
    )
    conda = re.findall(
        r"^  - ([a-z0-9.-]+)==(\S+)$", (env.bundle / "environment.yml").read_text(), re.M
    )
    assert {n for n, _ in conda} == set(TOP_LEVEL)
    assert all(pins[name] == version for name, version in conda)
    freeze = subprocess.run(
        [str(env.python), "-m", "pip", "list", "--format=json"],
        env=env.environ(),
        capture_output=True,
        text=True,
        check=True,
    )
    installed = {
        p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(freeze.stdout)
    }
    assert all(installed.get(n) == v for n, v in pins.items())


def test_student_jupyter_has_no_instructor_tools(env: StudentEnv) -> None:
    def listing(*args: str) -> str:
        done = subprocess.run(
            [str(env.bin / "jupyter"), *args], env=env.environ(), capture_output=True, text=True
        )
        return done.stdout + done.stderr

    server = listing("server", "extension", "list")
    assert re.search(r"formgrader \S*disabled", server)
    assert re.search(r"assignment_list \S*enabled", server)
    lab = listing("labextension", "list").split("Disabled extensions:")[-1]
    for plugin in ("formgrader", "create-assignment", "validate-assignment"):
        assert f"@jupyter/nbgrader:{plugin}" in lab
    assert "@jupyter/nbgrader:assignment-list" not in lab


def solution_blocks() -> list[tuple[str, str]]:
    """(where, text) of every solution and hidden-test block of the source notebooks."""
    blocks = []
    for path in sorted((REPO / "source").glob("*/exercises.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for match in MARKER.finditer(cell.source):
                body = [ln.strip() for ln in match.group(2).splitlines()[1:] if ln.strip()]
                if body and max(map(len, body)) >= 8:
                    blocks.append((f"{path.parent.name}/{cell.metadata.nbgrader.grade_id}", body))
    return blocks


def bundle_texts(bundle: Path, tmp_path: Path) -> dict[str, list[str]]:
    """Each file of the bundle (wheel members too) as stripped lines; notebooks by cell source."""
    unpacked = tmp_path / "wheel"
    for wheel in bundle.glob("wheels/*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(unpacked)
    texts = {}
    for path in [*bundle.rglob("*"), *unpacked.rglob("*")]:
        if not path.is_file() or path.suffix == ".whl":
            continue
        if path.suffix == ".ipynb":
            text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
        else:
            text = path.read_text(errors="replace")
        texts[str(path)] = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return texts


def test_no_solution_anywhere_in_the_bundle(env: StudentEnv, tmp_path: Path) -> None:
    """No solution or hidden-test block, as a whole, in any file; no marker; the grader's scan."""
    texts = bundle_texts(env.bundle, tmp_path)
    blocks = solution_blocks()
    assert len(blocks) > 100
    found = []
    for name, lines in texts.items():
        joined = "\n".join(lines)
        assert "BEGIN SOLUTION" not in joined or name.endswith("submission.py")
        found += [(name, where) for where, body in blocks if "\n".join(body) in joined]
    assert found == []
    assert bundle_leaks(load_course(REPO), env.bundle) == []


def test_the_scan_finds_a_planted_solution(env: StudentEnv, tmp_path: Path) -> None:
    """The grader's own scan is not blind: a solution line in a notebook or a text file, and
    grader code in the wheel, are each reported."""
    copy = tmp_path / "bundle"
    shutil.copytree(env.bundle, copy)
    _, body = next(b for b in solution_blocks() if b[0].startswith("02-forward/"))
    notebook = nbformat.read(copy / "02-forward" / "exercises.ipynb", as_version=4)
    notebook.cells[-1].source += "\n" + "\n".join(body)
    nbformat.write(notebook, copy / "02-forward" / "exercises.ipynb")
    (copy / "NOTES.txt").write_text("\n".join(body) + "\n")
    lecture = nbformat.read(copy / "02-forward" / LECTURE, as_version=4)
    code = next(c for c in lecture.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="\n".join(body))]
    nbformat.write(lecture, copy / "02-forward" / LECTURE)
    wheel = next(copy.glob("wheels/*.whl"))
    with zipfile.ZipFile(wheel, "a") as archive:
        archive.writestr("autograder/__init__.py", "")
    problems = bundle_leaks(load_course(REPO), copy)
    assert any(p.startswith("02-forward/exercises.ipynb: contains") for p in problems)
    assert any(p.startswith("NOTES.txt: contains") for p in problems)
    assert any(p.startswith("02-forward/lecture.ipynb: an output contains") for p in problems)
    assert any("holds autograder/__init__.py" in p for p in problems)
