"""Hostile submissions graded in one run beside clean students, on the fixture course.

Every attack edits the ``relu`` answer (or the notebook around it) so that the cheat, if it
worked, would earn the relu test's point with a wrong ``relu`` (or ``mse``'s with a result
object). Test cells run in the grader's process, so whole classes of attacks gain nothing by
construction; each class is tried with submissions of our own:

- **re-tagged or skipped cells**: test cells turned into raw, markdown or answer cells, given
  execution-skipping tags, renamed, duplicated or moved;
- **reaching IPython, sys, os or frames** from allowed modules, and rewriting later cells;
- **patching modules**: NumPy, ``numpy.testing``, ``course``, ``course.grading``,
  ``sys.modules``;
- **result objects** with a lying ``__array__``, ``__eq__``, ``__float__`` or ``__bool__``, and
  an always-equal answer;
- **the boundary itself**: a malformed ``.npy``, garbage or silence instead of an answer, huge
  or deeply nested results, handles where data is expected;
- **files and the machine** (stopped by the sandbox): reading the hidden tests or another
  student, writing the gradebook, exiting, looping, exhausting memory.

The only static rule, a graded function that uses the reference, holds back that function's
points for review. Honest students in the same run score exactly as in a clean run.
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

pytestmark = [pytest.mark.autograder, pytest.mark.xdist_group("hostile")]

WRONG = "def relu(z):\n    return -z\n"
RIGHT = "def relu(z):\n    return np.maximum(z, 0.0)\n"
CHEATED = {**FULL, "test_relu": 0.0}


def cheat_if(condition: str, setup: str = "") -> str:
    """A relu cell that is right only when ``condition`` holds, i.e. when the cheat worked."""
    return f"{setup}\ndef relu(z):\n    return np.maximum(z, 0.0) if {condition} else -z\n"


def agent_hack(body: str) -> str:
    """Replace the kernel's request loop by ``body`` (a function of the agent module ``A``)."""
    return (
        f"{WRONG}import sys\nA = sys.modules['_grader_agent']\n"
        f"def _serve():\n{body}\nA.serve = _serve\n"
    )


REACH_AND_PATCH = {
    "input-transformer": "get_ipython().input_transformers_cleanup.append(lambda ls: ['pass\\n'])\n"
    + WRONG,
    "custom-exc": f"get_ipython().set_custom_exc((AssertionError,), lambda *a, **k: None)\n{WRONG}",
    "hidden-traceback": f"ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\n{WRONG}",
    "frames": "import sys\nf = sys._getframe()\nwhile f.f_back: f = f.f_back\n"
    "f.f_globals['relu_ok'] = True\n" + WRONG,
    "sys-from-numpy": f"np.core.multiarray.__dict__.get('sys', None)\n{WRONG}",
    "patch-allclose": f"np.allclose = lambda *a, **k: True\n{WRONG}",
    "patch-testing": f"np.testing.assert_allclose = print\n{WRONG}",
    "patch-where": f"np.where = lambda *a, **k: -a[1]\n{WRONG}",
    "plant-module": f"import sys\nsys.modules['numpy'] = sys\n{WRONG}",
    "patch-course": "import course.grading, course.activations\n"
    "course.grading.check_close = lambda *a, **k: None\n"
    "course.activations.relu = lambda z: -z\n" + WRONG,
    "exec-evasion": f"exec('import course')\n{WRONG}",
}
"""Scratch code that reaches or patches the interpreter: harmless outside graded functions."""

RESULT_OBJECTS = {
    "lying-array": "class Liar:\n    def __array__(self, *a, **k):\n"
    "        return np.zeros((4, 5))\n    def __eq__(self, other): return True\n"
    "def relu(z):\n    return Liar()\n",
    "ndarray-subclass": "class Eq(np.ndarray):\n"
    "    def __eq__(self, o): return np.ones(self.shape, bool)\n"
    "def relu(z):\n    return (-z).view(Eq)\n",
    "generator": "def relu(z):\n    return (v for v in [np.maximum(z, 0)])\n",
    "huge-result": "def relu(z):\n    return np.zeros(10**8)\n",
    "deep-result": "def relu(z):\n    out = []\n    for _ in range(10000):\n        out = [out]\n"
    "    return out\n",
}
"""Results that are not plain data stay in the kernel: tests see a handle and fail."""

