"""What the grader knows of a learning management system: the names both sides use.

``grader roster`` (:mod:`autograder.intake.roster`) stores, per student, the ids the LMS
knows them by in ``grader_roster`` (one of our tables): Canvas's internal user ``ID``, ``SIS
User ID``, ``SIS Login ID`` and ``Section``; Moodle's participant number, ``ID number`` and
full name. ``grader collect --lms`` (:mod:`autograder.intake.lms`) maps the LMS's own
numbers in download names to the course's student ids through it, and ``grader export
--lms`` (:mod:`autograder.outputs.lms`) writes them back into the file the LMS imports.

The course's student id is always the one students were told to type (modules 07 and 08
derive their numbers from it): the login or SIS id, never an LMS-internal number.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import create_engine

from autograder.pipeline.tables import ROSTER, create_tables, rows

LMS_NAMES = ("canvas", "moodle", "blackboard", "brightspace")
EXPORT_LMS = ("canvas", "moodle")


@dataclass(frozen=True)
class LmsEntry:
    """How one student of the course is known to the LMS (empty strings where unknown)."""

    student: str
    lms: str = ""
    lms_user_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    display_name: str = ""
    id_number: str = ""


def roster_entries(db_url: str) -> dict[str, LmsEntry]:
    """Every stored entry, by the course's student id."""
    return {row["student"]: LmsEntry(**row) for row in rows(db_url, ROSTER)}


def store_entries(db_url: str, entries: list[LmsEntry]) -> None:
    """Create or replace the entries (an entry with no LMS data is not stored)."""
    engine = create_engine(db_url)
    try:
        create_tables(engine)
        with engine.begin() as conn:
            for entry in entries:
                if not entry.lms:
                    continue
                conn.execute(ROSTER.delete().where(ROSTER.c.student == entry.student))
                conn.execute(ROSTER.insert().values(**asdict(entry)))
    finally:
        engine.dispose()


def name_key(name: str) -> str:
    """A name compared loosely: lower case, letters and digits only, ``Last, First`` turned
    around (``Lovelace, Ada`` and ``Ada Lovelace`` are the same key)."""
    if "," in name:
        last, _, first = name.partition(",")
        name = f"{first} {last}"
    return "".join(ch for ch in name.lower() if ch.isalnum())
