"""The ``grader`` command: init, release, collect, grade, review, feedback, export, roster, ...

Every command but ``init`` and ``demo`` first prints ``course: <dir>`` on stderr: the course
directory it works on (``--course-dir``, else the current directory if it is a course; never
another). Exit status, the same in every command: 0 when all went well, 1 when something
needs the instructor's attention (a rejected, failed, timed-out, held or flagged submission,
a collect that imported nothing, a release problem), 2 on a usage or course error (told in
one line).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from autograder.pipeline.coursedir import Course, CourseError, check_database, load_course

EXIT_OK, EXIT_ATTENTION, EXIT_ERROR = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, run the command, and return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from sqlalchemy.exc import InterfaceError, OperationalError

    from autograder.pipeline.kit import KitError
    from autograder.runtime.sandbox import SandboxError

    try:
        if args.command == "demo":
            from autograder.demo import run_demo

            return run_demo(Path(args.workspace) if args.workspace else None, args.jobs)
        if args.command == "init":
            return cmd_init(args)
        course = load_course(args.course_dir, args.db)
        print(f"course: {course.root}", file=sys.stderr)
        if args.uses_db:
            check_database(course.db_url)
        return args.handler(course, args)
    except (CourseError, KitError, SandboxError, OSError) as exc:
        print(f"grader: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (OperationalError, InterfaceError) as exc:
        # the database went away after the check: what was committed stays, a rerun finishes
        reason = "; ".join(line.strip() for line in str(exc.orig).splitlines() if line.strip())
        print(f"grader: error: database: {reason}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("grader: interrupted; run the same command again to finish", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per pipeline step."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--course-dir", help="the nbgrader course directory (default: here)")
    common.add_argument(
        "--db", help="gradebook database URL (default: $NN_COURSE_DB_URL or SQLite)"
    )
    parser = argparse.ArgumentParser(prog="grader", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    init = commands.add_parser("init", help="create a new course directory")
    init.add_argument("directory", help="a new or empty folder")
    which = init.add_mutually_exclusive_group(required=True)
    which.add_argument("--module", help="copy this module of the repository's source/")
    which.add_argument("--empty", action="store_true", help="one example graded cell")

    release = commands.add_parser("release", parents=[common], help="generate and verify release/")
    release.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    release.add_argument("--check", action="store_true", help="fail if release/ is out of date")
    release.set_defaults(handler=cmd_release, uses_db=False)

    collect = commands.add_parser("collect", parents=[common], help="import submissions")
    collect.add_argument("path", nargs="?", help="a folder or an LMS zip download")
    collect.add_argument(
        "--exchange", action="store_true", help="from nbgrader's exchange (Exchange.root)"
    )
    collect.add_argument("--assignment", required=True)
    collect.add_argument(
        "--pattern", help="regex with a (?P<student_id>...) group, matched against file names"
    )
    collect.add_argument(
        "--lms",
        choices=("canvas", "moodle", "blackboard", "brightspace"),
        help="read this LMS's download layout (ids mapped through the roster)",
    )
    collect.add_argument(
        "--timezone", help="zone of zip times and times in LMS names (default: UTC)"
    )
    collect.set_defaults(handler=cmd_collect, uses_db=False)

    grade = commands.add_parser("grade", parents=[common], help="autograde submissions")
    grade.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    grade.add_argument("--student", action="append", default=[], help="repeat for several")
    grade.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    grade.add_argument("--timeout", type=int, help="seconds per cell (default: the config's)")
    grade.add_argument("--student-timeout", type=float, default=300.0, help="seconds per student")
    grade.add_argument("--kernel", help="kernelspec to run submissions in (e.g. a sandbox)")
    grade.add_argument(
        "--cold-kernels",
        action="store_true",
        help="start every kernel from nothing instead of forking it from a warm template "
        "(slower; the confinement is the same)",
    )
    grade.add_argument(
        "--sandbox",
        choices=("auto", "require", "off"),
        default="auto",
        help="confine kernels: auto and require (bubblewrap, else unshare, else refuse to grade), "
        "off (unconfined: memory and CPU caps only)",
    )
    grade.add_argument(
        "--memory-mb", type=int, default=2048, help="address-space cap per kernel (MB)"
    )
    grade.add_argument(
        "--cpu-seconds", type=float, help="CPU-time cap per kernel (default: --student-timeout)"
    )
    grade.add_argument("--scheduler", help="grade on a Dask cluster: tcp://HOST:PORT")
    grade.add_argument("--force", action="store_true", help="regrade up-to-date submissions")
    grade.add_argument("--no-progress", action="store_true", help="no progress bar")
    grade.set_defaults(handler=cmd_grade, uses_db=True)

    feedback = commands.add_parser("feedback", parents=[common], help="HTML feedback per student")
    feedback.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    feedback.add_argument("--student", action="append", default=[])
    feedback.add_argument(
        "--release", action="store_true", help="and release it through nbgrader's exchange"
    )
    feedback.set_defaults(handler=cmd_feedback, uses_db=True)

    export = commands.add_parser("export", parents=[common], help="grades CSV and HTML report")
    export.add_argument(
        "--output", help="folder for grades.csv and report.html (default: reports/)"
    )
    export.add_argument(
        "--lms", choices=("canvas", "moodle"), help="also write the file that LMS imports"
    )
    export.add_argument(
        "--lms-column",
        action="append",
        default=[],
        metavar="ASSIGNMENT=COLUMN",
        help='the LMS column of an assignment, e.g. 02-forward="Module 02 (12345)"',
    )
    export.set_defaults(handler=cmd_export, uses_db=True)

    roster = commands.add_parser(
        "roster",
        parents=[common],
        help="import students (Canvas's or Moodle's export, or id, first, last name, email)",
    )
    roster.add_argument("csv", help="the class list as CSV, with a header row")
    roster.add_argument("--id-column", help="the column that holds the course's student id")
    roster.set_defaults(handler=cmd_roster, uses_db=True)

    review = commands.add_parser(
        "review", parents=[common], help="list held points; release or set them with a reason"
    )
    review.add_argument("assignment", nargs="?", metavar="ASSIGNMENT")
    review.add_argument("--student", help="the student whose held points to decide")
    review.add_argument(
        "--release", action="append", default=[], metavar="PART", help="give what PART earned"
    )
    review.add_argument(
        "--set", action="append", default=[], metavar="PART=SCORE", help="give PART a score"
    )
    review.add_argument("--reason", help="why (required with --release and --set)")
    review.set_defaults(handler=cmd_review, uses_db=True)

    withdraw = commands.add_parser(
        "withdraw", parents=[common], help="remove one submission, its grades and its pages"
    )
    withdraw.add_argument("student")
    withdraw.add_argument("assignment")
    withdraw.set_defaults(handler=cmd_withdraw, uses_db=True)

    assignment = commands.add_parser(
        "assignment", parents=[common], help="an assignment's due date and late policy"
    )
    assignment.add_argument("assignment")
    assignment.add_argument("--due", help='the due date, "YYYY-MM-DD HH:MM"')
    assignment.add_argument("--no-due", action="store_true", help="remove the due date")
    assignment.add_argument("--timezone", help="zone of --due (default: UTC)")
    assignment.add_argument(
        "--late-policy", choices=("none", "zero", "per-day", "per-hour"), help="see README"
    )
    assignment.add_argument("--penalty", type=float, help="percent of the maximum per unit late")
    assignment.add_argument("--cap", type=float, default=100.0, help="percent at most")
    assignment.set_defaults(handler=cmd_assignment, uses_db=True)

    extend = commands.add_parser("extend", parents=[common], help="a student's own due date")
    extend.add_argument("student")
    extend.add_argument("assignment")
    until = extend.add_mutually_exclusive_group(required=True)
    until.add_argument("--until", help='the new due date, "YYYY-MM-DD HH:MM"')
    until.add_argument("--days", type=float, help="days after the assignment's due date")
    extend.add_argument("--timezone", help="zone of --until (default: UTC)")
    extend.add_argument("--reason", default="", help="recorded with the extension")
    extend.set_defaults(handler=cmd_extend, uses_db=True)

    late = commands.add_parser(
        "late", parents=[common], help="recompute late penalties and list late submissions"
    )
    late.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    late.set_defaults(handler=cmd_late, uses_db=True)

    bundle = commands.add_parser(
        "bundle", parents=[common], help="the student package: notebooks, README, wheel"
    )
    bundle.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    bundle.add_argument("--out", required=True, help="a new or empty folder")
    bundle.set_defaults(handler=cmd_bundle, uses_db=False)

    demo = commands.add_parser("demo", help="run the whole pipeline on sample submissions")
    demo.add_argument("--workspace", help="folder to work in (default: demo-workspace/)")
    demo.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    return parser


def cmd_release(course: Course, args: argparse.Namespace) -> int:
    """``grader release``: generate (or with ``--check`` compare) and verify release/."""
    from autograder.pipeline.release import check_release, release

    assignments = args.assignments or course.assignments()
    if not assignments:
        print(f"no assignments in {course.step_dir('source')}")
        return EXIT_OK
    problems = (check_release if args.check else release)(course, assignments)
    for problem in problems:
        print(problem)
    verb = "up to date" if args.check else "released"
    print(
        f"{len(assignments)} assignment(s) {verb}"
        if not problems
        else f"{len(problems)} problem(s)"
    )
    return EXIT_ATTENTION if problems else EXIT_OK


def cmd_collect(course: Course, args: argparse.Namespace) -> int:
    """``grader collect``: import submissions and print what was imported or rejected."""
    from autograder.intake.collect import DEFAULT_PATTERN, collect
    from autograder.intake.exchange import collect_exchange
    from autograder.pipeline.late import time_zone

    if args.exchange == bool(args.path) or (args.exchange and (args.pattern or args.lms)):
        raise CourseError("collect takes a folder or zip (and --pattern or --lms), or --exchange")
    if args.pattern and args.lms:
        raise CourseError("collect takes --pattern or --lms, not both")
    known_assignment(course, args.assignment)
    if args.exchange:
        report = collect_exchange(course, args.assignment)
    else:
        zone = time_zone(args.timezone) if args.timezone else None
        pattern = args.pattern or DEFAULT_PATTERN
        report = collect(course, Path(args.path), args.assignment, pattern, args.lms, zone)
    print(report.render())
    if not report.imported:
        print(f"nothing imported for {args.assignment}")
        return EXIT_ATTENTION
    return EXIT_ATTENTION if report.attention else EXIT_OK


def known_assignment(course: Course, assignment: str) -> None:
    """Raise :class:`CourseError` unless ``assignment`` has a source exercises notebook."""
    from autograder.pipeline.coursedir import check_id

    check_id("assignment", assignment)
    if assignment not in course.assignments():
        known = ", ".join(course.assignments()) or "none"
        path = course.exercises_path("source", assignment).relative_to(course.root)
        raise CourseError(f"no assignment {assignment}: there is no {path} (assignments: {known})")


def memory_line(results) -> str:
    """The peak memory of the grading processes of this run and of this one."""
    from autograder.pipeline.worker import peak_memory_mb

    workers = max((r.memory_mb for r in results), default=0.0)
    shown = f"{workers:.0f} MB" if workers else "none ran here"
    return f"memory: largest grading process {shown}; coordinator {peak_memory_mb():.0f} MB"


def phases_line(results) -> str:
    """Where a submission's grading time went, as the median over the submissions graded."""
    import statistics

    timed = [r.phases for r in results if r.phases]
    parts = [(name, statistics.median(p.get(name, 0.0) for p in timed)) for name in PHASES]
    shown = ", ".join(f"{PHASES[name]} {seconds:.2f} s" for name, seconds in parts)
    return f"time per submission (median of {len(timed)}): {shown}"


