"""The course through nbgrader's exchange, as on a JupyterHub, with two real unprivileged users.

Root is the instructor: it releases 02-forward with ``nbgrader release_assignment``, collects
with ``grader collect --exchange``, grades, and releases feedback with ``grader feedback
--release``. Two fresh system users fetch, edit and submit with the student environment's
``nbgrader`` (one the reference solution, one a plausible bug); the first also submits the
reference in the second's name. Each then fetches exactly their own feedback, with the score
the gradebook holds, and cannot read the other's. Needs root and ``useradd``: skipped
otherwise, failed instead with ``REQUIRE_EXCHANGE=1``.

Each student is one long-lived process that runs nbgrader's fetch, submit and fetch-feedback
apps in turn, as the Assignment List runs them inside a student's Jupyter server: the same
code as the ``nbgrader`` commands, without paying nbgrader's 3-4 s import for every step.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import re
import secrets
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from support import skip_or_fail, specs, unconfined_args

from autograder.pipeline.coursedir import REPO_ROOT
from autograder.testing import edit_cell

pytestmark = pytest.mark.exchange

REPO = REPO_ROOT
ASSIGNMENT = "02-forward"
COURSE_ID = "nn-course"
REQUIRE_ENV = "REQUIRE_EXCHANGE"
STUDENT_CONFIG = """\
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "nn-course"
c.Exchange.root = os.environ.get("NN_COURSE_EXCHANGE", "/srv/nbgrader/exchange")
"""
SESSION = """\
import json, os, sys
from nbgrader.apps import FetchAssignmentApp, FetchFeedbackApp, SubmitApp

APPS = {
    "fetch_assignment": FetchAssignmentApp,
    "submit": SubmitApp,
    "fetch_feedback": FetchFeedbackApp,
}
replies = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)  # whatever nbgrader prints goes to the log, not into the replies
sys.stdout = sys.stderr


def edit(path, answers):
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    for cell in nb["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(nb, f, indent=1)


def probe(path):
    if os.path.isdir(path):
        try:
            return len(os.listdir(path))
        except PermissionError:
            return "unlistable"
    return "readable" if os.access(path, os.R_OK) else "unreadable"


for line in sys.stdin:
    request = json.loads(line)
    command, *args = request["argv"]
    os.environ.update(request["env"])
    try:
        if command == "edit":
            result = edit(*args)
        elif command == "probe":
            result = [probe(path) for path in args]
        else:
            app = APPS[command]()
            app.initialize(args)
            app.start()
            result = None
        reply = {"ok": True, "result": result}
    except BaseException as exc:  # a failing nbgrader app exits with SystemExit
        reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(reply), file=replies, flush=True)
