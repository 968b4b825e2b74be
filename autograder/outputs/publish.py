"""Feedback published through nbgrader's exchange, where ``nbgrader fetch_feedback`` finds it.

The exchange's ``feedback/`` folder (:mod:`autograder.pipeline.exchange`) holds one page per
submission, named ``md5(secret + notebook id).html`` after the
``submission_secret.txt`` that ``nbgrader submit`` leaves in the submission and in the
student's own cache. ``nbgrader fetch_feedback`` computes that name from its cache, so a
student fetches the pages of their own submissions and no other.

``nbgrader release_feedback`` cannot release ``grader feedback``'s pages: it reads
``timestamp.txt`` and ``submission_secret.txt`` next to each page, which nbgrader's own
``generate_feedback`` copies there and ``grader feedback`` does not. :func:`release_feedback`
takes the secret from ``submitted/`` instead, and releases a page only if the gradebook's
result is for the notebook in ``submitted/`` now. The feedback folder is ``0711``, as nbgrader
makes it: students cannot list it. Run as root, each page is handed to its student (owner,
mode ``0600``), so that nobody else can read it even knowing its name; otherwise it is
``0644`` like nbgrader's, and its secret name is all that hides it.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autograder.pipeline.coursedir import Course, CourseError
from autograder.pipeline.exchange import SECRET, SMALL_FILE_LIMIT, course_folder
from autograder.pipeline.gradebook import selected_results
from autograder.pipeline.submissions import locate_notebook
from autograder.text import clean_text
from course.notebooks import EXERCISES

FEEDBACK_MODE = 0o711


@dataclass
class ReleaseReport:
    """Pages released (student, assignment, note) and not released (student, assignment, why)."""

    released: list[tuple[str, str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)

    def render(self) -> str:
        """The report as text, one line per page."""
        lines = [f"released {len(self.released)}, not released {len(self.skipped)}"]
        lines += [clean_text(f"  + {s}: {a} {note}".rstrip()) for s, a, note in self.released]
        lines += [clean_text(f"  - {s}: {a}: {why}") for s, a, why in self.skipped]
        return "\n".join(lines)


def release_feedback(
    course: Course, assignments: Sequence[str] = (), students: Sequence[str] = ()
) -> ReleaseReport:
    """Copy each student's ``feedback/`` page into the exchange under its secret name."""
    folder = course_folder(course)
    if not folder.is_dir():
        raise CourseError(
            f"no folder {folder}: release an assignment with nbgrader release_assignment"
        )
    outbound = feedback_folder(folder / "feedback")
    hand_over = os.geteuid() == 0
    report = ReleaseReport()
    for assignment, student, result in selected_results(course, assignments, students):
        page = course.exercises_path("feedback", assignment, student, ".html")
        submitted = course.exercises_path("submitted", assignment, student).parent
        current = locate_notebook(submitted, assignment, student, result.digest.source)
        secret = read_secret(submitted / SECRET)
        if not page.is_file():
            report.skipped.append((student, assignment, "no feedback page: run grader feedback"))
        elif not secret:
            why = "no submission secret: not collected with grader collect --exchange"
            report.skipped.append((student, assignment, why))
        elif current.path is None or result.digest.file != current.digest.file:
            why = "graded an earlier submission: run grader grade and grader feedback"
            report.skipped.append((student, assignment, why))
        else:
            name = hashlib.md5(secret + EXERCISES.encode()).hexdigest() + ".html"
            owner = user_id(student) if hand_over else None
            publish(page.read_bytes(), outbound / name, owner)
            note = "" if owner is not None else "(readable by anyone who learns its name)"
            report.released.append((student, assignment, note))
    return report


def feedback_folder(path: Path) -> Path:
    """The exchange's feedback folder, made ``0711`` if new; refused if others could write it."""
    if not path.exists():
        path.mkdir()
        path.chmod(FEEDBACK_MODE)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise CourseError(f"{path} is not a folder of yours")
    if info.st_mode & 0o022:
        raise CourseError(f"{path} is writable by others: chmod {FEEDBACK_MODE:o} it")
    return path


def read_secret(path: Path) -> bytes:
    """The submission secret collected with a submission, or ``b""``."""
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > SMALL_FILE_LIMIT:
            return b""
        return path.read_bytes()
    except OSError:
        return b""


def user_id(student: str) -> int | None:
    """The uid of the system user named ``student``, or ``None``."""
    try:
        return pwd.getpwnam(student).pw_uid
    except KeyError:
        return None


def publish(data: bytes, target: Path, owner: int | None) -> None:
    """Write ``target`` atomically: ``0600`` and owned by ``owner`` if given, else ``0644``."""
    fd, partial = tempfile.mkstemp(prefix=".partial-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if owner is None:
                os.fchmod(handle.fileno(), 0o644)
            else:
                os.fchown(handle.fileno(), owner, -1)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
