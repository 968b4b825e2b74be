"""Similarity of graded functions, for the instructor's review: it never changes a score.

For each graded function of an assignment (a top-level ``def`` of the source notebook's answer
cells), every student's function is compared with

- the **references**: the ``course`` function of the same name (found by name in the
  ``course`` package, its text read with :mod:`inspect`) and the source notebook's solution;
- every **classmate's** function of the same name.

**What is compared**, a *document*: the function followed by the author's own helpers it
calls, directly or not (the other top-level functions of the same notebook, or of the same
``course`` module for the reference), except the assignment's graded functions, which are
compared on their own. Moving the body into a helper hides nothing, and a graded function
that calls another is not counted twice. Each function is first printed back by
:func:`ast.unparse` without its docstring: comments, blank lines, line breaks, redundant
parentheses and the spelling of numbers (``1e-5``, ``1e-05``) no longer differ. This printed
form is what the report shows.

**How** (`copydetect <https://pypi.org/project/copydetect/>`_ 0.5): its Python filter
(Pygments' lexer) drops whitespace and replaces every name, attribute and string with one
letter, so renaming changes nothing; every run of :data:`NOISE` normalized characters is
fingerprinted with a window of one (every k-gram is kept, so no fingerprint depends on
Python's salted ``hash`` and every export gives the same scores), and
:func:`copydetect.compare_files` gives the share of each document covered by runs both have,
and where they are. copydetect fits; two of its parts are not used: its boilerplate removal
(0.5.0 calls ``numpy.intersect1d(..., assume_unique=True)`` on hashes that repeat when every
k-gram is kept, which also drops a document's own repeated runs; the release text is removed
here instead) and its HTML report (it loads scripts from a CDN; the grader's pages hold none).

**What students are given is not counted.** Runs that occur in the *release text* are removed
from every document before anything is measured: every cell of the release exercises notebook
(skeletons, docstrings, visible tests, markdown), the text of every string literal there (so
a docstring's formula such as ``mean((y_pred - y_true) ** 2)`` counts as given), and the code
cells of the module's release lecture. A document's *size* is what is left, in normalized
characters (a name counts as one).

**Short and dictated functions are left out:**

- a document under :data:`MIN_SIZE` is never compared: a student's own few-line ``sigmoid``
  proves nothing, whoever else wrote the same;
- a function whose source solution is under :data:`MIN_SIZE` is *short*: the text leaves
  little room, so its students are compared with the ``course`` reference only (when that,
  with its helpers, is long enough), never with each other or with the solution;
- a pair is reported when the larger of its two shares reaches :data:`THRESHOLD`;
- a classmate pair whose members both copy the same reference is not listed again.

The values were chosen on this course: over the 37 correct-but-different solutions of
``tests/fairness`` (241 comparisons with the references and with each other that these rules
make) no pair reaches :data:`THRESHOLD` (the highest, 0.798, is an honest ``mse_grad``
against the solution, whose docstring dictates its checks), while copies of the references
and solutions with their names changed, one operation's operands swapped and a statement
added reach it in 60 of 61 cases. With these values 33 of the course's 58 graded functions
are short.

**Limits.** The filter treats ``np.sum`` and ``np.mean`` alike, so honest code that takes
the same steps as another scores high where the text spells the steps out (hence the sizes
and threshold); reordered statements, loops turned into comprehensions and inlined helpers
lower a score; copies from outside the class are not seen; only graded functions written as
a ``def`` are compared (not a name bound to a lambda or an import, which the grader's
observation of the reference covers, not answers to questions, not scratch cells); a
document is cut at :data:`MAX_CHARS`. A high score asks for a look, not a verdict.
"""

from __future__ import annotations

import ast
import copy
import functools
import importlib.util
import io
import logging
import pkgutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from IPython.core.inputtransformer2 import TransformerManager

from course.notebooks import cell_source, grade_id, nbgrader_meta

NOISE = 20
"""Shortest run of normalized characters that counts as shared (copydetect's noise
threshold, which is also its guarantee threshold here: every such run is found)."""
MIN_SIZE = 100
"""A document shorter than this after the release text is removed (in normalized
characters) is not compared."""
THRESHOLD = 0.8
"""A pair is reported when one document has at least this share in common with the other."""
MAX_CHARS = 20_000
"""A document is cut to this many characters before it is measured."""
SOLUTION = "source solution"
"""The name of the source notebook's solution among the references."""

