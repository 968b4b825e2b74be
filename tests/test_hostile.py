"""Hostile submissions graded in one run beside clean students, on the fixture course.

Every attack edits the ``relu`` answer (or the notebook around it) so that the cheat, if it
worked, would earn the relu test's point with a wrong ``relu``. Static attacks are caught by
the integrity policy before they run (flagged, every score withheld); attacks on files, the
gradebook and the machine are stopped by the sandbox at run time (the cheat fails, relu
scores 0). The course's policy here deliberately allows ``os``, ``sys``, ``signal`` and
``sqlite3`` so that those attacks reach the sandbox instead of being stopped statically.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from pathlib import Path

import nbformat
import pytest
from test_autograder_cli import ASSIGNMENT, FULL, grader, new_course, notebook, results, submit

from autograder import samples
from autograder.runtime.sandbox import REQUIRE_ENV, bwrap_problem

pytestmark = pytest.mark.autograder

PERMISSIVE = ["numpy", "math", "os", "sys", "signal", "sqlite3"]
WRONG = "def relu(z):\n    return -z\n"
RIGHT = "def relu(z):\n    return np.maximum(z, 0.0)\n"


def cheat_if(condition: str, setup: str = "") -> str:
    """A relu cell that is right only when ``condition`` holds, i.e. when the cheat worked."""
    return f"{setup}\ndef relu(z):\n    return np.maximum(z, 0.0) if {condition} else -z\n"


STATIC = {
    "alias-ref": "from course.activations import relu\n",
    "wrap-ref": "import course.activations as ca\n\ndef relu(z):\n    return ca.relu(z)\n",
    "patch-allclose": f"np.allclose = lambda *a, **k: True\n{WRONG}",
    "patch-testing": f"np.testing.assert_allclose = print\n{WRONG}",
    "plant-module": f"import sys\nsys.modules['numpy'] = sys\n{WRONG}",
    "input-transformer": "get_ipython().input_transformers_cleanup.append(lambda ls: ['pass\\n'])\n"
    + WRONG,
    "custom-exc": f"get_ipython().set_custom_exc((AssertionError,), lambda *a, **k: None)\n{WRONG}",
    "hidden-traceback": f"ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\n{WRONG}",
    "exec-evasion": f"exec('import course')\n{WRONG}",
}
"""Attacks the static policy must flag: the student's scores are withheld (recorded as 0)."""


def runtime_attacks(course: Path) -> dict[str, str]:
    """Attacks that pass the (permissive) static policy and must be stopped at run time."""
    planted = course / "planted.txt"
    return {
        "read-source": cheat_if(f"os.path.exists({str(course / 'source')!r})", "import os"),
        "read-other": cheat_if(
            f"os.path.exists({str(course / 'submitted' / 'ref')!r})", "import os"
        ),
        "write-gradebook": cheat_if(
            "WROTE", GRADEBOOK_ATTACK.format(db=str(course / "gradebook.db"))
        ),
        "write-outside": cheat_if(
            "WROTE", f"import os\nWROTE = os.system('echo x > {planted}') == 0"
        ),
        "sys-exit": f"import sys\n{WRONG}sys.exit(0)\n",
        "os-exit": f"import os\n{WRONG}os._exit(0)\n",
        "loop": "def relu(z):\n    while True:\n        pass\n",
        "loop-ignoring-sigint": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "def relu(z):\n    while True:\n        pass\n",
        "memory-bomb": f"{RIGHT}hog = np.ones((2**16, 2**16))\n",
    }


GRADEBOOK_ATTACK = """import os, sqlite3
WROTE = False
for path in [{db!r}, '../../../gradebook.db']:
    try:
        db = sqlite3.connect(str(path))
        db.execute('update grade set manual_score = 99')
        db.commit()
        WROTE = True
    except Exception:
        pass
"""


def with_relu(source_nb: nbformat.NotebookNode, code: str) -> bytes:
    """The reference notebook with the relu answer cell replaced by ``code``."""
    edited = nbformat.from_dict(json.loads(nbformat.writes(source_nb)))
    for cell in edited.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "relu":
            cell.source = code
    return samples.to_bytes(edited)


def tampered(source_nb: nbformat.NotebookNode) -> dict[str, bytes]:
    """Submissions that edit what is graded: test cells, points, grade ids, schema versions."""
    emptied = nbformat.reads(with_relu(source_nb, WRONG).decode(), as_version=4)
    edited = nbformat.reads(with_relu(source_nb, WRONG).decode(), as_version=4)
    for cell in emptied.cells + edited.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_relu":
            cell.source = "pass"
    for cell in edited.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "test_relu":
            meta.update(points=100, schema_version=1)
        elif meta.get("grade_id") == "test_mse":
            meta["grade_id"] = "test_mine"
    return {
        "emptied-test": samples.to_bytes(emptied),
        "edited-points": samples.to_bytes(edited),
        "deleted-test": samples.without_cell(
            nbformat.reads(with_relu(source_nb, WRONG).decode(), as_version=4), "test_relu"
        ),
    }


def permissive_course(folder: Path) -> Path:
    """The fixture course whose exercises allow imports of os, sys, signal and sqlite3."""
    course = new_course(folder)
    for step in ("source", "release"):
        path = course / step / ASSIGNMENT / "exercises.ipynb"
        nb = nbformat.read(path, as_version=4)
        nb.metadata["course"] = {"allowed_imports": PERMISSIVE}
        nbformat.write(nb, path)
    return course


