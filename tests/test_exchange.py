"""The course through nbgrader's exchange, as on a JupyterHub, with two real unprivileged users.

Root is the instructor: it releases 02-forward with ``nbgrader release_assignment``, collects
with ``grader collect --exchange``, grades, and releases feedback with ``grader feedback
--release``. Two fresh system users fetch, edit and submit with the student environment's
``nbgrader`` (one the reference solution, one a plausible bug); the first also submits the
reference in the second's name. Each then fetches exactly their own feedback, with the score
the gradebook holds, and cannot read the other's. Needs root and ``useradd``: skipped
otherwise, failed instead with ``REQUIRE_EXCHANGE=1``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import pwd
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from autograder.testing import edit_cell

pytestmark = pytest.mark.exchange

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = "02-forward"
COURSE_ID = "nn-course"
REQUIRED = os.environ.get("REQUIRE_EXCHANGE") == "1"
STUDENT_CONFIG = """\
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "nn-course"
c.Exchange.root = os.environ.get("NN_COURSE_EXCHANGE", "/srv/nbgrader/exchange")
"""
EDIT = """\
import json, sys
answers = json.load(sys.stdin)
path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    nb = json.load(f)
for cell in nb["cells"]:
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    if grade_id in answers:
        cell["source"] = answers[grade_id]
with open(path, "w", encoding="utf-8") as f:
    json.dump(nb, f, indent=1)
"""
FALLBACK_VENV = Path("/tmp/nn-exchange-venv")


def need(condition: object, reason: str) -> None:
    """Skip (or with ``REQUIRE_EXCHANGE=1`` fail) unless ``condition``."""
    if not condition:
        (pytest.fail if REQUIRED else pytest.skip)(reason)


class FallbackEnv:
    """A student venv from Debian's Python with nbgrader, until ``tests/student_env.py``."""

    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.python = self.bin / "python"

    def environ(self, **extra: str) -> dict[str, str]:
        return {"PATH": f"{self.bin}:/usr/bin:/bin", "LANG": "C.UTF-8", **extra}


@pytest.fixture(scope="module")
def student_tools():
    """The student environment: world-readable, its ``nbgrader`` on ``PATH``."""
    need(os.geteuid() == 0, "the exchange test runs as root (it creates users)")
    need(shutil.which("useradd") and shutil.which("runuser"), "no useradd or runuser")
    try:
        from student_env import student_env
    except ImportError:
        student_env = None
    if student_env is not None:
        return student_env()
    if not (FALLBACK_VENV / "bin" / "nbgrader").exists():
        python = shutil.which("python3.11") or "/usr/bin/python3"
        subprocess.run([python, "-m", "venv", str(FALLBACK_VENV)], check=True)
        pip = [str(FALLBACK_VENV / "bin" / "pip"), "install", "-q", "nbgrader==0.9.6"]
        subprocess.run(pip, check=True)
        subprocess.run(["chmod", "-R", "o+rX", str(FALLBACK_VENV)], check=True)
    return FallbackEnv(FALLBACK_VENV)


@pytest.fixture
def users(student_tools):
    """Two fresh unprivileged users with homes, removed afterwards whatever happens."""
    names = [f"nnstu-{secrets.token_hex(4)}" for _ in range(2)]
    made = []
    try:
        for name in names:
            subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], check=True)
            made.append(name)
            home = Path(pwd.getpwnam(name).pw_dir)
            config = home / ".jupyter" / "nbgrader_config.py"
            config.parent.mkdir()
            config.write_text(STUDENT_CONFIG, encoding="utf-8")
            uid = pwd.getpwnam(name).pw_uid
            for path in (config.parent, config):
                os.chown(path, uid, pwd.getpwnam(name).pw_gid)
        yield names
    finally:
        for name in made:
            subprocess.run(["userdel", "-r", name], check=False, capture_output=True)


