"""Static integrity check of a submission's answer cells, before anything runs.

The policy comes from the instructor's notebook, never from the submission: its metadata
``{"course": {"allowed_imports": [...]}}`` lists the modules answer cells may import, and
its answer cells name the graded functions. An answer cell violates the policy when it

- imports a module outside that list (submodules of a listed module are fine);
- reaches the interpreter or IPython around the tests: ``get_ipython``, ``exec``, ``eval``,
  ``compile``, ``__import__``, ``globals``, ``setattr``, ``open``, ``exit`` ..., dunder
  attributes such as ``__builtins__`` or ``__globals__``, magics and shell escapes;
- assigns to (or deletes) an attribute of an imported module, e.g. ``np.allclose = ...``;
- reads or writes files through NumPy (``np.load``, ``np.save``, ``tofile``, ...);
- takes a graded function from elsewhere: imports a graded name, or binds it other than
  with ``def``.

Each violation names the cell, the line and the reason, so the instructor's report can
show the offending line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

from IPython.core.inputtransformer2 import TransformerManager
from nbformat import NotebookNode

FORBIDDEN_NAMES = frozenset(
    {
        "get_ipython", "exec", "eval", "compile", "__import__", "globals", "locals", "vars",
        "setattr", "delattr", "open", "input", "breakpoint", "exit", "quit", "help",
        "memoryview", "__builtins__", "__loader__", "__spec__",
    }
)  # fmt: skip
FILE_ATTRIBUTES = frozenset(
    {
        "load", "save", "savez", "savez_compressed", "loadtxt", "savetxt", "genfromtxt",
        "fromfile", "tofile", "memmap", "fromregex", "DataSource", "open",
    }
)  # fmt: skip
ALLOWED_DUNDERS = frozenset({"__init__", "__call__", "__name__", "__repr__", "__len__"})


@dataclass(frozen=True)
class Violation:
    """One breach of the policy: where it is and why it is not allowed."""

    cell: str
    line: int
    code: str
    reason: str

    def __str__(self) -> str:
        return f"{self.cell}, line {self.line}: {self.reason}: {self.code.strip()}"


def answer_cells(notebook: NotebookNode) -> list[NotebookNode]:
    """The cells nbgrader marks as solutions (autograded answers)."""
    return [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")
    ]


def policy(reference: NotebookNode) -> tuple[list[str], set[str]]:
    """The allowed imports and the graded function names of the instructor's notebook."""
    allowed = list(reference.metadata.get("course", {}).get("allowed_imports", []))
    graded = set()
    for cell in answer_cells(reference):
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        graded |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    return allowed, graded


def check(submission: NotebookNode, reference: NotebookNode) -> list[Violation]:
    """Every violation in the answer cells of ``submission`` under ``reference``'s policy."""
    allowed, graded = policy(reference)
    modules = imported_names(submission)
    violations = []
    for index, cell in enumerate(answer_cells(submission)):
        name = cell.metadata["nbgrader"].get("grade_id", f"answer cell {index + 1}")
        violations += check_source(cell.source, name, allowed, graded, modules)
    return violations


def imported_names(notebook: NotebookNode) -> set[str]:
    """Names that imports bind in any code cell (``np`` from a setup cell's ``import numpy``)."""
    names = set()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(TransformerManager().transform_cell(cell.source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names - {"*"}


def check_source(
    source: str,
    cell: str,
    allowed: Iterable[str],
    graded: set[str],
    modules: Iterable[str] = (),
) -> list:
    """Violations in one answer cell's source (IPython syntax is translated first).

    ``modules`` are names other cells bound by imports: assigning to their attributes counts
    as patching a module too.
    """
    python = TransformerManager().transform_cell(source)
    lines = python.splitlines()
    try:
        tree = ast.parse(python)
    except SyntaxError:
        return []  # code that does not parse fails its tests at run time
    visitor = _Checker(set(allowed), graded)
    visitor.modules |= set(modules)
    visitor.visit(tree)
    return [
        Violation(cell, line, lines[line - 1] if 0 < line <= len(lines) else "", reason)
        for line, reason in visitor.found
    ]


def _module_allowed(module: str, allowed: set[str]) -> bool:
    return any(module == a or module.startswith(a + ".") for a in allowed)


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


class _Checker(ast.NodeVisitor):
    """Collects ``(line, reason)`` pairs over one cell's syntax tree."""

    def __init__(self, allowed: set[str], graded: set[str]):
        self.allowed = allowed
        self.graded = graded
        self.modules: set[str] = set()
        self.found: list[tuple[int, str]] = []

    def flag(self, node: ast.AST, reason: str) -> None:
        self.found.append((node.lineno, reason))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not _module_allowed(alias.name, self.allowed):
                self.flag(node, f"import of `{alias.name}` is not allowed here")
            self.modules.add((alias.asname or alias.name).split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or not _module_allowed(module, self.allowed):
            self.flag(node, f"import from `{module or '.'}` is not allowed here")
        for alias in node.names:
            if alias.name == "*":
                self.flag(node, "`import *` is not allowed")
            elif (alias.asname or alias.name) in self.graded or alias.name in self.graded:
                self.flag(node, f"the graded function `{alias.name}` must be your own `def`")
            else:
                self.modules.add(alias.asname or alias.name)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in FORBIDDEN_NAMES:
            self.flag(node, f"`{node.id}` is not allowed in answers")
        if isinstance(node.ctx, ast.Store) and node.id in self.graded:
            self.flag(node, f"the graded function `{node.id}` must be defined with `def`")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        if attr.startswith("__") and attr.endswith("__") and attr not in ALLOWED_DUNDERS:
            self.flag(node, f"the attribute `{attr}` is not allowed in answers")
        elif attr in FILE_ATTRIBUTES and isinstance(node.ctx, ast.Load):
            self.flag(node, f"file access (`.{attr}`) is not allowed in answers")
        if isinstance(node.ctx, ast.Store | ast.Del) and _root_name(node) in self.modules:
            self.flag(node, f"changing the module attribute `{attr}` is not allowed")
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.ctx, ast.Store | ast.Del) and _root_name(node) in self.modules:
            self.flag(node, "changing an imported module's contents is not allowed")
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            if name in self.modules:
                self.flag(node, f"rebinding the module `{name}` is not allowed")
