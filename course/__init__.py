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

from course.network import MLP

__all__ = ["MLP"]
