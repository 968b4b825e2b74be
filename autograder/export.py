"""Export the gradebook: a CSV with one column per graded part, and an HTML report with plots.

Scores come from nbgrader's gradebook (so a grader's manual override counts), flags from the
autograder's results. The CSV is sorted by student; its columns are ``student``, one
``<assignment>:<grade_id>`` column per graded part and an ``<assignment>:total`` per
assignment, then ``total``, ``max`` and ``flags``. The report shows, per assignment, the
distribution of each part's scores and the parts ranked from hardest (lowest mean share of
the points) to easiest.
"""

from __future__ import annotations

import csv
import html
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure

from autograder.coursedir import Course
from autograder.gradebook import recorded_results
from autograder.review import REVIEW, WITHHELD

HARDEST_SHOWN = 5


@dataclass
class Part:
    """One graded cell of an assignment and every student's score on it."""

    assignment: str
    name: str
    max_score: float
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def column(self) -> str:
        """The CSV column name."""
        return f"{self.assignment}:{self.name}"

    @property
    def mean_share(self) -> float:
        """Mean score as a share of the maximum (1.0 when nobody submitted)."""
        if not self.scores or not self.max_score:
            return 1.0
        return sum(self.scores.values()) / len(self.scores) / self.max_score


def read_parts(course: Course) -> list[Part]:
    """Every graded part of every assignment in the gradebook, with the students' scores."""
    from nbgrader.api import Gradebook

    parts = []
    with Gradebook(course.db_url, course.course_id) as gb:
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            by_name = {}
            for notebook in assignment.notebooks:
                for cell in notebook.grade_cells:
                    by_name[cell.name] = Part(assignment.name, cell.name, float(cell.max_score))
            for submission in assignment.submissions:
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        by_name[grade.name].scores[submission.student.id] = float(grade.score or 0)
            parts += by_name.values()
    return parts


def export(course: Course, folder: Path) -> tuple[Path, Path]:
    """Write ``grades.csv`` and ``report.html`` (with PNG plots) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = read_parts(course)
    flags = {}
    for (assignment, student), result in recorded_results(course.db_url).items():
        flags.setdefault(student, []).extend(f"{assignment}: {f}" for f in result.flags)
    csv_path = write_csv(folder / "grades.csv", parts, flags)
    report_path = write_report(folder, parts, flags)
    return csv_path, report_path


def write_csv(path: Path, parts: list[Part], flags: dict[str, list[str]]) -> Path:
    """The grades table, one row per student sorted by id."""
    students = sorted({s for p in parts for s in p.scores})
    assignments = sorted({p.assignment for p in parts})
    header = ["student"]
    for assignment in assignments:
        header += [p.column for p in parts if p.assignment == assignment] + [f"{assignment}:total"]
    header += ["total", "max", "flags"]
    maximum = sum(p.max_score for p in parts)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for student in students:
            row: list[object] = [student]
            for assignment in assignments:
                own = [p for p in parts if p.assignment == assignment]
                row += [f"{p.scores[student]:g}" if student in p.scores else "" for p in own]
                row.append(f"{sum(p.scores.get(student, 0.0) for p in own):g}")
            total = sum(p.scores.get(student, 0.0) for p in parts)
            row += [f"{total:g}", f"{maximum:g}", "; ".join(flags.get(student, []))]
            writer.writerow(row)
    return path


def write_report(folder: Path, parts: list[Part], flags: dict[str, list[str]]) -> Path:
    """An HTML page: students to review, score distributions per part, hardest parts first."""
    sections = []
    for assignment in sorted({p.assignment for p in parts}):
        own = [p for p in parts if p.assignment == assignment]
        plot = folder / f"{assignment}-distributions.png"
        distribution_figure(own).savefig(plot, dpi=100)
        ranking = folder / f"{assignment}-hardest.png"
        hardest_figure(own).savefig(ranking, dpi=100)
        sections.append(
            f"<h2>{html.escape(assignment)}</h2>"
            f'<img src="{plot.name}" alt="score distribution per part">'
            f'<img src="{ranking.name}" alt="parts from hardest to easiest">'
        )
    rows = "".join(
        f"<tr><td>{html.escape(p.assignment)}</td><td>{html.escape(p.name)}</td>"
        f"<td>{100 * p.mean_share:.0f}%</td><td>{len(p.scores)}</td></tr>"
        for p in sorted(parts, key=lambda p: p.mean_share)[:HARDEST_SHOWN]
    )
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Grades report</title></head>"
        "<body><h1>Grades report</h1><h2>Hardest parts</h2><table border='1'>"
        "<tr><th>assignment</th><th>part</th><th>mean score</th><th>students</th></tr>"
        f"{rows}</table>{review_table(flags)}{''.join(sections)}</body></html>"
    )
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def review_table(flags: dict[str, list[str]]) -> str:
    """An HTML table of the integrity flags (with the offending lines) and withheld scores."""
    rows = "".join(
        f"<tr><td>{html.escape(student)}</td><td><code>{html.escape(flag)}</code></td></tr>"
        for student in sorted(flags)
        for flag in flags[student]
        if any(f": {kind}: " in flag for kind in (REVIEW, WITHHELD))
    )
    if not rows:
        return "<h2>For review</h2><p>No integrity flags.</p>"
    return (
        "<h2>For review</h2><p>Points of flagged parts are recorded as 0 until reviewed."
        f"</p><table border='1'><tr><th>student</th><th>flag</th></tr>{rows}</table>"
    )


def distribution_figure(parts: list[Part]) -> Figure:
    """One histogram per part of the students' scores, as a share of the part's points."""
    fig = Figure(figsize=(3 * max(len(parts), 1), 2.6), layout="constrained")
    axes = fig.subplots(1, max(len(parts), 1), squeeze=False)[0]
    for ax, part in zip(axes, parts, strict=False):
        shares = [s / part.max_score for s in part.scores.values()] if part.max_score else []
        ax.hist(shares, bins=5, range=(0, 1), color="tab:blue", edgecolor="white")
        ax.set_title(part.name, fontsize=9)
        ax.set_xlabel("share of points")
    axes[0].set_ylabel("students")
    return fig


def hardest_figure(parts: list[Part]) -> Figure:
    """Parts ranked by mean share of points, hardest at the top."""
    ranked = sorted(parts, key=lambda p: p.mean_share, reverse=True)
    fig = Figure(figsize=(6, 0.5 * len(ranked) + 1), layout="constrained")
    ax = fig.subplots()
    ax.barh([p.name for p in ranked], [p.mean_share for p in ranked], color="tab:orange")
    ax.set_xlim(0, 1)
    ax.set_xlabel("mean share of points")
    ax.set_title("hardest parts at the top", fontsize=9)
    return fig