"""
FALLBACK_VENV = Path("/tmp/nn-exchange-venv")
STEP_SECONDS = 300


class FallbackEnv:
    """A student venv from Debian's Python with nbgrader alone, without ``tests/student_env.py``.

    It has no course configuration of its own: each user gets :data:`STUDENT_CONFIG` in
    ``~/.jupyter`` instead.
    """

    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.python = self.bin / "python"

    def environ(self, **extra: str) -> dict[str, str]:
        return {"PATH": f"{self.bin}:/usr/bin:/bin", "LANG": "C.UTF-8", **extra}


@pytest.fixture(scope="module")
def student_tools():
    """The student environment: world-readable, its ``nbgrader`` on ``PATH``."""
    if os.geteuid() != 0:
        skip_or_fail("the exchange test runs as root (it creates users)", REQUIRE_ENV)
    if not (shutil.which("useradd") and shutil.which("runuser")):
        skip_or_fail("no useradd or runuser", REQUIRE_ENV)
    try:
        from student_env import student_env
    except ModuleNotFoundError as exc:
        if exc.name != "student_env":
            raise
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
            if isinstance(student_tools, FallbackEnv):
                user = pwd.getpwnam(name)
                config = Path(user.pw_dir) / ".jupyter" / "nbgrader_config.py"
                config.parent.mkdir()
                config.write_text(STUDENT_CONFIG, encoding="utf-8")
                for path in (config.parent, config):
                    os.chown(path, user.pw_uid, user.pw_gid)
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


def instructor(course: Path, exchange: Path, *cmd: str, **kwargs) -> subprocess.Popen:
    """Start a course tool as root in ``course``, the exchange in the environment."""
    env = {k: v for k, v in os.environ.items() if k != "NN_COURSE_DB_URL"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["NN_COURSE_EXCHANGE"] = str(exchange)
    return subprocess.Popen(
        cmd, cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def ok(run: subprocess.Popen) -> str:
    """The output of a tool that must succeed; all of it in the failure otherwise."""
    out, _ = run.communicate(timeout=600)
    assert run.returncode == 0, f"{run.args}\n{out}"
    return out


class Session:
    """A student's Jupyter-like process, running as that user in their home."""

    def __init__(self, tools, user: str, exchange: Path, log: Path) -> None:
        self.user = user
        self.log = log
        home = pwd.getpwnam(user).pw_dir
        env = {"HOME": home, "USER": user, "LOGNAME": user, "NN_COURSE_EXCHANGE": str(exchange)}
        tools_env = tools.environ()  # its PATH; nothing else of root's environment
        env.update((k, tools_env[k]) for k in ("PATH", "LANG") if k in tools_env)
        env.setdefault("LANG", "C.UTF-8")
        assignments = [f"{k}={v}" for k, v in env.items()]
        with log.open("w") as err:
            self.process = subprocess.Popen(
                [
                    *("runuser", "-u", user, "--", "env", "-i", *assignments),
                    *(str(tools.python), "-u", "-c", SESSION),
                ],
                cwd=home,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                start_new_session=True,
            )

    def __call__(self, *argv: str, **env: str):
        """Run one step (an nbgrader app, ``edit`` or ``probe``); its result, or fail."""
        self.process.stdin.write(json.dumps({"argv": argv, "env": env}) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], STEP_SECONDS)
        line = self.process.stdout.readline() if ready else ""
        reply = json.loads(line) if line else {"ok": False, "error": "no answer"}
        log = self.log.read_text(encoding="utf-8", errors="replace")[-3000:]
        assert reply["ok"], f"{self.user} {argv}: {reply['error']}\n{log}"
        return reply["result"]

    def close(self) -> None:
        """End the session (end of input), killing its process group if it hangs."""
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def sessions(student_tools, users, exchange, tmp_path: Path):
    """One session per user, closed before the users are removed."""
    started = [Session(student_tools, u, exchange, tmp_path / f"{u}.log") for u in users]
    yield started
    for session in started:
        session.close()


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
    return specs("bugs")[ASSIGNMENT][0]


def work(session: Session, solution: dict[str, str]) -> None:
    """A student's assignment: fetch, fill in the exercises, submit."""
    session("fetch_assignment", ASSIGNMENT)
    session("edit", f"{ASSIGNMENT}/exercises.ipynb", solution)
    session("submit", ASSIGNMENT)


def plant(inbound: Path, ada: str, ben: str) -> dict[str, str]:
    """More a submitter can leave in the inbound, dated last, and why each must be rejected."""
    stamp = f"{ASSIGNMENT}+2099-01-01 00:00:00.000000 UTC"
    genuine = {u: next(p for p in inbound.glob(f"{u}+*") if owner(p) == u) for u in (ada, ben)}
    link = inbound / f"{ben}+{stamp}+link"
    link.symlink_to(genuine[ada])
    nobody = inbound / f"nnstu-nobody{secrets.token_hex(3)}+{stamp}+x"
    nobody.mkdir()
    shutil.copy(genuine[ada] / "exercises.ipynb", nobody)
    foreign = inbound / f"{ada}+{stamp}+theirs"  # ada's folder, ben's notebook in it
    shutil.copytree(genuine[ben], foreign)
    os.chown(foreign, pwd.getpwnam(ada).pw_uid, -1)
    for path in foreign.iterdir():
        os.chown(path, pwd.getpwnam(ada if path.suffix == ".txt" else ben).pw_uid, -1)
    return {
        link.name: "symlink skipped",
        nobody.name: f"no system user named {nobody.name.split('+')[0]}",
        foreign.name: f"exercises.ipynb: belongs to {ben}, not {ada}",
    }