log = logging.getLogger(__name__)
Spans = tuple[tuple[int, int], ...]


@dataclass
class Document:
    """The text of one graded function, fingerprinted with the release text removed.

    ``size`` counts the normalized characters that no run of the release text covers;
    ``runs`` lists each run kept as ``(start, hash)`` in the order of the text, and ``repeats``
    is the most times one run occurs.
    """

    code: str
    hashes: set[int] = field(repr=False)
    fingerprint: object = field(repr=False)
    size: int
    runs: list[tuple[int, int]] = field(repr=False)
    repeats: int


@dataclass(frozen=True)
class Match:
    """Two documents of one function with a share in common at or above the threshold.

    ``kind`` is ``"reference"`` (``right`` is ``course.<module>.<name>`` or the source
    solution) or ``"classmate"``; ``shares`` are the shares of each document covered by runs
    both have.
    """

    function: str
    kind: str
    left: str
    right: str
    shares: tuple[float, float]
    documents: tuple[Document, Document] = field(repr=False, compare=False)

    @property
    def score(self) -> float:
        return max(self.shares)

    @property
    def codes(self) -> tuple[str, str]:
        return self.documents[0].code, self.documents[1].code

    @functools.cached_property
    def spans(self) -> tuple[Spans, Spans]:
        """Where the shared runs are: ``(start, end)`` character ranges in each ``codes``."""
        from copydetect import compare_files

        left, right = self.documents
        _, _, slices = compare_files(left.fingerprint, right.fingerprint)
        found = [tuple((int(a), int(b)) for a, b in zip(*s, strict=True)) for s in slices]
        return found[0], found[1]


# -- documents -----------------------------------------------------------------------------
class Function:
    """A top-level function of a notebook or module: its syntax tree and the names it reads."""

    def __init__(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.node = node
        self.names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}

    @functools.cached_property
    def text(self) -> str:
        """The function as Python prints it back, without its docstring: one layout for all."""
        body = self.node.body
        first = body[0] if body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            if isinstance(first.value.value, str):
                body = body[1:] or [ast.Pass()]
        node = copy.copy(self.node)
        node.body = body
        try:
            return ast.unparse(node)
        except (ValueError, RecursionError):
            return ""


def notebook_functions(cells: Iterable[str]) -> dict[str, Function]:
    """The top-level functions the cells define, by name.

    Cells are read in order and a later ``def`` replaces an earlier one, as in the kernel. A
    cell that does not parse defines nothing.
    """
    found: dict[str, Function] = {}
    for source in cells:
        if "def" not in source:
            continue
        for node in parsed(source):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found[node.name] = Function(node)
    return found


def parsed(source: str) -> list[ast.stmt]:
    """A cell's statements (IPython's magics translated); none if it does not parse, as the
    kernel would run none of it."""
    try:
        return ast.parse(source).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    try:
        return ast.parse(transformer().transform_cell(source)).body
    except Exception:  # IPython's translation of a student's text: whatever fails, nothing
        return []


@functools.cache
def transformer() -> TransformerManager:
    return TransformerManager()


def with_helpers(name: str, functions: Mapping[str, Function], graded: set[str]) -> str:
    """``name``'s text, then that of the functions it calls, directly or not, but graded ones."""
    seen: list[str] = []
    stack = [name]
    while stack:
        current = stack.pop(0)
        if current in seen or current not in functions:
            continue
        seen.append(current)
        stack += sorted(n for n in functions[current].names if n in functions and n not in graded)
    return "\n\n".join(functions[f].text for f in seen)


def submission_documents(notebook: dict, graded: set[str]) -> dict[str, str]:
    """Each graded function a notebook defines, with its own helpers (see the module doc).

    Only the author's cells are read: answer cells and cells without a grade id (the
    instructor's setup and test cells are the release's).
    """
    cells = [
        cell_source(c)
        for c in cells_of(notebook)
        if c.get("cell_type") == "code" and (nbgrader_meta(c).get("solution") or not grade_id(c))
    ]
    functions = notebook_functions(cells)
    return {name: with_helpers(name, functions, graded) for name in graded if name in functions}


def course_references(name: str, graded: set[str]) -> dict[str, str]:
    """The ``course`` functions called ``name``, each with the same module's helpers it calls.

    Keyed by dotted name (``course.losses.mse``); a function re-exported by another module
    counts once, under the module that defines it.
    """
    found = {}
    for module_name, functions in course_functions().items():
        if name in functions:
            found[f"{module_name}.{name}"] = with_helpers(name, functions, graded - {name})
    return found


