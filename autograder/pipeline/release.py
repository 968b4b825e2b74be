"""Generate ``release/`` from ``source/`` and prove that nothing secret reached it.

:func:`release_differences` is the one comparison between a freshly generated release and
the committed one; ``grader release --check`` and the notebook tests both use it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder.pipeline.coursedir import Course
from autograder.pipeline.kit import CACHE, IGNORED, cached_kit, generate_assignment
from course.notebooks import cell_source, grade_id, nbgrader_meta, read_json

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
SECRET_NAMES = ("*solution*", "*answer*", "*hidden*", "*.db", "*.sqlite", ".*", "__pycache__")
MIN_SECRET_LINE = 8
"""Shorter solution or hidden-test lines (``return z``) are too common to call a leak."""


def release(course: Course, assignments: list[str]) -> list[str]:
    """Generate ``release/<a>`` for each assignment (recording it in the course gradebook).

    Each assignment's grading kit is built too, so grading starts at once. Returns the
    problems found afterwards by :func:`release_leaks`; empty means clean.
    """
    config = course.nbgrader_config()
    problems = []
    for assignment in assignments:
        remember_release(course, assignment)  # the one students may have now
        generate_assignment(config, assignment)
        remember_release(course, assignment)
        cached_kit(course, [assignment])
        problems += release_leaks(
            course.step_dir("source") / assignment, course.step_dir("release") / assignment
        )
    return problems + stale_releases(course)


def remember_release(course: Course, assignment: str) -> None:
    """Keep a copy of the release exercises notebook in ``.grader/releases/<assignment>/``.

    Named by a hash of its bytes, so each version is kept once. Grading compares a
    submission with every release the student could have had (:func:`earlier_releases`).
    """
    path = course.exercises_path("release", assignment)
    if not path.is_file():
        return
    data = path.read_bytes()
    folder = course.step_dir(CACHE) / "releases" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{hashlib.sha256(data).hexdigest()[:16]}.ipynb"
    if not target.exists():
        target.write_bytes(data)


def earlier_releases(course: Course, assignment: str) -> list[NotebookNode]:
    """The release notebooks students may have of ``assignment``: the committed one in
    ``release/`` and every one ``grader release`` made before (unreadable ones skipped)."""
    paths = [course.exercises_path("release", assignment)]
    folder = course.step_dir(CACHE) / "releases" / assignment
    if folder.is_dir():
        paths += sorted(folder.glob("*.ipynb"), key=lambda p: p.stat().st_mtime, reverse=True)
    found, seen = [], set()
    for path in paths:
        try:
            data = path.read_bytes()
            if data in seen:
                continue
            seen.add(data)
            found.append(nbformat.reads(data.decode("utf-8"), as_version=4))
        except (OSError, ValueError, UnicodeDecodeError):
            continue
    return found


def source_changed(course: Course, assignment: str) -> str | None:
    """One line if ``source/`` changed since ``release/`` was generated, else ``None``."""
    kit = cached_kit(course, [assignment])
    committed = course.step_dir("release") / assignment
    if not course.exercises_path("release", assignment).is_file():
        return (
            f"{assignment}: no release/ yet; grading against source/"
            f" (run `grader release {assignment}` before handing it out)"
        )
    if release_differences(kit.release_dir(assignment), committed):
        return (
            f"{assignment}: source/ changed since release/ was generated; grading against the"
            f" new source (run `grader release {assignment}` to give students the new version)"
        )
    return None


def check_release(course: Course, assignments: list[str]) -> list[str]:
    """Compare the committed release with one freshly generated from ``source/`` in a kit."""
    problems = []
    for assignment in assignments:
        kit = cached_kit(course, [assignment])
        committed = course.step_dir("release") / assignment
        problems += release_differences(kit.release_dir(assignment), committed)
        problems += release_leaks(course.step_dir("source") / assignment, committed)
    return problems + stale_releases(course)


def stale_releases(course: Course) -> list[str]:
    """Folders in ``release/`` whose assignment no longer exists in ``source/``."""
    release_root = course.step_dir("release")
    if not release_root.is_dir():
        return []
    sources = {p.name for p in course.step_dir("source").iterdir() if p.is_dir()}
    return [
        f"release/{d.name}: no such assignment in source/"
        for d in sorted(release_root.iterdir())
        if d.is_dir() and d.name not in sources
    ]


def release_differences(expected: Path, actual: Path) -> list[str]:
    """How the release folder ``actual`` differs from the freshly generated ``expected``.

    Files must be the same set; notebooks must have the same cells, in order, with the same
    type, source and nbgrader metadata (outputs and other metadata are ignored); any other
    file must be byte-identical. Returns one line per difference; empty means in sync.
    """
    name = actual.name
    if not actual.is_dir():
        return [f"release/{name} is missing: run `grader release {name}`"]
    want, have = release_files(expected), release_files(actual)
    problems = [f"release/{name}/{f}: missing" for f in sorted(want - have)]
    problems += [f"release/{name}/{f}: not generated from source/" for f in sorted(have - want)]
    for rel in sorted(want & have):
        if rel.endswith(".ipynb"):
            problems += notebook_differences(expected / rel, actual / rel, f"release/{name}/{rel}")
        elif (expected / rel).read_bytes() != (actual / rel).read_bytes():
            problems.append(f"release/{name}/{rel}: differs from the generated file")
    return problems


def release_files(folder: Path) -> set[str]:
    """Relative paths of the files in a release folder, without editor and cache litter."""
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and not any(fnmatch.fnmatch(part, g) for part in p.parts for g in IGNORED)
    }


def notebook_differences(expected: Path, actual: Path, label: str) -> list[str]:
    """Cell-by-cell differences in type, source and nbgrader metadata between two notebooks."""
    stamps = [course_stamp(p) for p in (expected, actual)]
    if stamps[0] != stamps[1]:
        return [f"{label}: its course metadata (hidden checks) differs from the generated one"]
    want, have = cell_signatures(expected), cell_signatures(actual)
    if len(want) != len(have):
        return [f"{label}: {len(have)} cells, the generated release has {len(want)}"]
    return [
        f"{label}: cell {i} ({w[3] or w[0]}) differs in {field}"
        for i, (w, h) in enumerate(zip(want, have, strict=True))
        for field, a, b in (("type", w[0], h[0]), ("source", w[1], h[1]), ("metadata", w[2], h[2]))
        if a != b
    ]


def course_stamp(path: Path) -> str:
    """The notebook's ``course`` metadata (what the check says about hidden tests), as JSON."""
    metadata = (read_json(path) or {}).get("metadata", {})
    return json.dumps(
        metadata.get("course") if isinstance(metadata, dict) else None, sort_keys=True
    )


