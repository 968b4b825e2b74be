"""Conventions every exercise notebook keeps, read from the source notebooks.

- The visible part of a test cell runs in the student's own kernel too: every name it binds
  at top level starts with ``_``, so running a test never clobbers the student's ``x``,
  ``W``, ``params``, ``X`` or ``y``.
- No letter is the answer of more than 40 % of the course's letter questions, so answering
  the same letter everywhere cannot pass.
- Student text never calls a slide deck by its file name ("seed 001", "deck 002").
"""

from __future__ import annotations

import ast
import re
from collections import Counter

import nbformat
import pytest

from autograder.pipeline.coursedir import REPO_ROOT

pytestmark = pytest.mark.notebooks

SOURCE = REPO_ROOT / "source"
MODULES = sorted(p.name for p in SOURCE.glob("[0-9][0-9]-*") if (p / "exercises.ipynb").is_file())
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.DOTALL)
LETTER = re.compile(r"""^(answer_\w+)\s*=\s*["']([a-e])["']\s*$""", re.MULTILINE)
DECK = re.compile(r"(seed|deck)s? 00[0-3]", re.IGNORECASE)


def cells(module: str, kind: str) -> list:
    notebook = nbformat.read(SOURCE / module / "exercises.ipynb", as_version=4)
    out = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if kind == "test" and meta.get("grade") and not meta.get("solution"):
            out.append(cell)
        elif kind == "answer" and meta.get("solution"):
            out.append(cell)
        elif kind == "all":
            out.append(cell)
    return out


def bound_names(tree: ast.Module) -> set[str]:
    """Names bound at module level, including inside top-level for, if, with and try blocks."""
    names: set[str] = set()
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
            continue
        for child in ast.walk(node):
            if isinstance(child, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp):
                continue
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                names.add(child.id)
            elif isinstance(child, ast.ExceptHandler) and child.name:
                names.add(child.name)
        for field in ("body", "orelse", "finalbody", "handlers"):
            stack.extend(
                n for n in getattr(node, field, []) if isinstance(n, ast.stmt | ast.excepthandler)
            )
    return names


def comprehension_targets(tree: ast.Module) -> set[str]:
    """Names bound only inside comprehensions (local to them, so harmless)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension):
            names.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
    return names


@pytest.mark.parametrize("module", MODULES)
def test_visible_tests_bind_only_private_names(module: str) -> None:
    offenders = []
    for cell in cells(module, "test"):
        visible = HIDDEN.sub("", cell.source)
        tree = ast.parse(visible)
        public = {
            n for n in bound_names(tree) - comprehension_targets(tree) if not n.startswith("_")
        }
        if public:
            offenders.append(f"{cell.metadata.nbgrader.grade_id}: {sorted(public)}")
    assert offenders == []


def test_no_letter_answers_more_than_forty_percent_of_letter_questions() -> None:
    letters = Counter()
    for module in MODULES:
        for cell in cells(module, "answer"):
            letters.update(letter for _, letter in LETTER.findall(cell.source))
    total = sum(letters.values())
    assert total >= 10, letters
    assert max(letters.values()) <= 0.4 * total, letters


@pytest.mark.parametrize("module", MODULES)
def test_exercises_never_name_a_slide_file(module: str) -> None:
    found = [c.source[:60] for c in cells(module, "all") if DECK.search(c.source)]
    assert found == []


# -- the test's objects are the test's -------------------------------------------------------
# A graded function runs in the student's kernel and may change what it is given (in place, or
# by emptying a list of caches). Expected values must therefore come from copies the student's
# code never saw, and anything a test iterates must be counted first. The lint below reads
# every test cell (visible and hidden parts) and flags
#   (a) ``zip(...)`` over a name bound from a graded function's result, or over a graded call,
#       unless the cell checks ``len(name)``;
#   (b) a reference call (a ``course`` function other than ``course.grading``'s, a name
#       imported from ``course`` or ``sklearn``, or a helper of the cell that calls one) that
#       takes, after a graded call, a name that graded call was given (as an argument, inside a
#       literal container, or as the base of an index or attribute). Rebinding the name clears
#       it; a copy made *before* the graded call is a different name and is fine.
# Loop bodies are read twice, so a reference call early in the body that sees what the graded
# call at its end was given on the previous round is caught too.

REFERENCE_ROOTS = ("course", "sklearn")
NOT_REFERENCE = ("course.grading",)


def imported_references(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound to reference functions, and names bound to reference modules."""
    functions, modules = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            root = node.module.split(".")[0]
            if root in REFERENCE_ROOTS and not node.module.startswith(NOT_REFERENCE):
                for alias in node.names:
                    (
                        modules
                        if alias.name[:1].islower()
                        and f"{node.module}.{alias.name}" in KNOWN_SUBMODULES
                        else functions
                    ).add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in REFERENCE_ROOTS and not alias.name.startswith(
                    NOT_REFERENCE
                ):
                    modules.add(alias.asname or alias.name.split(".")[0])
    return functions, modules


