"""The instructor's autograder: nbgrader turned into a pipeline that needs no babysitting.

Commands (``grader --help``): ``release``, ``collect``, ``grade``, ``feedback``, ``export``,
``demo``. Each module holds one step: :mod:`coursedir` (where things live), :mod:`release`,
:mod:`collect`, ``course.submission`` (the pre-flight: repairs or rejects a submission
before it runs; in ``course`` because the students' check uses it too),
:mod:`kit` (a private nbgrader course made from ``source/``), :mod:`worker` (grades one
submission), :mod:`pool` (long-lived worker processes), :mod:`gradebook` (the only writer of
the course's gradebook), :mod:`grade` (the coordinator), :mod:`feedback`, :mod:`export`,
:mod:`demo`, and :mod:`testing` (autograde an edited notebook from a test).
"""

import sys

# jsonschema's optional checker of the "iri" format, rfc3987_syntax, compiles dozens of
# parsers when imported: a second (measured) in every grading process, which nbformat pays
# on import. No notebook or gradebook schema uses that format, so it is left out.
sys.modules.setdefault("rfc3987_syntax", None)
