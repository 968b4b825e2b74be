"""Conventions every exercise notebook keeps, read from the source notebooks.

- The visible part of a test cell runs in the student's own kernel too: every name it binds
  at top level starts with ``_``, so running a test never clobbers the student's ``x``,
  ``W``, ``params``, ``X`` or ``y``.
- No letter is the answer of more than 40 % of the course's letter questions, so answering
  the same letter everywhere cannot pass.
- Student text never calls a slide deck by its file name ("seed 001", "deck 002").
- Tests compute expected values from copies the student's code never saw, and count what they
  iterate (the argument lint, below).
- Every property a hidden test checks is stated in the release text (the property tags, below):

  * Inside ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS``, every ``assert`` statement and
    every call to a ``course.grading`` checker (its public functions named ``check_*``, such as
    ``check_close``; called by name, by an alias imported from ``course.grading``, or as an
    attribute) is covered by a tag comment ``# property: <phrase>``.
  * A tag on a line of its own covers the next statement; a compound statement (``for``,
    ``while``, ``with``, ``if``, ``try``, ``def``) is covered as a whole, with everything inside
    it. A tag at the end of a line covers the innermost statement that line belongs to. A tag at
    the top of a block covers only the first statement of the block (so a whole block is covered
    by one tag only when it is a single compound statement after the tag). Several tags may
    cover one statement, and each must be found. Only tags inside the hidden part count.
  * A tag's phrase must appear in the release text of its exercise, both normalized (lowercase,
    whitespace collapsed, markdown backticks and asterisks and ``$`` removed): the docstrings of
    the functions and classes the preceding answer cell defines, the markdown cells since the
    previous test cell, and the visible part of the test cell itself. Solution regions are not
    release text, and neither is anything hidden (a hidden assertion's own message included).

  A failure names the notebook, the cell and the line (counted from 1 in the cell's source).
  Synthetic notebooks are the control: cells the check must flag, and cells it must pass.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
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


# -- tests mean what the text says: property tags -------------------------------------------
# (the convention is in the module's docstring)

PROPERTY = re.compile(r"#\s*property:\s*(.*?)\s*$")
SOLUTION = re.compile(
    r"^([ \t]*)### BEGIN SOLUTION.*?### END SOLUTION[^\n]*", re.DOTALL | re.MULTILINE
)


def checker_names() -> frozenset[str]:
    """``course.grading``'s checkers: its public functions whose name starts with ``check_``."""
    from course import grading

    return frozenset(
        name
        for name, value in vars(grading).items()
        if name.startswith("check_")
        and callable(value)
        and getattr(value, "__module__", None) == grading.__name__
    )


def normalize(text: str) -> str:
    """Lowercase, without markdown backticks and asterisks and ``$``, whitespace collapsed."""
    return " ".join(re.sub(r"[`*$]", "", text.lower()).split())


def released(source: str) -> str:
    """The text a student gets of an answer cell: solution regions replaced by a stub."""
    return SOLUTION.sub(lambda m: f"{m.group(1)}raise NotImplementedError()", source)


def hidden_lines(source: str) -> range | None:
    """Line numbers (from 1) strictly between the hidden-test markers, or None."""
    lines = source.splitlines()
    begin = [i for i, line in enumerate(lines, 1) if "### BEGIN HIDDEN TESTS" in line]
    end = [i for i, line in enumerate(lines, 1) if "### END HIDDEN TESTS" in line]
    if not begin:
        return None
    return range(begin[0] + 1, end[0] if end else len(lines) + 1)


