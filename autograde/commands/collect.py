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
import os
import sys
import time
import urllib.parse
from pathlib import Path

from autograde.errors import UserError
from autograde.instructor.collector import ARTIFACT, CollectOptions, Collector
from autograde.instructor.github_api import API_URL, GitHubClient, GitHubError, NotTheAPI
from autograde.instructor.gradebook import fill_missing_max, merge_roster, save_csv
from autograde.instructor.roster import RosterError, load_roster


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
    parser.add_argument(
        "--token",
        help="GitHub token (default: $GITHUB_TOKEN; prefer the variable, a command line is visible to other users)",
    )
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
    parser.add_argument("--artifact", default=ARTIFACT, help=f"artifact name (default: {ARTIFACT})")
    parser.add_argument(
        "--api-url",
        default=API_URL,
        help=f"GitHub API base URL (default: {API_URL}; GitHub Enterprise Server: https://HOST/api/v3)",
    )


def api_url_problem(url: str) -> str | None:
    """A clear message for an --api-url that cannot be a REST API base URL, else None."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"--api-url {url!r} is not a URL: use {API_URL}, or https://HOST/api/v3 for GitHub Enterprise Server"
    if parts.hostname.lower() in ("github.com", "www.github.com"):
        return f"--api-url {url!r} is GitHub's web site: the API is {API_URL} (the default)"
    return None


def run(args: argparse.Namespace) -> int:
    problem = api_url_problem(args.api_url)
    if problem:
        raise UserError(problem)
    token = args.token or os.environ.get("GITHUB_TOKEN") or None
    if not token:
        raise UserError("no token: set GITHUB_TOKEN (or pass --token)")
    output = args.output or f"{args.prefix}-grades.csv"
    state_path = Path(args.state or f"{output}.state.json")
    reports_dir = Path(args.reports_dir or f"{output}.reports")
    try:
        roster = load_roster(args.roster) if args.roster else None
    except RosterError as e:
        raise UserError(str(e)) from None
    if args.restart and state_path.exists():
        state_path.unlink()
    client = GitHubClient(token, args.api_url, sleep=lambda s: _sleep(s))
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
    )
    collector = Collector(client, options)
    try:
        if args.regrade:
            outcome = collector.regrade()
        else:
            outcome = collector.collect()
    except NotTheAPI as e:
        raise UserError(e.message) from None
    except GitHubError as e:
        what = {401: "bad credentials", 403: "not allowed", 404: "not found"}.get(e.status, "failed")
        raise UserError(f"{what}: {e}") from None
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
        return 1 if outcome.failed else 0

    rows = outcome.rows
    if roster is not None:
        rows = merge_roster(rows, roster, args.prefix, None, outcome.matching)
    fill_missing_max(rows)
    try:
        save_csv(rows, output, identifier=roster is not None)
    except OSError as e:
        raise UserError(f"cannot write {output}: {e.strerror or e}") from None
    flagged = sum(1 for r in rows if r.flags or r.tampered)
    print(
        f"autograde: {len(rows)} rows -> {output}; {flagged} flagged; {len(outcome.failed)} not collected"
        f"; {client.requests} API requests",
        file=sys.stderr,
    )
    if outcome.failed:
        print("autograde: rerun the same command to retry those; finished repositories are skipped", file=sys.stderr)
    return 1 if outcome.failed else 0
