"""The download layouts of four LMSs: who a file belongs to, when, and whether it was late.

``grader collect DOWNLOAD --assignment A --lms NAME`` reads each path of the download with
the layout below (described from each LMS's documentation; see ``tests/test_lms.py``) and
maps the LMS's own id for the student to the course's id through the roster that ``grader
roster`` stored (:mod:`autograder.pipeline.lms`):

- **canvas** ("Download Submissions"): ``<name>_<canvas user id>_<submission id>_<file>``,
  with ``_LATE_`` after the name when Canvas marked it late (``name_LATE_123_456_file``);
  a resubmitted file has ``-1``, ``-2`` before its extension. The Canvas user id is mapped
  through the Canvas roster's ``ID`` column. The time is the zip member's.
- **moodle** ("Download all submissions"): a folder per submission,
  ``<Full Name>_<participant id>_assignsubmission_file_/<file>`` (or the older flat
  ``..._assignsubmission_file_<file>``). The participant id is mapped through the grading
  worksheet's ``Identifier`` ("Participant 123") when the roster came from it, else the full
  name through the roster's names. The time is the zip member's.
- **blackboard** (Grade Center, "Assignment File Download"):
  ``<Assignment>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>_<file>`` next to a ``.txt``
  receipt of the same stem. The username is the course's login: it is used as it is (or
  mapped through a roster's SIS Login ID). The attempt's time is the name's; the latest
  attempt wins.
- **brightspace** ("Download" in the assignment's submissions):
  ``<submission id>-<id> - <First Last> - <Mon D, YYYY H:MM AM>/<file>`` or the flat
  ``... - <Mon D, YYYY HMM AM> - <file>``; the name is mapped through the roster's names.
  The time is the name's.

Times written in a name are read in ``--timezone`` (default UTC). Anything that does not
parse is rejected with a one-line reason; nothing is guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from autograder.pipeline.coursedir import SAFE_ID
from autograder.pipeline.lms import LmsEntry, name_key

CANVAS = re.compile(r"^(?P<name>[^_/]+?)(?P<late>_LATE)?_(?P<uid>\d+)_(?P<sub>\d+)_(?P<file>.+)$")
CANVAS_RESUBMISSION = re.compile(r"^(?P<stem>.+)-(?P<n>\d+)(?P<ext>\.ipynb)$", re.IGNORECASE)
MOODLE_FOLDER = re.compile(r"^(?P<name>.+)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_$")
MOODLE_FLAT = re.compile(r"^(?P<name>.+)_(?P<pid>\d+)_assignsubmission_file_(?P<file>.+)$")
BLACKBOARD = re.compile(
    r"^(?P<assignment>.+)_(?P<user>[^_]+)_attempt_"
    r"(?P<when>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})(?:_(?P<file>.+)|\.txt)$"
)
BRIGHTSPACE_TIME = r"(?P<when>[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:?\d{2} [AP]M)"
BRIGHTSPACE_FOLDER = re.compile(
    rf"^(?P<sub>\d+)-(?P<id>\d+) - (?P<name>.+?) ?- {BRIGHTSPACE_TIME}$"
)
BRIGHTSPACE_FLAT = re.compile(
    rf"^(?P<sub>\d+)-(?P<id>\d+) - (?P<name>.+?) ?- {BRIGHTSPACE_TIME} - (?P<file>.+)$"
)


@dataclass(frozen=True)
class LmsFile:
    """What a download's path says: whose file (by the LMS's key), its own name, when."""

    lms: str
    key: str
    """Canvas user id, Moodle participant id, Blackboard username or Brightspace name."""
    name: str
    """The student's name as the LMS wrote it (for matching by name and for the report)."""
    filename: str
    """The file's own name with any LMS prefix and resubmission suffix removed."""
    late: bool | None = None
    attempt: int = 0
    when: datetime | None = None


class NotLms(Exception):
    """A path that is not what the LMS's layout says; the message is the one-line reason."""