KNOWN_SUBMODULES = {
    f"course.{name}"
    for name in (
        "activations neuron layers losses initializers network regularization optimizers "
        "gradcheck training data plots estimators metrics tuning"
    ).split()
}


IMMUTABLE_CALLS = {"int", "float", "str", "bool", "complex", "len", "range", "tuple", "frozenset"}


def immutable_value(node: ast.expr) -> bool:
    """Whether ``node`` evaluates to something no call can change: numbers, strings, tuples of
    them, ``int(...)``, ``float(...)``."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Tuple):
        return all(immutable_value(e) for e in node.elts)
    if isinstance(node, ast.UnaryOp):
        return immutable_value(node.operand)
    if isinstance(node, ast.BinOp):
        return immutable_value(node.left) and immutable_value(node.right)
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in IMMUTABLE_CALLS
    )


def immutable_items(items: ast.expr) -> bool:
    """Whether iterating ``items`` yields only immutable values: a literal list of them,
    ``range(...)``, or ``enumerate``/``zip`` of such."""
    if isinstance(items, ast.List | ast.Tuple | ast.Set):
        return all(immutable_value(e) for e in items.elts)
    if isinstance(items, ast.Call) and isinstance(items.func, ast.Name):
        if items.func.id == "range":
            return True
        if items.func.id in ("enumerate", "zip"):
            return all(immutable_items(a) for a in items.args)
    return False


def immutable_names(tree: ast.Module) -> set[str]:
    """Names every binding of which in the cell is immutable (see ``immutable_value``), and
    the cell's own functions and classes (they stay in the grader; the kernel gets handles)."""
    good: set[str] = set()
    bad: set[str] = set()

    def bind(target: ast.expr, value_ok: bool) -> None:
        for n in ast.walk(target):
            if isinstance(n, ast.Name):
                (good if value_ok else bad).add(n.id)

    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            good.add(node.name)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
            for target in node.targets:
                bind(target, True)  # the test's own function: the kernel gets a handle
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    for t, v in zip(target.elts, node.value.elts, strict=False):
                        bind(t, immutable_value(v))
                else:
                    bind(target, immutable_value(node.value))
        elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr):
            bind(node.target, node.value is not None and immutable_value(node.value))
        elif isinstance(node, ast.For | ast.comprehension):
            items, target = node.iter, node.target
            rows = items.elts if isinstance(items, ast.List | ast.Tuple) else None
            if (
                rows
                and isinstance(target, ast.Tuple)
                and all(isinstance(r, ast.Tuple) and len(r.elts) == len(target.elts) for r in rows)
            ):  # for sizes, lr in [([3, 4], 0.5), ...]: lr is a number, sizes a list
                for i, t in enumerate(target.elts):
                    bind(t, all(immutable_value(r.elts[i]) for r in rows))
            else:
                bind(target, immutable_items(items))
        elif isinstance(node, ast.With):
            for item in node.items:
                if item.optional_vars is not None:
                    bind(item.optional_vars, False)
    return good - bad


def dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


