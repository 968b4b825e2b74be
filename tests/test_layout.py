"""The grader's layers, as its folders show them: every import runs one way.

From the bottom up: ``autograder/text.py`` (safe text) and ``autograder/runtime/`` (the trusted
runtime: sandbox, kernel boundary, codec, runner) import nothing of the grader above them;
``autograder/pipeline/`` (course directory, kits, submissions, grading, gradebook, review,
release, bundle) imports only those; ``autograder/intake/`` (collect, exchange intake, roster)
and ``autograder/outputs/`` (feedback, export, exchange publishing) import the pipeline but not
each other; the command line, the demo and the test helpers on top may import anything.
``course`` (the students' library) imports nothing of the grader. Imports inside functions
count too.
"""

import ast
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.autograder

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {
    "text": set(),
    "runtime": {"runtime"},
    "pipeline": {"pipeline", "runtime", "text"},
    "intake": {"intake", "pipeline", "runtime", "text"},
    "outputs": {"outputs", "pipeline", "runtime", "text"},
    "hooks": set(),
    "top": {"top", "intake", "outputs", "pipeline", "runtime", "text"},
    "course": set(),
}


def layer(module: str) -> str:
    """The layer of a module of ``autograder`` or ``course`` by its dotted name."""
    parts = module.split(".")
    if parts[0] == "course":
        return "course"
    if len(parts) == 1:
        return "top"
    if parts[1] in ("runtime", "pipeline", "intake", "outputs", "text"):
        return parts[1]
    return "hooks" if parts[1] == "nbgrader_hooks" else "top"


def module_name(path: Path) -> str:
    dotted = path.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
    return dotted.removesuffix(".__init__")


def imported(path: Path) -> set[str]:
    """Every ``autograder`` or ``course`` module that ``path`` imports, anywhere in it."""
    found = set()
    package = module_name(path).rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m.split(".")[0] in ("autograder", "course")}


def sources() -> list[Path]:
    return sorted([*(ROOT / "autograder").rglob("*.py"), *(ROOT / "course").glob("*.py")])


def violations() -> list[str]:
    """One line per import that runs the wrong way."""
    found = []
    for path in sources():
        own = layer(module_name(path))
        for target in sorted(imported(path)):
            if target.split(".")[0] == "course" and own != "course":
                continue  # the students' library is below everything
            if target in ("autograder", "course"):
                continue  # a package's own docstring module: no layer
            other = layer(target)
            if other != own and other not in ALLOWED[own]:
                found.append(f"{path.relative_to(ROOT)} ({own}) imports {target} ({other})")
    return found


def test_every_import_runs_down_the_layers():
    assert violations() == []


def test_the_rule_sees_a_wrong_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A control: an intake module importing outputs, and runtime importing the pipeline."""
    wrong = {
        "autograder/intake/bad.py": "from autograder.outputs.export import export\n",
        "autograder/runtime/bad.py": "def f():\n    from autograder.pipeline import kit\n",
        "course/bad.py": "import autograder.text\n",
    }
    for rel, text in wrong.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert {line.split(" ")[0] for line in violations()} == set(wrong)


def test_every_layer_folder_exists_and_is_a_package():
    for folder in ("runtime", "pipeline", "intake", "outputs"):
        assert (ROOT / "autograder" / folder / "__init__.py").is_file(), folder
