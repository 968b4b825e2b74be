"""Import submissions from nbgrader's exchange: ``grader collect --exchange``.

The latest submission of each student whose folder and files belong to the system user the
folder name claims is imported: the notebook verbatim with the submission's
``timestamp.txt`` and ``submission_secret.txt``, as ``nbgrader collect`` copies them. What is
refused is reported with the reason, like every other collect
(:class:`~autograder.intake.collect.CollectReport`).
"""

from __future__ import annotations

import os
import pwd
import stat
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import dateutil.parser

from autograder.intake.collect import (
    FILE_LIMIT,
    Candidate,
    CollectReport,
    file_loader,
    file_problem,
    import_chosen,
    keep_preferred,
)
from autograder.pipeline.coursedir import SAFE_ID, Course, CourseError, check_id
from autograder.pipeline.exchange import SECRET, SMALL_FILE_LIMIT, TIMESTAMP, exchange_root
from course.notebooks import EXERCISES

LATE_EDIT = 120
"""Seconds a notebook may change after its submission's time (nbgrader's copy, its chmod)."""


class NotImported(Exception):
    """An exchange submission that is not imported, with the one-line reason."""


def collect_exchange(course: Course, assignment: str, root: Path | None = None) -> CollectReport:
    """Import each student's latest submission of ``assignment`` from nbgrader's exchange.

    The folders are ``<root>/<course id>/inbound/<student>+<assignment>+<time>+<random>``, as
    ``nbgrader submit`` writes them. The student id in a folder name is the submitter's to
    choose, so a folder counts only if it and its ``exercises.ipynb`` (and its timestamp and
    secret files) belong to the system user of that name; the notebook's owner is checked
    again on the open file. Of a student's acceptable folders the latest by the time in its
    name is imported, as ``nbgrader collect`` does; the others are reported as superseded.
    """
    check_id("assignment", assignment)
    inbound = (root or exchange_root(course)) / course.course_id / "inbound"
    if not inbound.is_dir():
        raise CourseError(f"no folder {inbound}: run nbgrader release_assignment {assignment}")
    report = CollectReport()
    chosen: dict[str, Candidate] = {}
    with os.scandir(inbound) as entries:
        names = sorted(entry.name for entry in entries)
    for name in names:
        parts = name.rsplit("+", 3)
        if len(parts) < 3 or parts[1] != assignment:
            continue  # another assignment's, or not a submission
        try:
            candidate = inbound_candidate(inbound / name, parts[0], parts[2])
        except NotImported as exc:
            report.rejected.append((name, str(exc)))
            continue
        except OSError as exc:  # gone or changed while we looked
            report.rejected.append((name, f"unreadable: {exc.strerror or exc}"))
            continue
        keep_preferred(chosen, parts[0], candidate, report, lambda a, b: a.modified >= b.modified)
    import_chosen(course, assignment, chosen, report)
    return report


def inbound_candidate(folder: Path, student: str, stamp: str) -> Candidate:
    """The notebook of one inbound folder, after checking whose it is (:class:`NotImported`)."""
    if not SAFE_ID.match(student):
        raise NotImported(f"student id {student!r} is not a safe name")
    try:
        when = parse_time(stamp)
    except (ValueError, OverflowError):
        raise NotImported("no readable time in the folder name") from None
    try:
        uid = pwd.getpwnam(student).pw_uid
    except KeyError:
        raise NotImported(f"no system user named {student} to check it against") from None
    info = folder.lstat()
    if stat.S_ISLNK(info.st_mode):
        raise NotImported("symlink skipped")
    if not stat.S_ISDIR(info.st_mode):
        raise NotImported("not a folder")
    if info.st_uid != uid:
        raise NotImported(f"submitted in {student}'s name by {user_name(info.st_uid)}")
    notebook = folder / f"{EXERCISES}.ipynb"
    try:
        info = notebook.lstat()
    except FileNotFoundError:
        raise NotImported(f"no {EXERCISES}.ipynb in the submission") from None
    owned_file(notebook.name, info, uid, student, FILE_LIMIT, ".ipynb")
    candidate = Candidate(
        f"{folder.name}/{notebook.name}", info.st_size, when, file_loader(notebook, owner=uid)
    )
    late = info.st_ctime - when.timestamp()
    if late > LATE_EDIT:
        candidate.note = f"(changed {late / 60:.0f} min after the time it was submitted)"
    # what nbgrader's collect copies: the submitter's timestamp (the folder's if it has none)
    # and the secret that names the feedback
    candidate.extras[TIMESTAMP] = lambda: stamp.encode()
    for name in (TIMESTAMP, SECRET):
        try:
            info = (folder / name).lstat()
        except FileNotFoundError:
            continue
        owned_file(name, info, uid, student, SMALL_FILE_LIMIT, ".txt")
        load = file_loader(folder / name, SMALL_FILE_LIMIT, owner=uid)
        candidate.extras[name] = checked_text(load, stamp if name == TIMESTAMP else "")
    return candidate


def owned_file(
    name: str, info: os.stat_result, uid: int, student: str, limit: int, suffix: str
) -> None:
    """Raise :class:`NotImported` unless ``name`` is a small regular file of ``student``'s."""
    problem = file_problem(name, info, limit, suffix)
    if not problem and info.st_uid != uid:
        problem = f"belongs to {user_name(info.st_uid)}, not {student}"
    if problem:
        raise NotImported(f"{name}: {problem}")


def checked_text(load: Callable[[], bytes], fallback: str) -> Callable[[], bytes]:
    """``load`` if what it reads is printable ASCII (a time nbgrader can parse, if
    ``fallback`` is given), else ``fallback``."""

    def checked() -> bytes:
        data = load()
        try:
            text = data.decode("ascii")
            if not text.strip() or not text.isprintable():
                raise ValueError(text)
            if fallback:
                parse_time(text)
        except (ValueError, OverflowError):
            return fallback.encode()
        return data

    return checked


def parse_time(text: str) -> datetime:
    """A submission time as nbgrader writes it, in UTC when it names no zone."""
    when = dateutil.parser.parse(text.strip())
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def user_name(uid: int) -> str:
    """The name of the user ``uid``, or ``uid N`` if there is none."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"
