"""JUnit XML for the Autograde check, with per-testcase points (properties `points`, `max_points`).

A check that loses points is a `<failure>` (or an `<error>` when the grader or the machine
failed), never `<skipped>`: a JUnit consumer such as mikepenz/action-junit-report counts
only failures and errors against the run, so a skipped check worth points would leave the
check green while points were lost. A skip worth nothing (0 of 0 points) stays `<skipped>`,
and so do the runtime checks of a `--static-only` run, which were not graded.

Where a check points at the student's file, the testcase carries `file` and `line`
attributes (what JUnit consumers read) as well as the `file`/`line` properties. The
classname is the lab's label (`LAB04`) for every case: consumers that find no file fall back to the last
dot-separated part of the classname and search the workspace for it, and a classname such
as `autograde.dockerfile` would lead them to the grader's own source.
"""

from __future__ import annotations

import re
from pathlib import Path

from junitparser import Attr, Error, Failure, IntAttr, Skipped
from junitparser.xunit2 import JUnitXml, TestCase, TestSuite

from autograde import labs
from autograde.results import CheckResult, GradingResults

_XML_INVALID = re.compile(r"[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
CLASSNAME = "LAB04"  # the default lab's label; a report's own lab gives its classname (see `classname`)


def classname(results: GradingResults) -> str:
    """The classname of every case: the label of the lab the report was graded with."""
    return labs.of_report(results.grader).label


class LocatedCase(TestCase):
    """A testcase with the `file` and `line` attributes JUnit consumers read."""

    file = Attr()
    line = IntAttr()


def clean(text: str) -> str:
    """Student text may hold control characters that XML cannot carry."""
    return _XML_INVALID.sub("\ufffd", text or "")


def lost_points(check: CheckResult) -> int:
    return 0 if check.bonus else max(check.max_score - check.score, 0)  # a bonus not earned loses nothing


def outcome(check: CheckResult, static_only: bool = False) -> str:
    """How the check is told in JUnit: pass, failure, error or skipped. Under --static-only the
    runtime checks were not graded at all (the exit status ignores them too): they stay skipped."""
    if check.status == "error":
        return "error"
    if check.bonus and check.status != "pass":  # extra points not earned: nothing lost, the check stays green
        return "skipped"
    if check.status == "fail" or (lost_points(check) > 0 and not (static_only and check.status == "skip")):
        return "failure"
    if check.status == "skip":
        return "skipped"
    return "pass"


def _headline(check: CheckResult) -> str:
    first = (check.message or "").strip().splitlines()[0] if (check.message or "").strip() else check.status
    if lost_points(check):
        return f"lost {lost_points(check)} of {check.max_score} points: {first}"
    return first


def build(results: GradingResults) -> JUnitXml:
    suite = TestSuite("autograde")
    suite.add_property("score", str(results.total))
    suite.add_property("max_score", str(results.possible))
    suite.add_property("static_only", str(results.static_only).lower())
    for key in ("repository", "commit", "graded_at"):
        if results.source.get(key):
            suite.add_property(f"source.{key}", clean(results.source[key]))
    name = classname(results)
    for c in results.checks:
        case = LocatedCase(c.id, classname=name, time=c.duration_s)
        if c.file:
            case.file = clean(c.file)
            if c.line:
                case.line = c.line
        case.add_property("points", str(c.score))
        case.add_property("max_points", str(c.max_score))
        if c.file:
            case.add_property("file", clean(c.file))
        if c.line:
            case.add_property("line", str(c.line))
        text = clean("\n".join(x for x in (c.message, f"hint: {c.hint}" if c.hint else "", c.log_tail) if x))
        kind = outcome(c, results.static_only)
        if kind == "failure":
            case.result = [Failure(clean(_headline(c)), "skipped" if c.status == "skip" else "points lost")]
            case.result[0].text = text
        elif kind == "error":
            case.result = [Error(clean(_headline(c)), "grader error")]
            case.result[0].text = text
        elif kind == "skipped":
            case.result = [Skipped(clean(c.message))]
        else:
            case.system_out = clean(c.message)
        suite.add_testcase(case)
    xml = JUnitXml("autograde")
    xml.add_testsuite(suite)
    return xml


def check_summary(results: GradingResults) -> str:
    """One line for the check run's summary (the action takes a single line): the points, what to
    fix first and which checks lost points. Only check ids, numbers and file:line: no student text."""
    from autograde.report import triage

    parts = [f"Points {results.total}/{results.possible}."]
    fix = triage.fix_first(results)
    if fix is not None:
        place = triage.where(fix.check) or fix.check.id
        parts.append(f"Fix first: {place} ({triage.share(fix, results)} depend on it).")
    lost = [c for c in results.checks if lost_points(c) and not (results.static_only and c.status == "skip")]
    if lost:
        parts.append("Lost: " + ", ".join(f"`{c.id}` {lost_points(c)}" for c in lost) + ".")
        parts.append("What to do: the run's summary page and the annotations on your files.")
    return " ".join(parts)


def write(results: GradingResults, path: str | Path) -> None:
    build(results).write(str(path), pretty=True)
