"""Check a submitted notebook before it runs: repair it against the release, or reject it.

A submission is rebuilt around the release notebook the student was given. Every release
cell that carries nbgrader metadata is matched to a submitted cell, first by ``grade_id``,
then by content (the lines of the release cell found in the submitted one, or the names it
defines), with the position as tie-break. Matched cells get the release's nbgrader metadata
back (schema version, points, grade id, ...); answer cells, and the cells the release leaves
unlocked (the ``STUDENT_ID`` cell a student types an id into), keep the student's source;
locked cells (test cells, and cells marked ``locked``) get the release's, nbgrader's rule;
deleted cells are restored from the release (an answer restored that way is the unanswered
stub and scores 0); cells the student added travel with the cell they followed. The result
is in the release's order, with fresh unique cell ids and no outputs.

What cannot be read as a notebook (empty file, invalid JSON, nbformat < 3) or matches nothing
of the release is rejected with a one-line reason.

Grading runs :func:`preflight` in the instructor's process, against the release the course
generated; the check a student runs before submitting (:mod:`course.check`) runs the same
function against the copy of that release installed with the course library.
"""

from __future__ import annotations

import copy
import json
import re
import warnings
from dataclasses import dataclass, field

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from course.messages import one_line
from course.notebooks import cell_source, grade_id, without_hidden_tests

MAX_BYTES = 20 * 2**20
MAX_CELLS = 2000
MAX_DEPTH = 200
STUB_LINES = {"# YOUR CODE HERE", "raise NotImplementedError()", "YOUR ANSWER HERE"}
METADATA_KEYS = ("grade", "grade_id", "locked", "points", "schema_version", "solution", "task")
MATCH_THRESHOLD = 0.5
NAMES_SHOWN = 4
SAME_NAMES_SCORE = 0.9
CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
DEFINED_NAME = re.compile(r"^(?:def|class)\s+(\w+)|^(\w+)\s*(?::[^=]*)?=(?!=)", re.MULTILINE)
NEW_CELL = {"code": new_code_cell, "markdown": new_markdown_cell, "raw": new_raw_cell}


class Rejected(Exception):
    """The submission cannot be graded; the message says why in one line."""


@dataclass
class Preflight:
    """The outcome: a gradable notebook with the repairs made, or the reason it was rejected."""

    notebook: NotebookNode | None = None
    repairs: list[str] = field(default_factory=list)
    rejection: str | None = None


def preflight(raw: bytes, release: NotebookNode) -> Preflight:
    """Repair the submitted notebook ``raw`` against ``release``, or say why it is rejected."""
    try:
        submitted, repairs = parse_submission(raw)
        cells, more = rebuild_cells(submitted.cells, release.cells)
    except Rejected as exc:
        return Preflight(rejection=str(exc))
    notebook = new_notebook(cells=cells, metadata=copy.deepcopy(release.metadata))
    try:
        nbformat.validate(notebook)
    except nbformat.ValidationError as exc:
        return Preflight(rejection=f"could not be repaired into a valid notebook: {exc.message}")
    return Preflight(notebook=notebook, repairs=repairs + summarize(more))


