"""Similarity for review (``autograder/pipeline/similarity.py``): copies appear, honest work
does not, and the report shows them without changing a score.

Submissions are release notebooks of the course with answer cells replaced, built in memory
and fed to the similarity function directly; nothing here starts a kernel. The report's test
exports the fixture course with an ``autograded/`` folder written by hand (what grading keeps
there), so it grades nothing either.
"""

from __future__ import annotations

import csv
import inspect
import json
from pathlib import Path

import nbformat
import pytest
from support import ASSIGNMENT, apply_solution, grader, new_course, notebook

import course.losses
from autograder.pipeline import similarity
from autograder.pipeline.coursedir import REPO_ROOT
from autograder.pipeline.similarity import SOLUTION, FunctionSimilarity, Match

pytestmark = [pytest.mark.autograder, pytest.mark.xdist_group("similarity")]

# -- a reference pasted from inspect.getsource, its names changed ---------------------------
RENAMES = {"y_true": "target", "y_pred": "guess", "_pair": "_same_shape"}


def pasted(*functions: object) -> str:
    """The reference's text as a student pastes it (``inspect.getsource``), names changed."""
    text = "\n\n".join(inspect.getsource(f) for f in functions)
    for old, new in RENAMES.items():
        text = text.replace(old, new)
    return f"# found this, works\n{text}"


# -- one student's own categorical cross-entropy, a classmate's copy, an independent one ----
OWN_CCE = '''
def categorical_cross_entropy(y_true, p):
    """Cross-entropy, my version."""
    probs = np.asarray(p, dtype=np.float64)
    if probs.ndim != 2:
        raise ValueError("p must be 2-D")
    rows, classes = probs.shape
    labels = np.asarray(y_true)
    if labels.ndim == 2:
        if labels.shape != probs.shape:
            raise ValueError("one-hot targets must have the shape of p")
        labels = labels.argmax(axis=1)
    elif len(labels) != rows:
        raise ValueError("one label per row")
    tiny = np.finfo(probs.dtype).eps
    picked = np.clip(probs[np.arange(rows), labels], tiny, 1 - tiny)
    return float(-np.log(picked).mean())
'''
# the same, names changed, lines joined and split, parentheses and comments added
COPIED_CCE = """
def categorical_cross_entropy(y_true, p):
    # cross entropy
    P = np.asarray(p, dtype=np.float64)
    if P.ndim != 2: raise ValueError("expected a matrix")
    n, k = P.shape
    t = np.asarray(y_true)
    if t.ndim == 2:
        if t.shape != P.shape:
            raise ValueError(
                "shapes differ"
            )
        t = t.argmax(axis=1)  # back to labels
    elif len(t) != n:
        raise ValueError("wrong number of labels")
    e = np.finfo(P.dtype).eps
    chosen = np.clip(P[np.arange(n), t], e, (1 - e))
    return float(-np.log(chosen).mean())
"""
INDEPENDENT_CCE = """
import math


def categorical_cross_entropy(y_true, p):
    p = np.array(p, dtype=float)
    if len(p.shape) != 2:
        raise ValueError("expected an (N, K) array")
    N, K = p.shape
    y = np.array(y_true)
    if y.ndim == 1:
        if y.size != N:
            raise ValueError("need N labels")
        y = np.eye(K)[y]
    if y.shape != (N, K):
        raise ValueError("targets do not match p")
    eps = np.finfo(p.dtype).eps
    total = 0.0
    for n in range(N):
        for k in range(K):
            if y[n, k]:
                total -= y[n, k] * math.log(min(max(p[n, k], eps), 1 - eps))
    return total / N
"""
HELPER_CCE = """
def _rows_and_labels(probs, y_true):
    y = np.asarray(y_true)
    if y.ndim == 1:
        if y.shape[0] != probs.shape[0]:
            raise ValueError("labels and rows differ")
        return y
    if y.shape != probs.shape:
        raise ValueError("one-hot targets must match p")
    return np.argmax(y, axis=1)


def categorical_cross_entropy(y_true, p):
    probs = np.asarray(p, dtype=float)
    if probs.ndim != 2:
        raise ValueError("p must be (N, K)")
    labels = _rows_and_labels(probs, y_true)
    eps = np.finfo(probs.dtype).eps
    chosen = probs[np.arange(len(labels)), labels]
    return float(np.mean(-np.log(np.clip(chosen, eps, 1 - eps))))
"""
# a short, honest sigmoid: a formula, written the same way by many
SHORT_SIGMOID = (
    "def sigmoid(z):\n    return np.exp(-np.logaddexp(0, -np.asarray(z, dtype=float)))\n"
)


