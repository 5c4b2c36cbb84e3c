from __future__ import annotations

import argparse
import json
import os

from autograde.checks import plugins, rubric_in_effect
from autograde.errors import EXIT_OK, UserError
from autograde.rubric import ENV_VAR, RubricError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rubric", metavar="FILE", help=f"instructor's rubric (YAML); default: the YAML text of ${ENV_VAR}, if set"
    )
    parser.add_argument("--json", action="store_true", help="print as JSON")


def run(args: argparse.Namespace) -> int:
    try:
        rubric = rubric_in_effect(args.rubric, os.environ)
    except RubricError as e:
        raise UserError(str(e)) from None
    if args.json:
        print(json.dumps(rubric.to_dict(), indent=2))
        return EXIT_OK
    bonus = f" (+{rubric.bonus_points} bonus)" if rubric.bonus_points else ""
    print(f"Rubric ({rubric.source}, {rubric.fingerprint()}), {rubric.possible} points{bonus}")
    print(f"{'id':<26} {'pts':>3}  {'item':<4}  passes when")
    for item in rubric.items:
        points = f"+{item.points}" if item.bonus else str(item.points)
        print(f"{item.id:<26} {points:>3}  {item.checklist:<4}  {rubric.passes_when(item)}")
    for key, value in rubric.thresholds.items():
        print(f"threshold {key} = {value:g}")
    for plugin in plugins():
        state = f"FAILED to load: {plugin.error}" if plugin.error else ", ".join(plugin.checks) or "no checks"
        print(f"plugin {plugin.label}: {state}")
    return EXIT_OK
