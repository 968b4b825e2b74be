"""The plausible bugs of a module graded a few to a notebook, each loss still pinned on its bug.

A bug spec (``tests/bugs/bugs_NN.py``, see :func:`support.specs`) edits one answer cell and
names the test cells that must lose points. Grading one notebook per bug starts a kernel and
runs the whole notebook ~300 times; here the bugs of a module that cannot reach each other are
applied together to one notebook (a *pack*), graded once, and each bug is judged on its own
``loses`` cells in that pack's scores.

What a test cell depends on (:class:`Graph`) is read from the notebook as graded: the test
cell's text from the source, the kernel's cells (answer cells with the pack's edits, instructor
cells) as submitted. Python's :mod:`symtable` gives each cell's global names: those it binds at
top level (or through ``global``), and those it uses (at top level, or as globals inside its
functions, classes and comprehensions: a function's own locals are not the kernel's). A test
cell *reaches* every kernel cell that binds a name it uses, then every cell that binds a name
those use, and so on. Two bugs may share a pack when, for each of them:

- no other bug edits the same cell;
- its ``loses`` cells reach no cell another bug of the pack edits;
- nor use a global *variable* (a name bound by assignment, not a ``def`` or an import) that
  another bug's edited cell uses: code that writes shared data could change what the other
  bug's tests see.

So, as far as names tell, the only code of the pack that runs under a bug's ``loses`` cells is
its own bug and the reference solution, as when it is graded alone; what names cannot tell (a
bug that patches a module the others use, or exhausts the kernel) is what the checks at run
time below are for. Bugs are packed per module in the specs'
order, each into the least-filled pack it fits (:data:`MAX_PACK` bugs at most); a module needs
at least as many packs as its most-bugged cell has bugs. ``NN_COURSE_QUICK=1`` packs only the
bugs it keeps.

A pack's grading is trusted only if it also passes two checks at run time:

- **the control**: every test cell that reaches none of the pack's edits keeps full marks
  (:attr:`PackGrade.leaks` lists those that did not; ``test_bug_pack_control`` fails on them):
  something of one bug that reached past the dependencies read here would show there;
- **no stop**: no cell was stopped and no kernel lost (a stop restarts the kernel and replays
  the cells, and the restarts a notebook may have are shared by its bugs).

A bug whose pack is not trusted, or that keeps points on one of its ``loses`` cells in its
pack, is graded alone (:func:`kept_points`): a failure always reports what the bug does by
itself, and a pass always rests on a run where no other bug could reach its test cells.

Grading is :mod:`autograder.testing`'s (the grader's pre-flight, trusted runtime and review
rule, in this process, one kernel at a time), once per pack and process. Under ``pytest -n``,
each pack's tests carry the ``xdist_group`` :func:`group` names, so they run on one worker
(``tests/xdist_groups.py``) and the pack is graded there once, while other packs keep the other
worker busy; selecting one bug (``-k``) grades its pack only. One ``grader grade --jobs 2`` run
over every pack was measured too: on the 16 packs of 02 and 07 a pack costs the same either way
(3 to 9 s, load ~7 on 2 cores), the run's own start, course copy and kits come on top, and it
would hold every bug test behind one fixture and both cores inside one test.
"""

from __future__ import annotations

import functools
import re
import symtable
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from nbformat import NotebookNode
from support import specs

from autograder.pipeline.tasks import FlagKind, GradeResult
from autograder.runtime.runner import cell_kind, nbgrader_meta
from autograder.testing import (
    autograde,
    autograde_result,
    edit_cell,
    exercises,
    max_scores,
)

MAX_PACK = 12
"""The most bugs graded in one notebook: a pack that fails its checks is graded bug by bug."""


# -- what a cell binds and uses ------------------------------------------------------------------
@dataclass(frozen=True)
class Scope:
    """The global names a cell binds, those of them that are variables, and those it uses."""

    binds: frozenset[str]
    variables: frozenset[str]
    uses: frozenset[str]


@functools.cache
def scope(source: str) -> Scope:
    """What ``source`` binds and uses at the kernel's top level (see the module docstring).

    A cell Python cannot compile (a magic, a syntax error) binds nothing and uses every
    identifier in its text: the closure can only grow.
    """
    try:
        table = symtable.symtable(source, "<cell>", "exec")
    except SyntaxError:
        return Scope(frozenset(), frozenset(), frozenset(re.findall(r"[A-Za-z_]\w*", source)))
    binds, variables, uses = set(), set(), set()
    for symbol in table.get_symbols():
        name = symbol.get_name()
        if symbol.is_referenced():
            uses.add(name)
        if symbol.is_assigned() or symbol.is_imported():
            binds.add(name)
            if not symbol.is_imported() and not symbol.is_namespace():
                variables.add(name)
    nested = list(table.get_children())
    while nested:
        inner = nested.pop()
        nested += inner.get_children()
        for symbol in inner.get_symbols():
            if symbol.is_global():
                uses.add(symbol.get_name())
                if symbol.is_declared_global() and symbol.is_assigned():
                    binds.add(symbol.get_name())
                    variables.add(symbol.get_name())
    return Scope(frozenset(binds), frozenset(variables), frozenset(uses))