def release(module: str) -> nbformat.NotebookNode:
    return nbformat.read(REPO_ROOT / "release" / module / "exercises.ipynb", as_version=4)


def read(module: str, step: str, name: str = "exercises") -> dict:
    return json.loads((REPO_ROOT / step / module / f"{name}.ipynb").read_text())


def submission(module: str, cells: dict[str, str]) -> dict:
    """The release notebook of ``module`` with the answer cells ``cells`` (grade id: source)."""
    return json.loads(nbformat.writes(apply_solution(release(module), {"cells": cells})))


def measured(module: str, submissions: dict[str, dict]) -> dict[str, FunctionSimilarity]:
    """Each graded function of ``module`` with its matches among ``submissions``."""
    found = similarity.assignment_similarity(
        read(module, "source"),
        submissions,
        read(module, "release"),
        read(module, "release", "lecture"),
    )
    return {f.name: f for f in found}


def pairs(function: FunctionSimilarity, kind: str) -> set[tuple[str, str]]:
    return {(m.left, m.right) for m in function.matches if m.kind == kind}


@pytest.fixture(scope="module")
def losses() -> dict[str, FunctionSimilarity]:
    """Module 03 measured once for a small class (see each student's cells)."""
    students = {
        "paster": {"mse": pasted(course.losses.mse, course.losses._pair)},
        "alice": {"categorical_cross_entropy": OWN_CCE},
        "bob": {"categorical_cross_entropy": COPIED_CCE},
        "carol": {"categorical_cross_entropy": INDEPENDENT_CCE},
        "dan": {"categorical_cross_entropy": HELPER_CCE},
        "untouched": {},
    }
    return measured("03-losses", {s: submission("03-losses", c) for s, c in students.items()})


def test_a_pasted_reference_appears(losses: dict[str, FunctionSimilarity]) -> None:
    mse = losses["mse"]
    assert ("paster", "course.losses.mse") in pairs(mse, "reference")
    (match,) = [m for m in mse.matches if m.right == "course.losses.mse"]
    assert match.score >= 0.95, match.shares
    pasted_code, reference_code = match.codes
    assert "_same_shape" in pasted_code and "# found this" not in pasted_code
    assert "_pair" in reference_code  # the reference's helper is part of its document


def test_a_copied_classmate_appears_and_independent_work_does_not(
    losses: dict[str, FunctionSimilarity],
) -> None:
    cce = losses["categorical_cross_entropy"]
    assert not cce.short and cce.compared == 4
    assert pairs(cce, "classmate") == {("alice", "bob")}
    (match,) = cce.matches
    assert match.score >= 0.95, match.shares
    assert match.spans[0] and match.spans[1]
    assert pairs(cce, "reference") == set()  # none of the four is the reference's


def test_the_untouched_release_and_other_functions_match_nothing(
    losses: dict[str, FunctionSimilarity],
) -> None:
    for name, function in losses.items():
        owners = {m.left for m in function.matches} | {m.right for m in function.matches}
        assert "untouched" not in owners, name
        if name not in ("mse", "categorical_cross_entropy"):
            assert function.matches == [], name


def test_a_short_honest_function_never_appears() -> None:
    cells = {"sigmoid": SHORT_SIGMOID}
    students = {s: submission("01-neuron", cells) for s in ("erin", "finn", "gail")}
    sigmoid = measured("01-neuron", students)["sigmoid"]
    assert sigmoid.short and sigmoid.compared == 0
    assert sigmoid.matches == []  # three identical lines: a formula, not a copy