def parse_submission(raw: bytes) -> tuple[NotebookNode, list[str]]:
    """Parse ``raw`` as a notebook in format 4, upgrading format 3; note what was fixed."""
    if not raw.strip():
        raise Rejected("empty file")
    if len(raw) > MAX_BYTES:
        raise Rejected(f"the file is larger than {MAX_BYTES // 2**20} MB")
    if nesting_depth(raw) > MAX_DEPTH:
        raise Rejected(f"the JSON is nested more than {MAX_DEPTH} levels deep")
    try:
        text = raw.decode("utf-8-sig")
        data = json.loads(text)
    except UnicodeDecodeError:
        raise Rejected("not a notebook: the file is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise Rejected(f"invalid JSON (line {exc.lineno}): the file is damaged") from None
    cells = data.get("cells") if isinstance(data, dict) else None
    if isinstance(cells, list) and len(cells) > MAX_CELLS:
        raise Rejected(f"the notebook has more than {MAX_CELLS} cells")
    major = data.get("nbformat") if isinstance(data, dict) else None
    if not isinstance(major, int):
        raise Rejected("not a Jupyter notebook (no nbformat version)")
    if major < 3 or major > 4:
        raise Rejected(f"nbformat {major} is not supported (3 and 4 are)")
    try:
        with warnings.catch_warnings():
            # nbformat warns about what the rebuild repairs anyway: missing or duplicated ids
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(text, as_version=4)
    except Exception as exc:
        raise Rejected(f"not a readable notebook: {one_line(exc, with_type=False)}") from None
    repairs = [f"converted from nbformat {major}"] if major < 4 else []
    cells = data.get("cells")
    ids = (
        [c["id"] for c in cells if isinstance(c, dict) and "id" in c]
        if isinstance(cells, list)
        else []
    )
    if len(ids) != len(set(map(str, ids))):
        repairs.append("renumbered duplicated cell ids")
    return notebook, repairs


def nesting_depth(raw: bytes) -> int:
    """The deepest nesting of JSON arrays and objects in ``raw``, without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def rebuild_cells(
    submitted: list, release: list[NotebookNode]
) -> tuple[list[NotebookNode], list[str]]:
    """The submitted cells rebuilt around the release's nbgrader cells, and what was repaired."""
    cells = [c for c in submitted if isinstance(c, dict) and c.get("cell_type") in NEW_CELL]
    notes = (
        ["dropped a cell that is not code, markdown or raw"] if len(cells) < len(submitted) else []
    )
    graded = [i for i, c in enumerate(release) if grade_id(c)]
    match, demoted = match_by_grade_id(cells, release, graded)
    match_by_content(cells, release, [i for i in graded if i not in match], match, demoted)
    if not match:
        raise Rejected("no cell matches the release of this assignment: wrong notebook?")
    notes += [
        f"removed nbgrader metadata from a copy of cell {grade_id(cells[j])}" for j in demoted
    ]
    order = [match[i] for i in graded if i in match]
    if order != sorted(order):
        notes.append("restored the release's order of cells")
    used_ids: set[str] = set()
    rebuilt = []
    plain = {j for j in range(len(cells)) if j not in match.values()}
    for j in sorted(j for j in plain if not any(m < j for m in match.values())):
        rebuilt.append(fresh_cell(cells[j], used_ids, strip_nbgrader=True))
    for i in graded:
        if i not in match:
            rebuilt.append(fresh_cell(release[i], used_ids))
            if release[i].cell_type == "code":
                notes.append(f"restored from the release the deleted cell {grade_id(release[i])}")
            continue
        merged, note = merge_cell(release[i], cells[match[i]])
        rebuilt.append(fresh_cell(merged, used_ids))
        notes += note
        followers = [j for j in plain if anchor(j, match) == match[i]]
        rebuilt += [fresh_cell(cells[j], used_ids, strip_nbgrader=True) for j in sorted(followers)]
    return rebuilt, notes


def match_by_grade_id(
    cells: list, release: list[NotebookNode], graded: list[int]
) -> tuple[dict[int, int], list[int]]:
    """Release index -> submitted index for cells whose grade id and type agree.

    A second cell with an already matched grade id (a copied cell) is demoted to a plain
    cell; it stays where it is, so Python sees the student's definitions in their order.
    """
    by_id = {grade_id(release[i]): i for i in graded}
    match: dict[int, int] = {}
    demoted = []
    for j, cell in enumerate(cells):
        i = by_id.get(grade_id(cell))
        if i is None:
            continue
        if i in match:
            demoted.append(j)
        elif cell.get("cell_type") == release[i].cell_type:
            match[i] = j
    return match, demoted


def match_by_content(
    cells: list,
    release: list[NotebookNode],
    unmatched: list[int],
    match: dict[int, int],
    demoted: list[int],
) -> None:
    """Match the remaining release cells to the most similar free submitted cell, in place."""
    for i in unmatched:
        taken = set(match.values()) | set(demoted)
        before = [match[k] for k in match if k < i]
        expected = max(before) + 1 if before else 0
        candidates = [
            (similarity(release[i], cells[j]), -abs(j - expected), j)
            for j in range(len(cells))
            if j not in taken and cells[j].get("cell_type") == release[i].cell_type
        ]
        best = max(candidates, default=None)
        if best and best[0] >= MATCH_THRESHOLD:
            match[i] = best[2]


def similarity(release_cell: NotebookNode, cell: dict) -> float:
    """The share of the release cell's meaningful lines found in ``cell``.

    A code cell that defines the same names (``def relu``, ``answer_q1 =``) as the release
    cell scores at least ``SAME_NAMES_SCORE``: a student may rewrite every other line.
    """
    want = [ln for ln in lines(cell_source(release_cell)) if ln not in STUB_LINES]
    have = set(lines(cell_source(cell)))
    score = sum(ln in have for ln in want) / len(want) if want else 0.0
    names = defined_names(cell_source(release_cell))
    if names and names <= defined_names(cell_source(cell)):
        score = max(score, SAME_NAMES_SCORE)
    return score


def merge_cell(release_cell: NotebookNode, cell: dict) -> tuple[NotebookNode, list[str]]:
    """The submitted cell with the release's nbgrader metadata (and source, if locked)."""
    wanted = release_cell.metadata.nbgrader
    name = wanted.get("grade_id")
    found = cell.get("metadata", {}).get("nbgrader")
    notes = []
    if not isinstance(found, dict):
        notes.append(f"restored the stripped nbgrader metadata of cell {name}")
    else:
        changed = [k for k in METADATA_KEYS if found.get(k) != wanted.get(k)]
        if changed:
            notes.append(
                f"restored the edited nbgrader metadata of cell {name} ({', '.join(changed)})"
            )
    source = cell_source(cell)
    if is_locked(wanted):
        if lines(without_hidden_tests(source)) != lines(cell_source(release_cell)):
            notes.append(f"restored the edited locked cell {name}")
        source = cell_source(release_cell)
    # every key comes from the release (tags, editable, ...): nothing the student set survives
    metadata = copy.deepcopy(dict(release_cell.metadata))
    merged = NEW_CELL[release_cell.cell_type](source=source, metadata=metadata)
    return merged, notes


def is_locked(meta: dict) -> bool:
    """Whether grading restores a cell's source: nbgrader's rule (``nbgrader.utils.is_locked``).

    Test cells are locked, answers are not, and any other cell is locked only if its metadata
    says so: the ``STUDENT_ID`` cell of the modules with per-student numbers (``locked: false``)
    is the student's to edit.
    """
    if meta.get("solution"):
        return False
    return bool(meta.get("grade") or meta.get("locked"))


def fresh_cell(cell: dict, used_ids: set[str], strip_nbgrader: bool = False) -> NotebookNode:
    """A clean copy of ``cell``: no outputs, a unique id, optionally without nbgrader metadata."""
    metadata = copy.deepcopy(dict(cell.get("metadata", {})))
    if strip_nbgrader:  # a cell the student added never carries grading metadata or tags
        metadata = {k: v for k, v in metadata.items() if k not in ("nbgrader", "tags")}
    new = NEW_CELL[cell["cell_type"]](source=cell_source(cell), metadata=metadata)
    old_id = cell.get("id")
    if isinstance(old_id, str) and CELL_ID.match(old_id) and old_id not in used_ids:
        new["id"] = old_id
    while new["id"] in used_ids:
        new["id"] = NEW_CELL["raw"]()["id"]
    used_ids.add(new["id"])
    return new


def summarize(notes: list[str]) -> list[str]:
    """Merge notes that differ only in the cell they name: ``... of cells a, b, c``."""
    merged: dict[str, list[str]] = {}
    for note in notes:
        head, _, name = note.rpartition(" cell ")
        merged.setdefault(head if head else note, []).append(name if head else "")
    return [
        f"{head} cell{'s' if len(names) > 1 else ''} {listed(names)}" if names[0] else head
        for head, names in merged.items()
    ]


def listed(names: list[str]) -> str:
    """Names joined by commas, the list cut after ``NAMES_SHOWN``."""
    more = len(names) - NAMES_SHOWN
    return ", ".join(names[:NAMES_SHOWN]) + (f" and {more} more" if more > 0 else "")


def anchor(j: int, match: dict[int, int]) -> int:
    """The matched submitted cell that a student's own cell ``j`` follows (-1: none)."""
    return max((m for m in match.values() if m < j), default=-1)


def lines(source: str) -> list[str]:
    """The non-blank lines of ``source``, stripped."""
    return [ln.strip() for ln in source.splitlines() if ln.strip()]


def defined_names(source: str) -> set[str]:
    """Names a cell defines at top level: functions, classes and assigned variables."""
    return {a or b for a, b in DEFINED_NAME.findall(source)}
