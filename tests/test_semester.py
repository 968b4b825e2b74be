"""One instructor's term on the fixture course (issue 19): nothing entered is lost.

Two assignments (``00-numpy-basics`` and ``01-more-basics``), a roster from Canvas and one
from Moodle, downloads in each LMS's layout, a due date with a late and an extended student,
a manual grade kept through a forced regrade, a resubmission and a changed source (a cell
removed: its manual score archived), a review hold released with a reason, another
assignment's notebook rejected, a withdrawal, and LMS exports read back and checked against
the gradebook. One course is built and graded once (module fixture); each test reads one
stage of it. The LMS layouts are documented in ``autograder/intake/lms.py`` and their sources
cited in ``tests/test_lms.py``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from support import ASSIGNMENT, grader, new_course, notebook, unconfined_args

from autograder import samples

pytestmark = [pytest.mark.autograder, pytest.mark.xdist_group("semester")]

SECOND = "01-more-basics"
DUE = "2026-10-01 23:59"
ON_TIME = (2026, 10, 1, 12, 0, 0)
TEN_HOURS_LATE = (2026, 10, 2, 10, 0, 0)
CANVAS_ROSTER = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Module 00 (777)\n"
    "    Points Possible,,,,,5\n"
    '"Lovelace, Ada",1001,S-1,ada@uni.example,Mon,\n'
    '"Babbage, Ben",1002,S-2,ben,Mon,\n'
    '"Young, Cy",1003,S-3,cy,Tue,\n'
    '"Dee, Dee",1004,S-4,dee,Tue,\n'
    '"Broken, Row",1005,,,Tue,\n'
)
MOODLE_ROSTER = (
    "First name,Last name,ID number,Email address\n"
    "Eve,Example,eve,eve@uni.example\n"
    "Fay,Fine,fay,fay@uni.example\n"
    "Bad,Mail,bad,not-an-address\n"
)
PLAIN_ROSTER = "id,first name,last name\ngus,Gus,Grissom\nhal,Hal,Jordan\n"
REFLECTION = "return getattr(__import__('course.activations').activations, 're' + 'lu')(z)"


def run(course: Path, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
    """``grader`` on ``course``; its exit status must be one of ``ok``."""
    proc = grader(course, *args)
    assert proc.returncode in ok, (args, proc.returncode, proc.stdout, proc.stderr)
    return proc


def source_bytes(course: Path, assignment: str = ASSIGNMENT, edit=None) -> bytes:
    nb = nbformat.read(course / "source" / assignment / "exercises.ipynb", as_version=4)
    if edit:
        edit(nb)
    return samples.to_bytes(nb)


def reflective(nb) -> None:
    """A relu that reaches the reference by a computed name: observed, its points are held."""
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "relu")
    cell.source = f"def relu(z):\n    {REFLECTION}"


def write_zip(path: Path, members: dict[str, tuple[bytes, tuple]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, (data, when) in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=when), data)
    return path


def scores(course: Path, assignment: str, student: str) -> dict[str, tuple]:
    """(auto, manual) per part, from nbgrader's gradebook."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "fixture-course") as gb:
        submission = gb.find_submission(assignment, student)
        return {
            g.name: (g.auto_score, g.manual_score) for nb in submission.notebooks for g in nb.grades
        }


