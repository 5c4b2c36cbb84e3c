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
    """The failing check that most lost points depend on, if any other check depends on it."""
    best: FixFirst | None = None
    for c in results.checks:
        if c.status not in ("fail", "error") or not lost(c):
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

        step, _ = parse_build_output(check.log_tail)
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

def log_excerpt(log: str, limit: int = EXCERPT_LINES) -> list[str]:
    """The few lines of a build or app log that explain its failure: the failing step, its last
    output, and the error. Progress bars and other steps' output are left out."""
    lines = [line.rstrip() for line in log.splitlines()]
    failed = None
    for line in lines:
        m = re.match(r"#(\d+) ERROR\b", line)
        if m:
            failed = m.group(1)
    if failed is not None:
        prefix = re.compile(rf"^#{failed} (?:\d+\.\d+ )?")
        own = [line for line in lines if line.startswith(f"#{failed} ")]
        header = [prefix.sub("", own[0])] if own and own[0].startswith(f"#{failed} [") else []
        errors = [prefix.sub("", line) for line in own if line.startswith(f"#{failed} ERROR")]
        output = [prefix.sub("", line) for line in own
                  if re.match(rf"#{failed} \d+\.\d+ ", line) and not _PROGRESS.search(line)]
        final = [line for line in lines if re.match(r"^(?:ERROR: )?failed to solve", line)]
        said = [e.split("ERROR: ", 1)[-1] for e in errors]
        tail = final[-1:] if final and not any(x and x in final[-1] for x in said) else []
        room = max(limit - len(header) - len(errors) - len(tail), 3)
        return _clip(header + output[-room:] + errors + tail, limit)
    block = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].startswith(" > [")), None)
    if block is not None:  # newer BuildKit: ` > [stage n/m] STEP:` then the step's last output
        return _clip([line for line in lines[block:] if line.strip() and line.strip() != "------"
                      and not _PROGRESS.search(line)], limit, keep_end=True)
    step = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].startswith("Step ")), None)
    if step is not None:  # the classic builder
        return _clip([line for line in lines[step:] if line.strip() and not _PROGRESS.search(line)], limit,
                     keep_end=True)
    return _clip([line for line in lines if line.strip() and not _PROGRESS.search(line)], limit, keep_end=True)


def _clip(lines: list[str], limit: int, keep_end: bool = False) -> list[str]:
    lines = [line if len(line) <= 400 else line[:399] + "…" for line in lines]
    if len(lines) <= limit:
        return lines
    return [lines[0], "…", *lines[-(limit - 2):]] if keep_end else lines[:limit]
