"""Import submissions from a folder or an LMS zip into ``submitted/<student>/<assignment>/``.

The student id comes from the file name, as nbgrader's ``zip_collect`` expects: by default
everything before the first underscore (``alice_exercises.ipynb``); ``--pattern`` takes any
regex with a ``student_id`` group. A file in a folder (``alice/exercises.ipynb``) whose name
does not match takes the top folder's name as the student id. Only the exercises notebook is
collected, renamed copies included (``exercises (1).ipynb``); when a student has several, the
one named exactly ``exercises.ipynb`` wins, then the newest. Everything else is reported as
rejected, with the reason.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from autograder.coursedir import (
    EXERCISES,
    SAFE_ID,
    Course,
    CourseError,
    check_id,
    is_exercises_name,
)

DEFAULT_PATTERN = r"^(?P<student_id>[^_/]+)_(?P<file>.+)$"
JUNK = ("__MACOSX", ".ipynb_checkpoints")


@dataclass
class Candidate:
    """A file found in the input: where it came from, its bytes and its modification time."""

    name: str
    data: bytes
    modified: datetime


@dataclass
class CollectReport:
    """What was imported (student, file, note) and what was rejected (file, reason)."""

    imported: list[tuple[str, str, str]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)

    def render(self) -> str:
        """The report as text, one line per file."""
        lines = [f"imported {len(self.imported)}, rejected {len(self.rejected)}"]
        lines += [f"  + {s}: {name} {note}".rstrip() for s, name, note in self.imported]
        lines += [f"  - {name}: {reason}" for name, reason in self.rejected]
        return "\n".join(lines)


def collect(
    course: Course, source: Path, assignment: str, pattern: str = DEFAULT_PATTERN
) -> CollectReport:
    """Import the exercises notebooks found in ``source`` (a folder or a zip) for ``assignment``."""
    check_id("assignment", assignment)
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise CourseError(f"--pattern is not a valid regex: {exc}") from None
    if "student_id" not in regex.groupindex:
        raise CourseError("--pattern needs a (?P<student_id>...) group")
    report = CollectReport()
    chosen: dict[str, Candidate] = {}
    for candidate in read_candidates(source):
        student, reason = identify(candidate.name, regex)
        if reason:
            report.rejected.append((candidate.name, reason))
            continue
        previous = chosen.get(student)
        if previous and preferred(previous, candidate):
            report.rejected.append((candidate.name, f"superseded by {previous.name}"))
            continue
        if previous:
            report.rejected.append((previous.name, f"superseded by {candidate.name}"))
        chosen[student] = candidate
    for student, candidate in sorted(chosen.items()):
        report.imported.append(
            (student, candidate.name, store(course, assignment, student, candidate))
        )
    return report


def read_candidates(source: Path) -> list[Candidate]:
    """Every file in a folder or zip archive, with its path relative to the top."""
    if source.is_dir():
        return [
            Candidate(
                p.relative_to(source).as_posix(),
                p.read_bytes(),
                datetime.fromtimestamp(p.stat().st_mtime, timezone.utc),
            )
            for p in sorted(source.rglob("*"))
            if p.is_file()
        ]
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            return [
                Candidate(
                    info.filename,
                    archive.read(info),
                    datetime(*info.date_time, tzinfo=timezone.utc),
                )
                for info in archive.infolist()
                if not info.is_dir()
            ]
    raise CourseError(f"{source} is neither a folder nor a zip file")


def identify(name: str, regex: re.Pattern) -> tuple[str, str | None]:
    """The student id a file belongs to, or a reason to reject it."""
    path = PurePosixPath(name)
    if any(part in JUNK or part.startswith(".") for part in path.parts):
        return "", "editor or system file"
    found = regex.match(path.name)
    guesses = (
        [(found.group("student_id"), found.groupdict().get("file") or path.name)] if found else []
    )
    if len(path.parts) > 1:
        guesses.append((path.parts[0], path.name))
    if not guesses:
        return "", "no student id in the file name"
    exercises = [
        (student, filename) for student, filename in guesses if is_exercises_name(filename)
    ]
    if not exercises:
        return "", f"not the exercises notebook (only {EXERCISES}.ipynb is graded)"
    student = exercises[0][0]
    if not SAFE_ID.match(student):
        return "", f"student id {student!r} is not a safe name"
    return student, None


def preferred(kept: Candidate, other: Candidate) -> bool:
    """Whether ``kept`` should stay over ``other``: the exact name first, then the newest."""

    def rank(c: Candidate) -> tuple[bool, datetime]:
        return PurePosixPath(c.name).name.endswith(f"{EXERCISES}.ipynb"), c.modified

    return rank(kept) >= rank(other)


def store(course: Course, assignment: str, student: str, candidate: Candidate) -> str:
    """Write the notebook and its timestamp; return a note for the report."""
    folder = course.step_dir("submitted") / student / assignment
    target = folder / f"{EXERCISES}.ipynb"
    note = ""
    if target.is_file():
        note = (
            "(unchanged)" if target.read_bytes() == candidate.data else "(replaced the earlier one)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.ipynb"):
        stale.unlink()
    target.write_bytes(candidate.data)
    stamp = candidate.modified.strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    (folder / "timestamp.txt").write_text(stamp, encoding="utf-8")
    renamed = not PurePosixPath(candidate.name).name.endswith(f"{EXERCISES}.ipynb")
    return (note + " (renamed)" if renamed else note).strip()