PHASES = {
    "start": "kernel start",
    "cells": "the notebook's cells",
    "tests": "test cells",
    "other": "the rest",
    "total": "in all",
}


def cmd_grade(course: Course, args: argparse.Namespace) -> int:
    """``grader grade``: grade in parallel and print the summary table."""
    from autograder.pipeline.decisions import archived, describe_archived, now
    from autograder.pipeline.grade import GradeOptions, grade, outcome_counts, summary_table
    from autograder.pipeline.release import source_changed
    from autograder.pipeline.submissions import submitted_assignments
    from autograder.runtime.sandbox import choose

    cpu_seconds = args.cpu_seconds or args.student_timeout
    sandbox = choose(args.sandbox, args.memory_mb, cpu_seconds, (str(course.root),))
    if sandbox.warning:
        print(sandbox.warning, file=sys.stderr)
    options = GradeOptions(
        jobs=max(1, args.jobs),
        cell_timeout=args.timeout,
        student_timeout=args.student_timeout,
        kernel_name=args.kernel,
        sandbox=sandbox,
        scheduler=args.scheduler,
        force=args.force,
        progress=not args.no_progress,
        warm_kernels=not args.cold_kernels,
    )
    for assignment in args.assignments:
        known_assignment(course, assignment)
    started = now()
    for assignment in args.assignments or submitted_assignments(course):
        if assignment in course.assignments():
            notice = source_changed(course, assignment)
            if notice:
                print(notice)
    results = grade(course, args.assignments, args.student, options)
    if not results:
        print("no submissions to grade")
        return EXIT_OK
    print(summary_table(results))
    kept = archived(course.db_url, since=started)
    for row in kept:
        print(f"archived: {describe_archived(row)}")
    attention = [r for r in results if r.needs_attention]
    print(outcome_counts(results))
    print(memory_line(results), file=sys.stderr)  # about this run, like the progress bar
    if any(r.phases for r in results):
        print(phases_line(results), file=sys.stderr)
    print(f"{len(results)} submission(s); {len(attention)} need(s) attention")
    if kept:
        return EXIT_ATTENTION
    if sandbox.warning:
        print(sandbox.warning)
    return EXIT_ATTENTION if attention else EXIT_OK


