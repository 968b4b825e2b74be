"""Kernels forked from a warm template: confined as a cold one, and nothing survives a student.

The leftovers test grades four submissions one after another in one worker (as
``grader grade --jobs 1`` would), every kernel forked from the same template: ``a-litter``
leaves something of every kind a process can leave (a file in every folder it may write, an
environment variable, module attributes and a module, a thread, a child process in a session
of its own, signal handlers, an open descriptor, an import cache entry), ``b-peek`` looks for
each one and answers wrongly if it finds any, ``c-ref`` is the reference, and
``d-peek-control`` (the peek with its answer inverted) must lose relu, which shows the search
ran.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from attacks import with_relu
from support import ASSIGNMENT, FULL, new_course, notebook, require_sandbox

from autograder import samples
from autograder.pipeline.coursedir import load_course
from autograder.pipeline.kit import build_kit
from autograder.pipeline.tasks import Digest, GradeTask, WorkerOptions
from autograder.pipeline.worker import Grader
from autograder.runtime.kernel import KernelSession, Limits
from autograder.runtime.sandbox import choose, kernel_argv
from autograder.runtime.warm import ABSENT, KERNEL_MODULES, WarmStart, preload_modules

pytestmark = [pytest.mark.autograder, pytest.mark.xdist_group("warm")]

MARK, SLEEP = "LEFT-IN-A-FORK", 604  # other tests' attackers sleep 600 to 602

LITTER = f"""
import os, signal, socket, subprocess, sys, threading, time
import numpy
import course.activations
_conn = sys.argv[sys.argv.index("-f") + 1]
for _d in (os.path.dirname(_conn), os.getcwd(), "/tmp", "/dev/shm", os.path.expanduser("~")):
    try:
        with open(os.path.join(_d, "{MARK}"), "w") as _f:
            _f.write("x")
    except OSError:
        pass
os.environ["{MARK}"] = "1"
numpy.{MARK.replace("-", "_")} = 1
course.activations.{MARK.replace("-", "_")} = 1
sys.modules["{MARK}"] = numpy
sys.path_importer_cache["{MARK}"] = None
threading.Thread(target=time.sleep, args=(600,), name="{MARK}", daemon=True).start()
subprocess.Popen(["sleep", "{SLEEP}"], start_new_session=True)
signal.signal(signal.SIGUSR1, lambda *a: None)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
_keep = os.open("/tmp/{MARK}", os.O_RDONLY)
os.dup2(_keep, 77, inheritable=True)


def relu(z):
    return np.maximum(z, 0)
"""
PEEK = f"""
import glob, os, signal, sys, threading
import numpy
import course.activations
_conn = sys.argv[sys.argv.index("-f") + 1]
_seen = []
for _d in (os.path.dirname(_conn), os.getcwd(), "/tmp", "/dev/shm", os.path.expanduser("~")):
    _seen += glob.glob(os.path.join(_d, "**", "{MARK}"), recursive=True)
if os.environ.get("{MARK}"):
    _seen.append("environment")
for _module in (numpy, course.activations):
    if hasattr(_module, "{MARK.replace("-", "_")}"):
        _seen.append("module attribute")
if "{MARK}" in sys.modules or "{MARK}" in sys.path_importer_cache:
    _seen.append("module")
if any(_t.name == "{MARK}" for _t in threading.enumerate()):
    _seen.append("thread")
for _p in os.listdir("/proc"):
    try:
        if _p.isdigit() and b"{SLEEP}" in open(f"/proc/{{_p}}/cmdline", "rb").read():
            _seen.append("process")
    except OSError:
        pass
if signal.getsignal(signal.SIGUSR1) is not signal.SIG_DFL:
    _seen.append("SIGUSR1 handler")
if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
    _seen.append("SIGTERM handler")
for _fd in os.listdir("/proc/self/fd"):
    try:
        if "{MARK}" in os.readlink(f"/proc/self/fd/{{_fd}}"):
            _seen.append("descriptor")
    except OSError:
        pass


def relu(z):
    return np.maximum(z, 0) if not _seen else np.minimum(z, 0)
