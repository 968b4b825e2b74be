"""The student's package: what an instructor hands out through an LMS or as a download.

``grader bundle --out DIR [ASSIGNMENT ...]`` writes:

- ``<assignment>/``: the release folder of each chosen module (lecture and exercises), with
  each lecture run from the top in a fresh kernel (:func:`run_lecture`), so that a student sees
  its printed numbers and figures before running anything; the repository keeps its notebooks
  without outputs, and the exercises go out untouched;
- ``README.md``: the students' README (``autograder/student/README.md``);
- ``requirements.txt``: every package a student needs, pinned to the version installed here,
  the one the course was tested with;
- ``environment.yml``: the same pins for conda (the top-level packages; conda resolves the
  rest), with the course library from pip;
- ``wheels/nn_course_student-<version>-py3-none-any.whl``: the ``course`` library only (no
  ``autograder``), with a copy of each release exercises notebook for the check cell, and the
  Jupyter configuration of a student's environment: formgrader, Create Assignment, the course
  list and nbgrader's Validate (whose "Success!" counts only visible tests) disabled, the
  Assignment List kept and pointed at the course's exchange.

Before anything is written, the chosen releases are checked for leaks, and afterwards the
whole bundle, wheel included, is searched for solution and hidden-test lines
(:func:`bundle_leaks`). The wheel is built by setuptools through ``pip wheel``, offline. A
lecture that raises, or a cell that runs past :data:`LECTURE_CELL_SECONDS`, stops the bundle
with one line that names the notebook and the cell.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

import nbformat
from ipykernel.kernelspec import RESOURCES, get_kernel_dict
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from traitlets import default
from traitlets.config import Config

import course as course_library
from autograder.pipeline.coursedir import Course, CourseError
from autograder.pipeline.kit import IGNORED
from autograder.pipeline.release import release_leaks, secret_lines
from course.messages import error_output_line
from course.notebooks import EXERCISES, read_json

STUDENT = Path(__file__).resolve().parents[1] / "student"
DISTRIBUTION = "nn-course-student"
TOP_LEVEL = (
    "numpy",
    "scipy",
    "matplotlib",
    "scikit-learn",
    "jupyterlab",
    "nbgrader",
    "nbclient",
    "nbformat",
    "ipykernel",
    "tqdm",
    "threadpoolctl",
)
"""What a student's environment is made of; everything else is what these need."""
STUDENT_PYTHON = "3.11"
"""The Python series students use; pins must install on its first release."""
JUPYTER_CONFIG = {
    "etc/jupyter": ["nbgrader_config.py"],
    "etc/jupyter/jupyter_server_config.d": ["jupyter_server_config.json"],
    "etc/jupyter/labconfig/page_config.d": ["page_config.json"],
}
"""Where each file of ``autograder/student/`` goes in the student's environment; the two JSON
files are installed as ``nn_course_student.json`` so that they load after nbgrader's own."""
LECTURE = "lecture.ipynb"
LECTURE_CELL_SECONDS = 300
"""How long one lecture cell may run when the bundle runs the lectures (each whole lecture
takes well under a minute on two cores)."""
LECTURE_KERNEL_ENV = {
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "PYTHONHASHSEED": "0",
}
"""Set for a lecture's kernel: figures shown inline, whatever ``MPLBACKEND`` the instructor's
shell has (the Makefile exports ``Agg``, which shows none), and string hashing seeded; the
lectures seed their own random generators."""


def bundle(
    course: Course, assignments: list[str], out: Path, *, run_lectures: bool = True
) -> list[str]:
    """Write the student bundle of ``assignments`` into ``out``; return the leaks found.

    The bundle is built in a temporary folder next to ``out`` and moved into place only when
    no leak was found, so a bundle on disk is always complete and clean. ``run_lectures=False``
    ships the lectures as released, without outputs. A lecture that fails raises
    :class:`CourseError` and nothing is written.
    """
    release_root = course.step_dir("release")
    missing = [a for a in assignments if not course.exercises_path("release", a).is_file()]
    if missing:
        raise CourseError(f"no release of {', '.join(missing)}: run `grader release` first")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CourseError(f"{out} exists and is not an empty folder: choose a new one")
    problems = []
    for assignment in assignments:
        problems += release_leaks(course.step_dir("source") / assignment, release_root / assignment)
    if problems:
        return problems
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        write_bundle(course, assignments, partial, run_lectures=run_lectures)
        problems = bundle_leaks(course, partial)
        if not problems:
            if out.exists():
                out.rmdir()
            partial.rename(out)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return problems


