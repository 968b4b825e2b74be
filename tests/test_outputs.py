"""What a person opens or reads after grading renders nothing a student wrote, by attack class.

Feedback pages, ``report.html``, ``grades.csv`` and ``collect``'s report, fed with HTML,
JavaScript, ``javascript:`` links and terminal escapes (in outputs, markdown, messages, ids
and flags), huge outputs, and hostile folders and zips (symlinks, traversal, bombs).
"""

from __future__ import annotations

import csv
import json
import os
import re
import sqlite3
import stat
import struct
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell
from support import ASSIGNMENT, grader, new_course, notebook, submit

from autograder import samples
from autograder.outputs.export import GradedPart, distribution_figure
from autograder.outputs.feedback import CELL_LIMIT, ImageBudget, decode_image, outputs_html
from autograder.testing import edit_cell
from autograder.text import clean_text, markdown_html, safe_url

pytestmark = [pytest.mark.autograder, pytest.mark.xdist_group("outputs")]

PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5E"
    "rkJggg=="
)
HOSTILE_CODE = rf"""
import base64, sys
from IPython.display import HTML, SVG, Javascript, Markdown, display
# a raw escape in the source itself: \x1b[2J
print("<script>alert('stdout')</script>")
print("\x1b[2J\x1b]0;pwned\x07\r overwritten")
sys.stderr.write("<img src=x onerror=alert('stderr')>\n")
display(HTML("<script>alert('html')</script><b id='rich-html'>bold</b>"))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="5"/></svg>'))
display(Javascript("alert('js')"))
display(Markdown("[md](javascript:alert('md'))"))
fake = base64.b64encode(b"<svg onload=alert('png')>").decode()
display({{"image/png": fake, "text/plain": "fake png"}}, raw=True)
display({{"image/png": "{PNG}", "text/plain": "real png"}}, raw=True)
""".replace("\\x1b[2J\n", "\x1b[2J\n", 1)
HOSTILE_MARKDOWN = (
    "<script>alert('md-cell')</script> <img src=x onerror=\"alert('img')\">\n\n"
    "[click](javascript:alert('link')) [c2](JaVaScRiPt:alert(2)) [c3](jav&#x09;ascript:x)\n"
    '<a href="javascript:alert(3)">raw</a> ![t](http://tracker.example/p.png)\n\n'
    "$a<b$ and $$\\frac{1}{2}$$ \x1b[31m <iframe src=//evil></iframe> [ok](https://example.org)"
)
RAISING = "raise ValueError(\"<script>alert('msg')</script>\\x1b[2J\")\n    return np.maximum"
MANY_LINES = "for i in range(50_000):\n    print('line', i)"
HUGE_LINE = "print('y' * 900_000)"
CONTROL_FLAG = "review: test_mse: mse: \x1b]0;pwned\x07\x1b[2J\rforged\u202eflag"


class Tags(HTMLParser):
    """Every tag and attribute of a page."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))


def assert_inert(page: str) -> None:
    """No script, no event handler, no frame, only safe links and checked inline images."""
    assert "\x1b" not in page and "\r" not in page and "\u202e" not in page
    for tag, attrs in Tags(page).tags:
        assert tag not in ("script", "iframe", "object", "embed", "svg", "base", "form"), tag
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if "href" in attrs:
            assert safe_url(attrs["href"]) and attrs["href"].startswith("http"), attrs
        if tag == "img":
            src = attrs["src"]
            assert src.startswith(("data:image/png;base64,", "data:image/jpeg;base64,")) or (
                re.fullmatch(r"[\w.-]+\.png", src)  # the report's own plots
            ), src
        assert tag != "meta" or "refresh" not in str(attrs).lower()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A graded course with hostile submissions, then tampered with, fed back and exported."""
    course = new_course(tmp_path_factory.mktemp("outputs") / "course")
    source = notebook(course, "source")
    submit(course, "ref", samples.to_bytes(source))
    submit(course, "untouched", samples.to_bytes(notebook(course, "release")))
    submit(course, "broken", samples.broken_json(source))
    submit(course, "stripped", samples.stripped_metadata(source))
    xss = edit_cell(notebook(course, "source"), "relu", "return np.maximum", RAISING)
    xss.cells += [new_code_cell(HOSTILE_CODE), new_markdown_cell(HOSTILE_MARKDOWN)]
    submit(course, "xss", samples.to_bytes(xss))
    huge = notebook(course, "source")
    huge.cells += [new_code_cell(MANY_LINES)] + [new_code_cell(HUGE_LINE) for _ in range(3)]
    submit(course, "huge", samples.to_bytes(huge))
    proc = grader(course, "grade", "--jobs", "2")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    tamper(course)
    assert grader(course, "feedback").returncode == 0
    assert grader(course, "export", "--output", str(course / "out")).returncode == 0
    return course