def cmd_feedback(course: Course, args: argparse.Namespace) -> int:
    """``grader feedback``: write one HTML page per graded student."""
    from autograder.outputs.feedback import write_feedback

    written = write_feedback(course, args.assignments, args.student)
    print(f"{len(written)} feedback page(s) in {course.step_dir('feedback')}")
    if args.release:
        from autograder.outputs.publish import release_feedback

        report = release_feedback(course, args.assignments, args.student)
        print(report.render())
        return EXIT_ATTENTION if report.skipped else EXIT_OK
    return EXIT_OK


def cmd_export(course: Course, args: argparse.Namespace) -> int:
    """``grader export``: grades CSV and HTML report with plots."""
    from autograder.outputs.export import export

    folder = Path(args.output) if args.output else course.step_dir("reports")
    if args.lms_column and not args.lms:
        raise CourseError("--lms-column goes with --lms")
    csv_path, report_path = export(course, folder)
    print(f"wrote {csv_path} and {report_path}")
    if args.lms:
        from autograder.outputs.lms import export_lms, parse_columns

        path, problems = export_lms(course, args.lms, folder, parse_columns(args.lms_column))
        for problem in problems:
            print(problem)
        print(f"wrote {path} for {args.lms}'s gradebook import")
        return EXIT_ATTENTION if problems else EXIT_OK
    return EXIT_OK


