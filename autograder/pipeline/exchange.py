"""nbgrader's exchange: where it is, and the names nbgrader gives the files in it.

The exchange (``Exchange.root``; ``$NN_COURSE_EXCHANGE`` in the course's
``nbgrader_config.py``) holds, per course id, ``outbound/`` (released assignments),
``inbound/`` (submissions, read by :mod:`autograder.intake.exchange`) and ``feedback/``
(pages, written by :mod:`autograder.outputs.publish`). ``nbgrader submit`` leaves a
``timestamp.txt`` and a ``submission_secret.txt`` in each submission; the secret names the
submission's feedback page.
"""

from __future__ import annotations

from pathlib import Path

from autograder.pipeline.coursedir import Course

DEFAULT_ROOT = "/usr/local/share/nbgrader/exchange"
"""nbgrader's own default ``Exchange.root``."""
TIMESTAMP = "timestamp.txt"
SECRET = "submission_secret.txt"
"""``nbgrader submit`` writes it; the exchange names a student's feedback after its hash."""
TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"
"""nbgrader's own timestamp format (``Exchange.timestamp_format``)."""
SMALL_FILE_LIMIT = 4096
"""Enough for a timestamp or a submission secret (128 hex digits)."""


def exchange_root(course: Course) -> Path:
    """The exchange folder of ``course``'s configuration (nbgrader's default if it sets none)."""
    return Path(course.config.Exchange.get("root", DEFAULT_ROOT))


def course_folder(course: Course) -> Path:
    """The exchange's folder of this course: ``<root>/<course id>``."""
    return exchange_root(course) / course.course_id
