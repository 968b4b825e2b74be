"""Export the gradebook: a CSV with one column per graded part, and an HTML report with plots.

Scores come from nbgrader's gradebook, flags from the grader's own record (``grader_results``).
Every score is checked against that record: a ``manual_score`` set in formgrader is kept as a
manual override and said so (``manual: test_relu=1``); an ``auto_score`` that the grader did
not write is kept but marked (``tampered: test_relu (gradebook 1, grader wrote 0)``).

The CSV has a row for every student the gradebook knows (the roster and everyone who
submitted), sorted by id; its columns are ``student``, ``last_name``, ``first_name``,
``email``, then per assignment one ``<assignment>:<grade_id>`` column per graded part (the
final score: a manual score overrides the grader's), ``<assignment>:late_penalty`` and
``<assignment>:total`` (after the penalty), then ``total``, ``max``, ``missing`` (the
assignments with no submission) and ``flags``. Late penalties are recomputed first
(:mod:`autograder.pipeline.late`), and manual scores entered since the last look are
audited. The report shows the flags to review, late work, archived manual grades, the parts
ranked from hardest (lowest mean share of the points, over real attempts only) to easiest,
per assignment the distribution of each part's scores, and the graded functions that are
alike (:mod:`autograder.pipeline.similarity`: classmates' pairs and copies of the reference,
side by side, for review only: it changes no score). Nothing a student wrote is
rendered as HTML: every text is escaped and stripped of control characters
(:func:`clean_text`), and our pages hold no script.
"""

from __future__ import annotations

import csv
import html
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from autograder.pipeline.coursedir import Course
from autograder.pipeline.gradebook import autograded_path, recorded_results
from autograder.pipeline.tasks import GRADED, Flag, FlagKind, GradeResult
from autograder.text import cap, clean_text, csv_text, esc, esc_block, html_page
from course.notebooks import cell_source, grade_id, nbgrader_meta, read_json

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from autograder.pipeline.similarity import FunctionSimilarity, Match

HARDEST_SHOWN = 5
PLOT_COLUMNS = 4
SCORE_TOLERANCE = 1e-9
REVIEWED_KINDS = frozenset(FlagKind) - {FlagKind.RENAMED}
"""Flags listed under "For review": every kind but a mere rename."""

REPORT_CSS = """
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,520px),1fr));
gap:1rem}
.panel{border:1px solid #ddd;border-radius:6px;padding:.5rem 1rem;min-width:0}
.panel.wide{grid-column:1/-1}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,420px),1fr));gap:.5rem}
.pair pre{border:1px solid #ddd;padding:.3rem;margin:0;max-height:30rem;overflow:auto}
mark{background:#ffe08a}
summary{cursor:pointer}
"""
SIMILAR_SHOWN = 20
"""Matches shown per graded function in the report's similarity section."""
SIMILAR_CODE_LIMIT = 6_000
"""Characters of each document shown side by side."""


@dataclass
class GradedPart:
    """One graded cell of an assignment and every student's score on it."""

    assignment: str
    name: str
    max_score: float
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def column(self) -> str:
        """The CSV column name."""
        return f"{self.assignment}:{self.name}"

    def mean_share(self, students: set[str] | None = None) -> float:
        """Mean score as a share of the maximum, over ``students`` (all by default).

        1.0 when nobody counts.
        """
        scores = [s for k, s in self.scores.items() if students is None or k in students]
        if not scores or not self.max_score:
            return 1.0
        return sum(scores) / len(scores) / self.max_score


@dataclass
class GradeTable:
    """What the export reads: parts with scores, flags per (assignment, student), results,
    every student's (last, first, email), the late penalties and who submitted what."""

    parts: list[GradedPart]
    flags: dict[tuple[str, str], list[Flag]]
    results: dict[tuple[str, str], GradeResult]
    students: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    penalties: dict[tuple[str, str], float] = field(default_factory=dict)
    submitted: set[tuple[str, str]] = field(default_factory=set)
    assignments: list[str] = field(default_factory=list)

    def total(self, assignment: str, student: str) -> float:
        """The final points of one submission: parts, less the late penalty."""
        own = [p.scores.get(student, 0.0) for p in self.parts if p.assignment == assignment]
        return max(sum(own) - self.penalties.get((assignment, student), 0.0), 0.0)

    def maximum(self, assignment: str) -> float:
        return sum(p.max_score for p in self.parts if p.assignment == assignment)


