"""One HTML feedback page per student that keeps the hidden tests hidden and runs no script.

The page opens with the score and a table of the graded parts in notebook order (points, and
on failure the message the trusted test raised), then shows the student's cells. The score
is the final one: a part scored by the instructor in formgrader shows that score, marked
"set by your instructor", and a late penalty is shown with how late and the due date that
applied (:mod:`autograder.pipeline.late`, recomputed before the pages are written). Nothing a
student wrote is rendered as HTML:

- code is highlighted text (Pygments escapes it);
- outputs are escaped text, cut to :data:`OUTPUT_LIMIT` characters each and
  :data:`CELL_LIMIT` per cell; rich outputs (HTML, SVG, JavaScript, widgets) are never shown,
  only their plain-text form; images only as PNG or JPEG whose base64 decodes and whose bytes
  start like one, up to :data:`IMAGE_LIMIT` each;
- markdown is rendered with raw HTML escaped, then passed through an allow-list of tags and
  attributes; links go only to ``http(s)``/``mailto`` addresses, images are not loaded, maths
  stays LaTeX text in ``<code>`` (no CDN, no script);
- every text is stripped of control characters (:func:`autograder.outputs.export.clean_text`).

A test cell shows the visible tests the release holds, its points and, on failure, the one
message of its error output (written by the trusted runtime). Hidden tests, what they
printed and their tracebacks never reach the page. The page forbids scripts in its content
security policy too.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from autograder.pipeline.coursedir import Course, CourseError
from autograder.pipeline.gradebook import autograded_path, final_scores, selected_results
from autograder.pipeline.late import Lateness
from autograder.pipeline.tasks import GRADED, GradeResult
from autograder.text import cap, clean_text, esc, esc_block, html_page, markdown_html
from course.messages import error_output_line
from course.notebooks import nbgrader_meta, read_json, text_of, without_hidden_tests

OUTPUT_LIMIT = 2_000
CELL_LIMIT = 20_000
CODE_LIMIT = 20_000
MESSAGE_LIMIT = 1_000
IMAGE_LIMIT = 2**20
OUTPUTS_SHOWN = 50
PAGE_IMAGE_LIMIT = 8 * 2**20
IMAGE_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
FRIENDLY = {"CellTimeoutError": "the cell ran past the time limit (an endless loop?)"}

FEEDBACK_CSS = """
.cell{border-left:3px solid #ddd;padding:.2rem .8rem;margin:.8rem 0}
.cell.test{border-color:#888}.cell.passed{border-color:#2a2}.cell.failed{border-color:#c22}
.highlight pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f7f7f7;padding:.4rem}
.verdict{font-weight:600}.failed .verdict{color:#a11}.passed .verdict{color:#161}
.out{background:#fff;border-top:1px dashed #ddd}.err{color:#a11}
code.math{background:#f3f3f3}
"""


def write_feedback(
    course: Course, assignments: Sequence[str] = (), students: Sequence[str] = ()
) -> list[Path]:
    """Write ``feedback/<student>/<assignment>/exercises.html`` for every recorded result.

    An assignment or student that was never graded is a :class:`CourseError`.
    """
    from autograder.pipeline.late import recompute

    recorded = selected_results(course)
    for kind, wanted, known in (
        ("assignment", assignments, {a for a, _, _ in recorded}),
        ("student", students, {s for _, s, _ in recorded}),
    ):
        unknown = sorted(set(wanted) - known)
        if unknown:
            raise CourseError(f"no graded submission for {kind} {unknown[0]}: run grader grade")
    lateness = {
        (x.assignment, x.student): x for x in recompute(course, assignments, "grader feedback")
    }
    written = []
    for assignment, student, result in selected_results(course, assignments, students):
        final = final_scores(course, assignment, student)
        manual = sorted(name for name, (_, is_manual) in final.items() if is_manual)
        if final:
            scores = {name: score for name, (score, _) in final.items()}
            result = replace(result, scores={**result.scores, **scores})
        release = read_json(course.exercises_path("release", assignment))
        executed = None
        if result.status == GRADED:
            executed = read_json(autograded_path(course, assignment, student))
        path = course.exercises_path("feedback", assignment, student, ".html")
        path.parent.mkdir(parents=True, exist_ok=True)
        late = lateness.get((assignment, student))
        page = feedback_page(result, executed, release, late, manual)
        path.write_text(page, encoding="utf-8")
        written.append(path)
    return written


def feedback_page(
    result: GradeResult,
    executed: dict | None,
    release: dict | None,
    late: Lateness | None = None,
    manual: Sequence[str] = (),
) -> str:
    """The whole feedback page of ``result``; ``executed`` is the autograded notebook.

    ``late`` is the submission's lateness and penalty; ``manual`` names the parts an
    instructor scored by hand.
    """
    visible = test_sources(release)
    cells = [c for c in (executed or {}).get("cells", []) if isinstance(c, dict)]
    messages = {
        name: failure_message(cell)
        for cell in cells
        if (name := test_name(cell, result)) and name in result.max_scores
    }
    order = part_order(result, [*visible, *messages])
    body = summary_html(result, order, messages, late, manual)
    if executed is None and result.status == GRADED:
        body += "<p class='note'>Your notebook's outputs are too large to show here.</p>"
    images = ImageBudget()
    for cell in cells:
        name = test_name(cell, result)
        if name:
            body += test_cell_html(cell, name, result, visible, messages.get(name))
        else:
            body += student_cell_html(cell, images)
    return html_page(f"Feedback: {result.assignment}", body, FEEDBACK_CSS + pygments_css())


def test_sources(release: dict | None) -> dict[str, str]:
    """The release's test cells (what the student saw, no hidden tests), in notebook order."""
    found = {}
    for cell in (release or {}).get("cells", []):
        meta = nbgrader_meta(cell)
        if meta.get("grade") and not meta.get("solution") and meta.get("grade_id"):
            found[str(meta["grade_id"])] = without_hidden_tests(text_of(cell.get("source")))
    return found


def part_order(result: GradeResult, seen: Sequence[str]) -> list[str]:
    """The graded parts in notebook order: as seen, then any others sorted."""
    order = [name for name in dict.fromkeys(seen) if name in result.max_scores]
    return order + sorted(set(result.max_scores) - set(order))


def summary_html(
    result: GradeResult,
    order: list[str],
    messages: dict[str, str],
    late: Lateness | None = None,
    manual: Sequence[str] = (),
) -> str:
    """Score, status, flags and a row per graded part: points, verdict, message."""
    total = sum(result.max_scores.values())
    penalty = late.penalty if late is not None else 0.0
    final = max(result.score - penalty, 0.0)
    out = [
        f"<h1>Feedback: {esc(result.assignment)}</h1>",
        f"<p><strong>{esc(result.student)}</strong>: {final:g} / {total:g} points.</p>",
    ]
    if late is not None and late.seconds_late > 0:
        out.append(
            f"<p class='late'>Submitted {esc(late.describe())}; before the penalty:"
            f" {result.score:g} points.</p>"
        )
    if result.status != GRADED:
        out.append(f"<p>Your submission was not graded ({esc(result.status)}).</p>")
    if result.flags:
        flags = "".join(f"<li>{esc(cap(str(flag), MESSAGE_LIMIT))}</li>" for flag in result.flags)
        out.append(f"<ul>{flags}</ul>")
    rows = []
    for name in order:
        score, maximum = result.scores.get(name, 0.0), result.max_scores[name]
        passed = score >= maximum
        message = "" if passed else messages.get(name, "")
        mark = " (set by your instructor)" if name in manual else ""
        rows.append(
            f"<tr><td>{esc(name)}</td><td>{score:g} / {maximum:g}{mark}</td>"
            f"<td>{'passed' if passed else 'failed'}</td><td>{esc(message)}</td></tr>"
        )
    out.append(
        "<table><tr><th>part</th><th>points</th><th>result</th><th>message</th></tr>"
        f"{''.join(rows)}</table>"
    )
    return "".join(out)


def test_cell_html(
    cell: dict, name: str, result: GradeResult, visible: dict[str, str], message: str | None
) -> str:
    """A test cell: its visible tests, points, and on failure the test's message."""
    source = visible.get(name)
    if source is None:
        source = without_hidden_tests(text_of(cell.get("source")))
    if "BEGIN HIDDEN TESTS" in text_of(cell.get("source")):
        source = source.rstrip() + "\n# (hidden tests are not shown)"
    score, maximum = result.scores.get(name, 0.0), result.max_scores.get(name, 0.0)
    if score >= maximum:
        kind, verdict = "passed", f"PASSED {name}: {score:g} / {maximum:g} points"
    else:
        reason = message or "The tests did not pass."
        kind, verdict = "failed", f"FAILED {name}: {score:g} / {maximum:g} points. {reason}"
    return (
        f"<div class='cell test {kind}'>{code_html(source)}"
        f"<div class='out verdict'>{esc(verdict)}</div></div>"
    )


def student_cell_html(cell: dict, images: ImageBudget) -> str:
    """A cell the student may have written: markdown sanitized, code highlighted, outputs text."""
    kind = cell.get("cell_type")
    source = text_of(cell.get("source"))
    if kind == "markdown":
        return f"<div class='cell md'>{markdown_html(source)}</div>"
    if kind != "code":
        return f"<div class='cell raw'><pre>{esc_block(cap(source, CODE_LIMIT))}</pre></div>"
    if "BEGIN HIDDEN TESTS" in source:
        source = without_hidden_tests(source)
    outputs = cell.get("outputs")
    shown = outputs_html(outputs if isinstance(outputs, list) else [], images)
    return f"<div class='cell code'>{code_html(source)}{shown}</div>"


def test_name(cell: dict, result: GradeResult) -> str | None:
    """The grade id of a test cell the grader scored, or ``None`` for any other cell."""
    meta = nbgrader_meta(cell)
    name = meta.get("grade_id")
    if meta.get("grade") and not meta.get("solution") and name in result.max_scores:
        return str(name)
    return None


def failure_message(cell: dict) -> str:
    """The message of a test cell's error output (the trusted test's), or a generic one."""
    for output in cell.get("outputs") or []:
        if isinstance(output, dict) and output.get("output_type") == "error":
            return failure_text(output)
    return "The tests did not pass."


def failure_text(output: dict) -> str:
    """``ExceptionType: message`` of an error output, cleaned, with a friendlier word for some."""
    name = clean_text(output.get("ename") or "Error")[:200]
    if not str(output.get("evalue") or "").strip() and name in FRIENDLY:
        output = {**output, "evalue": FRIENDLY[name]}
    return clean_text(error_output_line(output, MESSAGE_LIMIT))


# -- text, code and outputs ---------------------------------------------------------------
def code_html(source: str) -> str:
    """Python source as highlighted, escaped HTML."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    source = clean_text(cap(source, CODE_LIMIT), newlines=True)
    return highlight(source, PythonLexer(), HtmlFormatter(cssclass="highlight"))


@lru_cache(maxsize=1)
def pygments_css() -> str:
    from pygments.formatters import HtmlFormatter

    # without Pygments' comments ("Generic.Traceback"), so a page's text says only ours
    css = HtmlFormatter(cssclass="highlight").get_style_defs(".highlight")
    return re.sub(r"\s*/\*.*?\*/", "", css)


class ImageBudget:
    """How many image bytes a page may still embed."""

    def __init__(self, limit: int = PAGE_IMAGE_LIMIT) -> None:
        self.left = limit


def outputs_html(outputs: list, images: ImageBudget) -> str:
    """A code cell's outputs as escaped text and checked images, within the cell's budget."""
    parts, left = [], CELL_LIMIT
    for output in merged_streams(outputs):
        if left <= 0 or len(parts) >= OUTPUTS_SHOWN:
            parts.append("<div class='out note'>(further output not shown)</div>")
            break
        image = output_image(output, images)
        if image:
            parts.append(image)
            continue
        text, css = output_text(output)
        if not text:
            continue
        total = output.get("length", len(text)) if output.get("output_type") == "stream" else None
        shown = cap(text, min(OUTPUT_LIMIT, left), total)
        left -= min(len(text), OUTPUT_LIMIT)
        parts.append(f"<div class='out{css}'>{esc_block(shown)}</div>")
    return "".join(parts)


def merged_streams(outputs: list) -> Iterator[dict]:
    """The outputs with consecutive writes to one stream joined (as Jupyter shows them).

    Only the first :data:`CELL_LIMIT` characters of a run are kept, so a million one-line
    writes cost no more than one.
    """
    run: dict | None = None
    for output in outputs:
        if not isinstance(output, dict):
            continue
        if output.get("output_type") == "stream":
            text = text_of(output.get("text"))
            if run is not None and run["name"] == output.get("name"):
                if len(run["text"]) <= CELL_LIMIT:
                    run["text"] += text
                run["length"] += len(text)
                continue
            if run is not None:
                yield finished(run)
            run = {"name": output.get("name"), "text": text, "length": len(text)}
            continue
        if run is not None:
            yield finished(run)
            run = None
        yield output
    if run is not None:
        yield finished(run)


def finished(run: dict) -> dict:
    """A merged stream as one output that remembers its full length."""
    return {
        "output_type": "stream",
        "name": run["name"],
        "text": run["text"],
        "length": run["length"],
    }


def output_text(output: dict) -> tuple[str, str]:
    """The plain text of one output and its CSS class suffix; never HTML, SVG or script."""
    kind = output.get("output_type")
    if kind == "stream":
        return text_of(output.get("text")), " err" if output.get("name") == "stderr" else ""
    if kind == "error":
        return failure_text(output), " err"
    if kind in ("execute_result", "display_data"):
        data = output.get("data")
        data = data if isinstance(data, dict) else {}
        if "text/plain" in data:
            return text_of(data["text/plain"]), ""
        if data:
            kinds = ", ".join(clean_text(k)[:40] for k in sorted(data)[:3])
            return f"[output of type {kinds} not shown]", " note"
    return "", ""


def output_image(output: dict, images: ImageBudget) -> str | None:
    """An ``<img>`` of a PNG or JPEG output that checks out, or ``None``."""
    data = output.get("data")
    if output.get("output_type") not in ("execute_result", "display_data"):
        return None
    if not isinstance(data, dict):
        return None
    for mime, magic in IMAGE_MAGIC.items():
        raw = decode_image(data.get(mime), magic)
        if raw is not None and len(raw) <= images.left:
            images.left -= len(raw)
            encoded = base64.b64encode(raw).decode("ascii")
            return f"<div class='out'><img alt='figure' src='data:{mime};base64,{encoded}'></div>"
    return None


def decode_image(value: object, magic: bytes) -> bytes | None:
    """The bytes of a base64 image that starts with ``magic`` and fits the cap, else ``None``."""
    text = text_of(value)
    if not text or len(text) > IMAGE_LIMIT * 4 // 3 + 4096:
        return None
    try:
        raw = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if raw.startswith(magic) and len(raw) <= IMAGE_LIMIT else None
