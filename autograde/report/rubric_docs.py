"""The two places outside the code that list a lab's checks, generated from the checks' own declarations.

- the lab text's rubric table (README.md, between `<!-- rubric-table -->` markers);
- the Classroom reporter's `env` block in .github/workflows/classroom.yml (one `<RUNNER>_RESULTS` line
  per check, which the reporter reads).

`python -m autograde.report.rubric_docs [--lab ID] --write` rewrites both in place from the default
rubric of the pack (LAB04: this repository's root; another pack: its template folder, whose workflow is
derived from the grader's own); `--check` exits 1 if either is out of date (the tests run the same
comparison). An instructor whose
rubric or plugins differ runs `autograde workflow --write` instead: it rewrites the workflow's block
from the rubric in effect.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from autograde.report.classroom import runner_id
from autograde.rubric import Rubric, RubricItem

README = "README.md"
WORKFLOW = ".github/workflows/classroom.yml"
_TABLE = re.compile(r"(<!-- rubric-table -->\n)(.*?)(<!-- /rubric-table -->)", re.S)
_ENV = re.compile(
    r"(?P<indent>[ \t]+)[A-Z0-9]+_RESULTS: \$\{\{ steps\.grade\.outputs\.[a-z0-9]+ \}\}\n"
    r"(?:(?P=indent)[A-Z0-9]+_RESULTS: \$\{\{ steps\.grade\.outputs\.[a-z0-9]+ \}\}\n)*"
)


def _default() -> Rubric:
    from autograde.checks import default_rubric

    return default_rubric()


def rubric_table(rubric: Rubric | None = None) -> str:
    rubric = rubric or _default()
    rows = ["| check id | checklist item | passes when | points |", "|---|---|---|---:|"]
    rows += [f"| `{i.id}` | {i.checklist} | {rubric.passes_when(i)} | {i.points} |" for i in rubric.items]
    rows.append(f"| **total** | | | **{rubric.possible}** |")
    return "\n".join(rows) + "\n"


def reporter_env(indent: str = "          ", items: tuple[RubricItem, ...] | None = None) -> str:
    items = _default().items if items is None else items
    return "".join(
        f"{indent}{runner_id(i.id).upper()}_RESULTS: ${{{{ steps.grade.outputs.{runner_id(i.id)} }}}}\n" for i in items
    )


def workflow_runners(text: str) -> list[str] | None:
    """The runners the workflow's reporter block gives an env line, in order; None if it has no block."""
    m = _ENV.search(text)
    if m is None:
        return None
    return re.findall(r"steps\.grade\.outputs\.([a-z0-9]+) \}\}", m.group(0))


def rewritten_workflow(text: str, rubric: Rubric) -> str:
    """The workflow text with its reporter block listing the runners of `rubric`."""
    if _ENV.search(text) is None:
        raise ValueError("no reporter block (lines `<RUNNER>_RESULTS: ${{ steps.grade.outputs.<runner> }}`) found")
    return _ENV.sub(lambda m: reporter_env(m.group("indent"), rubric.items), text, count=1)


def regenerated(root: Path) -> dict[str, str]:
    """{path: new text} for the files of the pack in effect whose generated part differs from the checks'
    declarations (root: the pack's template)."""
    from autograde import labs
    from autograde.labs.template import derived_workflow, grader_repository

    pack = labs.current()
    out = {}
    readme_name = pack.docs or README
    readme = (root / readme_name).read_text(encoding="utf-8")
    new = _TABLE.sub(lambda m: m.group(1) + rubric_table() + m.group(3), readme, count=1)
    if new != readme:
        out[readme_name] = new
    workflow_path = root / pack.workflow
    workflow = workflow_path.read_text(encoding="utf-8") if workflow_path.is_file() else ""
    grader = grader_repository()
    if pack.template and grader is not None:  # derived from the grader's own workflow
        own = (grader / WORKFLOW).read_text(encoding="utf-8")
        new = derived_workflow(own, pack, reporter_env(items=_default().items))
    else:
        new = rewritten_workflow(workflow, _default())
    if new != workflow:
        out[pack.workflow] = new
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograde.report.rubric_docs", description=__doc__)
    parser.add_argument("--root", help="the template (default: the pack's template; LAB04's is `.`)")
    parser.add_argument("--lab", help="the lab pack (default: lab04)")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the generated parts in place")
    mode.add_argument("--check", action="store_true", help="exit 1 if a generated part is out of date")
    args = parser.parse_args(argv)
    from autograde import labs

    pack = labs.choose(args.lab)
    template = pack.resource(pack.template) if pack.template else None
    root = Path(args.root) if args.root else (template or Path("."))
    stale = regenerated(root)
    for path, text in stale.items():
        if args.write:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text, encoding="utf-8")
        print(f"{path}: {'rewritten' if args.write else 'out of date'}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
