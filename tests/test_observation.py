"""The kernel's observer: which ``course`` functions ran during a graded call, however reached.

The agent's :class:`Observer` is loaded here as the kernel loads it (its source executed in a
module of its own), and each way a submission could reach the reference of a graded name is
called between ``begin()`` and ``end()``: the report must name the reference. Honest code,
including code that imports the reference elsewhere or dispatches by name to other
functions, must not report it. Grading-level tests of the same classes are in
tests/test_hostile.py (``REVIEWED``); correct-but-different solutions in tests/fairness/.
"""

from __future__ import annotations

import importlib
import linecache
import os
import subprocess
import sys
import textwrap
import threading
import time
import types
from pathlib import Path

import numpy as np
import pytest

import course
import course.activations as A
from autograder.runtime import agent, codec

pytestmark = pytest.mark.autograder


@pytest.fixture(scope="module")
def observer():
    module = types.ModuleType("_grader_agent_under_test")
    exec(compile(Path(codec.__file__).read_text(), "<grader codec>", "exec"), module.__dict__)
    exec(compile(Path(agent.__file__).read_text(), "<grader agent>", "exec"), module.__dict__)
    made = module.Observer()
    made.watch(
        {
            "sigmoid": ["scipy.special.expit", "no.such.module"],
            "mse": ["sklearn.metrics.mean_squared_error"],
        }
    )
    yield made
    threading.setprofile(None)


def observe(observer, function, *args):
    observer.begin()
    try:
        function(*args)
    finally:
        report = observer.end()
    return {name: (what, line) for name, what, line in report["ran"]}, report["alarms"]


def student(code: str) -> dict:
    """The namespace of a student's cell (its own file name, as IPython gives each cell)."""
    namespace: dict = {"np": np, "course": course}
    code = textwrap.dedent(code)
    name = f"/tmp/ipykernel_1/{abs(hash(code))}.py"
    linecache.cache[name] = (len(code), None, code.splitlines(True), name)  # as IPython does
    exec(compile(code, name, "exec"), namespace)
    return namespace


Z = np.linspace(-2, 2, 5)

ROUTES = {
    "bound": "from course.activations import relu",
    "alias": "import course.activations as ca\ndef relu(z):\n    return ca.relu(z)",
    "getattr": "import course.activations as ca\n"
    "def relu(z):\n    return getattr(ca, 're' + 'lu')(z)",
    "loop": """
        import importlib, pkgutil
        for m in pkgutil.walk_packages(course.__path__, 'course.'):
            mod = importlib.import_module(m.name)
            if hasattr(mod, 'relu'):
                relu = getattr(mod, 'relu')
    """,
    "for-target": "import course.activations as ca\nfor relu in [ca.relu]:\n    pass",
    "unpacking": "import course.activations as ca\nrelu, other = ca.relu, 1",
    "walrus": "import course.activations as ca\n(relu := ca.relu)",
    "globals-update": "import course.activations as ca\nglobals().update(relu=ca.relu)",
    "annotated": "import course.activations as ca\nrelu: object = ca.relu",
    "lambda-decorator": "import course.activations as ca\n"
    "@lambda f: ca.relu\ndef relu(z):\n    pass",
    "global-from-helper": """
        import course.activations as ca
        def install():
            global relu
            relu = ca.relu
        install()
    """,
    "class-attribute": """
        import course.activations as ca
        class Box:
            f = staticmethod(ca.relu)
        relu = Box.f
    """,
    "partial": "import functools, course.activations as ca\nrelu = functools.partial(ca.relu)",
    "attrgetter": "import operator, course.activations as ca\n"
    "relu = operator.attrgetter('relu')(ca)",
    "pydoc-locate": "import pydoc\nrelu = pydoc.locate('course.activations.relu')",
    "resolve-name": "import pkgutil\nrelu = pkgutil.resolve_name('course.activations:relu')",
    "sys-modules": "import sys\ndef relu(z):\n    return sys.modules['course.activations'].relu(z)",
    "copy-of-function": """
        import types, course.activations as ca
        relu = types.FunctionType(ca.relu.__code__, ca.relu.__globals__, 'mine')
    """,
    "renamed-code": """
        import types, course.activations as ca
        code = ca.relu.__code__.replace(co_name='mine')
        relu = types.FunctionType(code, ca.relu.__globals__)
    """,
    "reloaded": """
        import importlib, course.activations as ca
        fresh = importlib.reload(ca)
        relu = fresh.relu
    """,
    "other-course-function": """
        from course.layers import activation_forward
        def relu(z):
            return activation_forward(z, 'relu')[0]
    """,
    "thread": """
        import threading, course.activations as ca
        def relu(z):
            out = []
            t = threading.Thread(target=lambda: out.append(ca.relu(z)))
            t.start(); t.join()
            return out[0]
    """,
}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_every_route_to_the_reference_is_observed(observer, route: str) -> None:
    relu = student(ROUTES[route])["relu"]
    ran, alarms = observe(observer, relu, Z)
    assert "relu" in ran, (route, ran, alarms)
    importlib.reload(A)  # leave the module as it was for the next route