def tamper(course: Path) -> None:
    """A forged flag with terminal escapes, a manual score and an auto_score nobody recorded."""
    with sqlite3.connect(course / "gradebook.db") as db:
        (flags,) = db.execute("select flags from grader_results where student='xss'").fetchone()
        flags = json.dumps([*json.loads(flags), CONTROL_FLAG])
        db.execute("update grader_results set flags=? where student='xss'", (flags,))
        grade = (
            "update grade set {}=? where id in (select grade.id from grade "
            "join base_cell on grade.cell_id=base_cell.id "
            "join submitted_notebook on grade.notebook_id=submitted_notebook.id "
            "join submitted_assignment on submitted_notebook.assignment_id=submitted_assignment.id "
            "where base_cell.name=? and submitted_assignment.student_id=?)"
        )
        db.execute(grade.format("manual_score"), (1.0, "test_relu", "stripped"))
        db.execute(grade.format("auto_score"), (1.5, "test_mse", "ref"))


def feedback_page(course: Path, student: str) -> str:
    return (course / "feedback" / student / ASSIGNMENT / "exercises.html").read_text()


# -- HTML, JavaScript, javascript: links and terminal escapes ------------------------------
def test_feedback_renders_no_student_html(hostile: Path) -> None:
    page = feedback_page(hostile, "xss")
    assert_inert(page)
    assert "&lt;script&gt;alert(&#x27;stdout&#x27;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(&#x27;stderr&#x27;)&gt;" in page
    assert not [attrs for _, attrs in Tags(page).tags if attrs.get("id") == "rich-html"]
    assert "IPython.core.display.Javascript object" in page  # only the plain-text form
    assert "fake png" in page  # the disguised SVG is shown as its text, never as an image
    assert page.count("<img") == 1 and PNG in page
    assert '<a href="https://example.org"' in page
    assert '<code class="math">a&lt;b</code>' in page
    assert "[image: t]" in page and "tracker.example" not in page


def test_feedback_shows_the_tests_message_escaped(hostile: Path) -> None:
    page = feedback_page(hostile, "xss")
    assert "FAILED test_relu: 0 / 1 points. " in page
    assert "ValueError: &lt;script&gt;alert(&#x27;msg&#x27;)&lt;/script&gt;" in page
    assert "PASSED test_softmax" in page
    parts = [page.index(f"<td>{name}</td>") for name in ("test_relu", "test_softmax", "test_mse")]
    assert parts == sorted(parts)  # notebook order
    assert "overflow-wrap:anywhere" in page and "white-space:pre-wrap" in page


def test_flags_and_ids_lose_their_control_characters(hostile: Path) -> None:
    forged = "review: test_mse: mse: forged" + "flag"
    pages = [feedback_page(hostile, "xss"), (hostile / "out" / "report.html").read_text()]
    for page in pages:
        assert_inert(page)
        assert forged in page
    text = (hostile / "out" / "grades.csv").read_text()
    assert "\x1b" not in text and "\x07" not in text and forged in text
    assert clean_text("a\x1b[31mb\x1b]0;t\x07c\rd\u202ee\x9b2Jf\x00\n") == "abcdef "
    assert clean_text("x\ny\tz", newlines=True) == "x\ny\tz"


def test_no_page_has_a_script_or_a_cdn(hostile: Path) -> None:
    pages = [*(hostile / "feedback").rglob("*.html"), hostile / "out" / "report.html"]
    assert len(pages) == 7
    for path in pages:
        page = path.read_text()
        assert_inert(page)
        assert "<script" not in page.lower() and "mathjax" not in page.lower()
        assert "Content-Security-Policy" in page


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "[x](  JAVASCRIPT:alert(1))",
        "[x](java\tscript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "<a href='javascript:alert(1)'>x</a>",
        "[x]: javascript:alert(1)\n\n[y][x]",
        "<style>body{display:none}</style>",
        "<svg><script>alert(1)</script></svg>",
        "```html\n<script>alert(1)</script>\n```",
        "> " * 500 + "deep",
    ],
)
def test_markdown_is_sanitized(markdown: str) -> None:
    assert_inert(f"<body>{markdown_html(markdown)}</body>")


@pytest.mark.parametrize(
    ("value", "ok"),
    [(PNG, True), ("PHN2Zz4=", False), ("not base64!", False), ("iVBORw0KGgo" * 200_000, False)],
)
def test_images_must_be_real_pngs_within_the_cap(value: str, ok: bool) -> None:
    import base64

    assert (decode_image(value, b"\x89PNG\r\n\x1a\n") is not None) is ok
    if value == PNG:
        big = base64.b64encode(base64.b64decode(PNG) + b"\0" * 2**21).decode()
        assert decode_image(big, b"\x89PNG\r\n\x1a\n") is None


# -- huge outputs ----------------------------------------------------------------------------
def test_huge_outputs_are_cut(hostile: Path) -> None:
    page = feedback_page(hostile, "huge")
    assert len(page) < 100_000
    assert "more characters not shown" in page
    assert "line 49999" not in page and "y" * 2_001 not in page


def test_output_budget_per_cell() -> None:
    many = [{"output_type": "stream", "name": "stdout", "text": "x\n"} for _ in range(100_000)]
    few = [{"output_type": "stream", "name": "stdout", "text": "z" * 10**6} for _ in range(50)]
    for outputs in (many, few):
        shown = outputs_html(outputs, ImageBudget())
        assert len(shown) < 2 * CELL_LIMIT + 3_000


