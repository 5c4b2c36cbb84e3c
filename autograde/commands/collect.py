"""`autograde collect --org ORG --prefix ASSIGNMENT`: grade reports from GitHub -> CSV gradebook.

Exit codes: 0 every repository was collected (or triggered, with --regrade) and the CSV is
written; 1 the CSV is written but some repositories could not be collected now (listed;
rerun to resume, finished ones are skipped); 2 nothing done (no token, bad credentials,
unknown organization or template, unreadable roster, unwritable output).
Student flags (missing, expired, stale, tampered, ...) are data in the CSV, not errors.

With `--roster`, only repositories that belong to a rostered student are collected (or
triggered); the others are listed on stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from autograde.errors import EXIT_INCOMPLETE, EXIT_OK, UserError
from autograde.github_api import GitHubError
from autograde.instructor.collector import ARTIFACT, CollectOptions, Collector
from autograde.instructor.github_setup import (
    API_URL_HELP,
    ASSIGNMENT_ID_HELP,
    TOKEN_HELP,
    connect,
    failure,
    find_api_url,
    find_token,
)
from autograde.instructor.gradebook import flagged, write_gradebook
from autograde.instructor.progress import Display
from autograde.instructor.roster import load_roster


def _sleep(seconds: float) -> None:  # tests replace this to avoid real waits
    time.sleep(seconds)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--org", required=True, help="GitHub organization of the classroom")
    parser.add_argument(
        "--prefix",
        required=True,
        metavar="ASSIGNMENT",
        help="assignment prefix: student repositories are named <prefix>-<login>",
    )
    parser.add_argument("-o", "--output", metavar="CSV", help="gradebook to write (default: <prefix>-grades.csv)")
    parser.add_argument("--token", help=TOKEN_HELP)
    parser.add_argument(
        "--workflow",
        default="classroom.yml",
        help="grading workflow file name under .github/workflows (default: classroom.yml)",
    )
    parser.add_argument(
        "--template", metavar="OWNER/REPO", help="template repository to compare the grader's files with (tamper check)"
    )
    parser.add_argument(
        "--template-ref",
        metavar="REF",
        action="append",
        help="template branch, tag or commit students received (default: its default branch); repeat it for "
        "every version students may hold (each student is compared with the closest)",
    )
    parser.add_argument(
        "--roster",
        metavar="CSV",
        help="GitHub Classroom roster: only its students' repositories are collected (by login, "
        "Classroom's -1/-2 suffix, or github_id); adds identifiers and missing students",
    )
    parser.add_argument(
        "--reports-dir", metavar="DIR", help="keep the downloaded artifacts here (default: <output>.reports/)"
    )
    parser.add_argument("--state", metavar="FILE", help="resume file (default: <output>.state.json)")
    parser.add_argument("--restart", action="store_true", help="forget earlier progress and collect everything again")
    parser.add_argument(
        "--regrade",
        action="store_true",
        help="trigger the grading workflow (workflow_dispatch) on every assignment repository "
        "instead; "
        "run collect again once the runs have finished",
    )
    parser.add_argument(
        "--assignment-id",
        type=int,
        metavar="N",
        help=ASSIGNMENT_ID_HELP,
    )
    parser.add_argument("--artifact", default=ARTIFACT, help=f"artifact name (default: {ARTIFACT})")
    parser.add_argument("--api-url", help=API_URL_HELP)


def run(args: argparse.Namespace) -> int:
    api_url = find_api_url(args.api_url)
    token = find_token(args.token)
    output = args.output or f"{args.prefix}-grades.csv"
    state_path = Path(args.state or f"{output}.state.json")
    reports_dir = Path(args.reports_dir or f"{output}.reports")
    roster = load_roster(args.roster) if args.roster else None
    if args.restart and state_path.exists():
        state_path.unlink()
    client = connect(token, api_url, sleep=lambda s: _sleep(s))
    options = CollectOptions(
        org=args.org,
        prefix=args.prefix,
        workflow=args.workflow,
        template=args.template,
        template_refs=list(args.template_ref or []),
        artifact=args.artifact,
        reports_dir=reports_dir,
        state_path=state_path,
        roster=roster,
        assignment_id=args.assignment_id,
    )
    collector = Collector(client, options, Display(sys.stderr))
    try:
        if args.regrade:
            outcome = collector.regrade()
        else:
            outcome = collector.collect()
    except GitHubError as e:
        raise failure(e) from None
    except OSError as e:  # the resume file or a kept artifact: progress so far is in the resume file
        raise UserError(f"cannot write {e.filename or 'a file'}: {e.strerror or e}") from None
    finally:
        client.close()
    for repo, reason in outcome.failed:
        print(f"autograde: {repo}: {reason}", file=sys.stderr)
    if outcome.classroom_workflow:
        print(
            f"autograde: {len(outcome.classroom_workflow)} repositories run GitHub Classroom's own autograding "
            f"workflow instead of {args.workflow} (tests were added in the Classroom assignment's settings): "
            "remove those tests and restore the workflow, see docs/instructors.md (set up the assignment)",
            file=sys.stderr,
        )
    if args.regrade:
        print(
            f"autograde: regrade requested ({outcome.skipped} already triggered earlier, "
            f"{len(outcome.failed)} not triggered). Run the same collect "
            "without --regrade once the runs have finished.",
            file=sys.stderr,
        )
        return EXIT_INCOMPLETE if outcome.failed else EXIT_OK

    rows = write_gradebook(outcome.rows, output, prefix=args.prefix, roster=roster, matching=outcome.matching)
    print(
        f"autograde: {len(rows)} rows -> {output}; {flagged(rows)} flagged; {len(outcome.failed)} not collected"
        f"; {client.requests} API requests",
        file=sys.stderr,
    )
    if outcome.failed:
        print("autograde: rerun the same command to retry those; finished repositories are skipped", file=sys.stderr)
    return EXIT_INCOMPLETE if outcome.failed else EXIT_OK