def test_the_call_is_quoted(observer) -> None:
    relu = student(ROUTES["alias"])["relu"]
    ran, _ = observe(observer, relu, Z)
    assert ran["relu"] == ("course.activations.relu", "relu: return ca.relu(z)")


def test_named_equivalents_are_observed_as_the_graded_name(observer) -> None:
    mse = student("from sklearn.metrics import mean_squared_error as mse")["mse"]
    ran, _ = observe(observer, mse, Z, Z)
    assert ran["mse"][0] == "sklearn.metrics.mean_squared_error"  # unwrapped: not a decorator's
    wrapped = student(
        "def mse(a, b):\n    from sklearn.metrics import mean_squared_error as m\n"
        "    return m(a, b)"
    )["mse"]
    assert observe(observer, wrapped, Z, Z)[0]["mse"][1] == "mse: return m(a, b)"
    honest = student("from sklearn.metrics import accuracy_score\nf = accuracy_score")["f"]
    assert observe(observer, honest, [0, 1], [0, 1])[0] == {}  # another validated function
    sigmoid = student("import scipy.special as sp\nsigmoid = sp.expit")["sigmoid"]
    assert "sigmoid" not in observe(observer, sigmoid, Z)[0]  # a ufunc: the README's limit


HONEST = {
    "own": "def relu(z):\n    return np.maximum(z, 0)",
    "imports-elsewhere": """
        from course.activations import relu as reference, sigmoid, tanh
        reference(np.zeros(2))
        def relu(z):
            return z * (z > 0)
    """,
    "dispatch-to-others": """
        import course.activations
        def relu(z):
            pos = getattr(course.activations, 'sigmoid')(z) > 0.5
            return np.where(pos, z, 0.0)
    """,
    "globals-dispatch": """
        def _pos(z):
            return z > 0
        def relu(z):
            return np.where(globals()['_pos'](z), z, 0.0)
    """,
    "thread-of-own-code": """
        import threading
        def relu(z):
            out = []
            t = threading.Thread(target=lambda: out.append(np.maximum(z, 0)))
            t.start(); t.join()
            return out[0]
    """,
}


@pytest.mark.parametrize("name", sorted(HONEST))
def test_honest_code_is_not_reported(observer, name: str) -> None:
    relu = student(HONEST[name])["relu"]
    ran, alarms = observe(observer, relu, Z)
    assert "relu" not in ran and alarms == [], (ran, alarms)


BLINDING = {
    "clears-the-hook": "import sys\ndef relu(z):\n    sys.setprofile(None)\n    return z",
    "replaces-the-hook": "import sys\n"
    "def relu(z):\n    sys.setprofile(lambda *a: None)\n    return z",
    "starts-a-process": """
        import subprocess
        def relu(z):
            subprocess.run(['true'])
            return z
    """,
    "walks-the-collector": "import gc\ndef relu(z):\n    gc.get_objects()\n    return z",
    "raw-thread": """
        import _thread, time
        def relu(z):
            _thread.start_new_thread(time.sleep, (0.01,))
            return z
    """,
    "threading-hook": "import threading\n"
    "def relu(z):\n    threading.setprofile(None)\n    return z",
}


@pytest.mark.parametrize("name", sorted(BLINDING))
def test_what_would_blind_the_observer_raises_an_alarm(observer, name: str) -> None:
    relu = student(BLINDING[name])["relu"]
    ran, alarms = observe(observer, relu, Z)
    assert alarms, (name, ran)
    threading.setprofile(observer.thread_start)


def test_a_raw_thread_started_earlier_that_runs_during_the_call_raises_an_alarm(observer) -> None:
    import _thread

    go, done = threading.Event(), threading.Event()

    def work():
        go.wait(5)
        sum(i * i for i in range(20_000))
        done.set()

    _thread.start_new_thread(work, ())
    time.sleep(0.05)

    def relu(z):
        go.set()
        done.wait(5)
        return z

    _, alarms = observe(observer, relu, Z)
    assert any("thread" in a for a in alarms), alarms


def test_a_child_process_working_during_the_call_raises_an_alarm(observer) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.readline(); sum(range(3 * 10**7))"],
        stdin=subprocess.PIPE,
    )
    try:
        time.sleep(0.2)

        def relu(z):
            child.stdin.write(b"go\n")
            child.stdin.flush()
            child.wait(20)
            return z

        observer.begin()
        relu(Z)
        report = observer.end()
    finally:
        child.kill()
    assert any("child process" in a for a in report["alarms"]), report


def test_an_idle_child_process_raises_nothing(observer) -> None:
    child = subprocess.Popen(["sleep", "5"])
    try:
        time.sleep(0.1)
        _, alarms = observe(observer, student(HONEST["own"])["relu"], Z)
    finally:
        child.kill()
        child.wait()
    assert alarms == []


def test_threads_that_ended_are_forgotten(observer) -> None:
    for _ in range(40):
        t = threading.Thread(target=lambda: None)
        t.start()
        t.join()
    assert len(observer.tasks) > 32
    _, alarms = observe(observer, student(HONEST["own"])["relu"], Z)
    assert alarms == [] and len(observer.tasks) <= len(os.listdir("/proc/self/task"))
