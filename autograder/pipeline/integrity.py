"""The one static rule left: code that reaches for what watches the graded calls.

Whether a graded function used the ``course`` reference of its name is not read from the
code: it is *observed* while the function runs (``autograder.runtime.agent.Observer``), and
that observation alone holds back points. What a student writes never matters by itself:
imports, scratch cells, names, dynamic dispatch, ``getattr``, ``globals()``.

The observer lives in the student's kernel, so code that rewrites it could blind it. This
rule reads every code cell of a submission for the ways to reach it that honest code in this
course never needs:

- the interpreter's hooks: ``sys.setprofile``/``settrace``/``getprofile``/``gettrace``,
  ``threading.setprofile``/``settrace``, raw threads (``_thread``), ``ctypes``;
- the garbage collector's object walks (``gc.get_objects``, ``get_referrers``,
  ``get_referents``; ``gc.collect`` is fine), frames (``sys._getframe``,
  ``sys._current_frames``, ``inspect.currentframe``/``stack``, ``f_back``/``f_locals``...),
  closures (``__closure__``) and the grader's own module (``_grader_agent``);
- re-executing the reference's source (``exec``/``compile``/``runpy`` on text taken with
  ``inspect.getsource`` or from a module's ``__file__``): a copy with a new file name is not
  observed as the reference. Reloading is: a reloaded module keeps its file.

A finding holds back every test cell of the notebook, pending review, with the line quoted.
Names are read as written and as string constants; the rule is a tripwire, not a defence,
and the threat model in the README says what it cannot see.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from IPython.core.inputtransformer2 import TransformerManager
from nbformat import NotebookNode

from autograder.runtime.runner import cell_kind, nbgrader_meta, tested_names

HOOKS = frozenset(
    {
        "setprofile", "settrace", "getprofile", "gettrace", "_profile_hook", "_trace_hook",
        "_current_frames", "_getframe", "currentframe", "getouterframes", "getinnerframes",
        "f_back", "f_locals", "f_globals", "f_builtins", "tb_frame", "gi_frame", "cr_frame",
        "__closure__", "get_objects", "get_referrers", "get_referents", "_grader_agent",
        "_grader_boot",
    }
)  # fmt: skip
"""Attribute or name parts that reach the interpreter's hooks, frames or the grader's agent."""
MODULES = frozenset({"_thread", "ctypes", "runpy"})
SOURCE_READERS = frozenset({"getsource", "getsourcelines", "__file__", "get_source", "get_code"})
"""What a re-execution of the reference's text reads it with."""
RUNNERS = frozenset({"exec", "compile", "eval", "run_path", "run_module"})
TRIGGERS = tuple(HOOKS | MODULES | SOURCE_READERS)


@dataclass(frozen=True)
class Finding:
    """Why a submission's points are held back: the line, the reason and which tests."""

    line: str
    reason: str
    tests: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.reason}: {self.line.strip()[:120]}"


def graded_cells(reference: NotebookNode) -> dict[str, tuple[str, ...]]:
    """Each graded function of the instructor's notebook and the test cells that grade it."""
    out: dict[str, list[str]] = {}
    for test, names in tested_names(reference).items():
        for name in names:
            out.setdefault(name, []).append(test)
    return {name: tuple(tests) for name, tests in out.items()}


def all_tests(reference: NotebookNode) -> tuple[str, ...]:
    return tuple(nbgrader_meta(c)["grade_id"] for c in reference.cells if cell_kind(c) == "test")


def parse(source: str) -> ast.Module:
    """A cell's syntax tree (IPython syntax translated); an empty module if it does not parse."""
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ast.Module(body=[], type_ignores=[])


def findings(submission: NotebookNode, reference: NotebookNode) -> list[Finding]:
    """One finding per line of the submission that reaches for the observer."""
    tests = all_tests(reference)
    found: dict[tuple[str, str], Finding] = {}
    for cell in submission.cells:
        if cell.cell_type != "code":
            continue
        if not any(word in cell.source for word in TRIGGERS):  # each is spelled in the text
            continue
        lines = cell.source.splitlines()
        for lineno, reason in scan(parse(cell.source)):
            line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
            found.setdefault((line, reason), Finding(line, reason, tests))
    return list(found.values())


def scan(tree: ast.Module) -> list[tuple[int, str]]:
    """``(line, reason)`` for each reach for the observer in ``tree``."""
    found = []
    for node in ast.walk(tree):
        for word in words(node):
            if word in HOOKS:
                found.append((node.lineno, f"reaches the grader's watch (`{word}`)"))
            elif word.split(".")[0] in MODULES:
                found.append((node.lineno, f"reaches the grader's watch (`{word}`)"))
        if isinstance(node, ast.Call) and called_name(node.func) in RUNNERS:
            inner = {w for arg in node.args for n in ast.walk(arg) for w in words(n)}
            if inner & SOURCE_READERS:
                found.append((node.lineno, "re-executes source text read from a module"))
    return sorted(set(found))


def words(node: ast.AST) -> list[str]:
    """The names an expression node spells: a name, an attribute, an import, a string."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.Import | ast.ImportFrom):
        names = [a.name for a in node.names]
        module = getattr(node, "module", None) or ""
        return [*(n.split(".")[0] for n in names), *names, module, module.split(".")[0]]
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 40:
        return [node.value]
    return []


def called_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""