def cmd_roster(course: Course, args: argparse.Namespace) -> int:
    """``grader roster``: create or update the students of a class list in the gradebook."""
    from autograder.intake.roster import import_roster

    report = import_roster(course, Path(args.csv).read_bytes(), args.id_column)
    print(report.render())
    return EXIT_ATTENTION if report.skipped else EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    """``grader init``: a new course directory with one module."""
    from autograder.pipeline.newcourse import init_course

    folder = Path(args.directory)
    written = init_course(folder, args.module, args.empty)
    root = folder.resolve()
    print(f"course: {root}", file=sys.stderr)
    for path in written:
        print(f"  {path.relative_to(root)}")
    print(f"new course in {root}; next: cd {folder} && grader release")
    return EXIT_OK


def cmd_review(course: Course, args: argparse.Namespace) -> int:
    """``grader review``: list held points, or release or set them with a reason."""
    from autograder.pipeline.decisions import (
        OVERRIDE,
        RELEASE,
        Decision,
        decisions,
        held,
        now,
        record_decision,
        user,
    )
    from autograder.pipeline.gradebook import apply_review

    parts = [
        h for h in held(course.db_url) if not args.assignment or h.assignment == args.assignment
    ]
    if args.student:
        parts = [h for h in parts if h.student == args.student]
    wanted = [(p, RELEASE, None) for p in args.release]
    for pair in args.set:
        part, sep, value = pair.partition("=")
        try:
            score = float(value)
        except ValueError:
            raise CourseError(f"--set {pair!r} is not PART=SCORE") from None
        if not sep or score < 0:
            raise CourseError(f"--set {pair!r} is not PART=SCORE (a score of 0 or more)")
        wanted.append((part, OVERRIDE, score))
    if wanted:
        if not (args.assignment and args.student):
            raise CourseError("a decision names ASSIGNMENT and --student")
        if not (args.reason or "").strip():
            raise CourseError("a decision needs --reason (it is recorded)")
        by_part = {h.part: h for h in parts}
        for part, _action, score in wanted:
            if part not in by_part:
                raise CourseError(
                    f"{args.student} has no held points on {part} in {args.assignment}"
                )
            if score is not None and score > by_part[part].max_score:
                raise CourseError(
                    f"--set {part}={score:g} is above its {by_part[part].max_score:g}"
                )
        by = user()
        for part, action, score in wanted:
            decision = Decision(
                args.assignment,
                args.student,
                part,
                action,
                score,
                args.reason.strip(),
                by,
                now(),
                by_part[part].file,
            )
            record_decision(course.db_url, decision)
            print(f"decided: {decision.describe()}")
        for line in apply_review(course, args.assignment, args.student, f"grader review by {by}"):
            print(f"  {line}")
    decided = decisions(course.db_url)
    waiting = 0
    for h in held(course.db_url):
        if (args.assignment and h.assignment != args.assignment) or (
            args.student and h.student != args.student
        ):
            continue
        decision = decided.get((h.assignment, h.student), {}).get(h.part)
        if decision is not None and decision.file == h.file:
            state = decision.describe()
        else:
            state = "HELD: " + ("a new file since the decision; " if decision else "")
            state += f"grader review {h.assignment} --student {h.student} --release {h.part}"
            state += " --reason ..."
            waiting += 1
        print(f"{h.student} {h.assignment}:{h.part} earned {h.earned:g}/{h.max_score:g}: {state}")
        print(f"    {h.finding[:300]}")
    print(f"{waiting} part(s) held for review")
    return EXIT_ATTENTION if waiting else EXIT_OK


