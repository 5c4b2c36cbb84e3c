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

from autograde.commands.grade import add_cap_arguments
from autograde.errors import EXIT_INCOMPLETE, EXIT_INTERRUPTED, EXIT_OK, UserError
from autograde.instructor.github_setup import API_URL_HELP, ASSIGNMENT_ID_HELP, TOKEN_HELP
from autograde.instructor.grade_all_policy import (
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
from autograde.instructor.identity import Identity
from autograde.instructor.workflow import annotate, run_outcomes

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
    out.add_argument(
        "--profile",
        action="store_true",
        help="also print where the grading time went: each phase's seconds, summed over the grades and per grade",
    )
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
    batch.add_argument(
        "--keep-images",
        action="store_true",
        help="keep the images the grades built (until a later grade needs the disk: see --min-free-disk)",
    )
    grade = parser.add_argument_group("passed to each `autograde grade`")
    grade.add_argument("--rubric", metavar="FILE", help="instructor's rubric override (YAML)")
    for name, default, helptext in (
        ("--build-timeout", 600, "per build"),
        ("--ready-timeout", 60, "for the app"),
        ("--request-timeout", 5, "per HTTP request"),
    ):
        grade.add_argument(name, type=float, default=default, metavar="S", help=f"{helptext} (default {default})")
    add_cap_arguments(grade)
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
    gh.add_argument(
        "--assignment-id",
        type=int,
        metavar="N",
        help=ASSIGNMENT_ID_HELP,
    )
    gh.add_argument("--clone-dir", metavar="DIR", help="where to clone (default: <prefix>-checkouts)")
    gh.add_argument(
        "--repos",
        metavar="FILE",
        help="grade only the repositories in FILE, one per line as --list prints them, or by name (a chunk of the class)",
    )
    gh.add_argument(
        "--list",
        action="store_true",
        help="print the assignment's repositories, one `name@id` per line (what --repos and --expect read), and stop",
    )
    gh.add_argument(
        "--allow-empty",
        action="store_true",
        help="accept a prefix that names no repository (default: that is an error, exit 2)",
    )
    gh.add_argument("--token", help=TOKEN_HELP)
    gh.add_argument("--api-url", help=API_URL_HELP)
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


def _late_setup(args: argparse.Namespace) -> None:
    """The late policy and extensions on args (args.late_policy, args.extensions_of, args.due_of,
    args.late_wanted). Raises UserError if they are wrong."""
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
    args.due_of = None
    args.late_wanted = bool(policy.active or args.extensions or args.late_grace)
    if not args.late_wanted:
        return  # as without a policy: the deadline picks the commit, a later push is flagged
    if not args.deadline:
        raise UserError("--late-penalty, --late-max-days, --late-grace and --extensions need --deadline")
    if args.late_grace < 0:
        raise UserError("--late-grace must be 0 or more minutes")
    try:
        default = parse_deadline(args.deadline)
    except DeadlineError as e:
        raise UserError(str(e)) from None
    if args.extensions:
        extensions = args.extensions_of = late.load_extensions(args.extensions, default)
    if policy.active:
        args.include_late = True  # a penalty is for the late push: grade it
    identifiers: dict[str, str] = {}
    if args.roster:
        from autograde.instructor.roster import load_roster

        identifiers = {e.login.lower(): e.identifier for e in load_roster(args.roster) if e.login}
    grace = policy.grace

    def due_of(login: str) -> datetime:  # the login of the repository's identity (identity.py)
        return extensions.deadline(default, login, identifiers.get(login.lower(), "")) + grace

    args.due_of = due_of


def _say(message: str) -> None:
    """A note or warning on stderr (failures are raised as UserError: `cli.main` says them)."""
    print(f"autograde: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    import os

    from autograde.checks import rubric_in_effect
    from autograde.rubric import RubricError

    try:
        rubric = rubric_in_effect(args.rubric, os.environ)  # the grades it starts read the same
    except RubricError as e:
        raise UserError(str(e)) from None
    reports = Path(args.reports_dir)
    output = args.output or (f"{args.prefix}-grades.csv" if args.org and args.prefix else "grades.csv")
    if not Path(output).resolve().parent.is_dir():
        raise UserError(f"-o {output}: the folder {Path(output).resolve().parent} does not exist")
    if args.roster:
        from autograde.instructor.roster import load_roster

        load_roster(args.roster)  # an unusable roster stops the command before anything is graded
    _late_setup(args)
    expected: dict[str, tuple[str, int | None]] = {}
    if args.expect:
        from autograde.instructor.chunks import expected as read_expected

        try:
            expected = read_expected(Path(args.expect).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            raise UserError(f"--expect {args.expect}: cannot read it ({getattr(e, 'strerror', None) or e})") from None
        except ValueError as e:
            raise UserError(f"--expect {args.expect}: {e}") from None
    entries: list[Entry] = []
    interrupted = False
    if not args.merge_only:
        if args.org:
            fetched = entries_from_github(args)
            if isinstance(fetched, int):
                return fetched
            entries = fetched
        elif args.dir:
            if getattr(args, "assignment_id", None) is not None:
                raise UserError("--assignment-id is for --org (grading from GitHub), not for a folder of checkouts")
            if not Path(args.dir).is_dir():
                raise UserError(f"{args.dir} is not a folder")
            entries = discover(Path(args.dir))
            if args.repos:
                wanted = _names(args.repos)
                entries = [e for e in entries if e.name.lower() in wanted]
        else:
            raise UserError("give a folder of checkouts (DIR), or --org, --prefix and --deadline, or --merge-only")
        try:
            reports.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UserError(f"--reports-dir {reports}: {e.strerror or e}") from None
        interrupted = not _grade(entries, reports, rubric, args)
    elif not reports.is_dir():
        raise UserError(f"--reports-dir {reports}: not a folder")
    return _finish(entries, reports, rubric, args, output, interrupted, expected)


def entries_from_github(args: argparse.Namespace) -> list[Entry] | int:
    """grade-all's GitHub stage (--org): the entries to grade, cloned at the deadline; or the exit
    code when the command ends here (--list printed the names; an error was said on stderr)."""
    try:
        return _from_github(args)
    except UserError as e:
        _say(str(e))
        return e.exit_code


def _from_github(args: argparse.Namespace) -> list[Entry] | int:
    from autograde.instructor import deadline
    from autograde.instructor.github_setup import connect, find_git_url, find_token

    if not args.prefix:
        raise UserError("--org needs --prefix (the assignment's repository prefix)")
    # checked first, also with --list: the class workflow's list job fails once, not every chunk
    at = deadline.parse_deadline(args.deadline) if args.deadline else None
    token = find_token(args.token)
    # on GitHub Actions (also GitHub Enterprise Server) the runner names its API and git hosts
    client = connect(token, args.api_url)
    try:
        # a chunk: the identities the list job decided for the whole class; no listing again
        given = _identities(args.repos, args.prefix) if args.repos else []
        classroom = getattr(args, "assignment_id", None)
        assignment = deadline.find_assignment(
            client, args.org, args.prefix, given, listing=args.list, assignment_id=classroom
        )
        if not given and not assignment.identities and not args.allow_empty:
            message = (
                deadline.no_match(args.org, args.prefix, assignment.listed or [])
                if classroom is None
                else f"GitHub Classroom assignment {classroom} has no accepted assignment with a repository yet; "
                "--allow-empty accepts an empty class"
            )
            annotate("No repository for this prefix", message)
            raise UserError(message)
        if args.list:  # name@id, one per line: what the chunks and the merge read back
            for identity in assignment.identities:
                print(identity.token())
            return EXIT_OK
        if at is None:
            raise UserError("--org needs --deadline (e.g. 2026-12-01T23:59:00Z)")
        what = (
            f"{len(given)} repositories of {args.org} given by --repos"
            if given
            else (
                f"{len(assignment.identities)} repositories of {args.org} named {args.prefix}-*"
                if classroom is None
                else f"{len(assignment.identities)} repositories of GitHub Classroom assignment {classroom}"
            )
        )
        _say(f"{what}; deadline {at.isoformat()}; cloning at the last push before it")
        entries = deadline.entries_at_deadline(
            client,
            args.org,
            assignment,
            at,
            include_late=args.include_late,
            clone_dir=Path(args.clone_dir or f"{args.prefix}-checkouts"),
            reports=Path(args.reports_dir),
            token=token,
            git_url=find_git_url(getattr(args, "git_url", None)),
            due_of=getattr(args, "due_of", None),
        )
    finally:
        client.close()
    for e in entries:
        if e.kind == "gone":  # never dropped: an `error` row says so, and the run says it now
            _say(e.note)
            annotate("Repository gone", e.note, level="warning")
    return entries


def _lines(path: str) -> list[tuple[int, str]]:
    """The non-empty lines of a --repos file with their numbers. Raises UserError when it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"--repos {path}: cannot read it ({getattr(e, 'strerror', None) or e})") from None
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def _identities(path: str, prefix: str | None) -> list[Identity]:
    """The repositories a --repos file names (`name@id` as `--list` prints them, `name`, or `owner/name`),
    each once. Raises UserError when it cannot be read or a line is not a repository name."""
    from autograde.instructor.identity import parse

    out: dict[str, Identity] = {}
    for number, line in _lines(path):
        try:
            identity = parse(line, prefix)
        except ValueError as e:
            raise UserError(f"--repos {path}:{number}: {e}") from None
        out.setdefault(identity.name.lower(), identity)
    return list(out.values())


def _names(path: str) -> set[str]:
    """Lower-case folder names a --repos file names (for DIR: `owner/` and an `@id` are ignored)."""
    import re

    return {re.sub(r"@[0-9]+$", "", line.rsplit("/", 1)[-1]).lower() for _, line in _lines(path)}


def _grade(entries: list[Entry], reports: Path, rubric: object, args: argparse.Namespace) -> bool:
    from autograde.instructor.grade_all_runner import Batch, BatchOptions
    from autograde.instructor.progress import Progress

    if args.restart:
        from autograde.instructor.grade_all_policy import META_DIR

        for e in entries:
            (reports / META_DIR / f"{e.name}.json").unlink(missing_ok=True)
    todo = [e for e in entries if not complete(reports, e.name, e.commit)]
    skipped = len(entries) - len(todo)
    cores, memory = machine()
    jobs, why = (args.jobs, "--jobs") if args.jobs else default_jobs(cores, memory)
    _say(
        f"{len(entries)} repositories, {skipped} already graded (resumed), {len(todo)} to grade; {jobs} at once ({why})"
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
        "--build-memory",
        args.build_memory,
        "--build-pids",
        str(args.build_pids),
        "--build-cpus",
        f"{args.build_cpus:g}",
        "--min-free-disk",
        args.min_free_disk,
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
    started = time.monotonic()
    with Progress(len(todo), "grading") as progress:
        batch = Batch(options, on_done=lambda meta: progress.step(meta.name, _describe(meta, reports)))
        finished = batch.run(list(todo))
    for problem in batch.leftovers:
        _say(f"could not remove {problem}")
    took = time.monotonic() - started
    if not finished:
        _say(
            f"interrupted after {took:.0f} s: every grade in progress was stopped and its containers, networks "
            "and images removed. Run the same command again to resume."
        )
    else:
        _say(f"graded {len(todo)} in {took:.0f} s")
    return finished


def _describe(meta: Meta, reports: Path) -> str:
    import json

    from autograde.instructor.grade_all_policy import report_paths

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
    from autograde.instructor.gradebook import flagged, rows_from_scan, write_gradebook
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
            _say(f"--run-id {args.run_id}: {why}; the gradebook says less about the chunks that left no report")
    unreported = _unreported(rows, metas, expected or {}, args.org, rubric.possible, outcomes)  # type: ignore[attr-defined]
    rows += unreported
    late_rows = None
    if getattr(args, "late_wanted", False):  # each student's deadline, lateness, the penalty
        from autograde.instructor import late
        from autograde.instructor.deadline import parse_deadline

        due, policy, extensions = parse_deadline(args.deadline), args.late_policy, args.extensions_of

        def late_rows(rows: list[Row]) -> None:
            late.apply(rows, due, policy, extensions)

    rows = write_gradebook(
        rows,
        output,
        prefix=args.prefix,
        roster=load_roster(args.roster) if args.roster else None,
        max_score=rubric.possible,  # type: ignore[attr-defined]
        pushed=any(r.pushed_at for r in rows) or bool(args.org),
        adjust=late_rows,
    )
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
            raise UserError(f"cannot write {args.summary}: {e.strerror or e}") from None
    print(f"autograde: {len(rows)} rows -> {output}; {flagged(rows)} flagged; reports in {reports}", file=sys.stderr)
    if getattr(args, "profile", False):
        from autograde.instructor.grade_all_policy import phase_profile

        print("phase profile (seconds: summed over the grades, mean per grade; phases of a grade overlap):")
        for phase, total, mean, n in phase_profile(Path(reports)):
            print(f"  {phase:<16} {total:9.1f} {mean:8.2f}  ({n} grades)")
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
        _say(f"gradebook incomplete: {message}")
        annotate("Gradebook incomplete", message)
        return EXIT_INCOMPLETE
    if retry:
        message = (
            f"{len(retry)} repositories could not be graded now ({', '.join(sorted(m.name for m in retry)[:10])}); "
            + (
                "grade them again (in the class workflow: Re-run failed jobs), then merge again"
                if args.merge_only
                else "run the same command again to retry them"
            )
        )
        _say(message)
        annotate("Gradebook incomplete", message)
        return EXIT_INCOMPLETE
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
