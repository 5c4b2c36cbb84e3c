"""`autograde lab list` names the lab packs; `autograde lab init ID DIR` writes a pack's template repository.

Exit status: 0 done; 2 usage error (an unknown pack, a folder that is not empty).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from autograde import labs
from autograde.errors import EXIT_OK, UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    verbs = parser.add_subparsers(dest="lab_command", metavar="ACTION", required=True)
    listing = verbs.add_parser("list", help="the lab packs this grader knows")
    listing.add_argument("--json", action="store_true", help="print as JSON")
    init = verbs.add_parser("init", help="write a pack's template repository into a new folder")
    init.add_argument("lab_id", metavar="ID", help="the pack (see `autograde lab list`)")
    init.add_argument("dest", metavar="DIR", help="the folder to write (new, or empty)")
    init.add_argument(
        "--grader",
        metavar="REQUIREMENT",
        help="the pip requirement the template's workflow installs the grader with (default: this grader's own "
        "source when pip recorded a git commit, else autograde==<this version>)",
    )
    init.add_argument("--force", action="store_true", help="write into a folder that is not empty")


def run(args: argparse.Namespace) -> int:
    try:
        if args.lab_command == "list":
            return _list(args.json)
        return _init(args.lab_id, Path(args.dest), args.grader, args.force)
    except labs.LabError as e:
        raise UserError(str(e)) from None


def _list(as_json: bool) -> int:
    packs = []
    for lab_id in labs.known():
        try:
            packs.append(labs.describe(labs.get(lab_id)))
        except labs.LabError as e:
            packs.append({"id": lab_id, "title": f"(cannot be loaded: {e})", "student_files": []})
    if as_json:
        print(json.dumps(packs, indent=2, ensure_ascii=False))
        return EXIT_OK
    for p in packs:
        print(f"{p['id']:<8} {p['title']}")
        if p["student_files"]:
            print(f"{'':<8} students complete: {', '.join(p['student_files'])}")
    return EXIT_OK


def _init(lab_id: str, dest: Path, grader: str | None, force: bool) -> int:
    from autograde.labs.template import init

    pack = labs.get(lab_id)
    made = init(pack, dest, grader=grader, force=force)
    print(f"{dest}: the template of {pack.title}, {len(made.files)} files")
    if made.grader:
        print(f"  its workflow installs the grader with: {made.grader}")
    if made.note:
        print(f"  note: {made.note}")
    print("  next: push it to a new repository, mark it as a template, and create the Classroom assignment from it")
    return EXIT_OK