GRADE_ARGS = ("grade", "--jobs", "2", "--timeout", "3", "--cpu-seconds", "10")


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory):
    """One grading run: two clean students and every attack; then an export."""
    course = permissive_course(tmp_path_factory.mktemp("hostile") / "course")
    source = notebook(course, "source")
    submit(course, "ref", samples.to_bytes(source))
    submit(course, "bug-mse", samples.to_bytes(samples.mutants(source)["sum-instead-of-mean"]))
    for student, code in {**STATIC, **runtime_attacks(course)}.items():
        submit(course, student, with_relu(source, code))
    for student, data in tampered(source).items():
        submit(course, student, data)
    proc = grader(course, *GRADE_ARGS, "--student-timeout", "60")
    export = grader(course, "export")
    assert export.returncode == 0, export.stderr
    return course, proc


@pytest.fixture(scope="module")
def clean_scores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """The same two clean students graded alone."""
    course = permissive_course(tmp_path_factory.mktemp("calm") / "course")
    source = notebook(course, "source")
    submit(course, "ref", samples.to_bytes(source))
    submit(course, "bug-mse", samples.to_bytes(samples.mutants(source)["sum-instead-of-mean"]))
    proc = grader(course, *GRADE_ARGS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {s: r["scores"] for s, r in results(course).items()}


def require_sandbox() -> None:
    """Skip (visibly) without a working bubblewrap; fail instead when REQUIRE_SANDBOX=1."""
    problem = bwrap_problem()
    if problem is None:
        return
    if os.environ.get(REQUIRE_ENV, "") not in ("", "0"):
        pytest.fail(f"{REQUIRE_ENV} is set but {problem}")
    pytest.skip(f"needs the bubblewrap sandbox: {problem}")


def test_clean_students_score_as_in_a_clean_run(hostile_run, clean_scores) -> None:
    course, proc = hostile_run
    found = results(course)
    assert {s: found[s]["scores"] for s in clean_scores} == clean_scores, proc.stdout
    assert clean_scores["ref"] == FULL
    assert not found["ref"]["flags"]


@pytest.mark.parametrize("student", sorted(STATIC))
def test_static_attack_is_flagged_and_withheld(hostile_run, student: str) -> None:
    found = results(hostile_run[0])[student]
    assert any(f.startswith("integrity: relu, line") for f in found["flags"]), found
    assert any(f.startswith("withheld: ") for f in found["flags"]), found
    assert set(found["scores"].values()) == {0.0}


def test_report_shows_the_offending_line(hostile_run) -> None:
    course, proc = hostile_run
    report = (course / "reports" / "report.html").read_text(encoding="utf-8")
    assert "np.allclose = lambda *a, **k: True" in report
    assert "np.allclose = lambda *a, **k: True" in proc.stdout  # the summary table
    with (course / "reports" / "grades.csv").open(encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert rows["patch-allclose"]["total"] == "0"
    assert "withheld" in rows["patch-allclose"]["flags"]


@pytest.mark.parametrize(
    "student", ["read-source", "read-other", "write-gradebook", "write-outside"]
)
def test_sandbox_stops_file_attacks(hostile_run, student: str) -> None:
    require_sandbox()
    found = results(hostile_run[0])[student]
    assert found["status"] == "graded", found
    assert found["scores"] == {**FULL, "test_relu": 0.0}, found


def test_nothing_was_written_outside_scratch(hostile_run) -> None:
    require_sandbox()
    course = hostile_run[0]
    assert not (course / "planted.txt").exists()
    with sqlite3.connect(course / "gradebook.db") as db:
        manual = db.execute("select count(*) from grade where manual_score is not null")
        assert manual.fetchone()[0] == 0


@pytest.mark.parametrize(
    ("student", "relu", "statuses"),
    [
        ("sys-exit", 0.0, {"graded"}),
        ("os-exit", None, {"failed"}),
        ("loop", 0.0, {"graded"}),
        ("loop-ignoring-sigint", None, {"failed", "timeout", "graded"}),
        ("memory-bomb", None, {"graded", "failed"}),
    ],
)
def test_machine_attacks_cost_only_their_author(
    hostile_run, student: str, relu: float | None, statuses: set[str]
) -> None:
    found = results(hostile_run[0])[student]
    assert found["status"] in statuses, found
    assert sum(found["scores"].values()) <= sum(FULL.values())
    if relu is not None:
        assert found["scores"]["test_relu"] == relu, found


def test_memory_bomb_hits_the_cap(hostile_run) -> None:
    autograded = hostile_run[0] / "autograded" / "memory-bomb" / ASSIGNMENT / "exercises.ipynb"
    text = autograded.read_text(encoding="utf-8")
    assert "MemoryError" in text


@pytest.mark.parametrize("student", ["emptied-test", "edited-points", "deleted-test"])
def test_tampered_tests_and_metadata_are_restored(hostile_run, student: str) -> None:
    found = results(hostile_run[0])[student]
    assert found["scores"] == {**FULL, "test_relu": 0.0}, found
    assert any(f.startswith("repaired: ") for f in found["flags"]), found
