"""`autograde workflow`: the Classroom reporter block of the workflow, from the rubric in effect.

The Classroom reporter needs one env line per runner (check) in .github/workflows/classroom.yml; a rubric
that drops a check, or a plugin that adds one, changes them. Run `autograde workflow --write` in the
template repository after changing the rubric or the plugins, and commit the workflow.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from autograde.checks import rubric_in_effect
from autograde.errors import EXIT_OK, EXIT_POINTS_LOST, UserError
from autograde.report.rubric_docs import WORKFLOW, rewritten_workflow, workflow_runners
from autograde.rubric import ENV_VAR, RubricError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rubric", metavar="FILE", help=f"instructor's rubric (YAML); default: the YAML text of ${ENV_VAR}, if set"
    )
    parser.add_argument("--file", default=WORKFLOW, metavar="PATH", help=f"the workflow (default: {WORKFLOW})")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite the reporter block in place")
    mode.add_argument("--check", action="store_true", help="exit 1 if the block differs from the rubric in effect")


def run(args: argparse.Namespace) -> int:
    try:
        rubric = rubric_in_effect(args.rubric, os.environ)
    except RubricError as e:
        raise UserError(str(e)) from None
    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: cannot read the workflow ({getattr(e, 'strerror', None) or e})") from None
    try:
        new = rewritten_workflow(text, rubric)
    except ValueError as e:
        raise UserError(f"{path}: {e}") from None
    if new == text:
        print(f"{path}: the reporter block matches the rubric in effect ({rubric.source}, {len(rubric.items)} checks)")
        return EXIT_OK
    if args.write:
        path.write_text(new, encoding="utf-8")
        print(
            f"{path}: reporter block rewritten for the rubric in effect ({rubric.source}, {len(rubric.items)} checks)"
        )
        return EXIT_OK
    had = workflow_runners(text) or []
    print(f"{path}: the reporter block differs from the rubric in effect ({rubric.source})")
    print(f"  in the workflow: {', '.join(had) or '(none)'}")
    print(f"  wanted:          {', '.join(workflow_runners(new) or [])}")
    if args.check:
        return EXIT_POINTS_LOST
    print("  run again with --write to rewrite it")
    return EXIT_OK
