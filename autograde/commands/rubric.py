from __future__ import annotations

import argparse
import json
import sys

from autograde.rubric import RubricError, load_rubric


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rubric", metavar="FILE", help="instructor's rubric override (YAML)")
    parser.add_argument("--json", action="store_true", help="print as JSON")


def run(args: argparse.Namespace) -> int:
    try:
        rubric = load_rubric(args.rubric)
    except RubricError as e:
        print(f"autograde: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(rubric.to_dict(), indent=2))
        return 0
    print(f"Rubric ({rubric.source}), {rubric.possible} points")
    print(f"{'id':<26} {'pts':>3}  {'item':<4}  passes when")
    for item in rubric.items:
        print(f"{item.id:<26} {item.points:>3}  {item.checklist:<4}  {rubric.passes_when(item)}")
    for key, value in rubric.thresholds.items():
        print(f"threshold {key} = {value:g}")
    return 0
