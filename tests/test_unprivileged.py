"""Grading as an unprivileged user: what one student leaves neither reaches nor stops the next.

Run as root, the test grades the fixture course as ``nobody`` (``setpriv``), in the sandbox
that user gets (bubblewrap, else ``unshare``: both need unprivileged user namespaces), with
``--jobs 1`` so that the classmates follow the attacker on the same worker. ``a-litter``
(``tests/attacks.py``: :func:`~attacks.leftovers`) leaves a file in every folder it can
reach, takes the permissions off its folders (which stops a grader running as the same
user, as root's would not), starts a process in a session of its own and binds a socket;
``b-peek`` looks for all of it, ``c-ref`` is the reference, and ``d-peek-control`` (the
peek with its answer inverted) must lose relu, which shows that the search ran. Each must
score as in a clean run, and nothing of the attacker may be left on the host.

The grading user must be able to read the checkout and its environment, including the Python
the environment was made from. Where that Python lives under a folder the user cannot enter
(pyenv's under ``/root``), the grader runs in a private mount namespace in which that folder
is an empty tmpfs anyone may enter, with only the environment's folders bound back at their
paths: nothing on the host changes and nothing is copied. Skipped, with the reason, when not
run as root, without a ``nobody`` user, or when that user cannot run the environment or gets
no sandbox (that last one failed instead under ``REQUIRE_SANDBOX=1``).
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from attacks import leftovers, with_relu
from support import FULL, new_course, notebook, results, skip_or_fail, submit

from autograder import samples
from autograder.pipeline.coursedir import REPO_ROOT

pytestmark = pytest.mark.autograder

MARK, SLEEP = "LEFT-FOR-NOBODY", 602  # other tests' attackers sleep 600 and 601
PASSED_ON = ("PYTHONPATH", "MPLBACKEND", "OPENBLAS_NUM_THREADS", "LANG", "LC_ALL")
"""Variables of this environment the grading user's environment keeps; nothing else is
inherited (root's ``XDG_RUNTIME_DIR`` or ``TMPDIR`` would be closed to that user)."""


def grading_user() -> pwd.struct_passwd:
    """``nobody``, whom root may become; skip where the test is not root or there is none."""
    if os.geteuid() != 0:
        pytest.skip("grading as another user needs root to become that user")
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("there is no user 'nobody' to grade as")


def cannot_enter(folder: Path, user: pwd.struct_passwd) -> bool:
    """Whether ``user`` (its own group only, as ``setpriv --clear-groups`` leaves it) may not
    pass through ``folder``."""
    info = folder.stat()
    if info.st_uid == user.pw_uid:
        bit = 0o100
    elif info.st_gid == user.pw_gid:
        bit = 0o010
    else:
        bit = 0o001
    return not info.st_mode & bit


def closed_folders(user: pwd.struct_passwd) -> list[tuple[Path, Path]]:
    """``(closed, needed)``: a folder the grader needs, under the outermost one ``user`` may
    not enter. Skips if a needed folder is itself closed (binding it back would not help)."""
    needed = {Path(os.path.realpath(p)) for p in (sys.prefix, sys.base_prefix, REPO_ROOT)}
    needed = {p for p in needed if not any(p != q and p.is_relative_to(q) for q in needed)}
    plan = []
    for path in sorted(needed):
        closed = next((f for f in [*reversed(path.parents), path] if cannot_enter(f, user)), None)
        if closed == path:
            pytest.skip(f"{path} is closed to {user.pw_name}: the grader cannot run as that user")
        if closed is not None:
            plan.append((closed, path))
    return plan


def opened(plan: list[tuple[Path, Path]], stages: Path) -> list[str]:
    """A command prefix that runs the rest in a private mount namespace where each closed
    folder is an empty tmpfs (mode 0755) with only the needed folders bound back."""
    if not plan:
        return []
    script = ["set -e", "umask 022"]
    for index, (_, needed) in enumerate(plan):
        (stages / str(index)).mkdir()
        script.append(f"mount --bind {shlex.quote(str(needed))} {stages / str(index)}")
    for closed in sorted({closed for closed, _ in plan}):
        script.append(f"mount -t tmpfs -o mode=0755,size=1m opened {shlex.quote(str(closed))}")
    for index, (_, needed) in enumerate(plan):
        script.append(f"mkdir -p {shlex.quote(str(needed))}")
        script.append(f"mount --move {stages / str(index)} {shlex.quote(str(needed))}")
    script.append('exec "$@"')
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(script), "sh"]