BOUNDARY = {
    "agent-garbage": agent_hack("    get_ipython().kernel.raw_input('{not json')"),
    "agent-bad-npy": agent_hack(
        "    import json, base64\n"
        "    bad = b'\\x93NUMPY\\x01\\x00v\\x00{\\'descr\\': \\'|O\\'}'\n"
        "    bad = base64.b64encode(bad).decode()\n"
        "    ready = json.dumps({'m': {'op': 'ready'}, 'b': []})\n"
        "    get_ipython().kernel.raw_input(ready)\n"
        "    result = {'op': 'result', 'value': ['a', 0, 0], 'sync': ['d', 0, []]}\n"
        "    msg = json.dumps({'m': result, 'b': [bad]})\n"
        "    get_ipython().kernel.raw_input(msg)"
    ),
    "agent-silent": agent_hack("    while True:\n        pass"),
    "agent-forged-true": agent_hack(
        "    import json\n"
        "    ready = json.dumps({'m': {'op': 'ready'}, 'b': []})\n"
        "    result = {'op': 'result', 'value': ['b', 1], 'sync': ['d', 0, []]}\n"
        "    true = json.dumps({'m': result, 'b': []})\n"
        "    get_ipython().kernel.raw_input(ready)\n"
        "    while True:\n        get_ipython().kernel.raw_input(true)"
    ),
}
"""A kernel that answers garbage, a malformed array, nothing, or ``True`` to everything."""


def runtime_attacks(course: Path) -> dict[str, str]:
    """Attacks on files and the machine, which the sandbox and the caps must stop."""
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
        "plant-symlinks": PLANT.format(
            db=str(course / "gradebook.db"),
            source=str(course / "source"),
            ref=str(course / "submitted" / "ref"),
        )
        + WRONG,
        "poison-connection-file": POISON.format(db=str(course / "gradebook.db")) + WRONG,
        "fill-disk": "with open('big', 'wb') as f:\n    for _ in range(300):\n"
        "        f.write(b'0' * 2**20)\n" + WRONG,
        "sys-exit": f"import sys\n{WRONG}sys.exit(0)\n",
        "os-exit": f"import os\n{WRONG}os._exit(0)\n",
        "loop": "def relu(z):\n    while True:\n        pass\n",
        "loop-ignoring-sigint": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "def relu(z):\n    while True:\n        pass\n",
        "memory-bomb": f"{RIGHT}hog = np.ones((2**16, 2**16))\n",
    }


