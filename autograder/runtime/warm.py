"""Kernels that start warm: the grading worker's side of :mod:`~autograder.runtime.template`.

A :class:`Template` is one process per worker with the kernel's imports loaded; each
:meth:`WarmStart.start` has it fork a kernel, confined with the sandbox's own bubblewrap
options (:func:`~autograder.runtime.sandbox.bwrap_argv`, carried out in place by
:mod:`~autograder.runtime.confine`), with the memory and CPU caps of a cold kernel. The
kernel is reached over the usual Jupyter connection, so magics, outputs and the grading agent
work as in a kernel started from nothing; :class:`ForkedKernel` stands in for jupyter_client's
``KernelManager``.

Measured on 02-forward (``benchmarks/grading.py --phases``): a cold sandboxed kernel takes
about 0.95 s to answer its first request (0.6 s of Python, IPython and ipykernel imports and
0.3 s loading the agent and NumPy), a forked one under 0.15 s. Dropping the Jupyter protocol
was the other way the issue offered; it would save a few milliseconds more per kernel, and
lose IPython's magics and the outputs the feedback shows, so the protocol stays.

Warm kernels are used only where they confine as much as a cold one: the sandbox is on, the
kernel is the default ``python3``, and the template answered its probe. Anything else, or a
template that fails later, starts kernels cold, as before.
"""

from __future__ import annotations

import ast
import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import time
from pathlib import Path

from autograder.runtime import agent as agent_module
from autograder.runtime import codec, confine, processes
from autograder.runtime.sandbox import Sandbox, bwrap_argv
from course.messages import one_line

log = logging.getLogger(__name__)

TEMPLATE = (Path(__file__).parent / "template.py").read_text(encoding="utf-8")
SOURCES = {
    "processes": Path(processes.__file__).read_text(encoding="utf-8"),
    "confine": Path(confine.__file__).read_text(encoding="utf-8"),
    "codec": Path(codec.__file__).read_text(encoding="utf-8"),
    "agent": Path(agent_module.__file__).read_text(encoding="utf-8"),
}
KERNEL_MODULES = (
    "numpy", "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell",
    "ipykernel.debugger", "IPython.core.completerlib", "IPython.core.debugger",
    "IPython.core.oinspect", "IPython.utils.wildcard", "sqlite3", "tornado.gen",
    "tornado.locks", "tornado.queues", "pdb", "pydoc", "gzip", "mimetypes", "faulthandler",
    "code",
)  # fmt: skip
"""What every kernel imports before its first cell (measured: ``sys.modules`` after
``IPKernelApp.initialize``)."""
ABSENT = ("matplotlib",)
"""Never preloaded: importing pyplot picks a backend, and the kernel's is chosen by ipykernel
(inline figures) after the fork. A preload that brings it in turns warm kernels off."""
SETUP_SECONDS = 120.0


class TemplateError(Exception):
    """The template cannot start kernels (one line); kernels start cold instead."""


