"""No sandbox, no grading: bubblewrap, else ``unshare``, else a refusal (issue 20).

Where bubblewrap is missing, kernels run under util-linux's ``unshare`` with a launcher
(``autograder/runtime/confine.py``) that carries out bubblewrap's own options, so both paths
confine alike; where neither works, ``grader grade`` refuses unless ``--sandbox off`` is given.
"No bubblewrap" is a PATH that holds ``unshare`` and not ``bwrap``; "neither" is a PATH that
holds neither. The tests that run ``unshare`` skip where it cannot work (fail under
``REQUIRE_SANDBOX``); the refusal is tested everywhere.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from attacks import runtime_attacks, with_relu
from support import FULL, grader, notebook, results, skip_or_fail, submit

from autograder import samples
from autograder.demo import demo_sandbox
from autograder.pipeline.coursedir import load_course
from autograder.runtime import confine
from autograder.runtime import sandbox as sandbox_module
from autograder.runtime.sandbox import (
    BWRAP,
    CHECKOUT,
    CONFINE,
    COURSE_PACKAGE,
    PREAMBLE,
    PROBE,
    REQUIRE_ENV,
    RLIMITS,
    UNSHARE,
    UNSHARE_OPTIONS,
    NoSandbox,
    Sandbox,
    SandboxError,
    bwrap_argv,
    bwrap_problem,
    choose,
    kernel_argv,
    readable_folders,
    unshare_argv,
    unshare_problem,
)

pytestmark = [pytest.mark.autograder, pytest.mark.xdist_group("sandbox")]

CHEATED = {**FULL, "test_relu": 0.0}
FILE_ATTACKS = (
    "read-source", "read-other", "write-gradebook", "write-outside", "plant-symlinks",
    "poison-connection-file", "fill-disk",
)  # fmt: skip


@pytest.fixture
def only_unshare(tmp_path: Path) -> str:
    """A PATH with ``unshare`` and without ``bwrap``; skips where ``unshare`` cannot confine."""
    found = shutil.which("unshare")
    problem = unshare_problem() if found else "unshare is not installed"
    if problem is not None:
        skip_or_fail(f"needs unshare: {problem}", REQUIRE_ENV)
    folder = tmp_path / "only-unshare"
    folder.mkdir()
    (folder / "unshare").symlink_to(found)
    return str(folder)


@pytest.fixture
def neither(tmp_path: Path) -> str:
    """A PATH with neither ``bwrap`` nor ``unshare``."""
    folder = tmp_path / "no-sandbox"
    folder.mkdir()
    return str(folder)


def environ(path: str, **extra: str) -> dict[str, str]:
    """This environment with ``PATH`` replaced and ``REQUIRE_SANDBOX`` unset (or ``extra``)."""
    env = {k: v for k, v in os.environ.items() if k != REQUIRE_ENV}
    return {**env, "PATH": path, **extra}


# -- the launcher carries out bubblewrap's options ------------------------------------------
def test_unshare_runs_bubblewraps_own_options(tmp_path: Path) -> None:
    sandbox = Sandbox(UNSHARE, hidden=(str(tmp_path / "course"),))
    work, runtime = tmp_path / "kernel" / "work", tmp_path / "kernel"
    argv = kernel_argv(sandbox, work, runtime)
    options = bwrap_argv(sandbox, work, runtime)
    head = ["unshare", *UNSHARE_OPTIONS, "--", sys.executable, "-I", "-S", "-c", CONFINE]
    assert argv[: len(head)] == head
    assert argv[len(head) : len(head) + len(options) - 1] == options[1:]
    assert argv[len(head) + len(options) - 1 :] == kernel_argv(Sandbox(RLIMITS), work, runtime)
    assert Sandbox(UNSHARE).isolated and Sandbox(BWRAP).isolated
    assert not Sandbox(RLIMITS).isolated


def test_launcher_knows_every_option_it_gets_and_refuses_others(tmp_path: Path) -> None:
    options = bwrap_argv(Sandbox(UNSHARE), tmp_path / "work", tmp_path)[1:]
    steps, program = confine.parse([*options, "true"])
    assert program == ["true"] and ("--cap-drop", "ALL") in steps
    with pytest.raises(confine.Refused, match="unknown option --share-net"):
        confine.parse(["--share-net", *options, "true"])
    without_cap_drop = [o for o in options if o not in ("--cap-drop", "ALL")]
    with pytest.raises(confine.Refused, match="--cap-drop ALL is missing"):
        confine.parse([*without_cap_drop, "true"])


def test_environment_under_tmp_is_bound_back_even_with_nothing_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh clone under /tmp graded as a user without a home hides no folder: the private
    /tmp must still give the kernel its Python environment back (it would not start)."""
    monkeypatch.setattr(sandbox_module, "hidden_folders", lambda sandbox: [])
    venv = "/tmp/clone/.venv"
    monkeypatch.setattr(sandbox_module, "readable_folders", lambda: [venv, "/usr/lib/python3"])
    options = bwrap_argv(Sandbox(BWRAP), tmp_path / "work", tmp_path)
    binds = [options[i + 1] for i, o in enumerate(options) if o == "--ro-bind"]
    assert venv in binds and "/usr/lib/python3" not in binds
    assert options.index("--tmpfs") < options.index(venv)


