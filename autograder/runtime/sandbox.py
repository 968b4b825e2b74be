"""Sandboxed kernels: the kernelspec a worker runs each submission in.

Every kernel gets an address-space (memory) cap and a CPU-time cap, set by a tiny Python
preamble with ``resource.setrlimit`` before it ``exec``s ipykernel, on every platform. On
Linux with a working bubblewrap (``bwrap``) the kernel also runs in a sandbox: the root file
system read-only, the course directory, the repository, the home directory and the system's
temporary folder hidden behind empty read-only mounts (the Python environment and the
``course`` package are bound back read-only), a private ``/tmp``, no network (the kernel
talks ZeroMQ over ``ipc`` sockets in a folder bound read-write), its own PID namespace and no
capabilities. The only folders it can write are the student's scratch folder and that socket
folder. Where bwrap is missing or fails its probe, util-linux's ``unshare`` makes the same
namespaces (user, mount, network, PID, IPC, UTS) and a small launcher run inside them
(:mod:`~autograder.runtime.confine`) carries out bwrap's very options, so both give the same
guarantees; its probe checks a real launch. Where neither works, :func:`choose` refuses
(``SandboxError``): only an explicit ``off`` grades with the resource limits alone, and
``REQUIRE_SANDBOX=1`` refuses that too.
"""

from __future__ import annotations

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
BWRAP, UNSHARE, RLIMITS = "bwrap", "unshare", "rlimits"
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

CONFINE = (Path(__file__).parent / "confine.py").read_text(encoding="utf-8")
"""Run as ``python -I -S -c CONFINE OPTIONS... -- PROGRAM ARGS...`` inside ``unshare``'s
namespaces: bubblewrap's OPTIONS carried out in place (:mod:`~autograder.runtime.confine`)."""
UNSHARE_OPTIONS = (
    "--user", "--map-root-user", "--mount", "--propagation", "private",
    "--net", "--pid", "--ipc", "--uts", "--kill-child",
)  # fmt: skip
"""New user, mount, network, PID, IPC and UTS namespaces; the launcher is PID 1 and dies
(with the kernel it becomes) when ``unshare`` does."""


class SandboxError(Exception):
    """The sandbox was required but is not available here; the message is one line."""


class NoSandbox(SandboxError):
    """Neither bubblewrap nor ``unshare`` confines kernels here; ``problems`` says why."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class Sandbox:
    """How kernels are confined (``bwrap``, ``unshare`` or ``rlimits`` only), limits, what to hide.

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
        """Whether the kernel is confined (files, network and processes hidden), either way."""
        return self.kind in (BWRAP, UNSHARE)


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


PROBE = """import os, socket, sys
checkout_file, host_file, connection = sys.argv[1:]
seen = {
    "the checkout is visible": os.path.exists(checkout_file),
    "the system's temporary folder is visible": os.path.exists(host_file),
    "the root is writable": not os.statvfs("/").f_flag & os.ST_RDONLY,
    "the connection file is writable": not os.statvfs(connection).f_flag & os.ST_RDONLY,
    "a network interface besides loopback is visible": socket.if_nameindex() != [(1, "lo")],
    "the PID namespace is the host's": os.getpid() != 1,
}
with open("/proc/self/status") as status:
    seen["capabilities remain"] = any(
        int(line.split()[1], 16) for line in status if line.startswith("Cap")
    )
with open("written-inside", "w") as handle:
    handle.write("stays in the private working folder")
problems = [what for what, bad in seen.items() if bad]
sys.exit("; ".join(problems) if problems else 0)
"""
"""Run inside a probe sandbox: exits with the confinement's failures, if any."""


def unshare_problem() -> str | None:
    """Why ``unshare`` cannot confine kernels here, or ``None`` when a probe is confined.

    The probe starts the real launcher (:func:`unshare_argv`) on a scratch folder and runs
    :data:`PROBE` in it: no file of the checkout or of the system's temporary folder, a
    read-only root and connection file, loopback only, PID 1, no capabilities, and what it
    writes in its working folder stays out of the host's.
    """
    if platform.system() != "Linux":
        return f"unshare does not exist on {platform.system()}"
    if shutil.which("unshare") is None:
        return "unshare is not installed (apt-get install util-linux)"
    with tempfile.TemporaryDirectory(prefix="grader-probe-") as tmp:
        scratch = Path(tmp).resolve()
        connection = scratch / "runtime" / "kernel-probe" / "kernel.json"
        connection.parent.mkdir(parents=True)
        connection.write_text("{}", encoding="utf-8")
        host_file = scratch / "host-file"
        host_file.write_text("the host's", encoding="utf-8")
        work = scratch / "work"
        prefix = unshare_argv(Sandbox(UNSHARE), work, scratch / "runtime")
        argv = [arg.replace("{connection_file}", str(connection)) for arg in prefix]
        argv += [sys.executable, "-I", "-S", "-c", PROBE]
        argv += [str(Path(__file__).resolve()), str(host_file), str(connection)]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"unshare failed its probe: {exc}"
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"]
            return f"unshare failed its probe: {lines[-1]}"
        if (work / "written-inside").exists():
            return "unshare failed its probe: the working folder is the host's"
    return None