@functools.cache
def course_functions() -> dict[str, dict[str, Function]]:
    """The top-level functions of every module of the ``course`` package, by module.

    Read from the modules' files, not imported: importing them all would load scikit-learn,
    SciPy and matplotlib (1.5 s) into every export for text alone.
    """
    import course

    found = {}
    for info in pkgutil.walk_packages(course.__path__, "course."):
        try:
            spec = importlib.util.find_spec(info.name)
            text = Path(spec.origin).read_text(encoding="utf-8")
        except Exception as error:  # a module whose file cannot be read holds no reference
            log.warning("similarity: course module %s not read: %s", info.name, error)
            continue
        found[info.name] = notebook_functions([text])
    return found


def release_text(release: dict | None, lecture: dict | None, source: dict) -> list[str]:
    """What students are given, as texts whose runs are not counted (see the module doc).

    Code cells count as written and as the documents are printed (functions without their
    docstrings), and the text of their string literals counts too. Without a release
    notebook, the source's cells with their solution blocks removed stand for it.
    """
    if release is None:
        release = {
            "cells": [{**c, "source": without_solution(cell_source(c))} for c in cells_of(source)]
        }
    texts: list[str] = []
    code = [c for c in cells_of(lecture) if c.get("cell_type") == "code"]
    for cell in [*cells_of(release), *code]:
        text = cell_source(cell)
        texts.append(text)
        if cell.get("cell_type") == "code":
            texts += [f.text for f in notebook_functions([text]).values()]
            texts += string_constants(text)
    return texts


def cells_of(notebook: dict | None) -> list[dict]:
    cells = (notebook or {}).get("cells", [])
    return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []


def without_solution(source: str) -> str:
    """``source`` without the lines between nbgrader's solution markers."""
    kept, inside = [], False
    for line in source.splitlines():
        if "### BEGIN SOLUTION" in line:
            inside = True
        elif "### END SOLUTION" in line:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept)


