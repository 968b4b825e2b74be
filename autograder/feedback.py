"""One HTML feedback page per student that keeps the hidden tests hidden.

The page shows the student's own cells, and for each test cell its visible tests, the points,
and whether it passed; a failure is told by the exception's type and message only. Hidden-test
blocks are removed from the source, and no output of a test cell is shown, because a traceback
prints the failing hidden line and a printed value may be an expected one. (nbgrader's own
feedback shows hidden tests in full, and ``ClearHiddenTests`` still leaves the tracebacks.)
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell, new_notebook, new_output

from autograder.coursedir import EXERCISES, Course
from autograder.gradebook import autograded_path, recorded_results
from autograder.preflight import without_hidden_tests
from autograder.tasks import GRADED, GradeResult

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
WARNING = re.compile(r"\b(\w*Warning): ([^\n]*)")
MESSAGE_LIMIT = 300
FRIENDLY = {"CellTimeoutError": "the cell ran past the time limit (an endless loop?)"}


def write_feedback(
    course: Course, assignments: Sequence[str] = (), students: Sequence[str] = ()
) -> list[Path]:
    """Write ``feedback/<student>/<assignment>/exercises.html`` for every recorded result."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter()
    written = []
    for (assignment, student), result in sorted(recorded_results(course.db_url).items()):
        if (assignments and assignment not in assignments) or (
            students and student not in students
        ):
            continue
        source = autograded_path(course, assignment, student)
        executed = (
            nbformat.read(source, as_version=4)
            if result.status == GRADED and source.is_file()
            else None
        )
        body, _ = exporter.from_notebook_node(feedback_notebook(result, executed))
        path = course.step_dir("feedback") / student / assignment / f"{EXERCISES}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
        written.append(path)
    return written


def feedback_notebook(result: GradeResult, executed: NotebookNode | None) -> NotebookNode:
    """The notebook rendered as feedback: a summary, then the sanitized executed cells."""
    cells = [new_markdown_cell(summary_markdown(result))]
    for cell in executed.cells if executed else []:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            cells.append(test_cell(cell, result))
        else:
            cells.append(student_cell(cell))
    return new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )


def summary_markdown(result: GradeResult) -> str:
    """Score, status, flags and a pass/fail line per graded part, as Markdown."""
    total = sum(result.max_scores.values())
    lines = [
        f"# Feedback: {html.escape(result.assignment)}",
        "",
        f"**{html.escape(result.student)}**: {result.score:g} / {total:g} points.",
        "",
    ]
    if result.status != GRADED:
        lines += [f"Your submission was not graded ({result.status}).", ""]
    lines += [f"- {html.escape(flag)}" for flag in result.flags]
    lines += ["", "| part | points | result |", "| --- | --- | --- |"]
    for name, maximum in sorted(result.max_scores.items()):
        score = result.scores.get(name, 0.0)
        verdict = "passed" if score >= maximum else "failed"
        lines.append(f"| {html.escape(name)} | {score:g} / {maximum:g} | {verdict} |")
    return "\n".join(lines)


def test_cell(cell: NotebookNode, result: GradeResult) -> NotebookNode:
    """A test cell with its hidden tests removed and its outputs replaced by a verdict."""
    name = cell.metadata.nbgrader.get("grade_id", "")
    visible = without_hidden_tests(cell.source)
    if visible != cell.source:
        visible = visible.rstrip() + "\n# (hidden tests are not shown)"
    score, maximum = result.scores.get(name, 0.0), result.max_scores.get(name, 0.0)
    if score >= maximum:
        verdict = f"PASSED {name}: {score:g} / {maximum:g} points"
    else:
        verdict = f"FAILED {name}: {score:g} / {maximum:g} points. {failure_message(cell)}"
    clean = nbformat.v4.new_code_cell(source=visible)
    clean.outputs = [new_output("stream", name="stdout", text=verdict + "\n")]
    return clean


def student_cell(cell: NotebookNode) -> NotebookNode:
    """A non-test cell as executed, with every traceback cut down to type and message."""
    clean = nbformat.from_dict(dict(cell))
    clean.metadata = {}
    if clean.cell_type == "code":
        clean.outputs = [
            new_output("stream", name="stderr", text=error_line(o) + "\n")
            if o.output_type == "error"
            else o
            for o in clean.outputs
        ]
    return clean


def failure_message(cell: NotebookNode) -> str:
    """Why a test cell failed, from its outputs, without a traceback or printed values."""
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            return error_line(output)
    for output in cell.get("outputs", []):
        if output.output_type == "stream" and output.name == "stderr":
            found = WARNING.search(ANSI.sub("", output.text))
            detail = f" ({found.group(1)}: {found.group(2)[:MESSAGE_LIMIT]})" if found else ""
            return f"The cell wrote to stderr{detail}; a test cell must run silently."
    return "The tests did not pass."


def error_line(output: NotebookNode) -> str:
    """``ExceptionType: message`` of an error output, without ANSI codes, cut to a length."""
    name = ANSI.sub("", output.get("ename", "Error"))
    value = ANSI.sub("", output.get("evalue", "")).strip()
    value = value or FRIENDLY.get(name, "")
    return f"{name}: {value[:MESSAGE_LIMIT]}" if value else name