def read_gradebook(course: Course) -> GradeTable:
    """Every graded part with the students' scores, checked against the grader's record."""
    from nbgrader.api import Gradebook

    from autograder.pipeline.decisions import note_manual_scores
    from autograder.pipeline.kit import create_gradebook
    from autograder.pipeline.late import recompute
    from autograder.pipeline.tables import create_tables

    create_gradebook(course.db_url)
    recompute(course, actor="grader export")
    results = recorded_results(course.db_url)
    flags = {key: list(result.flags) for key, result in results.items()}
    parts = []
    book = GradeTable([], flags, results)
    with Gradebook(course.db_url, course.course_id) as gb:
        create_tables(gb.engine)
        book.students = {
            s.id: (s.last_name or "", s.first_name or "", s.email or "") for s in gb.students
        }
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            book.assignments.append(assignment.name)
            by_name = {}
            for notebook in assignment.notebooks:
                for cell in notebook.grade_cells:
                    by_name[cell.name] = GradedPart(
                        assignment.name, cell.name, float(cell.max_score)
                    )
            for submission in assignment.submissions:
                student = submission.student.id
                key = (assignment.name, student)
                note_manual_scores(gb.db, submission)
                book.submitted.add(key)
                book.penalties[key] = float(submission.late_submission_penalty or 0)
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        part = by_name.setdefault(
                            grade.name,
                            GradedPart(assignment.name, grade.name, float(grade.max_score)),
                        )
                        part.scores[student] = float(grade.score or 0)
                        mark = score_mark(grade, results.get(key))
                        if mark:
                            flags.setdefault(key, []).append(mark)
            parts += by_name.values()
        gb.db.commit()
    book.parts = parts
    return book


def score_mark(grade: object, result: GradeResult | None) -> Flag | None:
    """A flag for a score the grader did not write: a manual override, or a tampered one."""
    name, auto, manual = grade.name, grade.auto_score, grade.manual_score
    if manual is not None:
        return Flag(FlagKind.MANUAL, f"{name}={float(manual):g}")
    if result is None:
        return None if auto is None else Flag(FlagKind.TAMPERED, f"{name} (no grader result)")
    recorded = result.scores.get(name)
    if auto is None and recorded in (None, 0.0):
        return None
    if auto is None or recorded is None or abs(float(auto) - recorded) > SCORE_TOLERANCE:
        shown = "none" if auto is None else f"{float(auto):g}"
        wrote = "nothing" if recorded is None else f"{recorded:g}"
        return Flag(FlagKind.TAMPERED, f"{name} (gradebook {shown}, grader wrote {wrote})")
    return None


