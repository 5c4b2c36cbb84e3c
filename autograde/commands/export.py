"""`autograde export REPORTS_DIR -o grades.csv`: a folder of grade reports -> CSV gradebook.

Exit codes: 0 the CSV is written and every report was readable; 1 the CSV is written but
some reports were bad (each listed on stderr with its reason); 2 nothing written (no such
folder, unreadable roster, unwritable output). Student flags (missing, tampered, ...) are
data in the CSV and do not change the exit code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograde.errors import EXIT_INCOMPLETE, EXIT_OK, UserError
from autograde.instructor.gradebook import flagged, rows_from_scan, write_gradebook
from autograde.instructor.reports import BadReport, scan_reports
from autograde.instructor.roster import load_roster


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "reports_dir",
        metavar="REPORTS_DIR",
        help="folder of reports: one folder (or .zip artifact) per student repository",
    )
    parser.add_argument("-o", "--output", default="-", metavar="CSV", help="gradebook to write (default: stdout)")
    parser.add_argument(
        "--roster",
        metavar="CSV",
        help="GitHub Classroom roster (identifier, github_username): adds identifiers and "
        "rows for students who submitted nothing",
    )
    parser.add_argument(
        "--prefix",
        metavar="ASSIGNMENT",
        help="repository name prefix; logins are taken from <prefix>-<login> (default: inferred)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="list bad reports only, no summary")


def list_bad(bad: list[BadReport]) -> None:
    for b in bad:
        print(f"autograde: bad report {b.path}: {b.reason}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    if not Path(args.reports_dir).is_dir():
        raise UserError(f"{args.reports_dir}: not a folder")
    roster = load_roster(args.roster) if args.roster else None
    scan = scan_reports(args.reports_dir)
    rows = write_gradebook(rows_from_scan(scan), args.output, prefix=args.prefix, roster=roster)
    list_bad(scan.bad)
    if not args.quiet:
        where = "stdout" if args.output == "-" else args.output
        print(
            f"autograde: {len(rows)} rows -> {where}; {flagged(rows)} flagged; {len(scan.bad)} bad reports",
            file=sys.stderr,
        )
    return EXIT_INCOMPLETE if scan.bad else EXIT_OK
