"""nbgrader configuration for the course; the repository root is the course directory."""

import os

c = get_config()  # noqa: F821  (injected by traitlets)

c.CourseDirectory.course_id = "nn-course"
ROOT = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = ROOT
c.CourseDirectory.db_url = os.environ.get("NN_COURSE_DB_URL", f"sqlite:///{ROOT}/gradebook.db")
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".DS_Store"]
# nbgrader's exchange on a JupyterHub: the students' config names the same folder
c.Exchange.root = os.environ.get("NN_COURSE_EXCHANGE", "/srv/nbgrader/exchange")

c.ExecutePreprocessor.timeout = int(os.environ.get("NN_COURSE_CELL_TIMEOUT", "60"))
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# nbgrader's own autograde and feedback (CLI and formgrader's buttons) would undo `grader`:
# they refuse here, before writing anything (see autograder/nbgrader_hooks.py).
c.Autograde.exporter_class = "autograder.nbgrader_hooks.AutogradeRefused"
c.GenerateFeedback.exporter_class = "autograder.nbgrader_hooks.FeedbackRefused"
