"""pytest plugin: nbval over the course's notebooks, with the course's rules.

``make test`` and ``make validate`` load it (``-p tests.nbval_course``) with ``--nbval-lax``:
nbval runs every code cell of a notebook in one fresh kernel and fails a cell that raises
(outputs are not compared). On top of nbval this plugin

- marks every notebook cell ``nbval`` (so ``-m nbval`` selects them);
- marks the cells of each notebook ``xdist_group`` with the notebook's path, so that under
  ``pytest -n N`` they run on one worker, in order (they share one kernel): the scheduling is
  ``tests/xdist_groups.py``'s, which this plugin loads;
- lets no cell of a ``source/`` notebook raise: the ``raises-exception`` tags that
  ``tests/tag_raises.py`` puts on exercise cells are for the student version (``release/``),
  where the answers are stubs; a source cell meant to raise says so with nbval's own
  ``nbval-raises-exception`` tag or a ``# NBVAL_RAISES_EXCEPTION`` comment;
- skips the notebooks under ``tests/`` (the fixture course's, exercised by the grader tests),
  and a source lecture whose release is the same notebook cell for cell (type, text, tags;
  :func:`runs_as_released`), when this run collects that release anyway and does not name
  the source itself (:func:`runs_anyway`): the release runs the same cells under the same
  rules, in the students' environment;
- starts nbval's kernels on ipc sockets, so that kernels started at once by two workers
  cannot race for a TCP port;
- runs the ``release/`` notebooks in the students' environment: the bundle ``grader bundle``
  writes, installed into a fresh venv as its README says (``tests/student_env.py``, built on
  first use and shared, from a bundle made without running the lectures). Those notebooks
  are the bundle's byte for byte, and a bundle's run lectures equal them once their outputs
  are cleared (``tests/test_bundle.py``), so this one run is both nbval's check of the
  release and the check that every lecture runs, and every untouched exercises notebook
  raises only in its answer and test cells, where students run them.
"""

from __future__ import annotations

# autograder first: it keeps jsonschema's slow optional import out of nbformat's (see there)
import autograder  # noqa: F401

# isort: split
import shutil
import tempfile
from pathlib import Path

import nbformat
import nbval.kernel
import pytest
from jupyter_client.manager import KernelManager
from nbval.plugin import IPyNbCell, find_comment_markers

pytest_plugins = ["tests.xdist_groups"]

ROOT = Path(__file__).resolve().parents[1]
TAG = "raises-exception"
_SOCKETS = tempfile.mkdtemp(prefix="nbval-kernels-")


class IpcKernelManager(KernelManager):
    """nbval's kernels, on ipc sockets; a ``release/`` notebook's in the student environment."""

    def __init__(self, **kwargs):
        super().__init__(transport="ipc", ip=str(Path(_SOCKETS) / "kernel"), **kwargs)
        self.student_python: str | None = None

    def start_kernel(self, **kw):
        if ROOT / "release" in Path(kw.get("cwd") or ".").resolve().parents:
            from tests.student_env import student_env

            env = student_env()
            self.student_python = str(env.python)
            kw["env"] = env.environ(MPLBACKEND="module://matplotlib_inline.backend_inline")
        return super().start_kernel(**kw)

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        return [self.student_python, *command[1:]] if self.student_python else command


nbval.kernel.KernelManager = IpcKernelManager


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_SOCKETS, ignore_errors=True)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.suffix == ".ipynb" and (
        ROOT / "tests" in collection_path.parents or ".ipynb_checkpoints" in collection_path.parts
    ):
        return True
    if runs_as_released(collection_path) and runs_anyway(release_of(collection_path), config):
        return True
    return None


def runs_as_released(path: Path) -> bool:
    """Whether ``path`` is a source lecture whose release is the same notebook cell for cell
    (type, text, tags): nbval runs that release in the students' environment under the same
    rules, so running the source as well would run the same cells twice."""
    path = path.resolve()
    if path.name != "lecture.ipynb" or path.parent.parent != ROOT / "source":
        return False
    release = release_of(path)
    return release.is_file() and cell_list(path) == cell_list(release)


def release_of(path: Path) -> Path:
    path = path.resolve()
    return ROOT / "release" / path.parent.name / path.name


def cell_list(path: Path) -> list[tuple[str, str, list]]:
    notebook = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in notebook.cells]


def runs_anyway(release: Path, config: pytest.Config) -> bool:
    """Whether this run collects the lecture's ``release`` anyway: it lies in a folder named on
    the command line, which does not name its source itself (``make validate NB=...``)."""
    named = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    source = ROOT / "source" / release.parent.name / release.name
    if source in named:
        return False
    return any(release == p or p in release.parents for p in named)


def pytest_itemcollected(item: pytest.Item) -> None:
    if not isinstance(item, IPyNbCell):
        return
    path = Path(item.path).resolve()
    item.add_marker(pytest.mark.nbval)
    item.add_marker(pytest.mark.xdist_group(item.parent.nodeid))
    if ROOT / "source" in path.parents and not nbval_says_raises(item.cell):
        item.options["check_exception"] = False


def nbval_says_raises(cell: dict) -> bool:
    """Whether the cell may raise by nbval's own markers, not by the student-version tag."""
    tags = cell.get("metadata", {}).get("tags", [])
    comments = dict(find_comment_markers(cell.get("source", "")))
    return "nbval-raises-exception" in tags or comments.get("check_exception", False)
