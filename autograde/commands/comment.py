"""`autograde comment --json REPORT`: the grade as a comment on the pushed branch's open pull request.

Run in GitHub Actions after `autograde grade --json REPORT` (GITHUB_TOKEN, GITHUB_REPOSITORY and the
branch come from the environment). It never fails the run: a token that may not write pull requests
(403), no open pull request, or GitHub being unreachable is said in the log and the exit status is 0.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from autograde.errors import EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="FILE", required=True, help="the JSON report `autograde grade` wrote")


def run(args: argparse.Namespace) -> int:
    from autograde.report import github, pr_comment
    from autograde.results import GradingResults

    try:
        with open(args.json, encoding="utf-8") as f:
            results = GradingResults.from_dict(json.load(f))
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"autograde comment: no pull request comment: cannot read {args.json} ({e})", file=sys.stderr)
        return EXIT_OK
    outcome = pr_comment.post(results, os.environ)
    # the note may quote GitHub's message: printed so that no part of it can act as a workflow command
    print(github.neutralize(f"autograde comment: {outcome.note}" + (f" ({outcome.url})" if outcome.url else "")))
    return EXIT_OK
