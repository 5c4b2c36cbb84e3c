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

from autograde.errors import UserError
from autograde.instructor.gradebook import Row, assign_logins, fill_missing_max, merge_roster, rows_from_scan, save_csv
from autograde.instructor.reports import BadReport, scan_reports
from autograde.instructor.roster import RosterError, load_roster


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


def build_rows(
    reports_dir: str | Path, *, prefix: str | None = None, roster_path: str | None = None
) -> tuple[list[Row], list[BadReport], bool]:
    """Rows for a reports folder; (rows, bad reports, roster used). Raises RosterError."""
    roster = load_roster(roster_path) if roster_path else None
    scan = scan_reports(reports_dir)
    rows = rows_from_scan(scan)
    used_prefix = assign_logins(rows, prefix)
    if roster is not None:
        rows = merge_roster(rows, roster, used_prefix, None)
    fill_missing_max(rows)
    return rows, scan.bad, roster is not None


def run(args: argparse.Namespace) -> int:
    if not Path(args.reports_dir).is_dir():
        raise UserError(f"{args.reports_dir}: not a folder")
    try:
        rows, bad, with_roster = build_rows(args.reports_dir, prefix=args.prefix, roster_path=args.roster)
    except RosterError as e:
        raise UserError(str(e)) from None
    try:
        save_csv(rows, args.output, identifier=with_roster)
    except OSError as e:
        raise UserError(f"cannot write {args.output}: {e.strerror or e}") from None
    list_bad(bad)
    if not args.quiet:
        flagged = sum(1 for r in rows if r.flags or r.tampered)
        where = "stdout" if args.output == "-" else args.output
        print(f"autograde: {len(rows)} rows -> {where}; {flagged} flagged; {len(bad)} bad reports", file=sys.stderr)
    return 1 if bad else 0