def export(course: Course, folder: Path) -> tuple[Path, Path]:
    """Write ``grades.csv`` and ``report.html`` (with PNG plots) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    book = read_gradebook(course)
    by_student: dict[str, list[str]] = {}
    for (assignment, student), flags in sorted(book.flags.items()):
        by_student.setdefault(student, []).extend(f"{assignment}: {f}" for f in flags)
    csv_path = write_csv(folder / "grades.csv", book, by_student)
    attempts = real_attempts(course, book)
    extra = [late_panel(course, book), kept_panel(course), similarity_panel(course)]
    report_path = write_report(folder, book.parts, book.flags, attempts, extra)
    return csv_path, report_path


def write_csv(path: Path, book: GradeTable, flags: dict[str, list[str]]) -> Path:
    """The grades table, one row per student sorted by id."""
    parts = book.parts
    students = sorted(
        {s for p in parts for s in p.scores}
        | set(flags)
        | set(book.students)
        | {s for _, s in book.submitted}
    )
    assignments = sorted({p.assignment for p in parts} | set(book.assignments))
    header = ["student", "last_name", "first_name", "email"]
    for assignment in assignments:
        header += [p.column for p in parts if p.assignment == assignment]
        header += [f"{assignment}:late_penalty", f"{assignment}:total"]
    header += ["total", "max", "missing", "flags"]
    maximum = sum(p.max_score for p in parts)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([csv_text(h) for h in header])
        for student in students:
            last, first, email = book.students.get(student, ("", "", ""))
            row: list[object] = [csv_text(x) for x in (student, last, first, email)]
            missing = []
            for assignment in assignments:
                own = [p for p in parts if p.assignment == assignment]
                row += [f"{p.scores[student]:g}" if student in p.scores else "" for p in own]
                late = book.penalties.get((assignment, student), 0.0)
                row += [f"{late:g}" if late else "", f"{book.total(assignment, student):g}"]
                if (assignment, student) not in book.submitted:
                    missing.append(assignment)
            total = sum(book.total(a, student) for a in assignments)
            row += [f"{total:g}", f"{maximum:g}", csv_text("; ".join(missing))]
            row.append(csv_text("; ".join(flags.get(student, []))))
            writer.writerow(row)
    return path


def late_panel(course: Course, book: GradeTable) -> str:
    """Late submissions: how late, the due date that applied, the penalty."""
    from autograder.pipeline.late import recompute

    rows = "".join(
        f"<tr><td>{esc(x.student)}</td><td>{esc(x.assignment)}</td>"
        f"<td>{esc(x.describe())}</td></tr>"
        for x in recompute(course, actor="grader export")
        if x.seconds_late > 0
    )
    body = (
        f"<table><tr><th>student</th><th>assignment</th><th>lateness</th></tr>{rows}</table>"
        if rows
        else "<p>No late submissions.</p>"
    )
    return f"<section class='panel'><h2>Late work</h2>{body}</section>"


def kept_panel(course: Course) -> str:
    """Manual scores and comments kept aside because a changed source removed their cell."""
    from autograder.pipeline.decisions import archived, describe_archived

    rows = "".join(f"<li>{esc(describe_archived(row))}</li>" for row in archived(course.db_url))
    body = f"<ul>{rows}</ul>" if rows else "<p>Nothing archived.</p>"
    return (
        "<section class='panel'><h2>Archived manual grades</h2><p class='note'>Entered in "
        f"formgrader on cells the source no longer has; kept, not counted.</p>{body}</section>"
    )


def similarity_panel(course: Course) -> str:
    """Graded functions alike, for review (never for points): per assignment, classmates'
    pairs and copies of the reference above the threshold, side by side."""
    from autograder.pipeline import similarity

    sections = []
    for assignment in course.assignments():
        graded = autograded_notebooks(course, assignment)
        source = read_json(course.exercises_path("source", assignment))
        if not graded or source is None:
            continue
        release_path = course.exercises_path("release", assignment)
        functions = similarity.assignment_similarity(
            source,
            graded,
            read_json(release_path),
            read_json(release_path.with_name("lecture.ipynb")),
        )
        sections.append(similarity_section(assignment, len(graded), functions))
    body = "".join(sections) or "<p>No graded notebooks.</p>"
    return (
        "<section class='panel wide'><h2>Similarity (for review)</h2><p class='note'>Never "
        "part of a score. Each graded function, with the student's own helpers it calls, is "
        "compared with the course's function of the same name, the source solution and every "
        "classmate's, names and layout ignored; what the release notebook and the lecture "
        "give is not counted. Listed: pairs with at least "
        f"{similarity.THRESHOLD:.0%} of one side in common, shared runs marked, the code as "
        "Python prints it back (no comments or docstrings). Code under "
        f"{similarity.MIN_SIZE} normalized characters beyond the release text is not "
        "compared; where the solution itself is that short, students are compared with the "
        "course's function only. A high score asks for a look, not a verdict.</p>"
        f"{body}</section>"
    )


def autograded_notebooks(course: Course, assignment: str) -> dict[str, dict]:
    """The notebooks grading kept for ``assignment``, by student id."""
    folder = course.step_dir("autograded")
    found = {}
    for student in sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []:
        notebook = read_json(autograded_path(course, assignment, student))
        if notebook is not None:
            found[student] = notebook
    return found


def similarity_section(assignment: str, students: int, functions: list[FunctionSimilarity]) -> str:
    """One assignment's part of the similarity section."""
    parts = []
    for function in functions:
        if not function.matches:
            continue
        shown = function.matches[:SIMILAR_SHOWN]
        more = len(function.matches) - len(shown)
        rows = "".join(similar_pair(m) for m in shown)
        if more:
            rows += f"<p class='note'>{more} more not shown.</p>"
        note = " (short: compared with the course's reference only)" if function.short else ""
        parts.append(f"<h4><code>{esc(function.name)}</code>{esc(note)}</h4>{rows}")
    short = [f.name for f in functions if f.short]
    listed = (
        f"<p class='note'>Short, so not compared between classmates: {esc(', '.join(short))}.</p>"
        if short
        else ""
    )
    found = "".join(parts) or "<p>Nothing above the threshold.</p>"
    return f"<h3>{esc(assignment)} ({students} notebooks)</h3>{listed}{found}"


