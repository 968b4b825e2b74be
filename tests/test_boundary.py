"""The boundary, round two: nothing of one student reaches the next; trusted code is bounded.

Graded with ``--jobs 1`` so that the classmates follow the attacker on the same worker, and
with a sandbox (bubblewrap or unshare; skipped, or failed under ``REQUIRE_SANDBOX=1``, where
neither works):

- **leftovers**: ``a-litter`` leaves a 10 MB file and a note in its kernel's folder, that
  folder's parent, its working folder and ``/tmp``, takes the permissions off its folders,
  starts a process in a session of its own, binds an abstract unix socket, and sets an
  environment variable. ``b-peek``, graded next on the same worker, looks for every one of
  them and answers ``relu`` wrongly if it finds any; ``c-ref`` is an honest classmate. Both
  must score as in a clean run, and afterwards nothing of the attacker is left on the host.
- **the codec's budget**: before them, twelve kernels answer with hand-written messages past
  the decoder's budget (``tests/attacks.py``: 20 million empty lists, 40 aliased levels,
  colliding dict keys and memo indexes, 280,000 namedtuple classes, a huge declared shape, a
  buffer decoded 150 times, cycles, 400,000 tiny arrays): each loses its own points only.
- **memory**: the run's largest grading process stays under 1 GB (printed by ``grade``).

Trusted code (test cells, the test's objects called back, instructor cells) runs under the
cell's time limit and a memory budget: checked on :func:`autograder.runtime.trusted.bounded`
itself, and end to end on module 06, where a ``kfold_score`` makes the test's own models
fit and predict millions of rows in the grader.
"""

from __future__ import annotations

import re
import subprocess
import time

import numpy as np
import pytest
from attacks import CODEC_BUDGET, with_relu
from attacks import leftovers as leftover_cells
from support import FULL, grader, new_course, notebook, require_sandbox, results, submit

from autograder import samples
from autograder.runtime.trusted import TrustedLimit, bounded

pytestmark = [pytest.mark.autograder, pytest.mark.xdist_group("boundary")]

MARK = "LEFT-BY-A"
CELLS = leftover_cells(MARK, 600)
LITTER, PEEK, PEEK_CONTROL = CELLS["litter"], CELLS["peek"], CELLS["peek-control"]
"""A relu that leaves a file, a mode change, a process, a socket and an environment variable
behind; one that looks for them (a wrong answer if it finds any); and that search with the
answer inverted, which shows that ``PEEK``'s verdict depends on the search."""


@pytest.fixture(scope="module")
def leftovers(tmp_path_factory: pytest.TempPathFactory):
    require_sandbox()
    course = new_course(tmp_path_factory.mktemp("boundary") / "course")
    source = notebook(course, "source")
    for name, code in CODEC_BUDGET.items():
        submit(course, f"a-codec-{name}", with_relu(source, code))
    submit(course, "a-litter", with_relu(source, LITTER))
    submit(course, "b-peek", with_relu(source, PEEK))
    submit(course, "c-ref", samples.to_bytes(source))
    submit(course, "d-peek-control", with_relu(source, PEEK_CONTROL))
    start = time.monotonic()
    proc = grader(course, "grade", "--jobs", "1", "--timeout", "5", "--student-timeout", "120")
    return course, proc, time.monotonic() - start


def test_nothing_one_student_leaves_reaches_the_next(leftovers) -> None:
    course, proc, _ = leftovers
    found = results(course)
    assert found["a-litter"]["scores"] == FULL, proc.stdout
    assert found["b-peek"]["scores"] == FULL, found["b-peek"]["flags"]
    assert found["c-ref"]["scores"] == FULL, found["c-ref"]["flags"]
    # the control inverts the answer: it must lose relu, so the search itself ran and saw nothing
    assert found["d-peek-control"]["scores"] == {**FULL, "test_relu": 0.0}


@pytest.mark.parametrize("attack", sorted(CODEC_BUDGET))
def test_a_message_past_the_codec_budget_gains_nothing(leftovers, attack: str) -> None:
    """Each is refused as the kernel's fault: its author loses, nobody else notices."""
    course, _, _ = leftovers
    found = results(course)[f"a-codec-{attack}"]
    assert found["status"] == "graded", found
    assert found["scores"]["test_relu"] == 0, found


def test_nothing_of_the_attacker_is_left_on_the_host(leftovers) -> None:
    course, _, _ = leftovers
    assert not list(course.rglob(MARK))
    sleepers = subprocess.run(["pgrep", "-f", "sleep 600"], capture_output=True, text=True)
    assert sleepers.stdout.strip() == "", "a process the attacker started outlived grading"


def test_the_run_reports_grading_memory_under_1_gb(leftovers) -> None:
    _, proc, seconds = leftovers
    line = re.search(r"memory: largest grading process (\d+) MB; coordinator (\d+) MB", proc.stderr)
    assert line, proc.stderr
    worker, coordinator = int(line.group(1)), int(line.group(2))
    print(f"largest grading process {worker} MB, coordinator {coordinator} MB, {seconds:.0f} s")
    assert 0 < worker < 1024 and coordinator < 1024


# -- trusted code under limits ---------------------------------------------------------------
def test_trusted_code_stops_at_the_cell_limit_whatever_it_catches() -> None:
    start = time.monotonic()
    with pytest.raises(TrustedLimit), bounded(1.0):
        try:
            while True:
                pass
        except Exception:  # a test's own handler must not swallow the limit
            pass
    assert time.monotonic() - start < 5


def test_trusted_code_gets_memory_error_past_its_budget_and_the_limit_is_restored() -> None:
    with pytest.raises(MemoryError), bounded(30.0, memory_bytes=200 * 2**20):
        np.ones(100 * 2**20)  # 800 MB
    assert np.ones(50 * 2**20).sum() == 50 * 2**20  # 400 MB: the budget was lifted again


def test_trusted_code_leaves_no_figures() -> None:
    import matplotlib.pyplot as plt

    with bounded(30.0):
        for _ in range(20):
            plt.figure()
    assert plt.get_fignums() == []


HOG = """
def kfold_score(X, y, n_splits, make_model, rng):
    model = make_model()
    big = np.zeros((3_000_000, 2))
    model.fit(big, np.zeros(len(big), dtype=int))
    model.predict(big)
    return np.zeros(n_splits)
"""


def test_the_tests_own_models_called_back_on_huge_data_are_bounded() -> None:
    """06's kfold_score makes the test's models fit and predict 3 million rows in the grader:
    that test cell fails at the cell's limit, every other part is graded as usual."""
    from autograder.testing import autograde, exercises, max_scores

    source = exercises("06-regularization")
    for cell in source.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "kfold_score":
            cell.source = HOG
    start = time.monotonic()
    scores = autograde("06-regularization", source, cell_timeout=10)
    assert time.monotonic() - start < 240
    assert scores["test_kfold_score"] == 0
    full = max_scores("06-regularization")
    assert {k: v for k, v in scores.items() if k != "test_kfold_score"} == {
        k: v for k, v in full.items() if k != "test_kfold_score"
    }