def choose(
    mode: str = "auto",
    memory_mb: int = 2048,
    cpu_seconds: float = 300,
    hidden: tuple[str, ...] = (),
) -> Sandbox:
    """The sandbox for ``mode``; raise ``SandboxError`` (one line) if there is none.

    ``auto`` and ``require`` confine with bubblewrap where its probe works, else with
    ``unshare`` where its probe works, else refuse: no sandbox, no grading. Only ``off``
    grades unconfined (memory and CPU caps only, with a warning), and ``REQUIRE_SANDBOX=1``
    in the environment refuses that too.
    """
    if mode not in MODES:
        raise SandboxError(f"unknown sandbox mode {mode!r} (use {', '.join(MODES)})")
    required = mode == "require" or os.environ.get(REQUIRE_ENV, "") not in ("", "0")
    limits = {"memory_bytes": memory_mb * 2**20, "cpu_seconds": max(1, math.ceil(cpu_seconds))}
    if mode == "off":
        if required:
            raise SandboxError(f"a sandbox is required ({REQUIRE_ENV} is set) but --sandbox off")
        warning = (
            "WARNING: kernels are NOT sandboxed (--sandbox off): submissions can read the "
            "hidden tests and the gradebook and write files; only memory and CPU time are capped"
        )
        return Sandbox(RLIMITS, hidden=tuple(hidden), warning=warning, **limits)
    problems = []
    for kind, probe in ((BWRAP, bwrap_problem), (UNSHARE, unshare_problem)):
        problem = probe()
        if problem is None:
            return Sandbox(kind, hidden=tuple(hidden), **limits)
        problems.append(problem)
    why = "; ".join(problems)
    if required:
        raise NoSandbox(f"a sandbox is required but none works here: {why}", problems)
    raise NoSandbox(
        f"refusing to grade: no sandbox works here: {why}. Install bubblewrap or allow user "
        "namespaces, or pass --sandbox off to grade unconfined",
        problems,
    )


BASE_OPTIONS = (
    "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
    "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
    "--die-with-parent", "--cap-drop", "ALL",
)  # fmt: skip


def hidden_folders(sandbox: Sandbox) -> list[str]:
    """Folders the kernel must not see: course, repository, home, temporary folders.

    One that does not exist has nothing to hide and is left out: a service account's home
    is often missing (``nobody``'s is ``/nonexistent``), and no mount can be made over it on
    the read-only root, so the kernel would not start.
    """
    candidates = [*sandbox.hidden, str(CHECKOUT), str(Path.home()), tempfile.gettempdir()]
    folders = sorted({os.path.realpath(p) for p in candidates if p and os.path.isdir(p)} - {"/"})
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
        if is_inside(folder, "/tmp") or any(is_inside(folder, h) for h in hidden):
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


def unshare_argv(sandbox: Sandbox, work: Path, runtime: Path) -> list[str]:
    """The ``unshare`` command line (up to and with the launcher's ``--``) for ``work``.

    The launcher (:mod:`~autograder.runtime.confine`) carries out the very options
    :func:`bwrap_argv` writes, so both confine a kernel alike; it refuses any it does not know.
    """
    options = bwrap_argv(sandbox, work, runtime)
    if options[0] != "bwrap" or options[-1] != "--":
        raise ValueError("bwrap_argv must start with bwrap and end with --")
    launcher = [sys.executable, "-I", "-S", "-c", CONFINE, *options[1:]]
    return ["unshare", *UNSHARE_OPTIONS, "--", *launcher]


def kernel_argv(sandbox: Sandbox, work: Path, runtime: Path) -> list[str]:
    """The kernelspec ``argv``: (bwrap or unshare,) the limits preamble, then ipykernel."""
    python = sys.executable
    limits = [python, "-I", "-S", "-c", PREAMBLE, str(sandbox.memory_bytes)]
    limits += [str(sandbox.cpu_seconds)]
    kernel = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    confiners = {BWRAP: bwrap_argv, UNSHARE: unshare_argv}
    prefix = confiners[sandbox.kind](sandbox, work, runtime) if sandbox.isolated else []
    return [*prefix, *limits, *kernel]
