"""The one static rule that can hold back points: a graded function must be the student's own.

Everything a student writes outside a graded function is free: scratch cells, magics,
plots, ``help``, any import, any variable name. Only the code of a graded function (a
top-level ``def`` of the instructor's answer cells), together with the student's own
helper functions it calls, is read, and only for three things:

- it uses the ``course`` reference of the same name (``course.activations.sigmoid``, an
  alias of it, or a registry entry such as ``ACTIVATIONS["sigmoid"]``);
- it uses a library equivalent the instructor names in the notebook's metadata
  (``{"course": {"equivalents": {"sigmoid": ["scipy.special.expit"]}}}``);
- it uses reflection that could reach either by a computed name: ``getattr`` with a
  non-constant name, ``sys.modules``, ``importlib``, ``__import__``, ``eval``/``exec``/
  ``compile``, ``globals``/``vars``, frames, or dunder attributes such as ``__dict__``.

Each finding holds back the points of the test cells that grade that one function, pending
the instructor's review, with the line quoted; every other cell is scored as usual. This is a
review aid, not a defence: the tests run outside the student's kernel, so no code a student
writes can change how their results are judged.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from IPython.core.inputtransformer2 import TransformerManager
from nbformat import NotebookNode

REFLECTION_CALLS = frozenset({"__import__", "eval", "exec", "compile", "globals", "vars"})
REFLECTION_MODULES = ("importlib", "inspect")
REFLECTION_PATHS = frozenset({"sys.modules", "sys._getframe", "builtins.__import__"})
REFLECTION_ATTRIBUTES = frozenset(
    {
        "__dict__", "__globals__", "__builtins__", "__code__", "__closure__", "__subclasses__",
        "__getattribute__", "__import__", "__loader__", "__spec__", "__self__", "__func__",
        "f_back", "f_globals", "f_locals", "f_builtins", "gi_frame", "tb_frame",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Finding:
    """Why one graded function's points are held back: where, what, and which tests."""

    function: str
    line: str
    reason: str
    tests: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.function}: {self.reason}: {self.line.strip()[:120]}"


def graded_cells(reference: NotebookNode) -> dict[str, tuple[str, ...]]:
    """Each graded function of the instructor's notebook and the test cells that follow it."""
    out: dict[str, list[str]] = {}
    current: list[str] = []
    for cell in reference.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if meta.get("solution"):
            current = [n.name for n in parse(cell.source).body if isinstance(n, ast.FunctionDef)]
            for name in current:
                out.setdefault(name, [])
        elif meta.get("grade") and meta.get("grade_id"):
            for name in current:
                out[name].append(meta["grade_id"])
    return {name: tuple(tests) for name, tests in out.items()}


def parse(source: str) -> ast.Module:
    """A cell's syntax tree (IPython syntax translated); an empty module if it does not parse."""
    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ast.Module(body=[], type_ignores=[])


def findings(submission: NotebookNode, reference: NotebookNode) -> list[Finding]:
    """Findings for every graded function the submission defines."""
    graded = graded_cells(reference)
    equivalents = reference.metadata.get("course", {}).get("equivalents", {})
    aliases: dict[str, str] = {}
    functions: dict[str, tuple[ast.FunctionDef, list[str]]] = {}
    for cell in submission.cells:
        if cell.cell_type != "code":
            continue
        source = cell.source
        tree = parse(source)
        for node in tree.body:
            record_alias(node, aliases)
            if isinstance(node, ast.FunctionDef):
                functions[node.name] = (node, source.splitlines())
    findings = bindings(submission, graded, equivalents)
    for name, tests in graded.items():
        if name not in functions:
            continue
        forbidden = {f"course.{name}"} | set(equivalents.get(name, []))
        for helper in reachable(name, functions):
            node, lines = functions[helper]
            for lineno, reason in scan(node, name, forbidden, dict(aliases)):
                line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
                findings.append(Finding(name, line, reason, tests))
    return findings


