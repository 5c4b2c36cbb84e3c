"""Command line: `autograde VERB ...`. Each verb lives in autograde/commands/<verb>.py."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType

from autograde import __version__, labs
from autograde.errors import EXIT_ERROR, EXIT_INTERRUPTED, UserError

# verb -> (module, one-line help). Modules are imported only when their verb runs, which
# keeps `autograde grade --static-only` free of heavy imports.
COMMANDS: dict[str, tuple[str, str]] = {
    "grade": ("autograde.commands.grade", "grade a checkout of the lab"),
    "rubric": ("autograde.commands.rubric", "validate and print the rubric in effect"),
    "workflow": ("autograde.commands.workflow", "rewrite the workflow's Classroom reporter block from the rubric"),
    "export": ("autograde.commands.export", "turn a folder of grade reports into a CSV gradebook"),
    "collect": ("autograde.commands.collect", "download a class's grade reports from GitHub and export them"),
    "grade-all": ("autograde.commands.grade_all", "grade every checkout of a class from source, in parallel"),
    "comment": ("autograde.commands.comment", "post the grade on the pushed branch's open pull request"),
    "lab": ("autograde.commands.lab", "list the lab packs, or write a pack's template repository"),
}
NO_LAB = {"lab"}  # verbs that work on every pack, not on the one in effect


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, ModuleType]]:
    parser = argparse.ArgumentParser(
        prog="autograde", description="Autograder for the labs of a Docker course (lab packs: `autograde lab list`)."
    )
    parser.add_argument("--version", action="version", version=f"autograde {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules: dict[str, ModuleType] = {}
    wanted = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    for verb, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(verb, help=help_text, description=help_text)
        if verb == wanted:
            module = importlib.import_module(module_name)
            module.add_arguments(p)
            if verb not in NO_LAB:
                p.add_argument(
                    "--lab",
                    metavar="ID",
                    help="the lab pack (`autograde lab list`); default: the checkout's .autograde/lab.yml, "
                    f"else ${labs.ENV_VAR}, else {labs.DEFAULT}",
                )
            modules[verb] = module
    return parser, modules


def main(argv: list[str] | None = None) -> int:
    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    parser, modules = build_parser()
    try:
        args = parser.parse_args()
    except SystemExit as e:  # argparse exits 2 on usage errors, 0 on --help
        return int(e.code or 0)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    try:
        if args.command not in NO_LAB:
            select_lab(args)
        return int(modules[args.command].run(args))
    except UserError as e:  # the one place a user-facing failure becomes a message and an exit code
        print(f"autograde: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("autograde: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def select_lab(args: argparse.Namespace) -> None:
    """Select the lab pack the verb works with: `--lab`, else the graded checkout's own declaration, else
    $AUTOGRADE_LAB, else the default. An unknown pack is a usage error naming the known ones."""
    root = getattr(args, "dir", None)
    try:
        labs.choose(args.lab, Path(root) if args.command == "grade" and isinstance(root, str) else None)
    except labs.LabError as e:
        raise UserError(str(e)) from None