def set_manual(course: Path, student: str, part: str, score: float, comment_on: str, text: str):
    """What formgrader does when an instructor grades by hand."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "fixture-course") as gb:
        gb.find_grade(part, "exercises", ASSIGNMENT, student).manual_score = score
        gb.find_comment(comment_on, "exercises", ASSIGNMENT, student).manual_comment = text
        gb.db.commit()


def query(course: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(course / "gradebook.db") as db:
        return db.execute(sql).fetchall()


@pytest.fixture(scope="module")
def term(tmp_path_factory) -> dict:
    """The whole term, every command's output kept by stage."""
    top = tmp_path_factory.mktemp("semester")
    course = new_course(top / "course")
    out: dict = {"course": course, "top": top}
    # rosters: Canvas's grade export, Moodle's participants, a plain list (no email column)
    for name, text in [
        ("canvas", CANVAS_ROSTER),
        ("moodle", MOODLE_ROSTER),
        ("plain", PLAIN_ROSTER),
    ]:
        (top / f"{name}.csv").write_text(text, encoding="utf-8")
        out[f"roster-{name}"] = run(course, "roster", str(top / f"{name}.csv"), ok=(0, 1))
    # the due date, a per-day policy, before anything is graded
    out["due"] = run(
        course,
        "assignment",
        ASSIGNMENT,
        "--due",
        "2026-10-02 01:59",
        "--timezone",
        "Europe/Berlin",
        "--late-policy",
        "per-day",
        "--penalty",
        "10",
        "--cap",
        "50",
    )
    release = notebook(course, "release")
    source = notebook(course, "source")
    bug_relu = samples.to_bytes(samples.mutants(source)["minimum-instead-of-maximum"])
    canvas = write_zip(
        top / "canvas.zip",
        {
            "lovelaceada_1001_5001_exercises.ipynb": (
                source_bytes(course, edit=reflective),
                ON_TIME,
            ),
            "babbageben_1002_5002_exercises.ipynb": (samples.to_bytes(release), ON_TIME),
            "babbageben_1002_5003_exercises-1.ipynb": (bug_relu, ON_TIME),
            "youngcy_LATE_1003_5004_exercises.ipynb": (samples.to_bytes(source), TEN_HOURS_LATE),
            "deedee_LATE_1004_5005_exercises.ipynb": (samples.to_bytes(source), TEN_HOURS_LATE),
            "strangerx_1099_5006_exercises.ipynb": (samples.to_bytes(source), ON_TIME),
            "lovelaceada_1001_5007_lecture.ipynb": (b"{}", ON_TIME),
        },
    )
    out["collect-canvas"] = run(
        course, "collect", str(canvas), "--assignment", ASSIGNMENT, "--lms", "canvas", ok=(1,)
    )
    # the second assignment: no release/ yet (graded before `grader release`)
    (course / "release" / SECOND / "exercises.ipynb").unlink()
    (course / "release" / SECOND).rmdir()
    second = source_bytes(course, SECOND)
    moodle = write_zip(
        top / "moodle.zip",
        {
            "Eve Example_301_assignsubmission_file_/exercises.ipynb": (second, ON_TIME),
            "Fay Fine_302_assignsubmission_file_/exercises.ipynb": (
                samples.to_bytes(release),
                ON_TIME,
            ),
            "Eve Example_301_assignsubmission_onlinetext_/onlinetext.html": (b"hi", ON_TIME),
        },
    )
    out["collect-moodle"] = run(
        course, "collect", str(moodle), "--assignment", SECOND, "--lms", "moodle", ok=(1,)
    )
    blackboard = write_zip(
        top / "blackboard.zip",
        {
            f"{SECOND}_gus_attempt_2026-10-01-08-15-30_exercises.ipynb": (second, ON_TIME),
            f"{SECOND}_gus_attempt_2026-10-01-08-15-30.txt": (b"receipt", ON_TIME),
        },
    )
    out["collect-blackboard"] = run(
        course, "collect", str(blackboard), "--assignment", SECOND, "--lms", "blackboard"
    )
    brightspace = write_zip(
        top / "brightspace.zip",
        {"123-456 - Hal Jordan - Oct 1, 2026 8:15 AM/exercises.ipynb": (second, ON_TIME)},
    )
    out["collect-brightspace"] = run(
        course, "collect", str(brightspace), "--assignment", SECOND, "--lms", "brightspace"
    )
    out["release-before"] = (course / "release" / ASSIGNMENT / "exercises.ipynb").read_bytes()
    out["grade-1"] = run(course, "grade", "--jobs", "2", "--no-progress", ok=(1,))
    out["scores-1"] = {s: scores(course, ASSIGNMENT, s) for s in ("ada", "ben", "cy", "dee")}
    out["late-1"] = run(course, "late")
    out["extend"] = run(course, "extend", "dee", ASSIGNMENT, "--days", "2", "--reason", "ill")
    # a manual grade in formgrader, then a forced regrade of that student
    set_manual(course, "ben", "test_relu", 1.0, "relu", "min for max: half the idea")
    set_manual(course, "ben", "test_mse", 1.5, "mse", "see me")
    out["force"] = run(course, "grade", ASSIGNMENT, "--student", "ben", "--force", "--no-progress")
    out["scores-force"] = scores(course, ASSIGNMENT, "ben")
    # review: list, refuse a decision without a reason, release with one, a forced regrade
    out["review-list"] = run(course, "review", ok=(1,))
    out["review-no-reason"] = run(
        course, "review", ASSIGNMENT, "--student", "ada", "--release", "test_relu", ok=(2,)
    )
    out["review"] = run(
        course,
        "review",
        ASSIGNMENT,
        "--student",
        "ada",
        "--release",
        "test_relu",
        "--reason",
        "a computed name, same maths",
    )
    out["review-force"] = run(
        course, "grade", ASSIGNMENT, "--student", "ada", "--force", "--no-progress"
    )
    out["ada-after-review"] = scores(course, ASSIGNMENT, "ada")
    # a resubmission by ben (the reference), then by ada (a new file: the decision is stale)
    resubmit = write_zip(
        top / "canvas-2.zip",
        {
            "babbageben_1002_5008_exercises-2.ipynb": (samples.to_bytes(source), ON_TIME),
            "lovelaceada_1001_5009_exercises-1.ipynb": (
                source_bytes(course, edit=reflective) + b"\n",
                ON_TIME,
            ),
        },
    )
    out["collect-2"] = run(
        course, "collect", str(resubmit), "--assignment", ASSIGNMENT, "--lms", "canvas"
    )
    out["grade-2"] = run(course, "grade", ASSIGNMENT, "--no-progress", ok=(1,))
    out["scores-2"] = {s: scores(course, ASSIGNMENT, s) for s in ("ada", "ben")}
    # the instructor edits the source: a visible test reworded, test_mse (and mse) removed
    path = course / "source" / ASSIGNMENT / "exercises.ipynb"
    edited = nbformat.read(path, as_version=4)
    edited.cells = [
        c
        for c in edited.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") not in ("mse_text", "mse", "test_mse")
    ]
    test_relu = next(c for c in edited.cells if c.metadata.nbgrader.get("grade_id") == "test_relu")
    test_relu.source = test_relu.source.replace("relu must never be negative", "relu is >= 0")
    nbformat.write(edited, path)
    out["grade-3"] = run(course, "grade", ASSIGNMENT, "--no-progress", ok=(1,))
    out["scores-3"] = {s: scores(course, ASSIGNMENT, s) for s in ("ada", "ben", "cy")}
    out["release-after"] = (course / "release" / ASSIGNMENT / "exercises.ipynb").read_bytes()
    out["withdraw"] = run(course, "withdraw", "dee", ASSIGNMENT)
    out["feedback"] = run(course, "feedback")
    out["export"] = run(course, "export", "--output", str(top / "out"))
    out["canvas-export"] = run(
        course,
        "export",
        "--output",
        str(top / "out"),
        "--lms",
        "canvas",
        "--lms-column",
        f"{ASSIGNMENT}=Module 00 (777)",
        ok=(1,),
    )
    out["moodle-export"] = run(
        course, "export", "--output", str(top / "out"), "--lms", "moodle", ok=(1,)
    )
    return out


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# -- the course directory is explicit -------------------------------------------------------
def test_every_command_names_its_course_and_refuses_outside_one(term, tmp_path: Path) -> None:
    course = term["course"]
    assert term["grade-1"].stderr.startswith(f"course: {course}\n")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for args in (["collect", "x.zip", "--assignment", ASSIGNMENT], ["release"], ["grade"]):
        proc = subprocess.run(
            [sys.executable, "-m", "autograder.cli", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and "is not a course directory" in proc.stderr
        assert not (tmp_path / "submitted").exists() and not (tmp_path / "release").exists()
    inside = subprocess.run(
        [sys.executable, "-m", "autograder.cli", "late"],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )  # control
    assert inside.returncode == 0 and inside.stderr.startswith(f"course: {course}\n")


def test_init_makes_a_course_that_grades(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    def cli(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "autograder.cli", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    made = cli("init", "mine", "--empty")
    assert made.returncode == 0, made.stderr
    mine = tmp_path / "mine"
    assert (mine / "nbgrader_config.py").is_file() and (mine / ".gitignore").is_file()
    assert cli("init", "mine", "--empty").returncode == 2  # never over an existing course
    assert cli("init", "other", "--module", "no-such-module").returncode == 2
    released = cli("release", cwd=mine)
    assert released.returncode == 0, released.stdout + released.stderr
    (mine / "inbox").mkdir()
    source = (mine / "source" / "01-first" / "exercises.ipynb").read_bytes()
    (mine / "inbox" / "zoe_exercises.ipynb").write_bytes(source)
    assert cli("collect", "inbox", "--assignment", "01-first", cwd=mine).returncode == 0
    graded = cli("grade", "--no-progress", *unconfined_args(), cwd=mine)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    [row] = [ln.split() for ln in graded.stdout.splitlines() if ln.startswith("zoe ")]
    assert row[:4] == ["zoe", "01-first", "2", "2"]


# -- intake -----------------------------------------------------------------------------------
def test_rosters_from_canvas_and_moodle_with_bad_rows_told(term) -> None:
    canvas, moodle = term["roster-canvas"], term["roster-moodle"]
    assert canvas.returncode == 1 and "line 7: " in canvas.stdout  # the row with no ids
    assert "4 student(s) added" in canvas.stdout
    assert (
        moodle.returncode == 1 and "line 4: " in moodle.stdout and "not an email" in moodle.stdout
    )
    assert term["roster-plain"].returncode == 0  # no email column needed
    students = dict(query(term["course"], "select id, email from student"))
    assert students["ada"] == "ada@uni.example" and students["eve"] == "eve@uni.example"
    assert students["gus"] is None and "bad" not in students
    ids = dict(query(term["course"], "select student, lms_user_id from grader_roster"))
    assert ids["ada"] == "1001" and ids["cy"] == "1003"


def test_lms_downloads_are_collected_under_the_course_ids(term) -> None:
    course = term["course"]
    submitted = {
        (p.parent.parent.name, p.parent.name) for p in (course / "submitted").rglob("*.ipynb")
    }
    # ids the students typed (login / ID number / username), never Canvas's numbers
    assert {s for s, a in submitted if a == ASSIGNMENT} == {"ada", "ben", "cy"}  # dee withdrawn
    assert {s for s, a in submitted if a == SECOND} == {"eve", "gus", "hal"}
    out = term["collect-canvas"].stdout
    assert "Canvas user 1099 (strangerx) is not on the roster" in out
    assert "superseded by babbageben_1002_5003_exercises-1.ipynb" in out  # the resubmission
    assert "lovelaceada_1001_5007_lecture.ipynb: not the exercises notebook" in out
    marker = json.loads((course / "submitted/cy" / ASSIGNMENT / "lms.json").read_text())
    assert marker["late"] is True
    moodle = term["collect-moodle"].stdout
    assert "released for 00-numpy-basics, not 01-more-basics" in moodle  # fay's wrong file
    assert "onlinetext_/onlinetext.html: not a notebook" in moodle
    assert "08-15-30.txt: not a notebook" in term["collect-blackboard"].stdout
    stamp = (course / "submitted/gus" / SECOND / "timestamp.txt").read_text()
    assert stamp.startswith("2026-10-01 08:15:30")


def test_collect_refuses_what_it_cannot_import(term, tmp_path: Path) -> None:
    course = term["course"]
    typo = grader(course, "collect", str(tmp_path), "--assignment", "02-forwrd")
    assert typo.returncode == 2 and "no assignment 02-forwrd" in typo.stderr
    empty = grader(course, "collect", str(tmp_path), "--assignment", ASSIGNMENT)
    assert empty.returncode == 1 and "nothing imported" in empty.stdout
    bad_zone = grader(
        course, "collect", str(tmp_path), "--assignment", ASSIGNMENT, "--timezone", "Mars/Olympus"
    )
    assert bad_zone.returncode == 2 and "unknown time zone" in bad_zone.stderr


# -- grading ------------------------------------------------------------------------------------
def test_first_grading_words_and_release_untouched(term) -> None:
    out = term["grade-1"].stdout
    assert f"{SECOND}: no release/ yet; grading against source/" in out
    assert "graded 6, flagged 0, held 1, rejected 0, failed 0, timeout 0" in out
    assert not (term["course"] / "release" / SECOND).exists()
    assert term["release-before"] == term["release-after"]
    first = term["scores-1"]
    assert first["ada"]["test_relu"] == (0.0, None)  # held for review
    assert first["ben"]["test_relu"] == (0.0, None)  # the resubmission (-1) was graded


def test_late_penalties_and_an_extension_without_regrading(term) -> None:
    late = term["late-1"].stdout
    assert "cy 00-numpy-basics: late by 10.0 h" in late and "-0.5 points" in late
    assert "dee 00-numpy-basics: late by 10.0 h" in late
    assert "on time" in term["extend"].stdout  # dee's extension, no regrade
    audit = query(term["course"], "select actor, student, part, new from grader_audit")
    assert ("grader late", "dee", "late_penalty", 0.0) in audit
    rows = {r["student"]: r for r in read_csv(term["top"] / "out" / "grades.csv")}
    # 3 points after the source edit, less 10 % of the (new) maximum for one started day
    assert rows["cy"][f"{ASSIGNMENT}:late_penalty"] == "0.3"
    assert rows["cy"][f"{ASSIGNMENT}:total"] == "2.7"
    page = (term["course"] / "feedback/cy" / ASSIGNMENT / "exercises.html").read_text()
    assert "late by 10.0 h" in page and "2.7 / 3 points" in page


def test_manual_grade_survives_force_resubmission_and_source_change(term) -> None:
    assert term["scores-force"]["test_relu"] == (0.0, 1.0)
    assert term["scores-force"]["test_mse"] == (2.0, 1.5)
    assert term["scores-2"]["ben"]["test_relu"] == (1.0, 1.0)  # ben's new file: auto 1
    after = term["scores-3"]["ben"]
    assert after == {"test_relu": (1.0, 1.0), "test_softmax": (2.0, None)}
    grade = term["grade-3"].stdout
    assert "source/ changed since release/ was generated" in grade
    assert "archived: ben 00-numpy-basics:test_mse: manual score 1.5 kept" in grade
    assert "archived: ben 00-numpy-basics:mse: comment 'see me'" in grade
    comments = query(term["course"], "select manual_comment from comment")
    assert ("min for max: half the idea",) in comments
    report = (term["top"] / "out" / "report.html").read_text()
    assert "Archived manual grades" in report and "see me" in report
    audit = query(term["course"], "select actor, student, part, old, new from grader_audit")
    assert ("formgrader (manual)", "ben", "test_relu", 0.0, 1.0) in audit
    assert ("grader grade", "ben", "test_mse", 1.5, None) in audit


def test_an_instructors_edit_is_not_a_students_repair(term) -> None:
    results = dict(query(term["course"], "select student, flags from grader_results"))
    for student in ("ben", "cy"):
        assert "repaired" not in results[student], results[student]


def test_review_release_is_recorded_kept_and_goes_stale(term) -> None:
    listed = term["review-list"].stdout
    assert "ada 00-numpy-basics:test_relu earned 1/1: HELD" in listed
    assert "needs --reason" in term["review-no-reason"].stderr
    assert "test_relu released by" in term["review"].stdout
    assert term["ada-after-review"]["test_relu"] == (1.0, None)  # kept through --force
    assert term["scores-2"]["ada"]["test_relu"] == (0.0, None)  # a new file: held again
    assert "a new file since test_relu released by" in term["grade-2"].stdout
    audit = query(term["course"], "select actor, part, old, new from grader_audit")
    assert any(a.startswith("grader review by ") and p == "test_relu" for a, p, _, _ in audit)


def test_withdrawal_removes_everything_of_one_submission(term) -> None:
    course = term["course"]
    assert "removed gradebook: dee's submission" in term["withdraw"].stdout
    for step in ("submitted", "autograded", "feedback"):
        assert not (course / step / "dee" / ASSIGNMENT).exists()
    assert not query(course, "select * from grader_results where student = 'dee'")
    rows = {r["student"]: r for r in read_csv(term["top"] / "out" / "grades.csv")}
    assert ASSIGNMENT in rows["dee"]["missing"]
    again = grader(course, "withdraw", "dee", ASSIGNMENT)
    assert again.returncode == 2 and "nothing" not in again.stdout


# -- outputs ----------------------------------------------------------------------------------
def test_grades_csv_lists_every_rostered_student_with_names(term) -> None:
    rows = {r["student"]: r for r in read_csv(term["top"] / "out" / "grades.csv")}
    assert set(rows) >= {"ada", "ben", "cy", "dee", "eve", "fay", "gus", "hal"}
    assert (rows["ada"]["last_name"], rows["ada"]["email"]) == ("Lovelace", "ada@uni.example")
    assert rows["fay"]["missing"] == f"{ASSIGNMENT}; {SECOND}"
    assert rows["eve"]["missing"] == ASSIGNMENT and rows["ada"]["missing"] == SECOND
    assert "manual: test_relu=1" in rows["ben"]["flags"]
    page = (term["course"] / "feedback/ben" / ASSIGNMENT / "exercises.html").read_text()
    assert "set by your instructor" in page


def gradebook_totals(course: Path) -> dict[tuple[str, str], float]:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "fixture-course") as gb:
        return {
            (a.name, s.student.id): float(s.score) - float(s.late_submission_penalty or 0)
            for a in gb.assignments
            for s in a.submissions
        }


def test_lms_exports_read_back_agree_with_the_gradebook(term) -> None:
    totals = gradebook_totals(term["course"])
    canvas = read_csv(term["top"] / "out" / "canvas-grades.csv")
    assert list(canvas[0])[:6] == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "Module 00 (777)",
    ]
    assert canvas[0]["Student"].strip() == "Points Possible"
    by_id = {r["ID"]: r for r in canvas[1:] if r["ID"]}
    assert by_id["1001"]["SIS Login ID"] == "ada@uni.example"
    login = {"1001": "ada", "1002": "ben", "1003": "cy", "1004": "dee"}
    for canvas_id, student in login.items():
        got = by_id[canvas_id]["Module 00 (777)"]
        want = totals.get((ASSIGNMENT, student))
        assert (float(got) if got else None) == want, student
    assert "eve: no Canvas ID" in term["canvas-export"].stdout  # exit 1: told, not dropped
    moodle = {r["Email address"]: r for r in read_csv(term["top"] / "out" / "moodle-grades.csv")}
    assert float(moodle["eve@uni.example"][SECOND]) == totals[(SECOND, "eve")] == 5.0
    assert moodle["fay@uni.example"][SECOND] == ""  # nothing submitted: the import skips it
    assert "gus: no email address; Moodle must map by ID number" in term["moodle-export"].stdout


def test_feedback_for_unknown_names_is_a_usage_error(term) -> None:
    course = term["course"]
    for args in (["--student", "zed"], [SECOND + "x"]):
        proc = grader(course, "feedback", *args)
        assert proc.returncode == 2, proc.stdout + proc.stderr
    assert grader(course, "feedback", SECOND).returncode == 0  # control


def test_bad_dates_and_zones_are_one_line(term) -> None:
    course = term["course"]
    for args, message in [
        (["assignment", ASSIGNMENT, "--due", "1/10/2026"], "is not YYYY-MM-DD"),
        (["assignment", ASSIGNMENT, "--due", "2026-02-30 10:00"], "day is out of range"),
        (["assignment", ASSIGNMENT, "--due", "2026-10-01", "--timezone", "Nowhere"], "time zone"),
        (["assignment", ASSIGNMENT, "--late-policy", "per-day"], "needs --penalty"),
        (["extend", "ada", SECOND, "--days", "2"], "has no due date"),
    ]:
        proc = grader(course, *args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert proc.stderr.splitlines()[-1].startswith("grader: error: ") and message in proc.stderr
    shown = grader(course, "assignment", ASSIGNMENT)  # nothing changed by the bad ones
    assert "due 2026-10-01 23:59 UTC" in shown.stdout and "10% of the maximum" in shown.stdout


def test_csv_roster_text_is_read_by_io(term) -> None:
    """The Canvas roster written above is valid CSV with the Canvas header (a control)."""
    header = next(csv.reader(io.StringIO(CANVAS_ROSTER)))
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