class ArgumentLint:
    """Walks one test cell; ``problems`` lists what it found, one line each."""

    def __init__(self, source: str, graded: set[str]) -> None:
        self.tree = ast.parse(source)
        self.graded = set(graded)
        self.functions, self.modules = imported_references(self.tree)
        self.reference_helpers: set[str] = set()
        for node in ast.walk(self.tree):  # ref = course.network.predict_binary
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Attribute | ast.Name)
                and self.is_reference(ast.Call(func=node.value, args=[], keywords=[]))
            ):
                self.functions.add(node.targets[0].id)
        self.reference_helpers: set[str] = set()
        self.problems: list[str] = []
        self.results: set[str] = set()
        self.counted = {
            n.args[0].id
            for n in ast.walk(self.tree)
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Name)
            and n.func.id == "len"
            and n.args
            and isinstance(n.args[0], ast.Name)
        }
        self.immutable = immutable_names(self.tree)
        self.classify_helpers()

    def classify_helpers(self) -> None:
        """A helper defined in the cell that calls a graded function is graded; one that calls
        only a reference is a reference."""
        defs = [n for n in ast.walk(self.tree) if isinstance(n, ast.FunctionDef | ast.Lambda)]
        changed = True
        while changed:
            changed = False
            for node in defs:
                name = getattr(node, "name", None)
                if name is None or name in self.graded:
                    continue
                calls = [c for c in ast.walk(node) if isinstance(c, ast.Call)]
                if any(self.is_graded(c) for c in calls):
                    self.graded.add(name)
                    self.reference_helpers.discard(name)
                    changed = True
                elif name not in self.reference_helpers and any(
                    self.is_reference(c) for c in calls
                ):
                    self.reference_helpers.add(name)
                    changed = True

    def is_graded(self, call: ast.Call) -> bool:
        return isinstance(call.func, ast.Name) and call.func.id in self.graded

    def hands_on_graded(self, call: ast.Call) -> bool:
        """``_batches(iterate_minibatches, ...)``: a helper given a graded function."""
        return any(isinstance(a, ast.Name) and a.id in self.graded for a in call.args)

    def is_reference(self, call: ast.Call) -> bool:
        if isinstance(call.func, ast.Name):
            return call.func.id in self.functions or call.func.id in self.reference_helpers
        name = dotted(call.func)
        if name is None:
            return False
        head = name.split(".")[0]
        full = name if head in REFERENCE_ROOTS else None
        if head in self.modules:
            full = name
        return full is not None and not name.startswith(NOT_REFERENCE) and "." in name

    # -- walking ---------------------------------------------------------------------------
    def run(self) -> list[str]:
        self.block(self.tree.body, set())
        for node in ast.walk(self.tree):
            if isinstance(node, ast.FunctionDef):
                self.block(node.body, set())
        return list(dict.fromkeys(self.problems))

    def block(self, body: list[ast.stmt], tainted: set[str]) -> None:
        for stmt in body:
            self.statement(stmt, tainted)

    def statement(self, stmt: ast.stmt, tainted: set[str]) -> None:
        if isinstance(stmt, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            return
        if isinstance(stmt, ast.For | ast.AsyncFor):
            self.expression(stmt.iter, tainted)
            for _ in range(2):
                self.rebind(stmt.target, tainted, graded_result=False)
                self.block(stmt.body, tainted)
            self.block(stmt.orelse, tainted)
            return
        if isinstance(stmt, ast.While):
            for _ in range(2):
                self.expression(stmt.test, tainted)
                self.block(stmt.body, tainted)
            self.block(stmt.orelse, tainted)
            return
        if isinstance(stmt, ast.If):
            self.expression(stmt.test, tainted)
            self.block(stmt.body, tainted)
            self.block(stmt.orelse, tainted)
            return
        if isinstance(stmt, ast.With | ast.AsyncWith):
            for item in stmt.items:
                self.expression(item.context_expr, tainted)
                if item.optional_vars is not None:
                    self.rebind(item.optional_vars, tainted, graded_result=False)
            self.block(stmt.body, tainted)
            return
        if isinstance(stmt, ast.Try):
            self.block(stmt.body, tainted)
            for handler in stmt.handlers:
                self.block(handler.body, tainted)
            self.block(stmt.orelse, tainted)
            self.block(stmt.finalbody, tainted)
            return
        if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
            if stmt.value is not None:
                self.expression(stmt.value, tainted)
            graded = stmt.value is not None and any(
                isinstance(c, ast.Call) and (self.is_graded(c) or self.hands_on_graded(c))
                for c in ast.walk(stmt.value)
            )
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                if isinstance(stmt, ast.AugAssign):
                    self.expression(target, tainted)
                else:
                    self.rebind(target, tainted, graded_result=graded)
            return
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.expr):
                self.expression(child, tainted)

    def rebind(self, target: ast.expr, tainted: set[str], graded_result: bool) -> None:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                tainted.discard(node.id)
                if graded_result:
                    self.results.add(node.id)
                else:
                    self.results.discard(node.id)
            elif isinstance(node, ast.Subscript | ast.Attribute) and node is not target:
                continue

    def expression(self, node: ast.expr, tainted: set[str]) -> None:
        """Post-order over calls (arguments before the call), in evaluation order."""
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            for gen in node.generators:
                self.expression(gen.iter, tainted)
            inner = set(tainted)
            for gen in node.generators:
                self.rebind(gen.target, inner, graded_result=False)
                for cond in gen.ifs:
                    self.expression(cond, inner)
            elements = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            for element in elements:
                self.expression(element, inner)
            tainted |= inner - self.comprehension_names(node)
            return
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expression(child, tainted)
            elif isinstance(child, ast.keyword):
                self.expression(child.value, tainted)
        if isinstance(node, ast.Call):
            self.call(node, tainted)

    @staticmethod
    def comprehension_names(node) -> set[str]:
        return {
            n.id for gen in node.generators for n in ast.walk(gen.target) if isinstance(n, ast.Name)
        }

    def call(self, node: ast.Call, tainted: set[str]) -> None:
        arguments = [*node.args, *(k.value for k in node.keywords)]
        if isinstance(node.func, ast.Name) and node.func.id == "zip":
            for arg in arguments:
                for name in self.zipped(arg):
                    self.problems.append(
                        f"line {node.lineno}: zip() over {name} (a graded function's result) "
                        f"without a len({name}) check"
                    )
        if self.is_graded(node):
            # f(**kw) gets a dict of its own, so only the named arguments are passed on
            for arg in [*node.args, *(k.value for k in node.keywords if k.arg is not None)]:
                tainted |= self.passed(arg)
        elif self.is_reference(node):
            used = {
                n.id
                for arg in arguments
                for n in ast.walk(arg)
                if isinstance(n, ast.Name) and n.id in tainted and n.id not in self.immutable
            }
            for name in sorted(used):
                self.problems.append(
                    f"line {node.lineno}: the reference {ast.unparse(node.func)} reuses {name}, "
                    "which a graded call was given before (copy it before that call)"
                )

    def zipped(self, arg: ast.expr) -> list[str]:
        if isinstance(arg, ast.Starred):
            arg = arg.value
        if isinstance(arg, ast.Call) and self.is_graded(arg):
            return [ast.unparse(arg)]
        if isinstance(arg, ast.Name) and arg.id in self.results and arg.id not in self.counted:
            return [arg.id]
        return []

    def passed(self, arg: ast.expr) -> set[str]:
        """Names whose objects a graded call receives through ``arg``."""
        if isinstance(arg, ast.Starred):
            arg = arg.value
        if isinstance(arg, ast.Name):
            return {arg.id}
        if isinstance(arg, ast.Subscript | ast.Attribute):
            return self.passed(arg.value)
        if isinstance(arg, ast.List | ast.Tuple | ast.Set):
            return set().union(*(self.passed(e) for e in arg.elts))
        if isinstance(arg, ast.Dict):
            return set().union(*(self.passed(v) for v in arg.values if v is not None))
        return set()