def cmd_withdraw(course: Course, args: argparse.Namespace) -> int:
    """``grader withdraw``: remove one submission with its grades, files and results."""
    from autograder.pipeline.coursedir import check_id
    from autograder.pipeline.gradebook import withdraw

    check_id("student", args.student)
    check_id("assignment", args.assignment)
    for line in withdraw(course, args.assignment, args.student):
        print(f"removed {line}")
    return EXIT_OK


def cmd_assignment(course: Course, args: argparse.Namespace) -> int:
    """``grader assignment``: set or show an assignment's due date and late policy."""
    from autograder.pipeline.late import (
        Policy,
        due_dates,
        parse_when,
        policies,
        recompute,
        set_due,
        set_policy,
        show,
    )

    known_assignment(course, args.assignment)
    if args.due and args.no_due:
        raise CourseError("--due or --no-due, not both")
    if args.due or args.no_due:
        set_due(course, args.assignment, parse_when(args.due, args.timezone) if args.due else None)
    if args.late_policy:
        set_policy(
            course.db_url, args.assignment, Policy(args.late_policy, args.penalty or 0.0, args.cap)
        )
    elif args.penalty is not None:
        raise CourseError("--penalty goes with --late-policy per-day or per-hour")
    due = due_dates(course).get(args.assignment)
    policy = policies(course.db_url).get(args.assignment, Policy())
    print(f"{args.assignment}: due {show(due)}; late policy: {policy.describe()}")
    late = [x for x in recompute(course, [args.assignment]) if x.seconds_late > 0]
    for x in late:
        print(f"  {x.student}: {x.describe()}")
    return EXIT_OK


def cmd_extend(course: Course, args: argparse.Namespace) -> int:
    """``grader extend``: give one student a later due date for one assignment."""
    from datetime import timedelta

    from autograder.pipeline.coursedir import check_id
    from autograder.pipeline.decisions import user
    from autograder.pipeline.late import due_dates, parse_when, recompute, set_extension, show

    check_id("student", args.student)
    known_assignment(course, args.assignment)
    due = due_dates(course).get(args.assignment)
    if args.days is not None:
        if due is None:
            raise CourseError(f"{args.assignment} has no due date: use --until, or set --due")
        if not 0 < args.days < 3650:
            raise CourseError(f"--days {args.days:g} is not a number of days from 0 to 3650")
        until = due + timedelta(days=args.days)
    else:
        until = parse_when(args.until, args.timezone)
    set_extension(course.db_url, args.assignment, args.student, until, args.reason, user())
    print(f"{args.student}: {args.assignment} due {show(until)} (course due date {show(due)})")
    for x in recompute(course, [args.assignment]):
        if x.student == args.student:
            print(f"  {x.describe()}")
    return EXIT_OK


def cmd_late(course: Course, args: argparse.Namespace) -> int:
    """``grader late``: recompute every late penalty and list the late submissions."""
    from autograder.pipeline.late import recompute

    for assignment in args.assignments:
        known_assignment(course, assignment)
    late = [x for x in recompute(course, args.assignments) if x.seconds_late > 0]
    for x in late:
        print(f"{x.student} {x.assignment}: {x.describe()}")
    print(f"{len(late)} late submission(s)")
    return EXIT_OK


def cmd_bundle(course: Course, args: argparse.Namespace) -> int:
    """``grader bundle``: write the students' package and search it for leaks."""
    from autograder.pipeline.bundle import bundle

    assignments = args.assignments or course.assignments()
    problems = bundle(course, assignments, Path(args.out))
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s): do not hand this bundle out")
        return EXIT_ATTENTION
    print(f"bundle of {len(assignments)} module(s) in {args.out}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