@pytest.fixture
def exchange():
    """A fresh exchange root others can reach (pytest's own tmp folders are root's only)."""
    top = Path(tempfile.mkdtemp(prefix="nn-exchange-"))
    top.chmod(0o755)
    root = top / "exchange"
    root.mkdir()
    root.chmod(0o777)  # what nbgrader release_assignment insists on
    yield root
    shutil.rmtree(top, ignore_errors=True)


def instructor(course: Path, exchange: Path, *cmd: str) -> subprocess.CompletedProcess:
    """Run a course tool as root in ``course``, the exchange in the environment."""
    env = {k: v for k, v in os.environ.items() if k != "NN_COURSE_DB_URL"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["NN_COURSE_EXCHANGE"] = str(exchange)
    return subprocess.run(
        cmd, cwd=course, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def student(
    tools, user: str, exchange: Path, *cmd: str, stdin: str | None = None, **extra: str
) -> subprocess.CompletedProcess:
    """Run ``cmd`` as ``user`` in their home, in a clean student environment."""
    home = pwd.getpwnam(user).pw_dir
    env = {"HOME": home, "USER": user, "LOGNAME": user, "NN_COURSE_EXCHANGE": str(exchange)}
    env.update(extra)
    assignments = [f"{k}={v}" for k, v in tools.environ(**env).items()]
    return subprocess.run(
        ["runuser", "-u", user, "--", "env", "-i", *assignments, *cmd],
        cwd=home,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def ok(run: subprocess.CompletedProcess) -> str:
    """The output of a run that must succeed; its whole output in the failure otherwise."""
    assert run.returncode == 0, f"{run.args}\n{run.stdout}\n{run.stderr}"
    return run.stdout + run.stderr


def answers(bug: dict | None = None) -> dict[str, str]:
    """The source's solution cells by grade id, without markers, with ``bug`` applied."""
    notebook = nbformat.read(REPO / "source" / ASSIGNMENT / "exercises.ipynb", as_version=4)
    if bug:
        edit_cell(notebook, bug["cell"], bug["old"], bug["new"])
    found = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and not meta.get("grade") and cell.cell_type == "code":
            lines = [ln for ln in cell.source.splitlines() if "## BEGIN" not in ln]
            found[meta["grade_id"]] = "\n".join(ln for ln in lines if "## END" not in ln)
    return found


def first_bug() -> dict:
    """The first plausible bug of module 02 (tests/bugs/bugs_02.py)."""
    spec = importlib.util.spec_from_file_location("bugs_02", REPO / "tests/bugs/bugs_02.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BUGS[0]


def work(tools, user: str, exchange: Path, solution: dict[str, str]) -> None:
    """A student's session: fetch, fill in the exercises, submit."""
    ok(student(tools, user, exchange, "nbgrader", "fetch_assignment", ASSIGNMENT))
    notebook = f"{ASSIGNMENT}/exercises.ipynb"
    ok(student(tools, user, exchange, "python3", "-c", EDIT, notebook, stdin=json.dumps(solution)))
    ok(student(tools, user, exchange, "nbgrader", "submit", ASSIGNMENT))


def page_score(page: str) -> float:
    """The score a feedback page states."""
    found = re.search(r"</strong>: ([0-9.]+) / [0-9.]+ points", page)
    assert found, page[:2000]
    return float(found.group(1))


def test_course_through_the_exchange(student_tools, users, exchange, tmp_path: Path) -> None:
    ada, ben = users
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", course)
    for step in ("source", "release"):
        shutil.copytree(REPO / step / ASSIGNMENT, course / step / ASSIGNMENT)
    ok(instructor(course, exchange, "nbgrader", "release_assignment", ASSIGNMENT))

    bug = first_bug()
    with ThreadPoolExecutor(2) as pool:
        sessions = [
            pool.submit(work, student_tools, ada, exchange, answers()),
            pool.submit(work, student_tools, ben, exchange, answers(bug)),
        ]
        for session in sessions:
            session.result()
    # ada submits the reference in ben's name, after ben: the latest submission "of ben's"
    forged = student(
        student_tools, ada, exchange, "nbgrader", "submit", ASSIGNMENT, f"--student={ben}", USER=ben
    )
    ok(forged)
    inbound = exchange / COURSE_ID / "inbound"
    assert len([p for p in inbound.iterdir() if p.name.startswith(f"{ben}+")]) == 2

    collected = ok(
        instructor(course, exchange, "grader", "collect", "--exchange", "--assignment", ASSIGNMENT)
    )
    assert "imported 2, rejected 1" in collected, collected
    assert f"submitted in {ben}'s name by {ada}" in collected, collected
    for user in users:  # the notebook as submitted, byte for byte, and nbgrader's secret
        submitted = course / "submitted" / user / ASSIGNMENT
        [genuine] = [
            p for p in inbound.glob(f"{user}+*") if p.stat().st_uid == pwd.getpwnam(user).pw_uid
        ]
        for name in ("exercises.ipynb", "timestamp.txt", "submission_secret.txt"):
            assert (submitted / name).read_bytes() == (genuine / name).read_bytes(), name

    graded = instructor(
        course, exchange, "grader", "grade", ASSIGNMENT, "--jobs", "2", "--no-progress"
    )
    assert graded.returncode == 0, graded.stdout + graded.stderr
    released = ok(instructor(course, exchange, "grader", "feedback", ASSIGNMENT, "--release"))
    assert "released 2, not released 0" in released, released

    with sqlite3.connect(course / "gradebook.db") as db:
        rows = db.execute("select student, scores, max_scores from grader_results").fetchall()
    scores = {s: (json.loads(sc), json.loads(mx)) for s, sc, mx in rows}
    full = sum(scores[ada][1].values())
    assert scores[ada][0] == scores[ada][1]
    assert sum(scores[ben][0].values()) < full
    for part in bug["loses"]:
        assert scores[ben][0][part] < scores[ben][1][part]

    outbound = exchange / COURSE_ID / "feedback"
    assert outbound.stat().st_mode & 0o777 == 0o711
    pages = {}
    for user in users:
        secret = (course / "submitted" / user / ASSIGNMENT / "submission_secret.txt").read_bytes()
        pages[user] = outbound / (hashlib.md5(secret + b"exercises").hexdigest() + ".html")
        info = pages[user].stat()
        assert (info.st_uid, info.st_mode & 0o777) == (pwd.getpwnam(user).pw_uid, 0o600)
    assert sorted(p.name for p in outbound.iterdir()) == sorted(p.name for p in pages.values())

    with ThreadPoolExecutor(2) as pool:
        fetched = list(
            pool.map(
                lambda user: ok(
                    student(student_tools, user, exchange, "nbgrader", "fetch_feedback", ASSIGNMENT)
                ),
                users,
            )
        )
    for user, other in ((ada, ben), (ben, ada)):
        home = Path(pwd.getpwnam(user).pw_dir)
        [page] = (home / ASSIGNMENT / "feedback").rglob("*.html")  # one page, their own
        text = page.read_text(encoding="utf-8")
        assert f"<strong>{user}</strong>" in text and other not in text
        assert page_score(text) == sum(scores[user][0].values())
        # the other's page: not listable, not readable even knowing its name; nor the inbound
        probe = student(
            student_tools,
            user,
            exchange,
            "sh",
            "-c",
            'test -r "$1"; echo $?; ls "$2" >/dev/null 2>&1; echo $?; ls "$3" >/dev/null 2>&1;'
            " echo $?",
            "probe",
            str(pages[other]),
            str(outbound),
            str(inbound),
        )
        assert ok(probe).split() == ["1", "2", "2"], probe.stdout
    assert page_score(pages[ada].read_text(encoding="utf-8")) == full
    assert fetched