def lint_arguments(source: str, graded) -> list[str]:
    return ArgumentLint(source, set(graded)).run()


BAD_CELLS = {
    "reference after the call, on the same list": (
        "import course\ncaches = make()\ngot = mlp_backward(dout, caches)\n"
        "expected = course.network.mlp_backward(dout, caches)\n"
    ),
    "a copy made after the call": (
        "from course.layers import dense_backward as ref\ngot = dense_backward(d, cache)\n"
        "expected = ref(d, cache.copy())\n"
    ),
    "an element of a literal container": (
        "import course.optimizers as opt\nstep = sgd_step({'W': W}, grads)\n"
        "opt.sgd_step({'W': W}, grads)\n"
    ),
    "the base of an index": (
        "from course.network import mlp_forward\nout = forward(x, params['W1'])\n"
        "ref = mlp_forward(x, params)\n"
    ),
    "the previous round of a loop": (
        "import course\nfor n in (1, 2):\n    expected = course.f(x)\n    got = f(x)\n"
    ),
    "in one expression": "import course\ncheck(f(x), course.f(x))\n",
    "a name bound once to a number and once to an array": (
        "import course\nn = 3\nn = make()\ngot = f(n)\nexpected = course.f(n)\n"
    ),
    "through a helper of the cell": (
        "import course\ndef _mine(a):\n    return f(a)\n_mine(x)\nexpected = course.f(x)\n"
    ),
    "a reference bound to a name": (
        "import course.network\nref = course.network.predict_binary\ncheck(f(p), ref(p))\n"
    ),
    "zip over a result": (
        "batches = iterate_minibatches(X, y, 4, rng)\n"
        "for (xb, yb), want in zip(batches, expected):\n    pass\n"
    ),
    "zip over what a helper made of a graded function": (
        "got = _batches(iterate_minibatches, X, y, 4)\nfor a, b in zip(got, expected):\n    pass\n"
    ),
    "zip over a call": "for a, b in zip(iterate_minibatches(X, y, 4, rng), expected):\n    pass\n",
    "zip over a tuple unpacked from a result": (
        "got, cache = f(x)\nfor a, b in zip(got, expected, strict=True):\n    pass\n"
    ),
}

