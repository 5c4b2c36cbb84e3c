"""What to fix first: the failure that takes other checks with it, merged hints, and the lines
of a build log that explain a failure. Pure policy over a GradingResults; no output format.

A check that could not run because of another one says so in its message, `(see CHECK_ID)`
(e.g. `the prod image did not build (see runtime.up)`), and checks that fail on the same
file:line fail for the same reason (a build that stops at `Dockerfile.prod:25` fails
`runtime.up` and `dockerfile.builder_tests` there). Those points depend on that failure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from autograde.results import CheckResult, GradingResults

EXCERPT_LINES = 15
_SEE = re.compile(r"\(see ([a-z_]+\.[a-z_]+)\)")
_PROGRESS = re.compile(r"━|\d+(?:\.\d+)?/\d+(?:\.\d+)? [kMG]i?B\b|\d+(?:\.\d+)? [kMG]i?B/s|eta \d+:\d\d")


def lost(check: CheckResult) -> int:
    return max(check.max_score - check.score, 0)


def where(check: CheckResult) -> str:
    return f"{check.file}:{check.line}" if check.file and check.line else (check.file or "")


@dataclass
class FixFirst:
    check: CheckResult  # the failure to fix first
    dependents: list[CheckResult] = field(default_factory=list)  # checks that lost points with it
    command: str = ""  # the failing command, when a build log names it
    hint: str = ""

    @property
    def points(self) -> int:
        return lost(self.check) + sum(lost(d) for d in self.dependents)

    @property
    def checks(self) -> list[CheckResult]:
        return [self.check, *self.dependents]


def _depends_on(other: CheckResult, root: CheckResult) -> bool:
    if other is root or not lost(other):
        return False
    if other.status == "skip":
        return root.id in _SEE.findall(other.message or "")
    same_place = bool(root.file and root.line) and (other.file, other.line) == (root.file, root.line)
    return other.status in ("fail", "error") and same_place


def fix_first(results: GradingResults) -> FixFirst | None:
    """The failing check that most lost points depend on, if any other check depends on it.

    Only a `fail` (the student's file) can come first: an `error` is the machine's trouble, and
    there is nothing in the student's files to fix for it."""
    best: FixFirst | None = None
    for c in results.checks:
        if c.status != "fail" or not lost(c):
            continue
        candidate = FixFirst(c, [d for d in results.checks if _depends_on(d, c)])
        if candidate.dependents and (best is None or candidate.points > best.points):
            best = candidate
    if best is None:
        return None
    best.command = failing_command(best.check)
    best.hint = best.check.hint or next((d.hint for d in best.dependents if d.hint), "")
    return best


def failing_command(check: CheckResult) -> str:
    """The instruction a build log says failed, else the first code span of the message."""
    if check.log_tail:
        from autograde.runtime.diagnose import parse_build_output

        step = parse_build_output(check.log_tail).step
        if step:
            return " ".join(step.split())
    m = re.search(r"`([^`]+)`", check.message or "")
    return m.group(1) if m else ""


def hint_groups(checks: list[CheckResult]) -> list[tuple[str, list[CheckResult]]]:
    """The hints of the given checks, each once, with the checks that give it, in check order."""
    groups: dict[str, list[CheckResult]] = {}
    for c in checks:
        key = " ".join((c.hint or "").split())
        if key:
            groups.setdefault(key, []).append(c)
    return [(group[0].hint.strip(), group) for group in groups.values()]


# --- build logs -------------------------------------------------------------------------------

_BUILD_LOG = re.compile(r"^#\d+ \[|^Step \d+/\d+ : |^\s*> \[[^\]]*\] ", re.M)


def log_excerpt(log: str, limit: int = EXCERPT_LINES) -> list[str]:
    """The few lines of a build or app log that explain its failure: for a build, the failing
    step, its last output and the builder's error (as runtime.diagnose reads them); for an app,
    its last lines. Progress bars are left out."""
    if _BUILD_LOG.search(log):
        from autograde.runtime.diagnose import parse_build_output

        out = parse_build_output(log)
        if out.step or out.error:
            header = [f"failed step: {out.step}"] if out.step else []
            error = [out.error] if out.error else []
            body = [
                line
                for line in out.step_log.splitlines()
                if line.strip() and not _PROGRESS.search(line) and line.strip() != out.error
            ]
            room = max(limit - len(header) - len(error), 3)
            return _clip(header + body[-room:] + error, limit)
    lines = [line.rstrip() for line in log.splitlines()]
    return _clip([line for line in lines if line.strip() and not _PROGRESS.search(line)], limit, keep_end=True)


def _clip(lines: list[str], limit: int, keep_end: bool = False) -> list[str]:
    lines = [line if len(line) <= 400 else line[:399] + "…" for line in lines]
    if len(lines) <= limit:
        return lines
    return [lines[0], "…", *lines[-(limit - 2) :]] if keep_end else lines[:limit]
