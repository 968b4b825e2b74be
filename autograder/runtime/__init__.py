"""The grading runtime: where the student's code ends and trusted code begins.

- :mod:`~autograder.runtime.sandbox`: the kernel's confinement (bubblewrap, rlimits);
- :mod:`~autograder.runtime.codec`: the only data that crosses the kernel boundary;
- :mod:`~autograder.runtime.agent`: the kernel's side of the boundary (runs in the kernel);
- :mod:`~autograder.runtime.kernel`: the grading process's side: cells, calls, handles, caps;
- :mod:`~autograder.runtime.runner`: walks a notebook, runs each test cell here and scores it.

Nothing in this package imports the grading pipeline.
"""
