"""The instructor's ``grader``: nbgrader turned into a grading pipeline that needs no babysitting.

The folders are its layers, each importing only those below it (``tests/test_layout.py``
holds the rule):

- :mod:`autograder.text`: safe text for terminals, CSV files and pages (bottom; imports
  nothing of the grader);
- :mod:`autograder.runtime`: the trusted runtime, where the student's code ends and trusted
  code begins: the sandbox, the kernel boundary and its codec, the test runner;
- :mod:`autograder.pipeline`: the course directory, grading kits, submissions and their
  pre-flight, the coordinator, worker pools (local and Dask), the gradebook, the review
  rule, release and the students' bundle;
- :mod:`autograder.intake`: what comes in: collect (folders, LMS zips), the exchange's
  inbound, the roster;
- :mod:`autograder.outputs`: what goes out: feedback pages, the grades export, feedback
  published through the exchange;
- on top: :mod:`autograder.cli` (the ``grader`` command), :mod:`autograder.demo`,
  :mod:`autograder.samples` (sample submissions) and :mod:`autograder.testing` (autograde
  an edited notebook from a test). :mod:`autograder.nbgrader_hooks` stands apart: it closes
  nbgrader's own grading on a course that ``grader`` grades.

The pre-flight and the notebook vocabulary are in ``course`` (``course.submission``,
``course.notebooks``), because the students' check uses them too.
"""

import sys

# jsonschema's optional checker of the "iri" format, rfc3987_syntax, compiles dozens of
# parsers when imported: a second (measured) in every grading process, which nbformat pays
# on import. No notebook or gradebook schema uses that format, so it is left out.
sys.modules.setdefault("rfc3987_syntax", None)
