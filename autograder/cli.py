"""The ``grader`` command: release, collect, grade, feedback, export, roster, bundle, demo.

Exit status: 0 when all went well, 1 when something needs the instructor's attention (a
rejected, failed, timed-out or flagged submission, a release problem), 2 on a usage or
course error (told in one line).
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
        course = load_course(args.course_dir, args.db)
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
    collect.set_defaults(handler=cmd_collect, uses_db=False)

    grade = commands.add_parser("grade", parents=[common], help="autograde submissions")
    grade.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    grade.add_argument("--student", action="append", default=[], help="repeat for several")
    grade.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    grade.add_argument("--timeout", type=int, help="seconds per cell (default: the config's)")
    grade.add_argument("--student-timeout", type=float, default=300.0, help="seconds per student")
    grade.add_argument("--kernel", help="kernelspec to run submissions in (e.g. a sandbox)")
    grade.add_argument(
        "--sandbox",
        choices=("auto", "require", "off"),
        default="auto",
        help="run kernels under bubblewrap: auto (if it works, else warn), require, off",
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
    export.set_defaults(handler=cmd_export, uses_db=True)

    roster = commands.add_parser(
        "roster", parents=[common], help="import students (CSV: id, first name, last name, email)"
    )
    roster.add_argument("csv", help="the class list as CSV, with a header row")
    roster.set_defaults(handler=cmd_roster, uses_db=True)

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

    if args.exchange == bool(args.path) or (args.exchange and args.pattern):
        raise CourseError("collect takes a folder or zip (and --pattern), or --exchange")
    if args.exchange:
        report = collect_exchange(course, args.assignment)
    else:
        report = collect(course, Path(args.path), args.assignment, args.pattern or DEFAULT_PATTERN)
    print(report.render())
    return EXIT_OK


def cmd_grade(course: Course, args: argparse.Namespace) -> int:
    """``grader grade``: grade in parallel and print the summary table."""
    from autograder.pipeline.grade import GradeOptions, grade, summary_table
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
    )
    results = grade(course, args.assignments, args.student, options)
    if not results:
        print("no submissions to grade")
        return EXIT_OK
    print(summary_table(results))
    attention = [r for r in results if r.needs_attention]
    print(f"{len(results)} submission(s); {len(attention)} need(s) attention")
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
    csv_path, report_path = export(course, folder)
    print(f"wrote {csv_path} and {report_path}")
    return EXIT_OK


def cmd_roster(course: Course, args: argparse.Namespace) -> int:
    """``grader roster``: create or update the students of a class list in the gradebook."""
    from autograder.intake.roster import import_roster

    report = import_roster(course, Path(args.csv).read_bytes())
    print(report.render())
    return EXIT_ATTENTION if report.skipped else EXIT_OK


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