# -- report and CSV ------------------------------------------------------------------------
def test_report_fits_and_reviews_rejected_and_repaired(hostile: Path) -> None:
    report = (hostile / "out" / "report.html").read_text()
    assert "max-width:1200px" in report and "img{max-width:100%" in report
    assert "display:grid" in report
    review = report[report.index("For review") :]
    assert "<td>broken</td>" in review and "rejected: " in review
    assert "<td>stripped</td>" in review and "repaired: " in review
    for png in (hostile / "out").glob("*.png"):
        assert png_width(png) <= 1200
    assert (
        png_width_of(distribution_figure([GradedPart("a", f"p{i}", 1.0) for i in range(9)])) <= 1200
    )


def test_hardest_parts_count_real_attempts_only(hostile: Path) -> None:
    report = (hostile / "out" / "report.html").read_text()
    hardest = report[report.index("Hardest parts") : report.index("For review")]
    # ref, xss, huge, stripped attempted; untouched (blank) and broken (rejected) do not count
    assert f"<td>{ASSIGNMENT}</td><td>test_relu</td><td>75%</td><td>4</td>" in hardest


def test_export_marks_scores_the_grader_did_not_write(hostile: Path) -> None:
    with (hostile / "out" / "grades.csv").open() as handle:
        rows = {r["student"]: r for r in csv.DictReader(handle)}
    assert "manual: test_relu=1" in rows["stripped"]["flags"]
    assert "tampered: test_mse (gradebook 1.5, grader wrote 2)" in rows["ref"]["flags"]
    assert "tampered" not in rows["huge"]["flags"] and "manual" not in rows["huge"]["flags"]
    assert rows["stripped"][f"{ASSIGNMENT}:test_relu"] == "1"


def png_width(path: Path) -> int:
    return struct.unpack(">I", path.read_bytes()[16:20])[0]


def png_width_of(figure) -> int:
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return struct.unpack(">I", buffer.getvalue()[16:20])[0]


# -- collect: symlinks, traversal and bombs ------------------------------------------------
def collected(course: Path) -> list[str]:
    return sorted(p.parent.parent.name for p in (course / "submitted").rglob("exercises.ipynb"))


def test_collect_skips_symlinks_and_special_files(course: Path, tmp_path: Path) -> None:
    data = samples.to_bytes(notebook(course, "source"))
    inbox = tmp_path / "inbox"
    (inbox / "elsewhere").mkdir(parents=True)
    (inbox / "alice_exercises.ipynb").write_bytes(data)
    secret = tmp_path / "secret.ipynb"
    secret.write_bytes(data)
    (inbox / "mallory_exercises.ipynb").symlink_to(secret)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "exercises.ipynb").write_bytes(data)
    (inbox / "trudy").symlink_to(outside, target_is_directory=True)
    os.mkfifo(inbox / "fifo_exercises.ipynb")
    with (inbox / "big_exercises.ipynb").open("wb") as handle:
        handle.truncate(21 * 2**20)  # sparse: reading it would be the mistake
    (inbox / "notes_exercises.txt").write_bytes(b"x")
    proc = grader(course, "collect", str(inbox), "--assignment", ASSIGNMENT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert collected(course) == ["alice"]
    out = proc.stdout
    assert "mallory_exercises.ipynb: symlink skipped" in out
    assert "trudy: symlink skipped" in out
    assert "fifo_exercises.ipynb: not a regular file" in out
    assert "big_exercises.ipynb: larger than 20 MB" in out


def test_collect_rejects_traversal_symlinks_and_bombs_in_zips(course: Path, tmp_path: Path) -> None:
    data = samples.to_bytes(notebook(course, "source"))
    archive = tmp_path / "download.zip"
    link = zipfile.ZipInfo("link_exercises.ipynb")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("alice_exercises.ipynb", data)
        zf.writestr("../evil_exercises.ipynb", data)
        zf.writestr("/abs_exercises.ipynb", data)
        zf.writestr("x/../../up_exercises.ipynb", data)
        zf.writestr("win\\..\\..\\back_exercises.ipynb", data)
        zf.writestr(link, "../../gradebook.db")
        zf.writestr("huge_exercises.ipynb", b" " * (21 * 2**20))
        zf.writestr("bomb_exercises.ipynb", b"\0" * (8 * 2**20))
        zf.writestr("bob_photo.png", b"\x89PNG" + b"\0" * 100)
    proc = grader(course, "collect", str(archive), "--assignment", ASSIGNMENT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert collected(course) == ["alice"]
    out = proc.stdout
    for name in ("../evil", "/abs", "x/../../up", "win\\..\\..\\back"):
        assert f"{name}_exercises.ipynb: path outside the archive" in out
    assert "link_exercises.ipynb: symlink skipped" in out
    assert "huge_exercises.ipynb: larger than 20 MB" in out
    assert "bomb_exercises.ipynb: compressed more than 100x" in out
    assert "bob_photo.png: not a notebook" in out
    assert not list(tmp_path.glob("*exercises.ipynb"))
    assert not (course / "gradebook.db").exists()
