"""Import submissions from a folder or an LMS zip into ``submitted/<student>/<assignment>/``.

The student id comes from the file name, as nbgrader's ``zip_collect`` expects: by default
everything before the first underscore (``alice_exercises.ipynb``); ``--pattern`` takes any
regex with a ``student_id`` group. A file in a folder (``alice/exercises.ipynb``) whose name
does not match takes the top folder's name as the student id. Only the exercises notebook is
collected, renamed copies included (``exercises (1).ipynb``); when a student has several, the
one named exactly ``exercises.ipynb`` wins, then the newest. Everything else is reported as
rejected, with the reason. ``--lms canvas|moodle|blackboard|brightspace`` reads that LMS's
download layout instead (:mod:`autograder.intake.lms`), with the LMS's ids mapped to the
course's through the roster. A notebook whose release stamp
(``metadata.course.assignment``) names another assignment is rejected.

The submission time kept in ``timestamp.txt`` is the LMS's when its names carry one
(Blackboard, Brightspace), else the zip member's time (in ``--timezone``, default UTC), else
for a plain folder the file's modification time at collect. What the LMS says about
lateness (Canvas's ``_LATE_``) is kept in ``lms.json`` next to it
(:mod:`autograder.pipeline.late`).

The input is a student's as much as ours, so it is read defensively: symlinks (files and
folders, in a folder or a zip) and anything but regular files are skipped; only ``.ipynb``
files are read; a zip member whose name is absolute or climbs out (``../``) is rejected; sizes
are checked before reading (:data:`FILE_LIMIT` per notebook, :data:`TOTAL_LIMIT` in all, and
for a zip member a declared size and compression ratio within :data:`RATIO_LIMIT`), and a
read stops as soon as it goes past what was declared.

:mod:`autograder.intake.exchange` imports from nbgrader's exchange instead, with the same
report and the same storing.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from autograder.pipeline.coursedir import SAFE_ID, Course, CourseError, check_id
from autograder.pipeline.exchange import SECRET, TIME_FORMAT, TIMESTAMP
from autograder.pipeline.late import LMS_MARKER
from autograder.pipeline.submissions import release_stamp
from autograder.text import clean_text
from course.notebooks import EXERCISES, is_exercises_name

DEFAULT_PATTERN = r"^(?P<student_id>[^_/]+)_(?P<file>.+)$"
JUNK = ("__MACOSX", ".ipynb_checkpoints")
FILE_LIMIT = 20 * 2**20
TOTAL_LIMIT = 500 * 2**20
RATIO_LIMIT = 100
"""A notebook compresses 5-20x; a zip bomb 1000x."""
CHUNK = 2**20


class TooLarge(Exception):
    """A file turned out larger than declared or allowed while it was read."""


@dataclass
class Candidate:
    """A notebook found in the input: its name, declared size, time, and how to read it."""

    name: str
    size: int
    modified: datetime
    load: Callable[[], bytes]
    data: bytes = b""
    attempt: int = 0
    """An LMS's resubmission number (Canvas's ``-1``, ``-2``): a later one wins."""
    extras: dict[str, Callable[[], bytes]] = field(default_factory=dict)
    """Files stored next to the notebook (``timestamp.txt``, ``submission_secret.txt``)."""
    note: str = ""


@dataclass
class CollectReport:
    """What was imported (student, file, note) and what was rejected (file, reason).

    ``attention`` lists the rejected files the instructor must look at (another
    assignment's notebook, a student the roster does not know, an unreadable file), as
    opposed to files that are simply not submissions (lecture notebooks, receipts, litter).
    """

    imported: list[tuple[str, str, str]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)

    def refuse(self, name: str, reason: str) -> None:
        """Reject ``name`` for a reason that needs the instructor's attention."""
        self.rejected.append((name, reason))
        self.attention.append(name)

    def render(self) -> str:
        """The report as text, one line per file."""
        lines = [f"imported {len(self.imported)}, rejected {len(self.rejected)}"]
        lines += [clean_text(f"  + {s}: {name} {note}".rstrip()) for s, name, note in self.imported]
        lines += [clean_text(f"  - {name}: {reason}") for name, reason in self.rejected]
        return "\n".join(lines)


def collect(
    course: Course,
    source: Path,
    assignment: str,
    pattern: str = DEFAULT_PATTERN,
    lms: str | None = None,
    zone=None,
) -> CollectReport:
    """Import the exercises notebooks found in ``source`` (a folder or a zip) for ``assignment``.

    ``lms`` names an LMS whose download layout to read (:mod:`autograder.intake.lms`);
    ``zone`` (a tzinfo) is the zone of zip member times and times in LMS names.
    """
    check_id("assignment", assignment)
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise CourseError(f"--pattern is not a valid regex: {exc}") from None
    if "student_id" not in regex.groupindex:
        raise CourseError("--pattern needs a (?P<student_id>...) group")
    report = CollectReport()
    chosen: dict[str, Candidate] = {}
    roster, names = lms_roster(course) if lms else ({}, {})
    with open_source(source, zone) as (candidates, skipped):
        report.rejected += skipped
        for candidate in candidates:
            if lms:
                student = identify_lms(candidate, lms, zone, roster, names, report)
                if student is None:
                    continue
            else:
                student, reason = identify(candidate.name, regex)
                if reason:
                    report.rejected.append((candidate.name, reason))
                    continue
            keep_preferred(chosen, student, candidate, report, preferred)
        import_chosen(course, assignment, chosen, report)
    return report


def lms_roster(course: Course) -> tuple[dict, dict[str, list[str]]]:
    """The stored LMS entries and, by loose name, the rostered students' ids."""
    from nbgrader.api import Gradebook
    from sqlalchemy import create_engine
    from sqlalchemy import inspect as sql_inspect

    from autograder.pipeline.lms import name_key, roster_entries

    roster = roster_entries(course.db_url)
    names: dict[str, list[str]] = {}
    engine = create_engine(course.db_url)
    try:
        has_students = sql_inspect(engine).has_table("student")
    finally:
        engine.dispose()
    if has_students:
        with Gradebook(course.db_url, course.course_id) as gb:
            for student in gb.students:
                keys = {name_key(f"{student.first_name or ''} {student.last_name or ''}")}
                entry = roster.get(student.id)
                if entry and entry.display_name:
                    keys.add(name_key(entry.display_name))
                for key in keys - {""}:
                    names.setdefault(key, []).append(student.id)
    return roster, names


def identify_lms(
    candidate: Candidate, lms: str, zone, roster: dict, names: dict, report: CollectReport
) -> str | None:
    """The course's student id of an LMS download's file, or ``None`` (reported)."""
    import json

    from autograder.intake.lms import NotLms, parse_path, student_of
    from autograder.pipeline.late import LMS_MARKER

    path = PurePosixPath(candidate.name)
    if any(part in JUNK or part.startswith(".") for part in path.parts):
        report.rejected.append((candidate.name, "editor or system file"))
        return None
    try:
        found = parse_path(lms, candidate.name, zone)
    except NotLms as exc:
        report.rejected.append((candidate.name, str(exc)))
        return None
    if not is_exercises_name(found.filename):
        reason = f"not the exercises notebook (only {EXERCISES}.ipynb is graded)"
        report.rejected.append((candidate.name, reason))
        return None
    try:
        student = student_of(found, roster, names)
    except NotLms as exc:
        report.refuse(candidate.name, str(exc))
        return None
    if found.when is not None:
        candidate.modified = found.when
    candidate.attempt = found.attempt
    marker = {"lms": lms, "lms_key": found.key, "file": candidate.name[:300]}
    if found.late is not None:
        marker["late"] = found.late
        if found.late:
            candidate.note = "(late, says Canvas)"
    data = json.dumps(marker, sort_keys=True).encode()
    candidate.extras[LMS_MARKER] = lambda: data
    return student


def import_chosen(
    course: Course, assignment: str, chosen: dict[str, Candidate], report: CollectReport
) -> None:
    """Read and store each student's chosen notebook, within :data:`TOTAL_LIMIT` in all."""
    total = 0
    for student, candidate in sorted(chosen.items()):
        total += candidate.size
        if total > TOTAL_LIMIT:
            report.rejected.append((candidate.name, f"over the {mb(TOTAL_LIMIT)} total"))
            continue
        try:
            candidate.data = candidate.load()
            extras = {name: load() for name, load in candidate.extras.items()}
        except (TooLarge, OSError, zipfile.BadZipFile, EOFError) as exc:
            report.refuse(candidate.name, f"unreadable: {exc}")
            continue
        stamped = release_stamp(candidate.data)
        if stamped and stamped != assignment:
            reason = f"released for {stamped}, not {assignment}: another assignment's notebook"
            report.refuse(candidate.name, reason)
            continue
        note = store(course, assignment, student, candidate, extras)
        report.imported.append((student, candidate.name, f"{note} {candidate.note}".strip()))


def mb(size: int) -> str:
    return f"{size / 2**20:g} MB"


@contextlib.contextmanager
def open_source(source: Path, zone=None) -> Iterator[tuple[list[Candidate], list[tuple[str, str]]]]:
    """The notebooks in a folder or zip (read lazily) and the entries skipped, with reasons."""
    if source.is_dir():
        yield folder_candidates(source)
        return
    if not source.exists():
        raise CourseError(f"{source} does not exist")
    if zipfile.is_zipfile(source):
        try:
            with zipfile.ZipFile(source) as archive:
                yield zip_candidates(archive, zone)
        except zipfile.BadZipFile as exc:
            raise CourseError(f"{source} is a damaged zip file: {exc}") from None
        return
    raise CourseError(f"{source} is neither a folder nor a zip file")


def folder_candidates(top: Path) -> tuple[list[Candidate], list[tuple[str, str]]]:
    """Regular ``.ipynb`` files under ``top``, never following a symlink."""
    found, skipped = [], []
    for folder, dirs, files in os.walk(top, followlinks=False):
        here = Path(folder)
        for name in sorted(dirs):
            if (here / name).is_symlink():
                skipped.append(((here / name).relative_to(top).as_posix(), "symlink skipped"))
                dirs.remove(name)
        dirs.sort()
        for name in sorted(files):
            path = here / name
            relative = path.relative_to(top).as_posix()
            info = path.lstat()
            reason = file_problem(name, info)
            if reason:
                skipped.append((relative, reason))
            else:
                modified = datetime.fromtimestamp(info.st_mtime, timezone.utc)
                found.append(Candidate(relative, info.st_size, modified, file_loader(path)))
    return found, skipped


def file_problem(
    name: str, info: os.stat_result, limit: int = FILE_LIMIT, suffix: str = ".ipynb"
) -> str | None:
    """Why the file ``name`` (its ``lstat``) is not read, or ``None``."""
    if stat.S_ISLNK(info.st_mode):
        return "symlink skipped"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if not name.lower().endswith(suffix):
        return "not a notebook" if suffix == ".ipynb" else f"not a {suffix} file"
    if info.st_size > limit:
        return f"larger than {mb(limit)}"
    return None


def file_loader(
    path: Path, limit: int = FILE_LIMIT, owner: int | None = None
) -> Callable[[], bytes]:
    """Read ``path`` without following a symlink, and no more than ``limit`` bytes.

    With ``owner`` (a uid), the file read must belong to that user: checked on the open file,
    so a file swapped in after an earlier check is refused too.
    """

    def load() -> bytes:
        fd = os.open(
            path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        )
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise TooLarge("not a regular file")
            if owner is not None and info.st_uid != owner:
                raise PermissionError(f"owned by uid {info.st_uid}, not {owner}")
            return bounded_read(handle, limit)

    return load


def zip_candidates(
    archive: zipfile.ZipFile, zone=None
) -> tuple[list[Candidate], list[tuple[str, str]]]:
    """The ``.ipynb`` members of a zip whose names, kinds and declared sizes are acceptable.

    A member's time is read in ``zone`` (a tzinfo; UTC when ``None``): zip files store
    local times without a zone.
    """
    found, skipped = [], []
    for info in archive.infolist():
        if info.is_dir():
            continue
        name = info.filename
        reason = member_problem(info)
        if reason:
            skipped.append((name, reason))
            continue
        try:
            modified = datetime(*info.date_time, tzinfo=zone or timezone.utc)
        except ValueError:
            skipped.append((name, "its time in the zip is not a date"))
            continue
        modified = modified.astimezone(timezone.utc)
        found.append(Candidate(name, info.file_size, modified, member_loader(archive, info)))
    return found, skipped


def member_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a zip member is not read, or ``None``."""
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        return "path outside the archive"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symlink skipped"
    if not name.lower().endswith(".ipynb"):
        return "not a notebook"
    if info.file_size > FILE_LIMIT:
        return f"larger than {mb(FILE_LIMIT)}"
    if info.file_size > RATIO_LIMIT * max(info.compress_size, 1) and info.file_size > CHUNK:
        return f"compressed more than {RATIO_LIMIT}x (a zip bomb?)"
    return None


def member_loader(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], bytes]:
    """Read a zip member, stopping as soon as it goes past its declared size."""

    def load() -> bytes:
        with archive.open(info) as handle:
            return bounded_read(handle, min(info.file_size, FILE_LIMIT))

    return load


def bounded_read(handle, limit: int) -> bytes:
    """At most ``limit`` bytes from ``handle``; :class:`TooLarge` if there are more."""
    chunks, total = [], 0
    while True:
        chunk = handle.read(min(CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise TooLarge(f"more than the {limit:,} bytes declared or allowed")
        chunks.append(chunk)


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


def keep_preferred(
    chosen: dict[str, Candidate],
    student: str,
    candidate: Candidate,
    report: CollectReport,
    prefer: Callable[[Candidate, Candidate], bool],
) -> None:
    """Keep ``candidate`` as the student's unless ``prefer(kept, candidate)``; report the other."""
    previous = chosen.get(student)
    if previous and prefer(previous, candidate):
        report.rejected.append((candidate.name, f"superseded by {previous.name}"))
        return
    if previous:
        report.rejected.append((previous.name, f"superseded by {candidate.name}"))
    chosen[student] = candidate


def preferred(kept: Candidate, other: Candidate) -> bool:
    """Whether ``kept`` should stay over ``other``: the exact name first, then the newest."""

    def rank(c: Candidate) -> tuple[int, bool, datetime]:
        return c.attempt, PurePosixPath(c.name).name.endswith(f"{EXERCISES}.ipynb"), c.modified

    return rank(kept) >= rank(other)


def store(
    course: Course,
    assignment: str,
    student: str,
    candidate: Candidate,
    extras: dict[str, bytes] | None = None,
) -> str:
    """Write the notebook, its timestamp and ``extras``; return a note for the report.

    ``timestamp.txt`` is the candidate's time unless ``extras`` brings one; an earlier
    ``submission_secret.txt`` never stays behind (it names the feedback of one submission).
    """
    target = course.exercises_path("submitted", assignment, student)
    folder = target.parent
    note = ""
    if target.is_file():
        note = (
            "(unchanged)" if target.read_bytes() == candidate.data else "(replaced the earlier one)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    for stale in [*folder.glob("*.ipynb"), folder / SECRET, folder / LMS_MARKER]:
        stale.unlink(missing_ok=True)
    target.write_bytes(candidate.data)
    files = {TIMESTAMP: candidate.modified.strftime(TIME_FORMAT).encode()}
    files.update((name, data) for name, data in (extras or {}).items() if data)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    renamed = not PurePosixPath(candidate.name).name.endswith(f"{EXERCISES}.ipynb")
    return (note + " (renamed)" if renamed else note).strip()