def test_the_release_text_is_not_counted() -> None:
    """The skeleton, and code the lecture shows, count for nothing."""
    source, given = read("03-losses", "source"), read("03-losses", "release")
    skeleton = similarity.submission_documents(given, {"mse"})["mse"]
    solution = similarity.submission_documents(source, {"mse"})["mse"]
    plain = similarity.boilerplate_hashes(similarity.release_text(given, None, source))
    assert similarity.fingerprint(skeleton, plain).size == 0
    assert similarity.fingerprint(solution, plain).size >= similarity.MIN_SIZE
    body = solution.split("\n", 1)[1].replace("    ", "")  # the lines, shown in a lecture
    lecture = {"cells": [nbformat.v4.new_code_cell(f"y_true, y_pred = [1.0], [2.0]\n{body}")]}
    lecture["cells"][0]["source"] = lecture["cells"][0]["source"].replace("return ", "")
    shown = similarity.boilerplate_hashes(similarity.release_text(given, lecture, source))
    assert similarity.fingerprint(solution, shown).size < similarity.MIN_SIZE / 2


def test_documents_take_the_students_own_helpers_and_their_last_definition() -> None:
    notebook = submission(
        "03-losses",
        {"categorical_cross_entropy": HELPER_CCE, "mse": "def mse(a, b):\n    return 0\n"},
    )
    notebook["cells"].append(nbformat.v4.new_code_cell("%timeit 1\ndef mse(a, b):\n    return 1"))
    documents = similarity.submission_documents(notebook, {"categorical_cross_entropy", "mse"})
    assert "def _rows_and_labels" in documents["categorical_cross_entropy"]
    assert documents["mse"] == "def mse(a, b):\n    return 1"


# -- the report -------------------------------------------------------------------------------
HOSTILE = "</pre><script>alert('similar')</script>"


def test_the_report_shows_the_section_side_by_side_and_no_score_changes(tmp_path: Path) -> None:
    course_dir = new_course(tmp_path / "course")
    paste = pasted(course.losses.mse, course.losses._pair).replace(
        "they must match", f"they must match {HOSTILE}"
    )
    copier = notebook(course_dir, "release")
    apply_solution(copier, {"cells": {"mse": f"import numpy as np\n{paste}"}})
    graded = {"copier": copier, "ref": notebook(course_dir, "source")}
    for student, nb in graded.items():
        path = course_dir / "autograded" / student / ASSIGNMENT / "exercises.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
    proc = grader(course_dir, "export", "--output", str(course_dir / "out"), timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = (course_dir / "out" / "report.html").read_text()
    section = report[report.index("<h2>Similarity (for review)</h2>") :]
    assert f"<h3>{ASSIGNMENT} (2 notebooks)</h3>" in section
    assert "<b>copier</b>" in section and "<b>course.losses.mse</b>" in section
    assert section.count("<pre>") == 2 and "<mark>" in section
    assert "_same_shape" in section and "def mse(y_true, y_pred)" in section
    assert "<script" not in report and "&lt;/pre&gt;&lt;script&gt;" in section
    with (course_dir / "out" / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert "similar" not in json.dumps(rows)  # no flag, no column, no score


def test_marked_code_escapes_and_keeps_spans_apart() -> None:
    from autograder.outputs.export import marked_code, similar_pair

    code = "a = '<b>'\nb = 2\x1b[31m\nc = 3"
    html = marked_code(code, ((4, 9), (0, 2), (8, 12)))
    assert html.startswith("<mark>a </mark>") and "&lt;b&gt;" in html
    assert "\x1b" not in html and html.count("<mark>") == 3
    document = similarity.fingerprint(code, set())
    match = Match("f", "reference", "<i>x</i>", SOLUTION, (1.0, 0.9), (document, document))
    assert "&lt;i&gt;x&lt;/i&gt;" in similar_pair(match) and "90%" in similar_pair(match)


def test_shares_are_copydetects() -> None:
    """The shares computed here, for speed, are those copydetect's compare_files gives."""
    from copydetect import compare_files

    texts = [
        similarity.notebook_functions([source])["categorical_cross_entropy"].text
        for source in (OWN_CCE, COPIED_CCE, INDEPENDENT_CCE, HELPER_CCE)
    ]
    documents = [similarity.fingerprint(text, set()) for text in texts]
    for left in documents:
        for right in documents:
            shared = left.hashes & right.hashes
            ours = [
                similarity.covered(d, shared) / d.fingerprint.token_coverage for d in (left, right)
            ]
            _, theirs, _ = compare_files(left.fingerprint, right.fingerprint)
            assert ours == pytest.approx(list(theirs))