class Graph:
    """The kernel cells each test cell reaches, as the runner grades a notebook.

    ``cells`` are the source's cells as ``(grade id, kind, text)`` (:func:`source_cells`);
    ``edits`` maps an answer cell's grade id to the ``(old, new)`` a bug replaces in it. Test
    cells keep the source's text (the runner runs that), kernel cells (answer and instructor
    cells) get the edits.
    """

    def __init__(
        self, cells: Iterable[tuple[str, str, str]], edits: Mapping[str, tuple[str, str]]
    ) -> None:
        self.tests: dict[str, Scope] = {}
        self.kernel: dict[str, Scope] = {}
        for cell, kind, text in cells:
            if kind == "test":
                self.tests[cell] = scope(text)
            elif kind in ("answer", "instructor"):
                if cell in edits:
                    text = text.replace(*edits[cell])
                self.kernel[cell] = scope(text)
        self.binders: dict[str, set[str]] = {}
        for cell, found in self.kernel.items():
            for name in found.binds:
                self.binders.setdefault(name, set()).add(cell)
        self.variables = frozenset().union(*(s.variables for s in self.kernel.values()))
        self.reached: dict[str, tuple[frozenset[str], frozenset[str]]] = {}

    def reach(self, test: str) -> tuple[frozenset[str], frozenset[str]]:
        """The kernel cells test cell ``test`` reaches, and every global name met on the way."""
        if test not in self.reached:
            names = set(self.tests[test].uses)
            cells: set[str] = set()
            todo = list(names)
            while todo:
                for cell in self.binders.get(todo.pop(), ()):
                    if cell not in cells:
                        cells.add(cell)
                        new = self.kernel[cell].uses - names
                        names |= new
                        todo += new
            self.reached[test] = frozenset(cells), frozenset(names)
        return self.reached[test]

    def touched(self, test: str, cell: str) -> bool:
        """Whether an edit of the kernel cell ``cell`` may change what ``test`` sees."""
        cells, names = self.reach(test)
        return cell in cells or bool(self.kernel[cell].uses & self.variables & names)


def module_graph(module: str, bugs: Iterable[Bug] = ()) -> Graph:
    """The graph of ``module``'s source exercises with ``bugs`` applied."""
    edits = {bug.spec["cell"]: (bug.spec["old"], bug.spec["new"]) for bug in bugs}
    return Graph(source_cells(module), edits)


@functools.cache
def source_cells(module: str) -> tuple[tuple[str, str, str], ...]:
    """The grade id, kind and text of each graded or instructor cell of the source exercises."""
    return tuple((gid(c), cell_kind(c), c.source) for c in exercises(module).cells if gid(c))


def gid(cell: NotebookNode) -> str | None:
    return nbgrader_meta(cell).get("grade_id")


# -- the bugs and their packs ------------------------------------------------------------------
@dataclass(frozen=True)
class Bug:
    """One spec of ``tests/bugs/bugs_NN.py``: its module and its index in ``BUGS``."""

    module: str
    index: int

    @property
    def spec(self) -> dict:
        return all_specs()[self.module][self.index]

    @property
    def id(self) -> str:
        return f"{self.module}-{self.index}"


@dataclass(frozen=True)
class Pack:
    """Bugs of one module graded in one notebook; ``number`` orders the module's packs."""

    module: str
    number: int
    bugs: tuple[Bug, ...]

    @property
    def id(self) -> str:
        return f"{self.module}-pack{self.number}"

    def notebook(self) -> NotebookNode:
        """The module's source exercises with every bug of the pack applied."""
        return applied(self.module, self.bugs)

    def controls(self) -> list[str]:
        """The test cells no bug of the pack can reach: they must keep full marks."""
        graph = module_graph(self.module, self.bugs)
        edited = [b.spec["cell"] for b in self.bugs]
        return [t for t in graph.tests if not any(graph.touched(t, c) for c in edited)]


@functools.cache
def all_specs() -> dict[str, list[dict]]:
    return specs("bugs")


