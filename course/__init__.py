"""A small NumPy neural-network library: the course's reference implementation.

Conventions shared by every module: batch-first arrays of shape (N, D), weights
``W`` of shape (n_in, n_out) with ``out = x @ W + b``, float64 by default, and
randomness only through an explicit ``rng: numpy.random.Generator`` argument.

Modules: ``activations``, ``neuron``, ``layers``, ``losses``, ``initializers``,
``network``, ``regularization``, ``optimizers``, ``gradcheck``, ``training``,
``estimators``, ``pipelines``, ``metrics``, ``data``, ``plots``, ``grading``, and
``submission`` and ``check``: the pre-flight that grading runs on a submitted notebook, and
the check a student runs before submitting, which uses it.
"""

__all__ = ["MLP"]


def __getattr__(name: str):
    """``course.MLP``, imported on first use: the grader's command line imports small parts
    of the package (``course.notebooks``, ``course.submission``) and never needs SciPy."""
    if name == "MLP":
        from course.network import MLP

        return MLP
    raise AttributeError(f"module 'course' has no attribute {name!r}")