def cell_signatures(path: Path) -> list[tuple[str, str, str, str]]:
    """Each cell's type, source, nbgrader metadata (as sorted JSON) and grade id."""
    cells = (read_json(path) or {}).get("cells", [])
    return [
        (
            str(cell.get("cell_type", "")),
            cell_source(cell),
            json.dumps(nbgrader_meta(cell), sort_keys=True),
            grade_id(cell) or "",
        )
        for cell in cells
        if isinstance(cell, dict)
    ]


def release_leaks(source: Path, release_dir: Path) -> list[str]:
    """Solution or hidden-test text, nbgrader markers, or secret-looking files in a release."""
    if not release_dir.is_dir():
        return []
    label = f"release/{release_dir.name}"
    problems = [
        f"{label}/{rel}: a file students must not see"
        for rel in sorted(release_files(release_dir))
        if any(fnmatch.fnmatch(part, g) for part in Path(rel).parts for g in SECRET_NAMES)
    ]
    for notebook in sorted(release_dir.rglob("*.ipynb")):
        text = "\n".join(sig[1] for sig in cell_signatures(notebook))
        rel = notebook.relative_to(release_dir).as_posix()
        problems += [f"{label}/{rel}: contains '{m}'" for m in MARKERS if m in text.upper()]
        original = source / rel
        if original.is_file():
            lines = {ln.strip() for ln in text.splitlines()}
            problems += [
                f"{label}/{rel}: contains solution or hidden-test line {secret!r}"
                for secret in secret_lines(original)
                if secret in lines
            ]
    return problems


def secret_lines(source_notebook: Path) -> list[str]:
    """Lines that appear only inside solution or hidden-test blocks of a source notebook."""
    inside, outside = set(), set()
    for sig in cell_signatures(source_notebook):
        depth = 0
        for line in sig[1].splitlines():
            stripped = line.strip()
            upper = stripped.upper()
            if "BEGIN SOLUTION" in upper or "BEGIN HIDDEN TESTS" in upper:
                depth += 1
            elif "END SOLUTION" in upper or "END HIDDEN TESTS" in upper:
                depth = max(depth - 1, 0)
            else:
                (inside if depth else outside).add(stripped)
    return sorted(s for s in inside - outside if len(s) >= MIN_SECRET_LINE)