def write_bundle(
    course: Course, assignments: list[str], out: Path, *, run_lectures: bool = True
) -> None:
    """The bundle's files in the folder ``out``."""
    for assignment in assignments:
        shutil.copytree(
            course.step_dir("release") / assignment,
            out / assignment,
            ignore=shutil.ignore_patterns(*IGNORED),
        )
        if run_lectures and (out / assignment / LECTURE).is_file():
            run_lecture(out / assignment / LECTURE, f"{assignment}/{LECTURE}")
    pins = resolve_for_students(pinned_requirements(TOP_LEVEL))
    (out / "requirements.txt").write_text(requirements_text(pins), encoding="utf-8")
    wheel = build_wheel(course, assignments, out / "wheels")
    (out / "environment.yml").write_text(environment_text(pins, wheel.name), encoding="utf-8")
    readme = (STUDENT / "README.md").read_text(encoding="utf-8")
    modules = "\n".join(f"- `{a}/`" for a in assignments)
    readme = readme.replace("{modules}", modules).replace("{wheel}", f"wheels/{wheel.name}")
    (out / "README.md").write_text(readme, encoding="utf-8")


class ThisPythonSpecs(KernelSpecManager):
    """Kernel specs in which every name is ipykernel's kernel of this Python (as nbval's
    ``--nbval-current-env``): a lecture runs with the packages the course was tested with,
    whatever ``python3`` kernelspec a user folder may hold."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return self.kernel_spec_class(resource_dir=RESOURCES, **get_kernel_dict())


class LectureKernelManager(AsyncKernelManager):
    """nbclient's kernel manager with :class:`ThisPythonSpecs`."""

    @default("kernel_spec_manager")
    def _kernel_spec_manager_default(self) -> KernelSpecManager:
        return ThisPythonSpecs(data_dir=self.data_dir)


def run_lecture(path: Path, label: str, timeout: int = LECTURE_CELL_SECONDS) -> None:
    """Run the notebook at ``path`` from the top in a fresh kernel and save it with its outputs.

    The kernel is ipykernel in this Python (:class:`ThisPythonSpecs`), started in the
    notebook's folder with :data:`LECTURE_KERNEL_ENV`, and talks over local (ipc) sockets.
    Only the code cells' outputs and execution counts change; the notebook's metadata is kept
    as released.
    A cell that raises (tagged ``raises-exception`` or not), runs past ``timeout`` seconds or
    kills the kernel raises :class:`CourseError` naming ``label`` and the cell (counted from 0).
    """
    notebook = nbformat.read(path, as_version=4)
    released_metadata = copy.deepcopy(notebook.metadata)  # the client adds language_info
    running = [0]

    def started(cell: nbformat.NotebookNode, cell_index: int) -> None:
        running[0] = cell_index

    with tempfile.TemporaryDirectory(prefix="lecture-kernel-") as sockets:
        config = Config()
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = str(Path(sockets) / "kernel")
        client = NotebookClient(
            notebook,
            timeout=timeout,
            record_timing=False,
            config=config,
            kernel_manager_class=LectureKernelManager,
            on_cell_start=started,
            resources={"metadata": {"path": str(path.parent)}},
        )
        try:
            client.execute(env={**os.environ, **LECTURE_KERNEL_ENV})
        except CellTimeoutError:
            raise CourseError(f"{label}: cell {running[0]} ran past {timeout} s") from None
        except DeadKernelError:
            raise CourseError(f"{label}: the kernel died in cell {running[0]}") from None
        except CellExecutionError:
            pass  # stated below, from the error output the cell recorded
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                raise CourseError(f"{label}: cell {index} raised {error_output_line(output)}")
    notebook.metadata = released_metadata
    nbformat.write(notebook, path)


