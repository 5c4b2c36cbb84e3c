"""`autograde grade-all DIR`: grade every checkout under DIR from source, N at once, into a gradebook.

DIR holds one folder per student repository, named like it. Each is graded by this installation's
`autograde grade` (never by the grader copy in the student's repository), with a JSON and a JUnit
report per repository in --reports-dir, then the same CSV gradebook as `export` (plus the push
time when known) and a class summary. A rerun of the same command resumes: repositories whose
reports are complete are not graded again (--restart grades everything again).

With --org/--prefix/--deadline instead of DIR, the assignment's repositories are first cloned at
the last commit pushed before the deadline (see autograde/instructor/deadline.py).

With --merge-only nothing is graded: the gradebook is written from the reports in --reports-dir;
--expect names the repositories that must have a row (the class workflow's chunks), and one
without a report gets an `error` row naming its chunk.

Exit codes: 0 every repository has a row from a finished grading (student flags such as
no-lab-files, late, timeout or tampered are data); 1 some could not be graded now (grader error,
clone failure: rerun to retry them; an expected repository without a report); 2 nothing done
(usage, unreadable roster, unwritable output, a prefix that names no repository without
--allow-empty); 130 interrupted (rerun the same command to resume).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from autograde.instructor.classbatch import (
    Entry,
    Meta,
    all_meta,
    apply_meta,
    complete,
    default_jobs,
    discover,
    machine,
    summarize,
)
from autograde.instructor.gradebook import Row
from autograde.instructor.workflow import annotate, run_outcomes

EXIT_OK, EXIT_SOME, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130
RETRYABLE = {"failed", "clone-failed", "interrupted"}  # graded again by a rerun


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", metavar="DIR", help="folder with one checkout per student repository")
    out = parser.add_argument_group("output")
    out.add_argument(
        "--reports-dir",
        default="grade-all-reports",
        metavar="DIR",
        help="one <repository>.json and .xml report each (default: grade-all-reports)",
    )
    out.add_argument(
        "-o",
        "--output",
        metavar="CSV",
        help="gradebook to write (default: grades.csv, or <prefix>-grades.csv with --org)",
    )
    out.add_argument("--summary", metavar="FILE", help="also write the class summary as Markdown (Mermaid chart)")
    out.add_argument("--roster", metavar="CSV", help="GitHub Classroom roster: adds identifiers and missing students")
    out.add_argument(
        "--prefix",
        metavar="ASSIGNMENT",
        help="repository name prefix; logins are taken from <prefix>-<login> (default: inferred)",
    )
    out.add_argument(
        "--merge-only",
        action="store_true",
        help="grade nothing: write the gradebook and summary from the reports already in --reports-dir",
    )
    out.add_argument(
        "--expect",
        metavar="FILE",
        help="repositories that must have a row (names one per line, or the class workflow's JSON list of "
        "chunks); one with no report gets an `error` row naming its chunk, and the exit code is 1",
    )
    out.add_argument(
        "--run-id",
        metavar="ID",
        help="with --expect in the class workflow: this run ($GITHUB_RUN_ID), whose `Grade chunk <n>` jobs "
        "(read with $GITHUB_REPOSITORY and $GITHUB_TOKEN) say why a chunk left no report",
    )
    batch = parser.add_argument_group("batch")
    batch.add_argument(
        "--jobs",
        "-j",
        type=_positive,
        metavar="N",
        help="grades at once (default: 2 per core as memory allows, 1.5 GiB each, at most 8)",
    )
    batch.add_argument(
        "--timeout",
        type=float,
        default=1200,
        metavar="S",
        help="wall-clock limit per repository; past it the grade is stopped and flagged (default 1200)",
    )
    batch.add_argument("--restart", action="store_true", help="grade everything again, ignoring earlier reports")
    batch.add_argument(
        "--no-shared-dev", action="store_true", help="build the dev image in every grade, even for identical dev files"
    )
    batch.add_argument("--keep-images", action="store_true", help="keep the images the grades built")
    grade = parser.add_argument_group("passed to each `autograde grade`")
    grade.add_argument("--rubric", metavar="FILE", help="instructor's rubric override (YAML)")
    for name, default, helptext in (
        ("--build-timeout", 600, "per build"),
        ("--ready-timeout", 60, "for the app"),
        ("--request-timeout", 5, "per HTTP request"),
    ):
        grade.add_argument(name, type=float, default=default, metavar="S", help=f"{helptext} (default {default})")
    grade.add_argument("--memory", default="512m", help="memory cap per container (default 512m)")
    grade.add_argument("--pids", type=int, default=256, help="process cap per container (default 256)")
    grade.add_argument("--cpus", type=float, default=1.0, help="CPU cap per container (default 1.0)")
    gh = parser.add_argument_group("from GitHub at a deadline (instead of DIR)")
    gh.add_argument("--org", help="GitHub organization of the classroom")
    gh.add_argument("--deadline", metavar="TIME", help="ISO 8601 time, e.g. 2026-12-01T23:59:00Z")
    gh.add_argument(
        "--include-late",
        action="store_true",
        help="grade the last push even when it came after the deadline (still flagged late)",
    )
    late = parser.add_argument_group("late policy (with --deadline; lateness from the push time GitHub recorded)")
    late.add_argument(
        "--late-penalty",
        type=_percent,
        metavar="PERCENT",
        help="take PERCENT of the points earned per started day (24 h) late; implies --include-late",
    )
    late.add_argument(
        "--late-max-days",
        type=_days,
        metavar="N",
        help="a push more than N started days late scores 0; implies --include-late",
    )
    late.add_argument(
        "--late-grace",
        type=float,
        default=0,
        metavar="MINUTES",
        help="pushes up to MINUTES after a student's deadline are on time (default 0)",
    )
    late.add_argument(
        "--extensions",
        metavar="CSV",
        help="per-student deadlines: columns `login` or `identifier` (roster), and `deadline` or `extra_hours`",
    )
    gh.add_argument("--clone-dir", metavar="DIR", help="where to clone (default: <prefix>-checkouts)")
    gh.add_argument(
        "--repos", metavar="FILE", help="grade only the repositories named in FILE, one per line (a chunk of the class)"
    )
    gh.add_argument(
        "--list", action="store_true", help="print the assignment's repository names, one per line, and stop"
    )
    gh.add_argument(
        "--allow-empty",
        action="store_true",
        help="accept a prefix that names no repository (default: that is an error, exit 2)",
    )
    gh.add_argument("--token", help="GitHub token (default: $GITHUB_TOKEN; prefer the variable)")
    gh.add_argument(
        "--api-url", default=None, help="GitHub API base URL (default: $GITHUB_API_URL, else https://api.github.com)"
    )
    gh.add_argument(
        "--git-url", default=None, help="git host to clone from (default: $GITHUB_SERVER_URL, else https://github.com)"
    )


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("must be between 0 and 100")
    return value


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _late_setup(args: argparse.Namespace) -> int | None:
    """The late policy and extensions on args (args.late_policy, args.extensions_of, args.deadline_of);
    an exit code after a message if they are wrong."""
    from datetime import datetime, timedelta

    from autograde.errors import UserError
    from autograde.instructor import late
    from autograde.instructor.deadline import DeadlineError, parse_deadline

    policy = late.LatePolicy(
        percent_per_day=args.late_penalty or 0.0,
        max_days=args.late_max_days,
        grace=timedelta(minutes=max(args.late_grace, 0)),
    )
    args.late_policy = policy
    extensions: late.Extensions = late.NO_EXTENSIONS
    args.extensions_of = extensions
    args.deadline_of = None
    args.late_wanted = bool(policy.active or args.extensions or args.late_grace)
    if not args.late_wanted:
        return None  # as without a policy: the deadline picks the commit, a later push is flagged
    if not args.deadline:
        _err("--late-penalty, --late-max-days, --late-grace and --extensions need --deadline")
        return EXIT_ERROR
    if args.late_grace < 0:
        _err("--late-grace must be 0 or more minutes")
        return EXIT_ERROR
    try:
        default = parse_deadline(args.deadline)
        if args.extensions:
            extensions = args.extensions_of = late.load_extensions(args.extensions, default)
    except DeadlineError as e:
        _err(str(e))
        return EXIT_ERROR
    except UserError as e:
        _err(str(e))
        return EXIT_ERROR
    if policy.active:
        args.include_late = True  # a penalty is for the late push: grade it
    identifiers: dict[str, str] = {}
    if args.roster:
        from autograde.instructor.roster import load_roster

        identifiers = {e.login.lower(): e.identifier for e in load_roster(args.roster) if e.login}
    grace = policy.grace

    def deadline_of(login: str) -> datetime:
        return extensions.deadline(default, login, identifiers.get(login.lower(), "")) + grace

    args.deadline_of = deadline_of
    return None


def _err(message: str) -> None:
    print(f"autograde: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    import os

    from autograde.checks import rubric_in_effect
    from autograde.rubric import RubricError

    try:
        rubric = rubric_in_effect(args.rubric, os.environ)  # the grades it starts read the same
    except RubricError as e:
        _err(str(e))
        return EXIT_ERROR
    reports = Path(args.reports_dir)
    output = args.output or (f"{args.prefix}-grades.csv" if args.org and args.prefix else "grades.csv")
    if not Path(output).resolve().parent.is_dir():
        _err(f"-o {output}: the folder {Path(output).resolve().parent} does not exist")
        return EXIT_ERROR
    if args.roster:
        from autograde.instructor.roster import RosterError, load_roster

        try:
            load_roster(args.roster)
        except RosterError as e:
            _err(str(e))
            return EXIT_ERROR
    failed = _late_setup(args)
    if failed is not None:
        return failed
    expected: dict[str, tuple[str, int | None]] = {}
    if args.expect:
        from autograde.instructor.chunks import expected as read_expected

        try:
            expected = read_expected(Path(args.expect).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            _err(f"--expect {args.expect}: cannot read it ({getattr(e, 'strerror', None) or e})")
            return EXIT_ERROR
        except ValueError as e:
            _err(f"--expect {args.expect}: {e}")
            return EXIT_ERROR
    entries: list[Entry] = []
    interrupted = False
    if not args.merge_only:
        if args.org:
            from autograde.instructor import deadline

            fetched = deadline.entries_from_github(args)
            if isinstance(fetched, int):
                return fetched
            entries = fetched
        elif args.dir:
            if not Path(args.dir).is_dir():
                _err(f"{args.dir} is not a folder")
                return EXIT_ERROR
            entries = discover(Path(args.dir))
            if args.repos:
                wanted = _names(args.repos)
                entries = [e for e in entries if e.name.lower() in wanted]
        else:
            _err("give a folder of checkouts (DIR), or --org, --prefix and --deadline, or --merge-only")
            return EXIT_ERROR
        try:
            reports.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            _err(f"--reports-dir {reports}: {e.strerror or e}")
            return EXIT_ERROR
        interrupted = not _grade(entries, reports, rubric, args)
    elif not reports.is_dir():
        _err(f"--reports-dir {reports}: not a folder")
        return EXIT_ERROR
    return _finish(entries, reports, rubric, args, output, interrupted, expected)


def _names(path: str) -> set[str]:
    text = Path(path).read_text(encoding="utf-8")
    return {line.strip().rsplit("/", 1)[-1].lower() for line in text.splitlines() if line.strip()}


def _grade(entries: list[Entry], reports: Path, rubric: object, args: argparse.Namespace) -> bool:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from autograde.instructor.batch import Batch, BatchOptions

    if args.restart:
        from autograde.instructor.classbatch import META_DIR

        for e in entries:
            (reports / META_DIR / f"{e.name}.json").unlink(missing_ok=True)
    todo = [e for e in entries if not complete(reports, e.name, e.commit)]
    skipped = len(entries) - len(todo)
    cores, memory = machine()
    jobs, why = (args.jobs, "--jobs") if args.jobs else default_jobs(cores, memory)
    console = Console(stderr=True, soft_wrap=True)
    console.print(
        f"autograde: {len(entries)} repositories, {skipped} already graded (resumed), "
        f"{len(todo)} to grade; {jobs} at once ({why})",
        highlight=False,
    )
    grade_args = [
        "--build-timeout",
        f"{args.build_timeout:g}",
        "--ready-timeout",
        f"{args.ready_timeout:g}",
        "--request-timeout",
        f"{args.request_timeout:g}",
        "--memory",
        args.memory,
        "--pids",
        str(args.pids),
        "--cpus",
        f"{args.cpus:g}",
    ]
    if args.rubric:
        grade_args += ["--rubric", str(Path(args.rubric).resolve())]
    if args.keep_images:
        grade_args.append("--keep-images")
    options = BatchOptions(
        reports=reports.resolve(),
        jobs=jobs,
        timeout=args.timeout,
        grade_args=grade_args,
        build_timeout=args.build_timeout,
        share_dev=not args.no_shared_dev,
        keep_images=args.keep_images,
    )
    progress = Progress(
        TextColumn("grading"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("elapsed"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=console,
    )
    task = progress.add_task("grading", total=len(todo))
    started = time.monotonic()

    def done(meta: Meta) -> None:
        progress.advance(task)
        completed = int(progress.tasks[0].completed)
        what = _describe(meta, reports)
        progress.console.print(f"[{completed}/{len(todo)}] {meta.name}: {what}", highlight=False, markup=False)

    with progress:
        batch = Batch(options, on_done=done)
        finished = batch.run(list(todo))
    for problem in batch.leftovers:
        _err(f"could not remove {problem}")
    took = time.monotonic() - started
    if not finished:
        _err(
            f"interrupted after {took:.0f} s: every grade in progress was stopped and its containers, networks "
            "and images removed. Run the same command again to resume."
        )
    else:
        console.print(f"autograde: graded {len(todo)} in {took:.0f} s", highlight=False)
    return finished


def _describe(meta: Meta, reports: Path) -> str:
    import json

    from autograde.instructor.classbatch import report_paths

    flags = ", ".join(meta.flags)
    if meta.status == "graded":
        try:
            doc = json.loads(report_paths(reports, meta.name)[0].read_text(encoding="utf-8"))
            score = f"{doc.get('score')}/{doc.get('max_score')}"
            if doc.get("modified_files"):
                flags = ", ".join(filter(None, [flags, "tampered"]))
            if doc.get("error"):
                flags = ", ".join(filter(None, [flags, "error"]))
        except (OSError, ValueError):
            score = "?"
        extra = "; shared dev image" if meta.shared_dev else ""
        return f"{score}{' [' + flags + ']' if flags else ''} ({meta.seconds:.0f} s{extra})"
    return f"{meta.status}{' [' + flags + ']' if flags else ''}{': ' + meta.notes[-1] if meta.notes else ''}"


def _finish(
    entries: list[Entry],
    reports: Path,
    rubric: object,
    args: argparse.Namespace,
    output: str,
    interrupted: bool,
    expected: dict[str, tuple[str, int | None]] | None = None,
) -> int:
    from autograde.instructor.gradebook import assign_logins, fill_missing_max, merge_roster, rows_from_scan, save_csv
    from autograde.instructor.reports import scan_reports
    from autograde.instructor.roster import load_roster

    metas = all_meta(reports)
    if entries:  # a chunk or a subset: the gradebook covers what this run was asked to grade
        names = {e.name.lower() for e in entries}
        metas = [m for m in metas if m.name.lower() in names]
    scan = scan_reports(reports)
    rows = rows_from_scan(scan)
    if entries:
        rows = [r for r in rows if r.name.lower() in names]
    rows = apply_meta(rows, metas, rubric.possible)  # type: ignore[attr-defined]
    outcomes: dict[int, str] = {}
    if args.run_id and expected and not _covered(rows, metas) >= set(expected):
        outcomes, why = run_outcomes(args.run_id, args.api_url)
        if why:
            _err(f"--run-id {args.run_id}: {why}; the gradebook says less about the chunks that left no report")
    unreported = _unreported(rows, metas, expected or {}, args.org, rubric.possible, outcomes)  # type: ignore[attr-defined]
    rows += unreported
    prefix = assign_logins(rows, args.prefix)
    if args.roster:
        rows = merge_roster(rows, load_roster(args.roster), prefix, rubric.possible)  # type: ignore[attr-defined]
    fill_missing_max(rows)
    if getattr(args, "late_wanted", False):  # each student's deadline, lateness, the penalty
        from autograde.instructor import late
        from autograde.instructor.deadline import parse_deadline

        late.apply(rows, parse_deadline(args.deadline), args.late_policy, args.extensions_of)
    try:
        save_csv(rows, output, identifier=bool(args.roster), pushed=any(r.pushed_at for r in rows) or bool(args.org))
    except OSError as e:
        _err(f"cannot write {output}: {e.strerror or e}")
        return EXIT_ERROR
    retry = [m for m in metas if m.status in RETRYABLE]
    where = {lower: c for lower, (_, c) in (expected or {}).items()}
    incomplete = [
        f"{r.name}: no report"
        + (f" from chunk {where[r.name.lower()]}" if where.get(r.name.lower()) is not None else "")
        for r in unreported
    ]
    incomplete += [f"{m.name}: {m.status}" for m in sorted(retry, key=lambda m: m.name.lower())]
    summary = summarize(rows, rubric, incomplete)  # type: ignore[arg-type]
    print(summary.text())
    if args.summary:
        try:
            Path(args.summary).write_text(summary.markdown(), encoding="utf-8")
        except OSError as e:
            _err(f"cannot write {args.summary}: {e.strerror or e}")
            return EXIT_ERROR
    flagged = sum(1 for r in rows if r.flags or r.tampered)
    print(f"autograde: {len(rows)} rows -> {output}; {flagged} flagged; reports in {reports}", file=sys.stderr)
    if interrupted:
        return EXIT_INTERRUPTED
    if unreported:
        chunks = sorted({c for r in unreported if (c := where.get(r.name.lower())) is not None})
        from_chunks = f" (chunk{'s' if len(chunks) > 1 else ''} {', '.join(map(str, chunks))})" if chunks else ""
        message = (
            f"{len(incomplete)} of {sum(1 for r in rows if r.repository)} rows have no grade yet; "
            f"{len(unreported)} repositories have no report{from_chunks}: "
            f"{', '.join(r.name for r in unreported[:10])}{' ...' if len(unreported) > 10 else ''}. Their rows are "
            "flagged `error`. Grade them again (in the class workflow: Re-run failed jobs), then merge again"
        )
        _err(f"gradebook incomplete: {message}")
        annotate("Gradebook incomplete", message)
        return EXIT_SOME
    if retry:
        message = (
            f"{len(retry)} repositories could not be graded now ({', '.join(sorted(m.name for m in retry)[:10])}); "
            + (
                "grade them again (in the class workflow: Re-run failed jobs), then merge again"
                if args.merge_only
                else "run the same command again to retry them"
            )
        )
        _err(message)
        annotate("Gradebook incomplete", message)
        return EXIT_SOME
    return EXIT_OK


def _covered(rows: list[Row], metas: list[Meta]) -> set[str]:
    """Lower-case names of the repositories that have a report or a record of grade-all."""
    have = {r.name.lower() for r in rows} | {m.name.lower() for m in metas}
    return have | {m.repository.rsplit("/", 1)[-1].lower() for m in metas if m.repository}


def _unreported(
    rows: list[Row],
    metas: list[Meta],
    expected: dict[str, tuple[str, int | None]],
    org: str | None,
    top: int,
    outcomes: dict[int, str] | None = None,
) -> list[Row]:
    """An `error` row for each expected repository with neither a report nor a record of grade-all."""
    have = _covered(rows, metas)
    out = []
    for lower, (name, chunk) in sorted(expected.items()):
        if lower in have:
            continue
        row = Row(repository=f"{org}/{name}" if org else name, max=top, flags={"error"})
        if chunk is None:
            why = "no report from its grading"
        elif chunk in (outcomes or {}):
            why = f"no report from chunk {chunk}: its job `Grade chunk {chunk}` ended {(outcomes or {})[chunk]}"
        else:
            why = (
                f"no report from chunk {chunk} (job `Grade chunk {chunk}`): that job failed, timed out or was "
                "cancelled before uploading one"
            )
        row.notes.append(f"not graded yet - {why}; grade it again (Re-run failed jobs), then merge again")
        out.append(row)
    return out
