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
    return 0 if check.bonus else max(check.max_score - check.score, 0)  # a bonus not earned loses nothing


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


def root_of(check: CheckResult, results: GradingResults) -> CheckResult | None:
    """The lost check a skipped check waited for: the one its message names `(see ID)`, else the first
    failing check on the file its message names (`docker-compose.prod.yml does not define web_prod yet`)."""
    if check.status != "skip" or results.static_only:
        return None
    message = check.message or ""
    for ref in _SEE.findall(message):
        root = results.get(ref)
        if root is not None and root is not check and root.status != "skip" and lost(root):
            return root
    failing = [c for c in results.checks if c.status == "fail" and lost(c) and c.file]
    named = sorted(
        ((message.find(c.file), i, c) for i, c in enumerate(failing) if c.file and c.file in message),
        key=lambda t: (t[0], t[1]),
    )
    return named[0][2] if named else None


def skip_reason(check: CheckResult) -> str:
    """A skipped check's message without its `(see ID)`."""
    return _SEE.sub("", check.message or "").strip().rstrip(".").replace("  ", " ")


def _same_place(other: CheckResult, root: CheckResult) -> bool:
    return (
        bool(root.file and root.line)
        and (other.file, other.line) == (root.file, root.line)
        and other.status in ("fail", "error")
        and bool(lost(other))
    )


def fix_first(results: GradingResults) -> FixFirst | None:
    """The failing check that most lost points depend on, if any other check depends on it: the checks
    that fail at its place, and the skipped checks that waited for one of those.

    Only a `fail` (the student's file) can come first: an `error` is the machine's trouble, and
    there is nothing in the student's files to fix for it."""
    best: FixFirst | None = None
    best_rank = (0, 0)
    roots = [root_of(d, results) for d in results.checks if d.status == "skip" and lost(d)]
    for c in results.checks:
        if c.status != "fail" or not lost(c):
            continue
        group = [c, *(d for d in results.checks if d is not c and _same_place(d, c))]
        waiting = [d for d in results.checks if d.status == "skip" and lost(d) and root_of(d, results) in group]
        candidate = FixFirst(c, [d for d in results.checks if d is not c and (d in group or d in waiting)])
        # among checks failing at one place, the one the skipped checks name (runtime.up) comes first
        rank = (candidate.points, sum(r is c for r in roots))
        if candidate.dependents and (best is None or rank > best_rank):
            best, best_rank = candidate, rank
    if best is None:
        return None
    best.command = failing_command(best.check)
    best.hint = best.check.hint or next((d.hint for d in best.dependents if d.hint), "")
    return best


def share(fix: FixFirst, results: GradingResults) -> str:
    """The one figure for what depends on the first fix, worded the same wherever it is said."""
    total = sum(lost(x) for x in results.checks if not (results.static_only and x.status == "skip"))
    return f"All {total} lost points" if fix.points == total else f"{fix.points} of the {total} lost points"


@dataclass
class Item:
    """One line of "What to do": checks that lost points for one reason (one hint), and the skipped
    checks that waited for them, grouped by why they were skipped."""

    checks: list[CheckResult]
    hint: str
    skipped: dict[str, list[CheckResult]] = field(default_factory=dict)
    first: bool = False

    @property
    def all(self) -> list[CheckResult]:
        return [*self.checks, *(c for group in self.skipped.values() for c in group)]


def what_to_do(results: GradingResults) -> list[Item]:
    """Every check that lost points, each in exactly one item: the first fix with everything that depends
    on it, then one item per hint, skipped checks under the check they waited for (or on their own when
    nothing in the student's files explains them)."""
    lost_checks = [c for c in results.checks if lost(c) and not (results.static_only and c.status == "skip")]
    items: list[Item] = []
    owner: dict[str, Item] = {}
    by_hint: dict[str, Item] = {}
    fix = fix_first(results)
    if fix is not None:
        first = Item([c for c in fix.checks if c.status != "skip"], fix.hint or fix.check.message, first=True)
        items.append(first)
        owner.update((c.id, first) for c in first.checks)
    for c in lost_checks:
        if c.status == "skip" or c.id in owner:
            continue
        key = " ".join((c.hint or "").split()) or "message: " + " ".join((c.message or c.id).split())
        item = by_hint.get(key)
        if item is None:
            item = by_hint[key] = Item([], c.hint.strip() if c.hint.strip() else "")
            items.append(item)
        item.checks.append(c)
        owner[c.id] = item
    for c in lost_checks:
        if c.status != "skip":
            continue
        root = root_of(c, results)
        if root is not None and root.id in owner:
            owner[root.id].skipped.setdefault(skip_reason(c), []).append(c)
        else:
            reason = skip_reason(c) or "not run"
            alone = next((i for i in items if not i.checks and reason in i.skipped), None)
            if alone is None:
                alone = Item([], "", {reason: []})
                items.append(alone)
            alone.skipped[reason].append(c)
    return items


def failing_command(check: CheckResult) -> str:
    """The instruction a build log says failed, else the first code span of the message."""
    if check.log_tail:
        from autograde.runtime.diagnose import parse_build_output

        step = parse_build_output(check.log_tail).step
        if step:
            return " ".join(step.split())
    m = re.search(r"`([^`]+)`", check.message or "")
    return m.group(1) if m else ""


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
