"""nbgrader's own grading entry points, closed on a course that ``grader`` grades.

``nbgrader autograde`` runs a student's code in the same process as the tests and writes the
gradebook; ``nbgrader generate_feedback`` writes a page with the hidden tests. Formgrader's
Autograde and Generate Feedback buttons call the same converters (through
``NbGraderAPI.autograde`` and ``generate_feedback``). A course's ``nbgrader_config.py``
closes all four doors by naming the exporters below as the converters' ``exporter_class``::

    c.Autograde.exporter_class = "autograder.nbgrader_hooks.AutogradeRefused"
    c.GenerateFeedback.exporter_class = "autograder.nbgrader_hooks.FeedbackRefused"

A converter builds its exporter in ``start()`` right after listing the notebooks and before
it touches anything per submission: before ``--force`` removes an old ``autograded/`` or
``feedback/`` folder, before a student or submission row is created, before a file is copied
and before the failure handler that deletes a student's output folder can run. So refusing
there leaves the gradebook and both folders exactly as ``grader`` left them. (A refusing
preprocessor would come too late: ``Autograde.init_assignment`` has written the gradebook by
then, and the failure handler removes ``autograded/<student>/<assignment>``.) nbgrader's
``pre_convert_hook`` cannot refuse at all: nbgrader logs and ignores its exceptions.

The CLI prints the one-line reason and exits 1; the API (and so formgrader) returns
``success: False`` with the reason in its log and as the last line of its error. Manual
grading in formgrader writes ``manual_score`` through the gradebook, not through these
converters, and keeps working. An instructor who wants plain nbgrader on a copy of the course
(a benchmark, say) overrides the setting on the command line, e.g.
``--Autograde.exporter_class=nbconvert.exporters.NotebookExporter``.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from nbconvert.exporters import Exporter
from nbgrader.converters.base import NbGraderException

AUTOGRADE_REFUSED = (
    "this course is graded by `grader grade` (trusted runtime); "
    "nbgrader's autograde is disabled here"
)
FEEDBACK_REFUSED = (
    "this course's feedback is written by `grader feedback` (no hidden tests); "
    "nbgrader's generate_feedback is disabled here"
)


class GradingRefused(NbGraderException):
    """nbgrader's own grading was asked for on a course that ``grader`` grades."""


class RefusingExporter(Exporter):
    """An exporter that cannot be built: constructing it logs ``message`` and raises."""

    message: ClassVar[str] = "nbgrader's converters are disabled on this course; use `grader`"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        parent = kwargs.get("parent")
        log = getattr(parent, "log", None) or logging.getLogger(__name__)
        log.error(self.message)
        raise GradingRefused(self.message)


class AutogradeRefused(RefusingExporter):
    """``Autograde.exporter_class``: ``nbgrader autograde`` and formgrader's Autograde."""

    message = AUTOGRADE_REFUSED


class FeedbackRefused(RefusingExporter):
    """``GenerateFeedback.exporter_class``: ``generate_feedback`` and its formgrader button."""

    message = FEEDBACK_REFUSED
