"""Every module's notebooks, graded as ``grader grade`` grades a submission.

For each ``source/NN-*/``: the committed release matches a fresh generation and leaks
nothing; the source exercises, submitted as a student's, get full marks; the untouched
release gets zero on every test cell; and each plausible bug listed in
``tests/bugs/bugs_NN.py`` (``BUGS``: ``cell``, ``old``, ``new``, ``loses``) loses points on the
test cells it names. The bugs are graded several to a notebook where none can reach another's
test cells (``tests/bug_packing.py``), one test per bug, plus one control per notebook: the test
cells no bug of it reaches keep full marks. Grading is :func:`autograder.testing.autograde`:
the grader's pre-flight and its trusted runtime (test cells from the source run in this
process, the student's cells in a kernel), not nbgrader's autograde. That every notebook runs
in a fresh kernel is nbval's part of ``make test`` (``tests/nbval_course.py``).
"""

from __future__ import annotations

import os

import bug_packing
import pytest
from bug_packing import (
    Bug,
    Graph,
    Pack,
    PackGrade,
    fits,
    graded,
    group,
    kept_points,
    pack,
    scope,
    selected,
)

from autograder.pipeline.coursedir import REPO_ROOT
from autograder.pipeline.release import release_differences, release_leaks
from autograder.testing import autograde, exercises, max_scores, module_kit

pytestmark = pytest.mark.notebooks

SOURCE = REPO_ROOT / "source"
RELEASE = REPO_ROOT / "release"
MODULES = sorted(p.name for p in SOURCE.glob("[0-9][0-9]-*") if (p / "exercises.ipynb").is_file())
QUICK = os.environ.get("NN_COURSE_QUICK") == "1"


PACKS = pack(selected(MODULES, QUICK))
"""Every bug spec whose module exists, in packs (``tests/bug_packing.py``). With
``NN_COURSE_QUICK=1`` only the first bug of each graded cell, which still shows every graded
function catching a mistake, in a fraction of the time."""


def pack_param(found: Pack, *values, id: str) -> pytest.param:
    """A test's parameters, on the worker that grades the pack ``found``."""
    return pytest.param(*values, id=id, marks=pytest.mark.xdist_group(group(found)))


BUGS = sorted(
    (pack_param(p, p, b, id=b.id) for p in PACKS for b in p.bugs),
    key=lambda param: (param.values[1].module, param.values[1].index),
)


@pytest.mark.parametrize("module", MODULES)
def test_release_in_sync_with_source(module: str) -> None:
    kit = module_kit(module, str(REPO_ROOT))
    assert release_differences(kit.release_dir(module), RELEASE / module) == []


@pytest.mark.parametrize("module", MODULES)
def test_release_hides_solutions_and_hidden_tests(module: str) -> None:
    assert (RELEASE / module).is_dir(), f"release/{module} is missing"
    assert release_leaks(SOURCE / module, RELEASE / module) == []


@pytest.mark.parametrize("module", MODULES)
def test_source_solution_gets_full_marks(module: str) -> None:
    scores = autograde(module, exercises(module))
    lost = {k: v for k, v in scores.items() if v < max_scores(module)[k]}
    assert not lost, f"the reference solution loses points on {sorted(lost)}"


@pytest.mark.parametrize("module", MODULES)
def test_untouched_release_gets_zero(module: str) -> None:
    scores = autograde(module, exercises(module, "release"))
    assert scores and not any(scores.values()), f"points without an answer: {scores}"


@pytest.mark.parametrize(("found", "bug"), BUGS)
def test_bug_loses_points(found: Pack, bug) -> None:
    kept = kept_points(found, bug)
    assert not kept, f"{bug.spec['name']}: no points lost on {kept}"


@pytest.mark.parametrize("found", [pack_param(p, p, id=p.id) for p in PACKS])
def test_bug_pack_control(found: Pack) -> None:
    leaks = graded(found).leaks
    names = "; ".join(b.spec["name"] for b in found.bugs)
    assert not leaks, f"{found.id} ({names}): lost points on {list(leaks)}, which no bug reaches"


# -- the packing itself: no kernels ------------------------------------------------------------
def test_bug_packs_hold_every_bug_once_and_keep_them_apart() -> None:
    packed = [b for p in PACKS for b in p.bugs]
    assert sorted(packed, key=lambda b: (b.module, b.index)) == selected(MODULES, QUICK)
    assert all(fits(list(p.bugs)) for p in PACKS)


