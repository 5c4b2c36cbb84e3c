"""The table a student reads in a terminal or a CI log."""

from __future__ import annotations

import re
import textwrap
from typing import TextIO

from autograde import labs
from autograde.report import triage
from autograde.results import GradingResults

MARK = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP", "error": "ERR "}
_CODE_SPAN = re.compile(r"`[^`]+`")
_GLUE = "\x00"  # stands for a space inside a code span while wrapping


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters, except that a code span is never broken: a command
    copied from the log must work. A span longer than the width gets a line of its own."""
    glued = _CODE_SPAN.sub(lambda m: m.group(0).replace(" ", _GLUE), " ".join(text.split()))
    lines = textwrap.wrap(glued, width, break_long_words=False, break_on_hyphens=False)
    return [line.replace(_GLUE, " ") for line in lines]


def write(results: GradingResults, out: TextIO, *, show_logs: bool = True) -> None:
    """Plain text only: nothing here is a workflow command, and student text is indented under its check."""
    width = max(len(c.id) for c in results.checks) if results.checks else 10
    print(
        f"{labs.of_report(results.grader).label} autograde — {results.total}/{results.possible} points"
        + (" (static checks only)" if results.static_only else ""),
        file=out,
    )
    if results.error:
        print(f"  grader problem: {results.error}", file=out)
    print("", file=out)
    fix = triage.fix_first(results)
    if fix is not None:
        place = triage.where(fix.check) or fix.check.id
        command = f" `{fix.command}` failed" if fix.command else ""
        share = triage.share(fix, results)
        share = share[:1].lower() + share[1:]
        print(
            f"Fix first: {place}{command} — {share} depend on it ({', '.join(x.id for x in fix.checks)}).",
            file=out,
        )
        print("", file=out)
    logs_shown: set[str] = set()
    for c in results.checks:
        print(f"{MARK[c.status]}  {c.id:<{width}}  {c.score:>3}/{c.max_score:<3} {c.message}", file=out)
        where = f"{c.file}:{c.line}" if c.file and c.line else (c.file or "")
        if c.status != "pass":
            indent = " " * (6 + width + 2 + 8)
            if where and where not in (c.message or ""):
                print(f"{indent}at {where}", file=out)
            for i, line in enumerate(wrap(c.hint, 96)):
                print(f"{indent}{'hint: ' if i == 0 else '      '}{line}", file=out)
            if show_logs and c.log_tail and c.log_tail not in logs_shown:
                logs_shown.add(c.log_tail)  # a log two checks share (the prod build) is shown once
                for line in triage.log_excerpt(c.log_tail):
                    print(f"{indent}| {line}", file=out)
    if results.dev_image and results.prod_image and results.ratio is not None:
        print("", file=out)
        print(
            f"images: dev {results.dev_image.size_bytes / 1e6:.0f} MB, prod {results.prod_image.size_bytes / 1e6:.0f} MB,"
            f" ratio {results.ratio:.2f}",
            file=out,
        )
    if results.advice:
        print("", file=out)
        print("advice from hadolint (0 points):", file=out)
        for a in results.advice[:10]:
            print(f"  {a.file}:{a.line} {a.code} {a.message}", file=out)
    if results.modified_files:
        print(f"note: these lab files differ from the template: {', '.join(results.modified_files)}", file=out)
    print("", file=out)
    print(f"Total: {results.total}/{results.possible}", file=out)