def string_constants(source: str) -> list[str]:
    """The text of every string literal in ``source`` (docstrings and their formulas)."""
    return [
        node.value
        for statement in parsed(source)
        for node in ast.walk(statement)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


# -- fingerprints and comparison -----------------------------------------------------------
def fingerprint(code: str, boilerplate: set[int]) -> Document:
    """``code`` fingerprinted by copydetect, with the runs of ``boilerplate`` removed."""
    from copydetect import CodeFingerprint
    from copydetect.utils import get_token_coverage

    code = code[:MAX_CHARS]
    fp = CodeFingerprint("function.py", NOISE, 1, fp=io.StringIO(code), language="python")
    given = bytearray(len(fp.filtered_code))
    for h in fp.hashes & boilerplate:
        for start in fp.hash_idx.pop(h):
            given[start : start + NOISE] = b"\1" * len(given[start : start + NOISE])
    fp.hashes -= boilerplate
    fp.token_coverage = get_token_coverage(fp.hash_idx, NOISE, len(fp.filtered_code))
    runs = sorted((start, h) for h, starts in fp.hash_idx.items() for start in starts)
    repeats = max((len(starts) for starts in fp.hash_idx.values()), default=0)
    return Document(code, fp.hashes, fp, len(given) - sum(given), runs, repeats)


def boilerplate_hashes(texts: Iterable[str]) -> set[int]:
    """The fingerprints of every run of the release text."""
    hashes: set[int] = set()
    for text in texts:
        hashes |= fingerprint(text, set()).hashes
    return hashes


def compare(left: Document, right: Document) -> tuple[float, float] | None:
    """The shares of two documents covered by runs both have (copydetect's similarity), or
    ``None`` when either is under :data:`MIN_SIZE` or neither share reaches the threshold.

    A cheap bound first: ``n`` shared runs, each found at most ``repeats`` times, cover at
    most ``n * repeats * NOISE`` characters, so most pairs are dismissed after a set
    intersection.
    """
    if left.size < MIN_SIZE or right.size < MIN_SIZE:
        return None
    shared = left.hashes & right.hashes
    documents = (left, right)
    coverage = [max(d.fingerprint.token_coverage, 1) for d in documents]
    reach = [len(shared) * d.repeats * NOISE / c for d, c in zip(documents, coverage, strict=True)]
    if max(reach) < THRESHOLD:
        return None
    shares = tuple(covered(d, shared) / c for d, c in zip(documents, coverage, strict=True))
    return shares if max(shares) >= THRESHOLD else None


def covered(document: Document, shared: set[int]) -> int:
    """How many characters of ``document`` its ``shared`` runs cover (copydetect's token
    overlap: ``get_copied_slices`` merges runs the same way)."""
    total, end = 0, -1
    for start, h in document.runs:
        if h in shared:
            total += NOISE if start >= end else start + NOISE - end
            end = start + NOISE
    return total


@dataclass(frozen=True)
class FunctionSimilarity:
    """One graded function: whether it is short, how many students' documents were long
    enough to compare, and its matches, best first."""

    name: str
    short: bool
    compared: int
    matches: list[Match]


def function_matches(
    function: str,
    students: Mapping[str, str],
    references: Mapping[str, str],
    boilerplate: set[int],
    short: bool,
) -> FunctionSimilarity:
    """Reference copies and classmate pairs of one function.

    ``students`` and ``references`` map owners to documents. A short function (its source
    solution under :data:`MIN_SIZE`) is compared with the ``course`` references only. Equal
    texts are fingerprinted and compared once.
    """
    texts = sorted(set(students.values()))
    docs = {text: fingerprint(text, boilerplate) for text in texts}
    refs = {
        owner: fingerprint(code, boilerplate)
        for owner, code in references.items()
        if not (short and owner == SOLUTION)
    }
    copied: dict[str, dict[str, tuple]] = {text: {} for text in texts}
    for text, doc in docs.items():
        for owner, ref in refs.items():
            found = compare(doc, ref)
            if found:
                copied[text][owner] = found
    alike: dict[tuple[str, str], tuple] = {}
    if not short:
        for i, a in enumerate(texts):
            for b in texts[i:]:
                found = compare(docs[a], docs[b])
                if found:
                    alike[a, b] = found
    matches = []
    owners = sorted(students)
    for i, student in enumerate(owners):
        text = students[student]
        for reference, shares in copied[text].items():
            pair = (docs[text], refs[reference])
            matches.append(Match(function, "reference", student, reference, shares, pair))
        for other in owners[i + 1 :]:
            pair = (text, students[other]) if text <= students[other] else (students[other], text)
            if pair not in alike or set(copied[text]) & set(copied[students[other]]):
                continue
            shares = alike[pair] if pair[0] == text else alike[pair][::-1]
            both = (docs[text], docs[students[other]])
            matches.append(Match(function, "classmate", student, other, shares, both))
    matches.sort(key=lambda m: (-m.score, m.kind, m.left, m.right))
    compared = sum(1 for text in students.values() if docs[text].size >= MIN_SIZE)
    return FunctionSimilarity(function, short, compared, matches)


def assignment_similarity(
    source: dict,
    submissions: Mapping[str, dict],
    release: dict | None = None,
    lecture: dict | None = None,
) -> list[FunctionSimilarity]:
    """Every graded function of ``source``, in notebook order, with its matches.

    ``source`` is the source exercises notebook, ``submissions`` maps student ids to their
    (pre-flighted) notebooks, ``release`` and ``lecture`` are the release exercises and
    lecture notebooks (all as JSON dicts; without a release, the source less its solutions
    stands for it).
    """
    graded = graded_functions(source)
    boilerplate = boilerplate_hashes(release_text(release, lecture, source))
    solution = submission_documents(source, set(graded))
    documents = {s: submission_documents(nb, set(graded)) for s, nb in submissions.items()}
    out = []
    for name in graded:
        references = course_references(name, set(graded))
        if name in solution:
            references[SOLUTION] = solution[name]
        students = {s: docs[name] for s, docs in documents.items() if name in docs}
        short = fingerprint(solution.get(name, ""), boilerplate).size < MIN_SIZE
        out.append(function_matches(name, students, references, boilerplate, short))
    return out


def graded_functions(source: dict) -> list[str]:
    """The top-level functions the source's answer cells define, in notebook order."""
    names: list[str] = []
    for cell in cells_of(source):
        if (
            cell.get("cell_type") == "code"
            and nbgrader_meta(cell).get("solution")
            and grade_id(cell)
        ):
            names += notebook_functions([cell_source(cell)])
    return list(dict.fromkeys(names))