GOOD_CELLS = {
    "expected first": "import course\nexpected = course.f(x)\ngot = f(x)\n",
    "copies made before": (
        "import copy\nimport course\n_x = x.copy()\n_c = copy.deepcopy(caches)\n"
        "got = f(x, caches)\nexpected = course.f(_x, _c)\n"
    ),
    "numbers and strings cannot change": (
        "import course\nfor n, name in [(1, 'relu'), (2, 'tanh')]:\n    lr = 0.1\n"
        "    got = f(n, name, lr)\n    expected = course.f(n, name, lr)\n"
    ),
    "the student gets the copy": "import course\ngot = f(x.copy())\nexpected = course.f(x)\n",
    "rebound between": "import course\ngot = f(x)\nx = make()\nexpected = course.f(x)\n",
    "loop target rebinds": (
        "import course\nfor x in cases:\n    expected = course.f(x)\n    got = f(x)\n"
    ),
    "check_close is not a reference": (
        "from course.grading import check_close\nx0 = x.copy()\nf(x)\ncheck_close(x, x0, 'x')\n"
    ),
    "zip after a count": (
        "import itertools\nbatches = list(itertools.islice(iterate_minibatches(X, y, 4, rng), 9))\n"
        "assert len(batches) == 3, 'yields 3 batches'\n"
        "for a, b in zip(batches, expected):\n    pass\n"
    ),
    "zip over the test's own lists": "got = f(x)\nfor a, b in zip(xs, ys):\n    pass\n",
}
LINT_GRADED = {"mlp_backward", "dense_backward", "sgd_step", "forward", "f", "iterate_minibatches"}


@pytest.mark.parametrize("name", sorted(BAD_CELLS))
def test_argument_lint_flags_a_bad_cell(name: str) -> None:
    assert lint_arguments(BAD_CELLS[name], LINT_GRADED), name


@pytest.mark.parametrize("name", sorted(GOOD_CELLS))
def test_argument_lint_passes_a_good_cell(name: str) -> None:
    assert lint_arguments(GOOD_CELLS[name], LINT_GRADED) == [], name


@pytest.mark.parametrize("module", MODULES)
def test_tests_never_reuse_what_a_graded_call_was_given(module: str) -> None:
    """Expected values come from copies the student's code never saw; zip() counts first."""
    from autograder.runtime.runner import graded_names

    notebook = nbformat.read(SOURCE / module / "exercises.ipynb", as_version=4)
    graded = set(graded_names(notebook))
    problems = []
    for cell in cells(module, "test"):
        for problem in lint_arguments(cell.source, graded):
            problems.append(f"{cell.metadata.nbgrader.grade_id} {problem}")
    assert problems == []