def parse_path(lms: str, path: str, zone=None) -> LmsFile:
    """Read ``path`` (a zip member or a file under a folder) in ``lms``'s layout."""
    parts = PurePosixPath(path).parts
    base = parts[-1]
    if lms == "canvas":
        found = CANVAS.match(base)
        if not found:
            raise NotLms("not a Canvas download name (name_userid_submissionid_file)")
        filename, attempt = base_name(found["file"])
        return LmsFile(
            "canvas", found["uid"], found["name"], filename, bool(found["late"]), attempt
        )
    if lms == "moodle":
        for folder in reversed(parts[:-1]):
            found = MOODLE_FOLDER.match(folder)
            if found:
                if found["plugin"] != "file":
                    raise NotLms(f"Moodle {found['plugin']} submission, not a file")
                return LmsFile("moodle", found["pid"], found["name"], base)
        found = MOODLE_FLAT.match(base)
        if not found:
            raise NotLms("not a Moodle download (Full Name_id_assignsubmission_file_)")
        return LmsFile("moodle", found["pid"], found["name"], found["file"])
    if lms == "blackboard":
        found = BLACKBOARD.match(base)
        if not found:
            raise NotLms("not a Blackboard download name (Assignment_user_attempt_time_file)")
        if not found["file"]:
            raise NotLms("Blackboard's submission receipt")
        when = read_time(found["when"], "%Y-%m-%d-%H-%M-%S", zone)
        return LmsFile("blackboard", found["user"], found["user"], found["file"], when=when)
    if lms == "brightspace":
        for folder in reversed(parts[:-1]):
            found = BRIGHTSPACE_FOLDER.match(folder)
            if found:
                when = brightspace_time(found["when"], zone)
                return LmsFile("brightspace", found["name"], found["name"], base, when=when)
        found = BRIGHTSPACE_FLAT.match(base)
        if not found:
            raise NotLms("not a Brightspace download (id-id - Name - Mon D, YYYY H:MM AM)")
        when = brightspace_time(found["when"], zone)
        return LmsFile("brightspace", found["name"], found["name"], found["file"], when=when)
    raise NotLms(f"unknown LMS {lms!r}")


def base_name(filename: str) -> tuple[str, int]:
    """A Canvas file name without its resubmission suffix (``exercises-2.ipynb``), and the
    resubmission's number (0 for the first)."""
    found = CANVAS_RESUBMISSION.match(filename)
    if found:
        return f"{found['stem']}{found['ext']}", int(found["n"])
    return filename, 0


def read_time(text: str, layout: str, zone) -> datetime:
    """A time in a name, read in ``zone`` (a tzinfo; UTC when ``None``), as aware UTC."""
    from datetime import timezone

    try:
        when = datetime.strptime(text, layout)
    except ValueError:
        raise NotLms(f"the time {text!r} in the name is not a date") from None
    return when.replace(tzinfo=zone or timezone.utc).astimezone(timezone.utc)


def brightspace_time(text: str, zone) -> datetime:
    """``Oct 2, 2026 8:15 AM`` or Brightspace's file-name form ``Oct 2, 2026 815 AM``."""
    if ":" not in text:
        text = re.sub(r" (\d{1,2})(\d{2}) ([AP]M)$", r" \1:\2 \3", text)
    return read_time(text, "%b %d, %Y %I:%M %p", zone)


def student_of(found: LmsFile, roster: dict[str, LmsEntry], names: dict[str, list[str]]):
    """The course's student id for ``found``, or raise :class:`NotLms` with the reason.

    ``roster`` is :func:`~autograder.pipeline.lms.roster_entries`; ``names`` maps
    :func:`~autograder.pipeline.lms.name_key` of each rostered student's names to ids.
    """
    if found.lms in ("canvas", "moodle"):
        ids = [s for s, e in roster.items() if e.lms == found.lms and e.lms_user_id == found.key]
        if len(ids) == 1:
            return ids[0]
        if found.lms == "canvas":
            raise NotLms(
                f"Canvas user {found.key} ({found.name}) is not on the roster: import Canvas's"
                " grade export with `grader roster`"
            )
    if found.lms == "blackboard":
        ids = [s for s, e in roster.items() if e.sis_login_id == found.key]
        if len(ids) == 1:
            return ids[0]
        if SAFE_ID.match(found.key):
            return found.key
        raise NotLms(f"Blackboard username {found.key!r} is not a safe student id")
    ids = names.get(name_key(found.name), [])
    if len(ids) == 1:
        return ids[0]
    what = "several students" if ids else "no student"
    raise NotLms(f"{found.name!r} matches {what} on the roster: import the LMS's class list")