PLANT = """import os
for i, target in enumerate([{db!r}, {source!r}, {ref!r}, '/dev/zero', '../../gradebook.db']):
    for name in (f'link{{i}}', f'../link{{i}}', f'../../link{{i}}', f'/tmp/link{{i}}'):
        try:
            os.symlink(target, name)
        except OSError:
            pass
"""
POISON = """import os, sys
cf = sys.argv[sys.argv.index('-f') + 1]
folder = os.path.dirname(cf)
for path in [cf, os.path.join(folder, '..', 'kernel.json')]:
    attempts = [os.remove, lambda p: os.symlink({db!r}, p), lambda p: open(p, 'w').write('{{}}')]
    for attempt in attempts:
        try:
            attempt(path)
        except OSError:
            pass
"""
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
    """Submissions that re-tag, skip, empty or rename what is graded around a wrong relu."""

    def variant(edit) -> bytes:
        nb = nbformat.reads(with_relu(source_nb, WRONG).decode(), as_version=4)
        for index, cell in enumerate(nb.cells):
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            replacement = edit(gid, cell)
            if replacement is not None:
                nb.cells[index] = replacement
        return samples.to_bytes(nb)

    def raw(gid, cell):
        if gid == "test_relu":
            return nbformat.v4.new_raw_cell(cell.source, metadata=cell.metadata)
        return None

    def markdown(gid, cell):
        if gid == "test_relu":
            return nbformat.v4.new_markdown_cell("skipped", metadata=cell.metadata)
        return None

    def as_answer(gid, cell):
        if gid == "test_relu":
            cell.source = "pass"
            cell.metadata["nbgrader"].update(solution=True, grade=False, points=0)
        return None

    def skip_tags(gid, cell):
        if gid == "test_relu":
            cell.metadata["tags"] = ["skip-execution", "raises-exception", "remove-cell"]
            cell.metadata["nbgrader"].update(grade=False, schema_version=1)
            cell.metadata["jupyter"] = {"source_hidden": True}
        return None

    def renamed(gid, cell):
        meta = cell.metadata.get("nbgrader", {})
        if gid == "test_relu":
            cell.source = "pass"
            meta.update(points=100, schema_version=4)
        elif gid == "test_mse":
            meta["grade_id"] = "test_mine"
        return None

    def relu_as_setup(gid, cell):
        if gid == "relu":
            cell.source = RIGHT
            cell.metadata["nbgrader"].update(grade_id="setup", solution=False, locked=True)
        return None

    deleted = samples.without_cell(
        nbformat.reads(with_relu(source_nb, WRONG).decode(), as_version=4), "test_relu"
    )
    return {
        "test-as-raw": variant(raw),
        "test-as-markdown": variant(markdown),
        "test-as-answer": variant(as_answer),
        "test-skip-tags": variant(skip_tags),
        "test-renamed-and-repointed": variant(renamed),
        "relu-tagged-as-setup": variant(relu_as_setup),
        "test-deleted": deleted,
    }


GRADE_ARGS = ("grade", "--jobs", "2", "--timeout", "5", "--cpu-seconds", "20")
ATTACKS = {**REACH_AND_PATCH, **RESULT_OBJECTS, **BOUNDARY}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory):
    """One grading run: two clean students and every attack; then an export."""
    course = new_course(tmp_path_factory.mktemp("hostile") / "course")
    source = notebook(course, "source")
    submit(course, "ref", samples.to_bytes(source))
    submit(course, "bug-mse", samples.to_bytes(samples.mutants(source)["sum-instead-of-mean"]))
    for student, code in {**ATTACKS, **runtime_attacks(course), **REVIEWED}.items():
        submit(course, student, with_relu(source, code))
    submit(course, "always-equal", with_cell(source, "mse", ALWAYS_EQUAL))
    for student, data in tampered(source).items():
        submit(course, student, data)
    proc = grader(course, *GRADE_ARGS, "--student-timeout", "120")
    export = grader(course, "export")
    assert export.returncode == 0, export.stderr
    return course, proc