def test_bug_packing_reads_the_kernels_globals() -> None:
    found = scope(
        "import numpy as np\n"
        "X = np.ones(3)\n"
        "def f(z):\n"
        "    global CACHE\n"
        "    CACHE = z\n"
        "    for _ in range(2):\n"
        "        z = g(z) + [h(v) for v in z][0]\n"
        "    return z + X\n"
        "class C:\n"
        "    k = K\n"
    )
    assert found.binds == {"np", "X", "f", "CACHE", "C"}
    assert found.variables == {"X", "CACHE"}  # not the imports, functions and classes
    assert found.uses == {"np", "X", "CACHE", "g", "h", "range", "K"}  # no locals
    assert scope("%timeit f(x)").uses == {"timeit", "f", "x"}  # not Python: every word


CELLS = [
    ("setup", "instructor", "import numpy as np\nDATA = np.arange(3)"),
    ("a", "answer", "def a(x):\n    return x"),
    ("test_a", "test", "assert a(1) == 1"),
    ("b", "answer", "def b(x):\n    return a(x) + 1"),
    ("test_b", "test", "assert b(1) == 2"),
    ("c", "answer", "def c():\n    return DATA.sum()"),
    ("test_c", "test", "assert c() == 3"),
    ("d", "answer", "def d():\n    return 0"),
    ("test_d", "test", "assert d() == 0"),
]


def test_bug_packing_follows_calls_and_shared_variables() -> None:
    graph = Graph(CELLS, {})
    assert graph.reach("test_b")[0] == {"a", "b"}
    assert graph.touched("test_b", "a") and not graph.touched("test_a", "b")
    assert not graph.touched("test_c", "d")
    # an edit is read as graded: a call it adds, or a global variable it shares, counts
    calls = Graph(CELLS, {"a": ("return x", "return x + d()")})
    assert calls.touched("test_a", "d") and calls.touched("test_b", "d")
    shares = Graph(CELLS, {"d": ("return 0", "DATA[0] = 1\n    return 0")})
    assert shares.touched("test_c", "d") and not shares.touched("test_a", "d")


def test_bug_packing_grades_alone_what_a_pack_cannot_show(monkeypatch) -> None:
    both = next(p for p in PACKS if len(p.bugs) > 1)
    first, second = both.bugs[:2]
    full = dict.fromkeys({*first.spec["loses"], *second.spec["loses"], "test_other"}, 1.0)
    lost = {**full, **dict.fromkeys([*first.spec["loses"], *second.spec["loses"]], 0.0)}
    alone: list[Bug] = []
    monkeypatch.setattr(bug_packing, "max_scores", lambda _: full)
    monkeypatch.setattr(bug_packing, "graded_alone", lambda b: alone.append(b) or lost)

    def in_pack(scores: dict, stops=(), leaks=()) -> list[str]:
        monkeypatch.setattr(bug_packing, "graded", lambda _: PackGrade(scores, stops, leaks))
        return kept_points(both, first)

    assert in_pack(lost) == [] and alone == []  # a trusted pack shows the loss
    assert in_pack(full) == [] and alone == [first]  # a miss is confirmed alone
    assert in_pack(lost, stops=("stopped",)) == [] and len(alone) == 2  # a stop: alone
    assert in_pack(lost, leaks=("test_other",)) == [] and len(alone) == 3  # a leak: alone
    monkeypatch.setattr(bug_packing, "graded_alone", lambda b: full)
    assert in_pack(full) == first.spec["loses"]  # what the bug keeps alone fails the test


def test_bug_packing_leaves_a_broken_spec_alone(monkeypatch) -> None:
    both = next(p for p in PACKS if len(p.bugs) > 1)
    module, good = both.module, [b.spec for b in both.bugs[:2]]
    broken = [
        {**good[0], "old": "text that is in no cell"},
        {**good[1], "loses": ["test_that_is_not_there"]},
    ]
    monkeypatch.setattr(bug_packing, "all_specs", lambda: {module: [*good, *broken]})
    found = pack(selected([module], False))
    assert [[b.index for b in p.bugs] for p in found] == [[0, 1], [2], [3]]
