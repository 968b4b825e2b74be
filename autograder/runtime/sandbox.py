"""Sandboxed kernels: the kernelspec a worker runs each submission in.

Every kernel gets an address-space (memory) cap and a CPU-time cap, set by a tiny Python
preamble with ``resource.setrlimit`` before it ``exec``s ipykernel, on every platform. On
Linux with a working bubblewrap (``bwrap``) the kernel also runs in a sandbox: the root file
system read-only, the course directory, the repository, the home directory and the system's
temporary folder hidden behind empty read-only mounts (the Python environment and the
``course`` package are bound back read-only), a private ``/tmp``, no network (the kernel
talks ZeroMQ over ``ipc`` sockets in a folder bound read-write), its own PID namespace and no
capabilities. The only folders it can write are the student's scratch folder and that socket
folder. Without bwrap (other systems, or a bwrap that fails its probe) grading goes on with
the resource limits only and a loud warning; ``require`` (or ``REQUIRE_SANDBOX=1``) makes that
an error instead.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import course
from autograder.runtime import processes

MODES = ("auto", "require", "off")
REQUIRE_ENV = "REQUIRE_SANDBOX"
BWRAP, RLIMITS = "bwrap", "rlimits"
PRIVATE_TMP_BYTES = 64 * 2**20
CHECKOUT = Path(__file__).resolve().parents[2]
"""The folder the grader runs from (the repository, with every solution): hidden."""
COURSE_PACKAGE = Path(course.__file__).resolve().parent
"""The ``course`` library, which a kernel imports: bound back, read-only."""

PREAMBLE = (
    Path(processes.__file__).read_text(encoding="utf-8")
    + "import sys\n"
    + "cap_memory(int(sys.argv[1]))\n"
    + "cap_cpu(int(sys.argv[2]))\n"
    + "os.execv(sys.argv[3], sys.argv[3:])\n"
)
"""Run as ``python -I -S -c PREAMBLE MEMORY CPU PROGRAM ARGS...``: set the limits of
:mod:`~autograder.runtime.processes`, then become PROGRAM."""


class SandboxError(Exception):
    """The sandbox was required but is not available here; the message is one line."""


@dataclass(frozen=True)
class Sandbox:
    """How kernels are confined: ``bwrap`` or ``rlimits`` only, the limits, what to hide.

    ``hidden`` names folders the kernel must not see besides the standard ones (the course
    directory); ``warning`` says why the sandbox is weaker than asked, if it is.
    """

    kind: str
    memory_bytes: int = 2 * 2**30
    cpu_seconds: int = 300
    hidden: tuple[str, ...] = ()
    warning: str | None = None

    @property
    def isolated(self) -> bool:
        """Whether the kernel runs under bubblewrap (files, network and processes hidden)."""
        return self.kind == BWRAP


def bwrap_problem() -> str | None:
    """Why bubblewrap cannot sandbox kernels here, or ``None`` when a probe run succeeds."""
    if platform.system() != "Linux":
        return f"bubblewrap does not exist on {platform.system()}"
    if shutil.which("bwrap") is None:
        return "bwrap is not installed (apt-get install bubblewrap)"
    probe = ["bwrap", *BASE_OPTIONS, "--", "true"]
    try:
        proc = subprocess.run(probe, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap failed its probe: {exc}"
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"]
        return f"bwrap failed its probe: {lines[-1]}"
    return None


def choose(
    mode: str = "auto",
    memory_mb: int = 2048,
    cpu_seconds: float = 300,
    hidden: tuple[str, ...] = (),
) -> Sandbox:
    """The sandbox for ``mode`` (auto, require, off); raise ``SandboxError`` if unmet.

    ``REQUIRE_SANDBOX=1`` in the environment turns ``auto`` and ``off`` into ``require``.
    """
    if mode not in MODES:
        raise SandboxError(f"unknown sandbox mode {mode!r} (use {', '.join(MODES)})")
    required = mode == "require" or os.environ.get(REQUIRE_ENV, "") not in ("", "0")
    problem = "the sandbox was turned off (--sandbox off)" if mode == "off" else bwrap_problem()
    limits = {"memory_bytes": memory_mb * 2**20, "cpu_seconds": max(1, math.ceil(cpu_seconds))}
    if problem is None:
        return Sandbox(BWRAP, hidden=tuple(hidden), **limits)
    if required:
        raise SandboxError(f"a sandbox is required but {problem}")
    warning = (
        f"WARNING: kernels are NOT sandboxed ({problem}): submissions can read the hidden "
        "tests and the gradebook and write files; only memory and CPU time are capped"
    )
    return Sandbox(RLIMITS, hidden=tuple(hidden), warning=warning, **limits)


BASE_OPTIONS = (
    "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
    "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
    "--die-with-parent", "--cap-drop", "ALL",
)  # fmt: skip


def hidden_folders(sandbox: Sandbox) -> list[str]:
    """Folders the kernel must not see: course, repository, home, temporary folders."""
    candidates = [*sandbox.hidden, str(CHECKOUT), str(Path.home()), tempfile.gettempdir()]
    folders = sorted({os.path.realpath(p) for p in candidates if p} - {"/"})
    # /tmp is replaced by a private tmpfs anyway; hiding a folder inside a hidden one is moot
    return [
        f
        for f in folders
        if not is_inside(f, "/tmp") and not any(f != c and is_inside(f, c) for c in folders)
    ]


def readable_folders() -> list[str]:
    """What the kernel needs back, read-only: the Python environment and the course package."""
    folders = {sys.prefix, sys.base_prefix, str(COURSE_PACKAGE)}
    return sorted(os.path.realpath(f) for f in folders)


def is_inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or below it."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


WORK_BYTES = 100 * 2**20
"""The kernel's working folder is a private tmpfs of this size: nothing it writes reaches
the grading process, and it cannot fill the disk."""


def bwrap_argv(sandbox: Sandbox, work: Path, runtime: Path) -> list[str]:
    """The bubblewrap command line (up to ``--``) for a kernel working in ``work``.

    ``work`` becomes a private 100 MB tmpfs; ``runtime`` (the ZeroMQ sockets) is the only
    host folder the kernel may write, and its connection file is bound read-only over itself.
    """
    hidden = hidden_folders(sandbox)
    argv = ["bwrap", *BASE_OPTIONS, "--size", str(PRIVATE_TMP_BYTES), "--tmpfs", "/tmp"]
    for folder in hidden:
        argv += ["--size", "4096", "--tmpfs", folder]
    for folder in readable_folders():
        if any(is_inside(folder, h) or is_inside(folder, "/tmp") for h in hidden):
            argv += ["--ro-bind", folder, folder]
    argv += ["--bind", str(runtime), str(runtime)]
    argv += ["--ro-bind", "{connection_file}", "{connection_file}"]
    argv += ["--size", str(WORK_BYTES), "--tmpfs", str(work), "--chdir", str(work)]
    for folder in hidden:
        argv += ["--remount-ro", folder]
    return [
        *argv,
        "--unsetenv", "JPY_PARENT_PID",  # the kernel would see no parent and quit at once
        "--setenv", "HOME", "/tmp",
        "--setenv", "IPYTHONDIR", "/tmp/.ipython",
        "--setenv", "MPLCONFIGDIR", "/tmp/.matplotlib",
        "--",
    ]  # fmt: skip


def kernel_argv(sandbox: Sandbox, work: Path, runtime: Path) -> list[str]:
    """The kernelspec ``argv``: (bwrap,) the limits preamble, then ipykernel."""
    python = sys.executable
    limits = [python, "-I", "-S", "-c", PREAMBLE, str(sandbox.memory_bytes)]
    limits += [str(sandbox.cpu_seconds)]
    kernel = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    prefix = bwrap_argv(sandbox, work, runtime) if sandbox.isolated else []
    return [*prefix, *limits, *kernel]


def install(sandbox: Sandbox, scratch: Path, writable: Path) -> str:
    """Write a private kernelspec for a worker grading in ``scratch``; return its name.

    ``writable`` is the folder whose ``student`` subfolder each kernel works in (a private
    tmpfs under bubblewrap). The kernelspec goes into ``scratch/jupyter`` (put first on
    ``JUPYTER_PATH``); each kernel's ZeroMQ sockets and connection file go into a fresh folder
    under ``scratch/runtime`` (:class:`~autograder.runtime.kernel.KernelSession`), talking
    over ``ipc``, never TCP: workers start kernels at the same moment, and two of them could
    pick the same free port.
    """
    runtime = scratch / "runtime"
    runtime.mkdir(parents=True, exist_ok=True)
    writable.mkdir(parents=True, exist_ok=True)
    work = writable / "student"
    work.mkdir(parents=True, exist_ok=True)
    name = "grader-sandbox-" + hashlib.sha256(str(scratch.resolve()).encode()).hexdigest()[:12]
    spec_dir = scratch / "jupyter" / "kernels" / name
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": kernel_argv(sandbox, work.resolve(), runtime.resolve()),
        "display_name": f"Python 3 ({sandbox.kind})",
        "language": "python",
        "interrupt_mode": "message",  # a signal would stop at bwrap, not reach the kernel
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    paths = [str(scratch / "jupyter"), os.environ.get("JUPYTER_PATH", "")]
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in paths if p)
    return name