def preload_modules(sources: list[str]) -> list[str]:
    """The modules the notebooks' own cells import (``sources``: their code), after
    :data:`KERNEL_MODULES`; never one under :data:`ABSENT` or ``course.plots``."""
    found = list(KERNEL_MODULES)
    for source in sources:
        text = "\n".join(
            line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append(node.module)
    unwanted = (*ABSENT, "course.plots")
    keep = [m for m in found if not any(m == u or m.startswith(u + ".") for u in unwanted)]
    return list(dict.fromkeys(keep))


class Template:
    """The template process of one worker: started on first use, ended by :meth:`close`."""

    def __init__(self, folder: Path, preload: list[str]) -> None:
        self.folder = folder
        self.preload = preload
        self.process: subprocess.Popen | None = None
        self.buffer = b""
        self.setup_seconds: float | None = None

    def start(self) -> None:
        """Start the template and wait until its imports are loaded; ``TemplateError``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        self.process = subprocess.Popen(
            [sys.executable, "-c", TEMPLATE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=self.folder,  # an empty folder: nothing there shadows a module
            env=dict(os.environ),
        )
        setup = {"sources": SOURCES, "preload": self.preload, "absent": list(ABSENT)}
        reply = self.ask(setup, SETUP_SECONDS)
        if "ready" not in reply:
            self.close()
            raise TemplateError(f"the kernel template did not start: {reply.get('error')}")
        self.setup_seconds = float(reply["ready"])

    def ask(self, message: dict, seconds: float) -> dict:
        """Send one request, read one answer within ``seconds``; ``TemplateError``."""
        if self.process is None or self.process.poll() is not None:
            raise TemplateError("the kernel template is not running")
        try:
            self.process.stdin.write((json.dumps(message) + "\n").encode())
            self.process.stdin.flush()
        except OSError as exc:
            raise TemplateError(f"the kernel template is gone: {one_line(exc)}") from None
        deadline = time.monotonic() + seconds
        stdout = self.process.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([stdout], [], [], left)[0]:
                self.close()
                raise TemplateError("the kernel template stopped answering")
            chunk = os.read(stdout, 65536)
            if not chunk:
                self.close()
                raise TemplateError("the kernel template ended")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            self.close()
            raise TemplateError("the kernel template answered garbage") from None

    def spawn(self, connection_file: Path, options: list[str], sandbox: Sandbox) -> dict:
        """A confined kernel for ``connection_file``: ``{"pid": ..., "helper": ...}``."""
        request = {
            "connection_file": str(connection_file),
            "options": options,
            "memory": sandbox.memory_bytes,
            "cpu": sandbox.cpu_seconds,
        }
        reply = self.ask(request, SETUP_SECONDS)
        if "pid" not in reply:
            raise TemplateError(f"the kernel template could not fork: {reply.get('error')}")
        return reply

    def close(self) -> None:
        """End the template (its kernels die with it)."""
        if self.process is None:
            return
        with contextlib.suppress(Exception):
            self.process.stdin.close()
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.wait(timeout=5)
        with contextlib.suppress(Exception):
            self.process.stdout.close()
        self.process = None


class ForkedProcess:
    """The forked kernel's process, as far as :func:`~autograder.runtime.kernel.kill_kernel_process`
    and :class:`ForkedKernel` need it: its PID, whether it ended, and a wait."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        try:
            self.pidfd = os.pidfd_open(pid)
        except OSError:  # it is already gone
            self.pidfd = None

    def ended(self, timeout: float = 0) -> bool:
        if self.pidfd is None:
            return True
        return bool(select.select([self.pidfd], [], [], timeout)[0])

    def wait(self, timeout: float | None = None) -> None:
        self.ended(5 if timeout is None else timeout)

    def close(self) -> None:
        if self.pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(self.pidfd)
            self.pidfd = None


class ForkedKernel:
    """What :class:`~autograder.runtime.kernel.KernelSession` uses of a ``KernelManager``."""

    def __init__(self, reply: dict, connection_file: Path, context) -> None:
        self.process = ForkedProcess(int(reply["pid"]))
        self.helper = int(reply["helper"])
        self.connection_file = connection_file
        self.context = context
        self.provisioner = self  # kill_kernel_process(manager.provisioner.process)

    def is_alive(self) -> bool:
        return not self.process.ended()

    def blocking_client(self):
        from jupyter_client import BlockingKernelClient

        client = BlockingKernelClient(
            connection_file=str(self.connection_file), context=self.context
        )
        client.load_connection_file()
        return client

    def cleanup_resources(self) -> None:
        """The kernel is dead (its helper ends with it, and the template reaps the helper; a
        signal to that PID could reach another process by now): close the process handle."""
        self.process.close()


class WarmStart:
    """Starts a worker's kernels from its template; see the module docstring."""

    def __init__(self, sandbox: Sandbox, folder: Path, preload: list[str]) -> None:
        self.sandbox = sandbox
        self.template = Template(folder, preload)
        self.broken: str | None = None
        self.started = 0
        """Kernels forked so far."""

    def prepare(self) -> None:
        """Start the template if it is not running (a failure is logged: kernels start cold)."""
        if self.broken or self.template.process is not None:
            return
        try:
            self.template.start()
            log.info("kernel template ready in %.2f s", self.template.setup_seconds)
        except TemplateError as exc:
            self.broken = str(exc)
            log.warning("kernels start cold: %s", exc)

    def start(self, folder: Path, work: Path, context) -> ForkedKernel:
        """A kernel working in ``work``, its sockets in ``folder``; ``TemplateError``."""
        from jupyter_client.connect import write_connection_file

        self.prepare()
        if self.broken:
            raise TemplateError(self.broken)
        try:
            connection = folder / "kernel.json"
            write_connection_file(str(connection), transport="ipc", ip=str(folder / "kernel"))
            options = bwrap_argv(self.sandbox, work, folder)[1:-1]
            options = [o.replace("{connection_file}", str(connection)) for o in options]
            reply = self.template.spawn(connection, options, self.sandbox)
        except TemplateError as exc:
            self.broken = str(exc)
            self.template.close()
            log.warning("kernels start cold from now on: %s", exc)
            raise
        self.started += 1
        return ForkedKernel(reply, connection, context)

    def close(self) -> None:
        self.template.close()