def similar_pair(match: Match) -> str:
    """One match: the two sides' shares, then their code side by side, shared runs marked."""
    left, right = match.shares
    kind = "reference copy" if match.kind == "reference" else "classmates"
    summary = (
        f"{match.score:.0%} {kind}: <b>{esc(match.left)}</b> ({left:.0%} of it shared) and "
        f"<b>{esc(match.right)}</b> ({right:.0%} of it shared)"
    )
    codes = "".join(
        f"<pre>{marked_code(code, spans)}</pre>"
        for code, spans in zip(match.codes, match.spans, strict=True)
    )
    return f"<details><summary>{summary}</summary><div class='pair'>{codes}</div></details>"


def marked_code(code: str, spans: tuple[tuple[int, int], ...]) -> str:
    """``code`` escaped, cut to :data:`SIMILAR_CODE_LIMIT`, with ``spans`` in ``<mark>``."""
    shown = code[:SIMILAR_CODE_LIMIT]
    out, at = [], 0
    for start, end in sorted(spans):
        start, end = max(start, at), min(end, len(shown))
        if start >= end:
            continue
        out += [esc_block(shown[at:start]), f"<mark>{esc_block(shown[start:end])}</mark>"]
        at = end
    out.append(esc_block(cap(shown[at:], len(shown) - at, len(code) - at)))
    return "".join(out)


def real_attempts(course: Course, book: GradeTable) -> dict[str, set[str]]:
    """Per assignment, the students whose file counts: graded, and not a blank release.

    A rejected (or failed) file is left out, and so is one that scored 0 on every part while
    none of its answer cells differs from the release's (an untouched notebook).
    """
    attempts: dict[str, set[str]] = {}
    for part in book.parts:
        attempts.setdefault(part.assignment, set()).update(part.scores)
    for assignment, students in attempts.items():
        release = release_answers(course, assignment)
        for student in list(students):
            result = book.results.get((assignment, student))
            if result is not None and result.status != GRADED:
                students.discard(student)
                continue
            own = [p.scores.get(student, 0.0) for p in book.parts if p.assignment == assignment]
            if any(own):
                continue
            answers = submitted_answers(autograded_path(course, assignment, student))
            if answers is None or release is None or answers == release:
                students.discard(student)
    return attempts


def release_answers(course: Course, assignment: str) -> dict[str, str] | None:
    """The answer cells of the release notebook, by grade id (``None`` if unreadable)."""
    return submitted_answers(course.exercises_path("release", assignment))


def submitted_answers(path: Path) -> dict[str, str] | None:
    """The answer cells of a notebook by grade id, whitespace-normalized; ``None`` if unreadable."""
    notebook = read_json(path)
    if notebook is None:
        return None
    return {
        grade_id(cell): " ".join(cell_source(cell).split())
        for cell in notebook["cells"]
        if nbgrader_meta(cell).get("solution") and grade_id(cell)
    }


def write_report(
    folder: Path,
    parts: list[GradedPart],
    flags: dict[tuple[str, str], list[Flag]],
    attempts: dict[str, set[str]] | None = None,
    extra: list[str] | None = None,
) -> Path:
    """An HTML page: flags to review, hardest parts, score distributions, in a grid of panels."""
    attempts = attempts if attempts is not None else {}
    panels = [hardest_panel(parts, attempts), review_panel(flags), *(extra or [])]
    for assignment in sorted({p.assignment for p in parts}):
        own = [p for p in parts if p.assignment == assignment]
        counted = attempts.get(assignment)
        slug = plot_name(assignment)
        plot = folder / f"{slug}-distributions.png"
        distribution_figure(own).savefig(plot, dpi=100)
        ranking = folder / f"{slug}-hardest.png"
        hardest_figure(own, counted).savefig(ranking, dpi=100)
        panels.append(
            f"<section class='panel wide'><h2>{esc(assignment)}</h2><div class='grid'>"
            f'<img src="{html.escape(plot.name)}" alt="score distribution per part">'
            f'<img src="{html.escape(ranking.name)}" alt="parts from hardest to easiest">'
            "</div></section>"
        )
    body = f"<h1>Grades report</h1><div class='grid'>{''.join(panels)}</div>"
    path = folder / "report.html"
    page = html_page("Grades report", body, REPORT_CSS, images="'self' data: file:")
    path.write_text(page, encoding="utf-8")
    return path