def applied(module: str, bugs: Iterable[Bug]) -> NotebookNode:
    """The module's source exercises with ``bugs`` applied (each edits its own cell)."""
    notebook = exercises(module)
    for bug in bugs:
        edit_cell(notebook, bug.spec["cell"], bug.spec["old"], bug.spec["new"])
    return notebook


def selected(modules: Iterable[str], quick: bool) -> list[Bug]:
    """Every bug of ``modules`` in the specs' order; ``quick``: the first of each cell only."""
    bugs = []
    for module in modules:
        seen = set()
        for index, spec in enumerate(all_specs().get(module, [])):
            if not quick or spec["cell"] not in seen:
                bugs.append(Bug(module, index))
            seen.add(spec["cell"])
    return bugs


def well_formed(bug: Bug) -> bool:
    """Whether the bug's ``old`` is in its answer cell and its ``loses`` names test cells."""
    cells = {cell: (kind, text) for cell, kind, text in source_cells(bug.module)}
    kind, text = cells.get(bug.spec["cell"], ("", ""))
    tests = {cell for cell, (kind, _) in cells.items() if kind == "test"}
    return kind == "answer" and bug.spec["old"] in text and set(bug.spec["loses"]) <= tests


def fits(bugs: list[Bug]) -> bool:
    """Whether ``bugs`` (of one module) may share a notebook: see the module docstring.

    A spec that is not :func:`well_formed` shares with nothing: its own test says what is wrong.
    """
    cells = [b.spec["cell"] for b in bugs]
    if len(set(cells)) < len(cells) or (len(bugs) > 1 and not all(map(well_formed, bugs))):
        return False
    graph = module_graph(bugs[0].module, bugs)
    return not any(
        graph.touched(test, other.spec["cell"])
        for bug in bugs
        for test in bug.spec["loses"]
        for other in bugs
        if other is not bug
    )


def pack(bugs: list[Bug]) -> list[Pack]:
    """``bugs`` in packs, per module: each into the least-filled pack it fits, or a new one."""
    packs: dict[str, list[list[Bug]]] = {}
    for bug in bugs:
        module = packs.setdefault(bug.module, [])
        open_ = [p for p in module if len(p) < MAX_PACK and fits([*p, bug])]
        if open_:
            min(open_, key=len).append(bug)
        else:
            module.append([bug])
    return [
        Pack(module, number, tuple(found))
        for module, found in packs.items()
        for number, found in enumerate(found)
    ]


def group(pack_: Pack) -> str:
    """The ``xdist_group`` of a pack's tests: one worker grades the pack for all of them."""
    return f"bugs-{pack_.id}"


# -- grading -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PackGrade:
    """A pack's scores, and why they cannot be trusted for its bugs, if they cannot."""

    scores: dict[str, float]
    stops: tuple[str, ...]
    """What grading stopped (a cell past a cap, a lost kernel)."""
    leaks: tuple[str, ...]
    """Control cells (:meth:`Pack.controls`) that lost points."""

    @property
    def trusted(self) -> bool:
        return not self.stops and not self.leaks


def grade_result(module: str, notebook: NotebookNode) -> GradeResult:
    """What :func:`autograder.testing.autograde` sees, flags included."""
    return autograde_result(module, notebook)


@functools.cache
def graded(pack_: Pack) -> PackGrade:
    """Grade the pack's notebook once per process."""
    result = grade_result(pack_.module, pack_.notebook())
    full = max_scores(pack_.module)
    leaks = tuple(t for t in pack_.controls() if result.scores.get(t, 0.0) < full[t])
    stops = tuple(str(f) for f in result.flags_of(FlagKind.STOPPED))
    return PackGrade(dict(result.scores), stops, leaks)


@functools.cache
def graded_alone(bug: Bug) -> dict[str, float]:
    """The scores of the bug applied alone to the source exercises."""
    return autograde(bug.module, applied(bug.module, [bug]))


def kept_points(pack_: Pack, bug: Bug) -> list[str]:
    """The cells of ``bug["loses"]`` that kept full marks: in its pack, else graded alone."""
    full = max_scores(bug.module)
    if unknown := set(bug.spec["loses"]) - set(full):
        raise ValueError(f"{bug.spec['name']}: no test cell {sorted(unknown)}")
    found = graded(pack_)
    kept = [t for t in bug.spec["loses"] if found.scores[t] >= full[t]]
    if len(pack_.bugs) == 1 or (found.trusted and not kept):
        return kept
    alone = graded_alone(bug)
    return [t for t in bug.spec["loses"] if alone[t] >= full[t]]
