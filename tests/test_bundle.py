"""The students' package, installed the way its README says, in a fresh virtual environment.

``tests/student_env.py`` runs ``grader bundle`` and installs the bundle into a new venv made
from a system Python. Here every lecture runs there without an error, every untouched exercise
notebook raises only in its answer and test cells, the Jupyter configuration is a student's,
and no solution or hidden test is anywhere in the bundle, its wheel included.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import nbformat
import pytest
from student_env import StudentEnv, student_env

from autograder.bundle import TOP_LEVEL, bundle_leaks, is_grader_file
from autograder.coursedir import load_course

REPO = Path(__file__).resolve().parent.parent
MODULES = sorted(p.parent.name for p in (REPO / "release").glob("*/exercises.ipynb"))
MARKER = re.compile(r"BEGIN (SOLUTION|HIDDEN TESTS)(.*?)END (SOLUTION|HIDDEN TESTS)", re.S)

pytestmark = pytest.mark.bundle

RUN = """
import importlib.util, json, os, sys
import nbformat
from nbclient import NotebookClient

path = sys.argv[1]
notebook = nbformat.read(path, as_version=4)
probe = nbformat.v4.new_code_cell(
    "import course, importlib.util, sys\\n"
    "print(course.__file__, sys.executable, importlib.util.find_spec('autograder'))"
)
notebook.cells.insert(0, probe)
client = NotebookClient(
    notebook, timeout=300, allow_errors=True, kernel_name="python3",
    resources={"metadata": {"path": os.path.dirname(path)}},
)
client.execute()
errors = []
for index, cell in enumerate(notebook.cells[1:]):
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            meta = cell.metadata.get("nbgrader", {})
            errors.append({"index": index, "grade_id": meta.get("grade_id"),
                           "solution": bool(meta.get("solution")), "grade": bool(meta.get("grade")),
                           "error": output["ename"] + ": " + output["evalue"][:200]})
images = sum("image/png" in o.get("data", {}) for c in notebook.cells for o in c.get("outputs", []))
kernel = "".join(o.get("text", "") for o in notebook.cells[0].outputs)
print(json.dumps({"kernel": kernel, "errors": errors, "images": images}))
"""


@pytest.fixture(scope="module")
def env() -> StudentEnv:
    return student_env()


def run_notebook(env: StudentEnv, notebook: Path, workdir: Path) -> dict:
    """Run a copy of ``notebook`` in the student environment; its errors, images and kernel."""
    folder = workdir / notebook.parent.name
    shutil.copytree(notebook.parent, folder)
    done = subprocess.run(
        [str(env.python), "-c", RUN, str(folder / notebook.name)],
        env=env.environ(MPLBACKEND="module://matplotlib_inline.backend_inline"),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    kernel_course, kernel_python, autograder = result["kernel"].split()[:3]
    assert kernel_course.startswith(str(env.venv)), "the kernel imported another course library"
    assert kernel_python.startswith(str(env.venv)) and autograder == "None"
    return result


@pytest.mark.parametrize("module", MODULES)
def test_lecture_runs_in_the_student_environment(env: StudentEnv, module: str, tmp_path) -> None:
    result = run_notebook(env, env.bundle / module / "lecture.ipynb", tmp_path)
    assert result["errors"] == []
    assert result["images"] > 0


@pytest.mark.parametrize("module", MODULES)
def test_untouched_exercises_raise_only_in_answer_and_test_cells(
    env: StudentEnv, module: str, tmp_path
) -> None:
    result = run_notebook(env, env.bundle / module / "exercises.ipynb", tmp_path)
    assert result["errors"], "an untouched notebook must fail its tests"
    elsewhere = [e for e in result["errors"] if not (e["solution"] or e["grade"])]
    assert elsewhere == []


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
    wheel = next(copy.glob("wheels/*.whl"))
    with zipfile.ZipFile(wheel, "a") as archive:
        archive.writestr("autograder/__init__.py", "")
    problems = bundle_leaks(load_course(REPO), copy)
    assert any(p.startswith("02-forward/exercises.ipynb: contains") for p in problems)
    assert any(p.startswith("NOTES.txt: contains") for p in problems)
    assert any("holds autograder/__init__.py" in p for p in problems)