@pytest.fixture(scope="module")
def clean_scores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """The same two clean students graded alone."""
    course = new_course(tmp_path_factory.mktemp("calm") / "course")
    source = notebook(course, "source")
    submit(course, "ref", samples.to_bytes(source))
    submit(course, "bug-mse", samples.to_bytes(samples.mutants(source)["sum-instead-of-mean"]))
    proc = grader(course, *GRADE_ARGS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {s: r["scores"] for s, r in results(course).items()}


ALWAYS_EQUAL = (
    "class Same(float):\n    def __eq__(self, other): return True\n"
    "    def __sub__(self, other): return 0.0\n    def __abs__(self): return 0.0\n"
    "def mse(y_true, y_pred):\n    return Same(1.0)\n"
)
REVIEWED = {
    "alias-ref": "from course.activations import relu\n",
    "wrap-ref": "import course.activations as ca\n\ndef relu(z):\n    return ca.relu(z)\n",
    "getattr-ref": "import course.activations as ca\n\ndef relu(z):\n"
    "    return getattr(ca, 're' + 'lu')(z)\n",
}
"""Graded functions that use the reference: right answers, held back for review."""


def with_cell(source_nb: nbformat.NotebookNode, grade_id: str, code: str) -> bytes:
    edited = nbformat.from_dict(json.loads(nbformat.writes(source_nb)))
    for cell in edited.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = code
    return samples.to_bytes(edited)


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


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_attack_gains_nothing(hostile_run, student: str) -> None:
    found = results(hostile_run[0])[student]
    assert found["status"] == "graded", found
    # an attack that breaks the kernel's side (an input transformer, a fake agent) is replayed
    # into every fresh kernel, so it may lose more than the part it aimed at, never gain
    assert all(found["scores"][k] <= v for k, v in CHEATED.items()), found
    if student in RESULT_OBJECTS or student.startswith("patch-"):
        assert found["scores"] == CHEATED, found
    assert not any(f.startswith("review: ") for f in found["flags"]), found


def test_always_equal_answer_scores_nothing(hostile_run) -> None:
    found = results(hostile_run[0])["always-equal"]
    assert found["scores"] == {**FULL, "test_mse": 0.0}, found


@pytest.mark.parametrize("student", sorted(REVIEWED))
def test_using_the_reference_holds_back_that_part_only(hostile_run, student: str) -> None:
    found = results(hostile_run[0])[student]
    assert any(f.startswith("review: test_relu: relu: ") for f in found["flags"]), found
    assert any(f.startswith("withheld: 1 of 1 points on test_relu") for f in found["flags"]), found
    assert found["scores"] == CHEATED, found


def test_report_shows_the_offending_line(hostile_run) -> None:
    course, proc = hostile_run
    report = (course / "reports" / "report.html").read_text(encoding="utf-8")
    assert "return ca.relu(z)" in report
    assert "return ca.relu(z)" in proc.stdout  # the summary table
    with (course / "reports" / "grades.csv").open(encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert float(rows["wrap-ref"]["total"]) == sum(CHEATED.values())
    assert "withheld" in rows["wrap-ref"]["flags"]


@pytest.mark.parametrize(
    "student",
    [
        "read-source", "read-other", "write-gradebook", "write-outside",
        "plant-symlinks", "poison-connection-file", "fill-disk",
    ],
)  # fmt: skip
def test_sandbox_stops_file_attacks(hostile_run, student: str) -> None:
    require_sandbox()
    found = results(hostile_run[0])[student]
    assert found["status"] == "graded", found
    assert found["scores"] == CHEATED, found


def test_nothing_was_written_outside_scratch(hostile_run) -> None:
    require_sandbox()
    course = hostile_run[0]
    assert not (course / "planted.txt").exists()
    with sqlite3.connect(course / "gradebook.db") as db:
        manual = db.execute("select count(*) from grade where manual_score is not null")
        assert manual.fetchone()[0] == 0
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize(
    ("student", "scores"),
    [
        ("sys-exit", CHEATED),
        ("os-exit", CHEATED),
        ("loop", CHEATED),
        ("loop-ignoring-sigint", CHEATED),
        ("memory-bomb", FULL),
    ],
)
def test_machine_attacks_cost_only_their_author(hostile_run, student: str, scores) -> None:
    found = results(hostile_run[0])[student]
    assert found["status"] == "graded", found
    assert found["scores"] == scores, found


def test_memory_bomb_hits_the_cap(hostile_run) -> None:
    autograded = hostile_run[0] / "autograded" / "memory-bomb" / ASSIGNMENT / "exercises.ipynb"
    text = autograded.read_text(encoding="utf-8")
    assert "MemoryError" in text


RETAGGED = [
    "test-as-raw", "test-as-markdown", "test-as-answer", "test-skip-tags",
    "test-renamed-and-repointed", "relu-tagged-as-setup", "test-deleted",
]  # fmt: skip


@pytest.mark.parametrize("student", RETAGGED)
def test_retagged_or_skipped_cells_gain_nothing(hostile_run, student: str) -> None:
    found = results(hostile_run[0])[student]
    assert found["scores"] == CHEATED, found
