from __future__ import annotations

import argparse
import json

from autograde.errors import EXIT_OK, UserError
from autograde.rubric import RubricError, load_rubric


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rubric", metavar="FILE", help="instructor's rubric override (YAML)")
    parser.add_argument("--json", action="store_true", help="print as JSON")


def run(args: argparse.Namespace) -> int:
    try:
        rubric = load_rubric(args.rubric)
    except RubricError as e:
        raise UserError(str(e)) from None
    if args.json:
        print(json.dumps(rubric.to_dict(), indent=2))
        return EXIT_OK
    print(f"Rubric ({rubric.source}), {rubric.possible} points")
    print(f"{'id':<26} {'pts':>3}  {'item':<4}  passes when")
    for item in rubric.items:
        print(f"{item.id:<26} {item.points:>3}  {item.checklist:<4}  {rubric.passes_when(item)}")
    for key, value in rubric.thresholds.items():
        print(f"threshold {key} = {value:g}")
    return EXIT_OK