def plot_name(assignment: str) -> str:
    """A file name for an assignment's plots (assignment ids are safe names already)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", clean_text(assignment))[:100] or "assignment"


def hardest_panel(parts: list[GradedPart], attempts: dict[str, set[str]]) -> str:
    """The parts with the lowest mean share of points over real attempts."""

    def share(part: GradedPart) -> float:
        return part.mean_share(attempts.get(part.assignment))

    def counted(part: GradedPart) -> int:
        students = attempts.get(part.assignment)
        return sum(1 for s in part.scores if students is None or s in students)

    ranked = [p for p in parts if counted(p)]
    rows = "".join(
        f"<tr><td>{esc(p.assignment)}</td><td>{esc(p.name)}</td>"
        f"<td>{100 * share(p):.0f}%</td><td>{counted(p)}</td></tr>"
        for p in sorted(ranked, key=share)[:HARDEST_SHOWN]
    )
    table = (
        "<table><tr><th>assignment</th><th>part</th><th>mean score</th><th>attempts</th></tr>"
        f"{rows}</table>"
        if rows
        else "<p>No real attempts yet.</p>"
    )
    return (
        "<section class='panel'><h2>Hardest parts</h2><p class='note'>Over real attempts "
        f"only: rejected files and untouched blank notebooks are left out.</p>{table}</section>"
    )


def review_panel(flags: dict[tuple[str, str], list[Flag]]) -> str:
    """The flags to review: rejected, repaired, integrity reviews, withheld, manual, tampered."""
    rows = "".join(
        f"<tr><td>{esc(student)}</td><td>{esc(assignment)}</td><td><code>{esc(flag)}</code></td>"
        "</tr>"
        for (assignment, student), own in sorted(flags.items(), key=lambda kv: kv[0][::-1])
        for flag in own
        if flag.kind in REVIEWED_KINDS
    )
    if not rows:
        return "<section class='panel'><h2>For review</h2><p>No flags.</p></section>"
    return (
        "<section class='panel'><h2>For review</h2><p><b>held</b>: points of parts under "
        "review are recorded as 0 until released with <code>grader review</code>; "
        "<b>rejected</b>: the file was not graded and scores 0; <b>failed</b>: grading itself "
        "failed and is retried by the next run; repaired files were graded as restored; "
        "a manual score overrides the grader's, a tampered one was written by neither.</p>"
        "<table><tr><th>student</th><th>assignment</th><th>flag</th></tr>"
        f"{rows}</table></section>"
    )


def distribution_figure(parts: list[GradedPart]) -> Figure:
    """One histogram per part of the students' scores, as a share of the part's points."""
    from matplotlib.figure import Figure

    n = max(len(parts), 1)
    columns = min(n, PLOT_COLUMNS)
    rows = math.ceil(n / columns)
    fig = Figure(figsize=(3 * columns, 2.6 * rows), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, part in zip(axes, parts, strict=False):
        shares = [s / part.max_score for s in part.scores.values()] if part.max_score else []
        ax.hist(shares, bins=5, range=(0, 1), color="tab:blue", edgecolor="white")
        ax.set_title(clean_text(part.name)[:40], fontsize=9)
        ax.set_xlabel("share of points")
    for ax in axes[len(parts) :] if parts else ():
        ax.set_visible(False)
    for ax in axes[::columns]:
        ax.set_ylabel("students")
    return fig


def hardest_figure(parts: list[GradedPart], students: set[str] | None = None) -> Figure:
    """Parts ranked by mean share of points over ``students``, hardest at the top."""
    from matplotlib.figure import Figure

    ranked = sorted(parts, key=lambda p: p.mean_share(students), reverse=True)
    fig = Figure(figsize=(6, 0.5 * len(ranked) + 1), layout="constrained")
    ax = fig.subplots()
    ax.barh(
        [clean_text(p.name)[:40] for p in ranked],
        [p.mean_share(students) for p in ranked],
        color="tab:orange",
    )
    ax.set_xlim(0, 1)
    ax.set_xlabel("mean share of points (real attempts)")
    ax.set_title("hardest parts at the top", fontsize=9)
    return fig