def owner(path: Path) -> str:
    """The name of the owner of ``path`` (not following a symlink)."""
    return pwd.getpwuid(path.lstat().st_uid).pw_name


def page_score(page: str) -> float:
    """The score a feedback page states."""
    found = re.search(r"</strong>: ([0-9.]+) / [0-9.]+ points", page)
    assert found, page[:2000]
    return float(found.group(1))


def test_course_through_the_exchange(users, sessions, exchange, tmp_path: Path) -> None:
    ada, ben = users
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", course)
    for step in ("source", "release"):
        shutil.copytree(REPO / step / ASSIGNMENT, course / step / ASSIGNMENT)
    ok(instructor(course, exchange, "nbgrader", "release_assignment", ASSIGNMENT))
    published = exchange / COURSE_ID / "outbound" / ASSIGNMENT  # the release, nothing else
    assert {p.name: p.read_bytes() for p in published.iterdir()} == {
        p.name: p.read_bytes() for p in (course / "release" / ASSIGNMENT).iterdir()
    }
    # grader release checks release/ and builds the grading kit: while the students work
    kit = instructor(course, exchange, "grader", "release", ASSIGNMENT)

    bug = first_bug()
    with ThreadPoolExecutor(2) as pool:
        for done in [
            pool.submit(work, sessions[0], answers()),
            pool.submit(work, sessions[1], answers(bug)),
        ]:
            done.result()
    # ada submits the reference in ben's name, after ben: the latest submission "of ben's"
    sessions[0]("submit", ASSIGNMENT, f"--student={ben}", USER=ben)
    inbound = exchange / COURSE_ID / "inbound"
    assert len([p for p in inbound.iterdir() if p.name.startswith(f"{ben}+")]) == 2
    planted = plant(inbound, ada, ben)
    ok(kit)

    collect = ("grader", "collect", "--exchange", "--assignment", ASSIGNMENT)
    collected = ok(instructor(course, exchange, *collect))
    assert "imported 2, rejected 4" in collected, collected
    assert f"submitted in {ben}'s name by {ada}" in collected, collected
    for name, reason in planted.items():
        assert f"{name}: {reason}" in collected, collected
    for user in users:  # the notebook as submitted, byte for byte, and nbgrader's secret
        submitted = course / "submitted" / user / ASSIGNMENT
        [genuine] = [
            p for p in inbound.glob(f"{user}+*") if owner(p) == user and p.name not in planted
        ]
        for name in ("exercises.ipynb", "timestamp.txt", "submission_secret.txt"):
            assert (submitted / name).read_bytes() == (genuine / name).read_bytes(), name

    grade = ("grader", "grade", ASSIGNMENT, "--jobs", "2", "--no-progress", *unconfined_args())
    ok(instructor(course, exchange, *grade))
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
    assert page_score(pages[ada].read_text(encoding="utf-8")) == full

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda session: session("fetch_feedback", ASSIGNMENT), sessions))
    for session, user, other in ((sessions[0], ada, ben), (sessions[1], ben, ada)):
        home = Path(pwd.getpwnam(user).pw_dir)
        [page] = (home / ASSIGNMENT / "feedback").rglob("*.html")  # one page, their own
        text = page.read_text(encoding="utf-8")
        assert f"<strong>{user}</strong>" in text and other not in text
        assert "HIDDEN TESTS" not in text
        assert page_score(text) == sum(scores[user][0].values())
        # the other's page cannot be read even by name; the exchange's folders cannot be listed
        probed = session("probe", str(pages[other]), str(outbound), str(inbound))
        assert probed == ["unreadable", "unlistable", "unlistable"]