def give(folder: Path, user: pwd.struct_passwd) -> None:
    """Make ``user`` the owner of ``folder`` and of everything in it."""
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)


def test_nothing_one_student_leaves_reaches_the_next_as_an_unprivileged_user() -> None:
    user = grading_user()
    plan = closed_folders(user)
    base = Path(tempfile.mkdtemp(prefix="grader-unprivileged-"))
    try:
        base.chmod(0o755)
        (base / "stages").mkdir()
        course = new_course(base / "course")
        scratch = base / "tmp"  # the grader's temporary folders: all of them, ours to check
        scratch.mkdir()
        source = notebook(course, "source")
        cells = leftovers(MARK, SLEEP)
        submit(course, "a-litter", with_relu(source, cells["litter"]))
        submit(course, "b-peek", with_relu(source, cells["peek"]))
        submit(course, "c-ref", samples.to_bytes(source))
        submit(course, "d-peek-control", with_relu(source, cells["peek-control"]))
        give(course, user)
        give(scratch, user)
        env = {k: os.environ[k] for k in PASSED_ON if k in os.environ}
        env |= {"HOME": user.pw_dir, "TMPDIR": str(scratch), "USER": user.pw_name}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin"
        become = [
            *opened(plan, base / "stages"),
            *("setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"),
            sys.executable,
        ]
        run = {"capture_output": True, "text": True, "env": env, "check": False}
        can = subprocess.run([*become, "-c", "import autograder.cli, ipykernel"], **run)
        if can.returncode != 0:
            last = (can.stderr.strip().splitlines() or ["?"])[-1]
            pytest.skip(f"{user.pw_name} cannot run this environment: {last}")
        start = time.monotonic()
        grade = [*become, "-m", "autograder.cli", "grade", "--course-dir", str(course)]
        grade += ["--jobs", "1", "--no-progress", "--sandbox", "require"]
        grade += ["--timeout", "10", "--student-timeout", "120"]
        proc = subprocess.run(grade, timeout=300, **run)
        seconds = time.monotonic() - start
        if proc.returncode == 2 and "sandbox" in proc.stderr:
            reason = proc.stderr.strip().splitlines()[-1]
            skip_or_fail(f"{user.pw_name} gets no sandbox here: {reason}", "REQUIRE_SANDBOX")
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr
        found = results(course)
        assert found["a-litter"]["scores"] == FULL, proc.stdout
        assert found["b-peek"]["scores"] == FULL, found["b-peek"]["flags"]
        assert found["c-ref"]["scores"] == FULL, found["c-ref"]["flags"]
        assert found["d-peek-control"]["scores"] == {**FULL, "test_relu": 0.0}, proc.stdout
        with sqlite3.connect(course / "gradebook.db") as db:
            rows = db.execute("select student from grader_results order by graded_at")
            order = [student for (student,) in rows]
        assert order == sorted(order), "the classmates must follow the attacker"
        assert (course / "gradebook.db").stat().st_uid == user.pw_uid  # graded as that user
        line = re.search(r"largest grading process (\d+) MB; coordinator (\d+) MB", proc.stderr)
        assert line, proc.stderr
        print(
            f"graded as {user.pw_name}: largest grading process {line.group(1)} MB, "
            f"coordinator {line.group(2)} MB, {seconds:.0f} s"
        )
        assert int(line.group(1)) < 1024 and int(line.group(2)) < 1024
        # nothing of the attacker is left: no file, no folder it locked, no process
        assert not list(base.rglob(MARK))
        assert not list(scratch.iterdir()), list(scratch.rglob("*"))
        sleepers = subprocess.run(["pgrep", "-f", f"sleep {SLEEP}"], capture_output=True)
        assert sleepers.stdout.strip() == b"", "a process the attacker started outlived grading"
    finally:
        shutil.rmtree(base, ignore_errors=True)