def docstrings(source: str) -> list[str]:
    """Docstrings of the functions and classes ``source`` defines (nested ones included)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            text = ast.get_docstring(node)
            if text:
                out.append(text)
    return out


def release_text(notebook, index: int) -> str:
    """What a student reads about the test cell ``notebook.cells[index]``, normalized."""
    from autograder.runtime.runner import cell_kind

    parts = [HIDDEN.sub("", notebook.cells[index].source)]
    for cell in reversed(notebook.cells[:index]):
        if cell_kind(cell) == "test":
            break
        if cell.cell_type == "markdown":
            parts.append(released(cell.source))
    for cell in reversed(notebook.cells[:index]):
        if cell_kind(cell) == "answer":
            parts.extend(docstrings(released(cell.source)))
            break
    return normalize("\n".join(parts))


def tags(source: str) -> list[tuple[int, bool, str]]:
    """``(line, trailing, phrase)`` for every ``# property:`` comment of ``source``."""
    found = []
    code_lines = set()
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            match = PROPERTY.match(token.string)
            if match:
                line = token.start[0]
                found.append((line, line in code_lines, match.group(1)))
        elif token.type not in skip:
            code_lines.update(range(token.start[0], token.end[0] + 1))
    return found


def first_line(stmt: ast.stmt) -> int:
    return min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])


class PropertyCheck:
    """The property tags of one test cell: what is left uncovered, and where each tag points."""

    def __init__(self, source: str) -> None:
        self.tree = ast.parse(source)
        self.hidden = hidden_lines(source) or range(0)
        self.parent: dict[ast.AST, ast.AST] = {}
        self.depth: dict[ast.stmt, int] = {}
        self.statements: list[ast.stmt] = []  # in source order, outer before inner
        self.walk(self.tree, 0)
        self.covered: set[ast.stmt] = set()
        self.tags: list[tuple[int, str]] = []
        self.dangling: list[int] = []
        for line, trailing, phrase in tags(source):
            if line not in self.hidden:
                continue
            target = self.trailing_target(line) if trailing else self.next_statement(line)
            if target is None:
                self.dangling.append(line)
            else:
                self.covered.add(target)
            self.tags.append((line, phrase))

    def walk(self, node: ast.AST, depth: int) -> None:
        for child in ast.iter_child_nodes(node):
            self.parent[child] = node
            if isinstance(child, ast.stmt):
                self.statements.append(child)
                self.depth[child] = depth
            self.walk(child, depth + isinstance(child, ast.stmt))

    def next_statement(self, line: int) -> ast.stmt | None:
        inside = [  # a comment line between the lines of one simple statement belongs to it
            s
            for s in self.statements
            if first_line(s) < line <= s.end_lineno and not hasattr(s, "body")
        ]
        if inside:
            return max(inside, key=self.depth.__getitem__)
        after = [s for s in self.statements if first_line(s) > line]
        if not after:
            return None
        start = min(first_line(s) for s in after)
        return min((s for s in after if first_line(s) == start), key=self.depth.__getitem__)

    def trailing_target(self, line: int) -> ast.stmt | None:
        around = [s for s in self.statements if first_line(s) <= line <= s.end_lineno]
        return max(around, key=self.depth.__getitem__, default=None)

    def statement_of(self, node: ast.AST) -> list[ast.stmt]:
        """The statements that hold ``node``, innermost first."""
        out = []
        while node in self.parent:
            node = self.parent[node]
            if isinstance(node, ast.stmt):
                out.append(node)
        return out

    def checks(self) -> list[ast.AST]:
        """The hidden part's assert statements and calls to a ``course.grading`` checker."""
        names = checker_names()
        checkers = set(names)
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and node.module == "course.grading":
                checkers |= {a.asname or a.name for a in node.names if a.name in names}
        found = []
        for node in ast.walk(self.tree):
            if getattr(node, "lineno", 0) not in self.hidden:
                continue
            if isinstance(node, ast.Assert):
                found.append(node)
            elif isinstance(node, ast.Call) and (
                (isinstance(node.func, ast.Name) and node.func.id in checkers)
                or (isinstance(node.func, ast.Attribute) and node.func.attr in names)
            ):
                found.append(node)
        return sorted(found, key=lambda n: (n.lineno, n.col_offset))

    def uncovered(self) -> list[ast.AST]:
        return [
            node
            for node in self.checks()
            if not any(
                s in self.covered
                for s in ([node] if isinstance(node, ast.stmt) else []) + self.statement_of(node)
            )
        ]


