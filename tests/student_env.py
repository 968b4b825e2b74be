"""A student's environment, made the way the student README says, shared by the tests.

:func:`student_env` runs ``grader bundle`` on this checkout and installs the bundle into a
fresh virtual environment: ``pip install -r requirements.txt wheels/<course wheel>``. The
environment is built from Debian's ``/usr/bin/python3.11`` when there is one (the Python a Hub
image would have), so that other users can run it: the tests' unprivileged users cannot enter
``/root``, where a pyenv Python lives. It lives in a world-readable folder under ``/tmp``,
named by a hash of what the bundle is made from, and reused while that stays the same (and
within a process, once found); building it takes one to two minutes, with the packages in
pip's cache. A lock makes parallel test workers build it once.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROOT = Path(tempfile.gettempdir()) / "nn-course-student-env"
SYSTEM_PYTHON = Path("/usr/bin/python3.11")
PYTHON_ENV = "NN_COURSE_STUDENT_PYTHON"
KEEP_SECONDS = 24 * 3600
CLEARED = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "JUPYTER_PATH", "JUPYTER_CONFIG_DIR")


@dataclass(frozen=True)
class StudentEnv:
    """A built student environment: its venv and the bundle it was installed from."""

    root: Path

    @property
    def bundle(self) -> Path:
        """The bundle as a student downloads it (read-only for tests: copy what you edit)."""
        return self.root / "bundle"

    @property
    def venv(self) -> Path:
        return self.root / "venv"

    @property
    def bin(self) -> Path:
        """The venv's ``bin`` folder: ``python``, ``jupyter``, ``nbgrader``."""
        return self.venv / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    def environ(self, **extra: str) -> dict[str, str]:
        """An environment for the venv's tools: its ``bin`` first, nothing of the checkout's."""
        env = {k: v for k, v in os.environ.items() if k not in CLEARED}
        env["PATH"] = os.pathsep.join([str(self.bin), "/usr/local/bin", "/usr/bin", "/bin"])
        env.update(extra)
        return env


@functools.cache
def student_env() -> StudentEnv:
    """The student environment of this checkout, built on first use and then reused."""
    ROOT.mkdir(mode=0o755, exist_ok=True)
    info = ROOT.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise RuntimeError(f"{ROOT} is not a folder of this user's: remove it")
    os.chmod(ROOT, 0o755)
    env = StudentEnv(ROOT / inputs_key())
    with open(ROOT / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (env.root / "ready").is_file():
            with tempfile.TemporaryDirectory(prefix="bundle-", dir=ROOT) as tmp:
                make_bundle(Path(tmp) / "bundle")
                build(env, Path(tmp) / "bundle")
        (env.root / "ready").touch()  # in use: not pruned for a day
    return env


def make_bundle(out: Path) -> None:
    """``grader bundle --out out`` for every module of this checkout."""
    from autograder.pipeline.bundle import bundle
    from autograder.pipeline.coursedir import load_course

    course = load_course(str(REPO), None)
    # nbval runs every release lecture in this environment, which is the stronger check; the
    # lectures' run for the bundle is tested on its own (tests/test_bundle.py)
    problems = bundle(course, course.assignments(), out, run_lectures=False)
    if problems:
        raise RuntimeError(f"grader bundle found leaks: {problems[:3]}")


def inputs_key() -> str:
    """A hash of what the bundle is made from, cheap to compute (no bundle is built).

    The student Python, the bundle's code and student files, the ``course`` library, every
    release file, and the tested versions of the packages students need.
    """
    from autograder.pipeline.bundle import TOP_LEVEL, pinned_requirements

    digest = hashlib.sha256(python_for_students().encode())
    digest.update(json.dumps(pinned_requirements(TOP_LEVEL), sort_keys=True).encode())
    files = [REPO / "autograder" / "pipeline" / "bundle.py"]
    files += [*(REPO / "autograder" / "student").iterdir()]
    files += [*(REPO / "course").glob("*.py"), *(REPO / "release").rglob("*")]
    for path in sorted(p for p in files if p.is_file() and "checkpoints" not in str(p)):
        digest.update(path.relative_to(REPO).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def python_for_students() -> str:
    """The interpreter the student venv is made from."""
    if os.environ.get(PYTHON_ENV):
        return os.environ[PYTHON_ENV]
    if SYSTEM_PYTHON.is_file():
        return str(SYSTEM_PYTHON)
    return getattr(sys, "_base_executable", sys.executable)


def build(env: StudentEnv, bundle: Path) -> None:
    """Install ``bundle`` into a new venv at ``env.root``, as the student README says."""
    for old in ROOT.iterdir():  # each is about 700 MB: keep those used in the last day
        ready = old / "ready"
        unused = not ready.is_file() or time.time() - ready.stat().st_mtime > KEEP_SECONDS
        if old.is_dir() and not old.name.startswith("bundle-") and unused:
            shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(env.root, ignore_errors=True)  # a build that was stopped half way
    env.root.mkdir(mode=0o755)
    shutil.copytree(bundle, env.bundle)
    subprocess.run([python_for_students(), "-m", "venv", str(env.venv)], check=True)
    wheel = next(env.bundle.glob("wheels/*.whl"))
    pip = [str(env.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    done = subprocess.run(
        [*pip, "-r", str(env.bundle / "requirements.txt"), str(wheel)],
        env=env.environ(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"installing the student bundle failed:\n{done.stderr[-3000:]}")
    for path in [env.root, *env.root.rglob("*")]:
        if not path.is_symlink():
            mode = path.stat().st_mode
            path.chmod(mode | stat.S_IRGRP | stat.S_IROTH | (0o011 if mode & 0o100 else 0))
    (env.root / "ready").write_text("ok\n")