def bindings(submission: NotebookNode, graded: dict, equivalents: dict) -> list[Finding]:
    """Graded names bound, at top level, to the reference or an equivalent instead of a def."""
    aliases: dict[str, str] = {}
    found = []
    for cell in submission.cells:
        if cell.cell_type != "code":
            continue
        lines = cell.source.splitlines()
        for node in parse(cell.source).body:
            record_alias(node, aliases)
            targets = []
            if isinstance(node, ast.Import | ast.ImportFrom):
                targets = [(a.asname or a.name).split(".")[0] for a in node.names]
            elif isinstance(node, ast.Assign):
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            for name in targets:
                path = aliases.get(name, "")
                forbidden = {f"course.{name}", *equivalents.get(name, [])}
                if name in graded and (is_reference(path, name) or path in forbidden):
                    line = lines[node.lineno - 1] if 0 < node.lineno <= len(lines) else ""
                    reason = f"binds `{name}` to `{path}` instead of defining it"
                    found.append(Finding(name, line, reason, graded[name]))
    return found


def record_alias(node: ast.stmt, aliases: dict[str, str]) -> None:
    """Record what an import or a plain alias assignment binds (``np`` -> ``numpy``)."""
    if isinstance(node, ast.Import):
        for a in node.names:
            if a.asname:
                aliases[a.asname] = a.name
            else:
                aliases[a.name.split(".")[0]] = a.name.split(".")[0]
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
        for a in node.names:
            aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    elif isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, path = node.targets[0], dotted(node.value, aliases)
        if isinstance(target, ast.Name) and path:
            aliases[target.id] = path


def dotted(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """The dotted path an expression names (``A.sigmoid`` -> ``course.activations.sigmoid``)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in aliases:
        return ".".join([aliases[node.id], *reversed(parts)])
    return None


def reachable(name: str, functions: dict) -> list[str]:
    """``name`` and the student's top-level functions it calls, directly or not."""
    seen, stack = [], [name]
    while stack:
        current = stack.pop()
        if current in seen or current not in functions:
            continue
        seen.append(current)
        node = functions[current][0]
        stack += [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in functions]
    return seen


def scan(function: ast.FunctionDef, name: str, forbidden: set[str], aliases: dict) -> list:
    """``(line, reason)`` for each use of the reference, an equivalent or reflection."""
    found = []
    for node in ast.walk(function):
        if isinstance(node, ast.Import | ast.ImportFrom):
            record_alias(node, aliases)
            for a in node.names:
                module = node.module if isinstance(node, ast.ImportFrom) else a.name
                if (module or "").split(".")[0] in REFLECTION_MODULES:
                    found.append((node.lineno, "reflection (importlib/inspect)"))
    for node in ast.walk(function):
        path = dotted(node, aliases) if isinstance(node, ast.Attribute | ast.Name) else None
        if path and (is_reference(path, name) or path in forbidden):
            found.append(
                (node.lineno, f"uses `{path}`, the reference or an equivalent of `{name}`")
            )
        elif path and (path in REFLECTION_PATHS or path.split(".")[0] in REFLECTION_MODULES):
            found.append((node.lineno, f"reflection (`{path}`)"))
        if isinstance(node, ast.Subscript):
            base = dotted(node.value, aliases)
            key = node.slice
            if base and base.startswith("course.") and isinstance(key, ast.Constant):
                if key.value == name:
                    found.append((node.lineno, f"takes `{name}` from the course's `{base}`"))
        if isinstance(node, ast.Attribute) and node.attr in REFLECTION_ATTRIBUTES:
            found.append((node.lineno, f"reflection (`.{node.attr}`)"))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            called = node.func.id
            if called in REFLECTION_CALLS and called not in aliases:
                found.append((node.lineno, f"reflection (`{called}`)"))
            if called in ("getattr", "setattr") and not (
                len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
            ):
                found.append((node.lineno, f"`{called}` with a computed name"))
    unique = sorted(set(found))
    return unique


def is_reference(path: str, name: str) -> bool:
    """Whether ``path`` names the ``course`` object called ``name`` (in any module)."""
    parts = path.split(".")
    return parts[0] == "course" and parts[-1] == name and len(parts) >= 2