def property_problems(notebook, name: str = "notebook") -> list[str]:
    """One line per untagged hidden check and per tag whose phrase the student was not told."""
    from autograder.runtime.runner import cell_kind

    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell_kind(cell) != "test" or hidden_lines(cell.source) is None:
            continue
        where = f"{name} cell {index} ({cell.metadata.nbgrader.grade_id})"
        check = PropertyCheck(cell.source)
        for node in check.uncovered():
            what = "assert" if isinstance(node, ast.Assert) else f"{ast.unparse(node.func)}()"
            problems.append(f"{where} line {node.lineno}: {what} without a # property: tag")
        for line in check.dangling:
            problems.append(f"{where} line {line}: a # property: tag with no statement after it")
        text = release_text(notebook, index)
        for line, phrase in check.tags:
            if not normalize(phrase):
                problems.append(f"{where} line {line}: an empty # property: tag")
            elif normalize(phrase) not in text:
                problems.append(
                    f"{where} line {line}: the property {phrase!r} is not stated in the "
                    "docstring, the markdown above or the visible test"
                )
    return problems


def synthetic(test: str, doc: str = "Return x doubled, as a float array.", md: str = "") -> object:
    """A notebook of a markdown cell, an answer cell and a test cell, for the control."""
    nb = nbformat.v4.new_notebook()
    answer = (
        f'def double(x):\n    """{doc}"""\n    ### BEGIN SOLUTION\n'
        "    # the solution is secret: no release text here\n    return 2.0 * x\n"
        "    ### END SOLUTION\n"
    )
    nb.cells = [
        nbformat.v4.new_markdown_cell("## Earlier part\nThe old part said: ignore the sign."),
        nbformat.v4.new_code_cell(
            'def old(x):\n    """Old docstring: ignore the sign."""\n    return x\n',
            metadata={"nbgrader": {"grade_id": "old", "solution": True, "grade": False}},
        ),
        nbformat.v4.new_code_cell(
            "assert old(1) == 1\n### BEGIN HIDDEN TESTS\n"
            "assert old(-1) == -1  # property: ignore the sign\n### END HIDDEN TESTS\n",
            metadata={"nbgrader": {"grade_id": "test_old", "solution": False, "grade": True}},
        ),
        nbformat.v4.new_markdown_cell(
            md or "## Doubling\nThe **result** is `float`, even for integers."
        ),
        nbformat.v4.new_code_cell(
            answer, metadata={"nbgrader": {"grade_id": "double", "solution": True, "grade": False}}
        ),
        nbformat.v4.new_code_cell(
            test,
            metadata={"nbgrader": {"grade_id": "test_double", "solution": False, "grade": True}},
        ),
    ]
    return nb


def hidden(body: str, visible: str = "assert double(1) == 2, 'doubles one'\n") -> str:
    return f"{visible}### BEGIN HIDDEN TESTS\n{body}### END HIDDEN TESTS\n"