"""


@pytest.fixture(scope="module")
def sandbox():
    require_sandbox()
    return choose("require")


@pytest.fixture
def short() -> Path:
    """A folder with a short path: a kernel's socket path must fit a unix socket's 107 bytes
    (pytest's own temporary folders under xdist do not leave room)."""
    folder = Path(tempfile.mkdtemp(prefix="warm-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_one_submission_leaves_nothing_for_the_next_forked_kernel(sandbox, tmp_path, short):
    course = new_course(tmp_path / "course")
    kit = build_kit(load_course(course), [ASSIGNMENT], tmp_path / "kit")
    grader = Grader(kit, short / "worker", WorkerOptions(sandbox=sandbox))
    assert grader.warm is not None
    source = notebook(course, "source")
    control = PEEK.replace("if not _seen else", "if _seen else")
    cases = {
        "a-litter": with_relu(source, LITTER),
        "b-peek": with_relu(source, PEEK),
        "c-ref": samples.to_bytes(source),
        "d-peek-control": with_relu(source, control),
    }
    try:
        scores = {}
        for student, data in cases.items():
            text = data.decode() if isinstance(data, bytes) else data
            task = GradeTask(ASSIGNMENT, student, text, Digest("exercises.ipynb", "s"))
            scores[student] = grader.grade(task).scores
        assert grader.warm.broken is None and grader.warm.started == len(cases)
    finally:
        grader.close()
    assert scores["a-litter"] == FULL
    assert scores["b-peek"] == FULL, "the peek found what the litter left"
    assert scores["c-ref"] == FULL
    assert scores["d-peek-control"] == {**FULL, "test_relu": 0.0}, "the search never ran"
    sleepers = subprocess.run(["pgrep", "-f", f"sleep {SLEEP}"], capture_output=True)
    assert sleepers.stdout.strip() == b"", "a process the litter started outlived its kernel"
    assert not list(tmp_path.rglob(MARK)) and not list(short.rglob(MARK))


PROBE = """
import json, os, resource, socket, sys
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
def writable(path):
    try:
        with open(os.path.join(path, "probe-write"), "w"):
            pass
        return True
    except OSError:
        return False
print(json.dumps({
    "uid": [os.getuid(), os.geteuid(), os.getgid()],
    "caps": [status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")],
    "no_new_privs": status["NoNewPrivs"].strip(),
    "network": sorted(n for _, n in socket.if_nameindex()),
    "env": sorted(os.environ),
    "home": os.environ["HOME"],
    "path": sys.path,
    "argv": sys.argv[1:2],
    "limits": [resource.getrlimit(resource.RLIMIT_AS), resource.getrlimit(resource.RLIMIT_CPU)],
    "hidden": sorted(os.listdir(CHECKOUT)),
    "writable": [writable(p) for p in ("/usr", "/", os.getcwd(), "/tmp", CHECKOUT)],
    "agent": "_grader_agent" in sys.modules,
    "grader_modules": sorted(m for m in sys.modules if m.startswith("_grader_"))[1:],
    "matplotlib": "matplotlib" in sys.modules,
}))
"""


def probe(session: KernelSession, checkout: str) -> dict:
    session.start()
    try:
        run = session.execute(f"CHECKOUT = {checkout!r}\n" + PROBE)
        assert run.error is None and run.stopped is None, run
        return json.loads("".join(o["text"] for o in run.outputs if o.get("name") == "stdout"))
    finally:
        session.kill()


def test_a_forked_kernel_is_confined_as_a_cold_one(sandbox, short: Path):
    from autograder.runtime.sandbox import CHECKOUT

    launcher = functools.partial(kernel_argv, sandbox)
    warm = WarmStart(sandbox, short / "template", preload_modules(["import numpy"]))
    session = KernelSession(short, Limits(), launcher=launcher, warm=warm)
    try:
        forked = probe(session, str(CHECKOUT))
        assert warm.broken is None and warm.started == 1
    finally:
        warm.close()
    cold = probe(KernelSession(short, Limits(), launcher=launcher), str(CHECKOUT))
    # bubblewrap leaves the bounding set full (with nothing permitted); the fork empties it
    assert forked.pop("caps") == ["0000000000000000"] * 5
    assert cold.pop("caps")[:3] == ["0000000000000000"] * 3
    assert forked == cold
    assert forked["no_new_privs"] == "1"
    assert forked["network"] == ["lo"]
    assert set(forked["hidden"]) <= {".venv", "course"}  # only what is bound back, read-only
    # the checkout is hidden; under /tmp (a fresh clone in CI) it is a folder of the kernel's
    # private /tmp, where writing reaches nothing of the host's
    in_tmp = str(CHECKOUT) == "/tmp" or str(CHECKOUT).startswith("/tmp/")
    assert forked["writable"] == [False, False, True, True, in_tmp]
    assert not (CHECKOUT / "probe-write").exists()
    assert forked["agent"] and forked["grader_modules"] == [] and not forked["matplotlib"]
    assert forked["limits"][0][0] == sandbox.memory_bytes


def test_a_template_that_cannot_serve_leaves_kernels_cold(sandbox, short: Path):
    """A preload that brings in pyplot's package (the kernel must pick its own backend) is
    refused: the kernel starts cold, and every later one too, without a second attempt."""
    launcher = functools.partial(kernel_argv, sandbox)
    warm = WarmStart(sandbox, short / "template", ["course.plots"])
    try:
        for _ in range(2):
            session = KernelSession(short, Limits(), launcher=launcher, warm=warm)
            session.start()
            try:
                assert session.execute("x = 1 + 1").error is None
            finally:
                session.kill()
        assert warm.broken and "matplotlib" in warm.broken and warm.started == 0
        assert warm.template.process is None
    finally:
        warm.close()


def test_preload_is_what_the_cells_import_and_never_pyplot():
    cells = [
        "import numpy as np\nfrom course.layers import dense_forward\n%matplotlib inline",
        "import matplotlib.pyplot as plt\nfrom course.plots import curves",
        "from . import nothing\nimport sklearn.pipeline, math",
        "def broken(:\n",
    ]
    found = preload_modules(cells)
    assert found[: len(KERNEL_MODULES)] == list(KERNEL_MODULES)
    assert {"course.layers", "sklearn.pipeline", "math"} <= set(found)
    assert not [m for m in found if m.startswith((*ABSENT, "course.plots"))]
    assert len(found) == len(set(found))


def test_the_template_ends_with_close(sandbox, short: Path):
    warm = WarmStart(sandbox, short / "template", preload_modules([]))
    warm.template.start()
    process = warm.template.process
    warm.close()
    assert process.poll() is not None and warm.template.process is None


def test_forked_kernels_draw_their_own_random_numbers(sandbox, short: Path):
    """Each fork reseeds Python's and NumPy's global generators, as a fresh process has them."""
    launcher = functools.partial(kernel_argv, sandbox)
    warm = WarmStart(sandbox, short / "template", preload_modules(["import numpy"]))
    draws = []
    try:
        for _ in range(2):
            session = KernelSession(short, Limits(), launcher=launcher, warm=warm)
            session.start()
            try:
                code = "import random, numpy\nprint(random.random(), numpy.random.random())"
                run = session.execute(code)
                draws.append(run.outputs[0]["text"])
            finally:
                session.kill()
        assert warm.started == 2
    finally:
        warm.close()
    assert draws[0] != draws[1]