def test_kernelspec_placeholders_reach_only_the_connection_file() -> None:
    """jupyter_client fills ``{name}`` in every argument; the scripts must have none it knows."""
    known = {"connection_file", "prefix", "resource_dir", "cwd", "env", "kernel_name"}
    for text in (CONFINE, PREAMBLE):
        assert not set(re.findall(r"\{([A-Za-z0-9_]+)\}", text)) & known


def test_probe_sees_an_unconfined_process(tmp_path: Path) -> None:
    """A control: the probe's checks fail outside a sandbox, so its passing means something."""
    connection = tmp_path / "kernel.json"
    connection.write_text("{}")
    argv = [sys.executable, "-I", "-S", "-c", PROBE, str(CHECKOUT / "README.md")]
    proc = subprocess.run(
        [*argv, str(connection), str(connection)], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 1
    for seen in ("the checkout is visible", "the root is writable", "the PID namespace"):
        assert seen in proc.stderr, proc.stderr


def test_a_kernel_under_unshare_sees_and_writes_only_its_own(
    only_unshare: str, tmp_path: Path
) -> None:
    hidden = tmp_path / "course"
    (hidden / "source").mkdir(parents=True)
    folder = tmp_path / "kernels" / "kernel-1"
    (folder / "work").mkdir(parents=True)
    connection = folder / "kernel.json"
    connection.write_text("{}")
    (tmp_path / "host-file").write_text("the host's")
    prefix = unshare_argv(Sandbox(UNSHARE, hidden=(str(hidden),)), folder / "work", folder)
    prefix = [a.replace("{connection_file}", str(connection)) for a in prefix]
    check = f"""
import ctypes, os, socket, subprocess
def writes(path):
    try:
        open(path, "a").close()
        return True
    except OSError:
        return False
libc = ctypes.CDLL(None, use_errno=True)
print("checkout:", sorted(os.listdir({str(CHECKOUT)!r})))
print("course package:", os.path.exists({str(COURSE_PACKAGE / "__init__.py")!r}))
print("hidden:", os.path.exists({str(hidden / "source")!r}))
print("host file:", os.path.exists({str(tmp_path / "host-file")!r}))
print("writes:", [writes(p) for p in ["/etc/x", {str(COURSE_PACKAGE / "x")!r}, "here",
      {str(folder / "socket")!r}, {str(connection)!r}, "/dev/shm/x", "/dev/x"]])
print("network:", socket.if_nameindex())
print("pid:", os.getpid(), "uid", os.getuid(), "home", os.environ["HOME"])
print("parent pid:", "JPY_PARENT_PID" in os.environ)
print("umount:", libc.umount2({str(CHECKOUT)!r}.encode(), 2), os.strerror(ctypes.get_errno()))
nested = "umount -l {CHECKOUT} 2>/dev/null; ls -a {CHECKOUT}"
out = subprocess.run(["unshare", "-rm", "sh", "-c", nested], capture_output=True, text=True)
print("nested:", sorted(out.stdout.split()))
"""
    env = environ(f"{only_unshare}:/usr/bin:/bin", JPY_PARENT_PID="1")
    proc = subprocess.run(
        [*prefix, sys.executable, "-c", check], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    seen = dict(line.split(": ", 1) for line in proc.stdout.splitlines())
    inside = [Path(f) for f in readable_folders() if Path(f).is_relative_to(CHECKOUT)]
    assert seen["checkout"] == str(sorted({p.relative_to(CHECKOUT).parts[0] for p in inside}))
    assert seen["course package"] == "True"
    assert (seen["hidden"], seen["host file"]) == ("False", "False")
    assert seen["writes"] == str([False, False, True, True, False, True, False])
    assert seen["network"] == "[(1, 'lo')]"
    assert seen["pid"] == "1 uid 0 home /tmp"
    assert seen["parent pid"] == "False"
    assert seen["umount"].startswith("-1 ")
    assert "tests" not in seen["nested"] and "README.md" not in seen["nested"]
    assert (folder / "socket").exists() and not (folder / "work" / "here").exists()


# -- bubblewrap, else unshare, else a refusal ----------------------------------------------
def test_choose_falls_back_to_unshare(only_unshare: str, monkeypatch) -> None:
    monkeypatch.setenv("PATH", only_unshare)
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    assert bwrap_problem() == "bwrap is not installed (apt-get install bubblewrap)"
    sandbox = choose("auto")
    assert (sandbox.kind, sandbox.isolated, sandbox.warning) == (UNSHARE, True, None)
    assert choose("require").kind == UNSHARE


def test_choose_refuses_without_either(neither: str, monkeypatch) -> None:
    monkeypatch.setenv("PATH", neither)
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(NoSandbox) as refused:
        choose("auto")
    message = str(refused.value)
    assert "\n" not in message and "--sandbox off" in message
    assert "bwrap is not installed" in message and "unshare is not installed" in message
    off = choose("off")
    assert off.kind == RLIMITS and not off.isolated and "NOT sandboxed" in off.warning
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(NoSandbox, match="a sandbox is required but none works here"):
        choose("auto")
    with pytest.raises(SandboxError, match="REQUIRE_SANDBOX is set"):
        choose("off")


def test_demo_goes_on_unconfined_with_a_notice(neither: str, course: Path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", neither)
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    loaded = load_course(course)
    assert demo_sandbox(loaded).kind == RLIMITS
    out = capsys.readouterr().out
    assert out.startswith("NOTICE: no sandbox works here: bwrap is not installed")
    assert "goes on unconfined" in out
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(SandboxError):
        demo_sandbox(loaded)


# -- end to end: a small grading run of the fixture course ----------------------------------
def test_grading_under_unshare_stops_file_attacks(only_unshare: str, course: Path) -> None:
    source = notebook(course, "source")
    submit(course, "ref", samples.to_bytes(source))
    submit(course, "bug-mse", samples.to_bytes(samples.mutants(source)["sum-instead-of-mean"]))
    attacks = runtime_attacks(course)
    for student in FILE_ATTACKS:
        submit(course, student, with_relu(source, attacks[student]))
    proc = grader(
        course,
        *("grade", "--jobs", "2", "--timeout", "5", "--cpu-seconds", "20", "--sandbox", "auto"),
        env=environ(only_unshare),
    )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert "WARNING" not in proc.stderr + proc.stdout
    found = results(course)
    assert found["ref"]["scores"] == FULL
    assert found["bug-mse"]["scores"] == {**FULL, "test_mse": 0.0}
    for student in FILE_ATTACKS:
        assert (found[student]["status"], found[student]["scores"]) == ("graded", CHEATED)
    assert not (course / "planted.txt").exists()
    with sqlite3.connect(course / "gradebook.db") as db:
        manual = db.execute("select count(*) from grade where manual_score is not null")
        assert manual.fetchone()[0] == 0
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_grading_without_a_sandbox_needs_sandbox_off(neither: str, course: Path) -> None:
    submit(course, "ref", samples.to_bytes(notebook(course, "source")))
    refused = grader(course, "grade", "--jobs", "1", "--sandbox", "auto", env=environ(neither))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    [line] = [x for x in refused.stderr.splitlines() if x.startswith("grader: error: ")]
    assert line.startswith("grader: error: refusing to grade: no sandbox works here"), line
    assert "--sandbox off" in line
    assert not results_if_any(course)
    required = grader(
        course, "grade", "--sandbox", "off", env=environ(neither, **{REQUIRE_ENV: "1"})
    )
    assert required.returncode == 2 and "REQUIRE_SANDBOX is set" in required.stderr
    graded = grader(course, "grade", "--jobs", "1", "--sandbox", "off", env=environ(neither))
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert "kernels are NOT sandboxed (--sandbox off)" in graded.stderr
    assert results(course)["ref"]["scores"] == FULL


def results_if_any(course: Path) -> dict[str, dict]:
    """What grading recorded, or nothing where it made no gradebook (or no results table)."""
    if not (course / "gradebook.db").exists():
        return {}
    try:
        return results(course)
    except sqlite3.OperationalError:
        return {}
