"""nbgrader configuration of a student's environment (installed with the course library).

The course id and the exchange are the instructor's (see the course README): on a JupyterHub
the Assignment List fetches from and submits to ``$NN_COURSE_EXCHANGE``, by default
``/srv/nbgrader/exchange``, as in the instructor's configuration.

``nbgrader validate NOTEBOOK`` runs the course's check (``course.check.check_submission``, the
notebook's last cell) instead of nbgrader's validation, which runs only the visible tests and
says "Success!" when they pass although hidden checks run at grading.
"""

import os

from course.check import use_for_nbgrader_validate  # the same wheel installs both

c = get_config()  # noqa: F821  (injected by traitlets)

c.CourseDirectory.course_id = "nn-course"
c.Exchange.root = os.environ.get("NN_COURSE_EXCHANGE", "/srv/nbgrader/exchange")

use_for_nbgrader_validate()