def pinned_requirements(top_level: tuple[str, ...]) -> dict[str, str]:
    """Name -> installed version of ``top_level`` and everything they need, here.

    The dependency closure is read from the installed packages' metadata, with each
    requirement's environment marker evaluated for this interpreter and the extras asked for.
    """
    pins: dict[str, str] = {}
    todo: list[tuple[str, frozenset[str]]] = [(name, frozenset()) for name in top_level]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        if (key, extras) in seen:
            continue
        seen.add((key, extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise CourseError(f"{name} is needed by students but not installed here") from None
        pins[key] = dist.version
        for line in dist.requires or []:
            req = Requirement(line)
            wanted = extras | {""}
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in wanted):
                todo.append((req.name, frozenset(req.extras)))
    return dict(sorted(pins.items()))


def resolve_for_students(tested: dict[str, str]) -> dict[str, str]:
    """Pins that install on every Python :data:`STUDENT_PYTHON`, as close to ``tested`` as can be.

    The versions installed here may need a newer Python than a student has (Debian 12 ships
    3.11.2; some packages ask for 3.11.5): pip's resolver, asked for the oldest Python of the
    series, keeps the top-level packages exactly as tested and takes for each other package
    the newest version no newer than the tested one that installs there. It reads the package
    index, like any ``pip install``.
    """
    top = {canonicalize_name(n) for n in TOP_LEVEL}
    with tempfile.TemporaryDirectory(prefix="student-pins-") as tmp:
        folder = Path(tmp)
        (folder / "top.txt").write_text(
            "".join(f"{n}=={v}\n" for n, v in tested.items() if n in top)
        )
        (folder / "tested.txt").write_text("".join(f"{n}<={v}\n" for n, v in tested.items()))
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed"]
        command += ["--quiet", "--report", str(folder / "report.json")]
        command += ["--python-version", STUDENT_PYTHON, "--only-binary=:all:"]
        command += ["-r", str(folder / "top.txt"), "-c", str(folder / "tested.txt")]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            errors = [ln for ln in done.stderr.splitlines() if ln.startswith("ERROR")]
            raise CourseError(f"pinning the student environment failed: {(errors or ['?'])[-1]}")
        report = json.loads((folder / "report.json").read_text())
    found = {
        canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
        for item in report["install"]
    }
    return dict(sorted(found.items()))


def requirements_text(pins: dict[str, str]) -> str:
    """``requirements.txt`` with one exact pin per line."""
    head = (
        "# Every package of the course's student environment, pinned to the tested version\n"
        f"# or, where that needs a Python newer than {STUDENT_PYTHON}.0, the newest before it.\n"
        "# pip install -r requirements.txt wheels/<the course wheel>\n"
    )
    return head + "".join(f"{name}=={version}\n" for name, version in pins.items())


def environment_text(pins: dict[str, str], wheel_name: str) -> str:
    """``environment.yml``: the top-level packages from conda-forge, pinned as in pip."""
    lines = [
        "# The student environment with conda; the pins are requirements.txt's.",
        "name: nn-course",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={STUDENT_PYTHON}",
        "  - pip",
    ]
    lines += [f"  - {canonicalize_name(n)}=={pins[canonicalize_name(n)]}" for n in TOP_LEVEL]
    lines += ["  - pip:", f"      - ./wheels/{wheel_name}", ""]
    return "\n".join(lines)


def build_wheel(course: Course, assignments: list[str], dest: Path) -> Path:
    """Build the ``course``-only wheel with setuptools (``pip wheel``, no network)."""
    version = metadata.version("nn-course")
    with tempfile.TemporaryDirectory(prefix="student-wheel-") as tmp:
        project = Path(tmp)
        package = Path(course_library.__file__).resolve().parent
        shutil.copytree(
            package, project / "course", ignore=shutil.ignore_patterns(*IGNORED, "releases")
        )
        for assignment in assignments:
            target = project / "course" / "releases" / assignment
            target.mkdir(parents=True)
            shutil.copy2(course.exercises_path("release", assignment), target)
        data_files = []
        for folder, names in JUPYTER_CONFIG.items():
            for name in names:
                suffix = Path(name).suffix
                installed = name if suffix == ".py" else f"nn_course_student{suffix}"
                local = project / "jupyter" / folder / installed
                local.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(STUDENT / name, local)
                data_files.append((folder, local.relative_to(project).as_posix()))
        (project / "pyproject.toml").write_text(
            wheel_pyproject(version, data_files), encoding="utf-8"
        )
        dest.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
        command += ["--no-build-isolation", "--wheel-dir", str(dest), str(project)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            lines = [ln for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
            raise CourseError(f"building the course wheel failed: {(lines or ['?'])[-1]}")
    wheels = sorted(dest.glob("nn_course_student-*.whl"))
    if len(wheels) != 1:
        raise CourseError(f"expected one course wheel in {dest}, found {len(wheels)}")
    return wheels[0]


def wheel_pyproject(version: str, data_files: list[tuple[str, str]]) -> str:
    """The student wheel's ``pyproject.toml``: ``course``, its releases and Jupyter config."""
    needs = [r for r in metadata.requires("nn-course") or [] if "extra ==" not in r]
    wanted = {canonicalize_name(n) for n in TOP_LEVEL}
    deps = [r for r in needs if canonicalize_name(Requirement(r).name) in wanted]
    deps += [n for n in ("nbclient", "nbformat", "ipykernel") if not any(n in d for d in deps)]
    folders: dict[str, list[str]] = {}
    for folder, path in data_files:
        folders.setdefault(folder, []).append(path)
    data = "\n".join(f'"{folder}" = {paths!r}' for folder, paths in folders.items())
    return f"""[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{DISTRIBUTION}"
version = "{version}"
description = "The course library of the neural-network course, for students."
requires-python = ">=3.10"
dependencies = {deps!r}

[tool.setuptools]
packages = ["course"]

[tool.setuptools.package-data]
course = ["releases/*/*.ipynb"]

[tool.setuptools.data-files]
{data}
""".replace("'", '"')


def bundle_leaks(course: Course, out: Path) -> list[str]:
    """Solution or hidden-test text, nbgrader markers or grader code anywhere in the bundle.

    Every notebook (the release folders, and the copies inside the wheel) is checked like a
    release against its source notebook (:func:`release_leaks`). Every other file is searched
    for the source's solution and hidden-test lines, except the ``course`` library's modules:
    the library is the textbook the students read, public by definition.
    """
    problems = []
    with tempfile.TemporaryDirectory(prefix="bundle-check-") as tmp:
        unpacked = Path(tmp)
        for wheel in sorted(out.glob("wheels/*.whl")):
            with zipfile.ZipFile(wheel) as archive:
                names = archive.namelist()
                problems += [f"{wheel.name}: holds {n}" for n in names if is_grader_file(n)]
                archive.extractall(unpacked / wheel.name)
        folders = [(out / a.name, "") for a in sorted(out.iterdir()) if a.is_dir()]
        folders += [
            (folder, f"{wheel.name}!")
            for wheel in sorted(unpacked.iterdir())
            for folder in sorted(wheel.glob("course/releases/*"))
        ]
        source = course.step_dir("source")
        for folder, label in folders:
            if (source / folder.name).is_dir():
                found = release_leaks(source / folder.name, folder)
                problems += [f"{label}{p.replace('release/', '', 1)}" for p in found]
        secrets = {s for nb in source.glob(f"*/{EXERCISES}.ipynb") for s in secret_lines(nb)}
        for path in sorted(p for p in [*out.rglob("*"), *unpacked.rglob("*")] if p.is_file()):
            if path.suffix == ".whl" or path.parent.name == "course":
                continue
            if path.suffix == ".ipynb":  # the cells were checked above; their outputs here
                lines = output_lines(path)
                where = f"{path.parent.name}/{path.name}: an output"
                if lines is None:
                    problems.append(f"{path.parent.name}/{path.name}: not a readable notebook")
                    continue
            else:
                lines = {ln.strip() for ln in path.read_text(errors="replace").splitlines()}
                where = f"{path.name}:"
            problems += [f"{where} contains {s!r}" for s in sorted(secrets & lines)]
    return problems


def output_lines(notebook: Path) -> set[str] | None:
    """The stripped lines of the texts in a notebook's outputs (streams, text data, errors).

    ``None`` when the file cannot be read as a notebook.
    """
    data = read_json(notebook)
    if data is None:
        return None
    texts: list[str] = []
    for cell in data["cells"]:
        outputs = cell.get("outputs") if isinstance(cell, dict) else None
        for output in outputs if isinstance(outputs, list) else []:
            if not isinstance(output, dict):
                continue
            shown = output.get("data") if isinstance(output.get("data"), dict) else {}
            parts = [output.get("text"), output.get("evalue"), output.get("traceback")]
            parts += [value for kind, value in shown.items() if kind.startswith("text/")]
            for part in parts:
                if isinstance(part, str):
                    texts.append(part)
                elif isinstance(part, list):
                    texts += [str(item) for item in part]
    return {ln.strip() for text in texts for ln in text.splitlines()}


def is_grader_file(name: str) -> bool:
    """Whether a wheel member belongs to the grader or the instructor's files."""
    top = name.split("/", 1)[0]
    return top in ("autograder", "source", "tests") or name.endswith((".db", ".sqlite"))