BAD_TAGS = {
    "an untagged assert": hidden("assert double(2) == 4\n"),
    "an untagged check_close": hidden(
        "from course.grading import check_close\ncheck_close(double(2), 4, 'two')\n"
    ),
    "an untagged checker under an alias": hidden(
        "from course.grading import check_close as cc\ncc(double(2), 4, 'two')\n"
    ),
    "an untagged checker as an attribute": hidden(
        "from course import grading\ngrading.check_close(double(2), 4, 'two')\n"
    ),
    "a tag at the top of a block covers its first statement only": hidden(
        "# property: x doubled\nassert double(2) == 4\nassert double(3) == 6\n"
    ),
    "a tag at the top of a loop body covers one statement": hidden(
        "for _v in (1, 2):\n    # property: x doubled\n    assert double(_v) == 2 * _v\n"
        "    assert double(-_v) == -2 * _v\n"
    ),
    "a tag below its statement covers the next one": hidden(
        "assert double(2) == 4\n# property: x doubled\nassert double(3) == 6\n"
    ),
    "a tag over a def does not cover the assert after it": hidden(
        "# property: x doubled\ndef _call(v):\n    return double(v)\nassert _call(2) == 4\n"
    ),
    "a phrase the text never states": hidden("# property: x tripled\nassert double(2) == 4\n"),
    "a phrase only a hidden message states": hidden(
        "# property: double the negative numbers too\n"
        "assert double(-2) == -4, 'double the negative numbers too'\n"
    ),
    "a phrase only the solution states": hidden(
        "# property: the solution is secret\nassert double(2) == 4\n"
    ),
    "a phrase only an earlier part states": hidden(
        "# property: ignore the sign\nassert double(-2) == -4\n"
    ),
    "a second tag that is not stated": hidden(
        "# property: x doubled\n# property: x squared\nassert double(2) == 4\n"
    ),
    "an empty tag": hidden("assert double(2) == 4  # property:\n"),
    "a tag with nothing after it": hidden(
        "assert double(2) == 4  # property: x doubled\n# property: x doubled\n"
    ),
}

GOOD_TAGS = {
    "a tag on the line before": hidden("# property: x doubled\nassert double(2) == 4\n"),
    "a trailing tag": hidden("assert double(2) == 4  # property: return x doubled\n"),
    "a tag on a line of its own inside a long call": hidden(
        "from course.grading import check_close\ncheck_close(\n    # property: x doubled\n"
        "    double(2),\n    4,\n    'two',\n)\nassert double(0) == 0  # property: x doubled\n"
    ),
    "a trailing tag on the last line of a long assert": hidden(
        "assert double(2) == 4, (\n    'doubles two'\n)  # property: x doubled\n"
    ),
    "a tag over a loop covers its body": hidden(
        "from course.grading import check_close\n# property: x doubled\nfor _v in (1, 2):\n"
        "    assert double(_v) == 2 * _v\n    check_close(double(-_v), -2 * _v, 'negative')\n"
    ),
    "a tag over a helper covers its asserts": hidden(
        "# property: as a float array\ndef _call(v):\n    out = double(v)\n"
        "    assert out.dtype == float\n    return out\n_call(2)\n"
    ),
    "case, backticks, asterisks and line breaks do not matter": hidden(
        "# property: The Result is float, even\nassert double(2).dtype == float\n"
    ),
    "the markdown above states it": hidden(
        "# property: even for integers\nassert double(2) == 4\n"
    ),
    "the visible part states it": hidden("# property: doubles one\nassert double(1.0) == 2.0\n"),
    "two tags over one statement": hidden(
        "# property: x doubled\n# property: float array\nassert double(2) == 4.0\n"
    ),
    "asserts in the visible part need no tag": hidden(
        "assert double(2) == 4  # property: x doubled\n",
        visible="assert double(1) == 2\nassert double(0) == 0\n",
    ),
    "the latex of the markdown": hidden(
        "# property: out = 2x\nassert double(2) == 4\n", visible=""
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_TAGS))
def test_property_check_flags_a_bad_cell(name: str) -> None:
    assert property_problems(synthetic(BAD_TAGS[name])), name


@pytest.mark.parametrize("name", sorted(GOOD_TAGS))
def test_property_check_passes_a_good_cell(name: str) -> None:
    md = "## Doubling\nThe **result** is `float`, even for integers: $out = 2x$."
    assert property_problems(synthetic(GOOD_TAGS[name], md=md)) == [], name


@pytest.mark.parametrize("module", MODULES)
def test_every_hidden_check_states_a_property_the_text_states(module: str) -> None:
    notebook = nbformat.read(SOURCE / module / "exercises.ipynb", as_version=4)
    assert property_problems(notebook, f"{module}/exercises.ipynb") == []
