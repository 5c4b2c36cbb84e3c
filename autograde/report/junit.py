"""JUnit XML with per-testcase points (properties `points`, `max_points`)."""
from __future__ import annotations

import re
from pathlib import Path

from junitparser import Error, Failure, Skipped
from junitparser.xunit2 import JUnitXml, TestCase, TestSuite

from autograde.results import GradingResults

_XML_INVALID = re.compile(r"[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    """Student text may hold control characters that XML cannot carry."""
    return _XML_INVALID.sub("\ufffd", text or "")


def build(results: GradingResults) -> JUnitXml:
    suite = TestSuite("autograde")
    suite.add_property("score", str(results.total))
    suite.add_property("max_score", str(results.possible))
    suite.add_property("static_only", str(results.static_only).lower())
    for key in ("repository", "commit", "graded_at"):
        if results.source.get(key):
            suite.add_property(f"source.{key}", clean(results.source[key]))
    for c in results.checks:
        case = TestCase(c.id, classname=f"autograde.{c.id.split('.')[0]}", time=c.duration_s)
        case.add_property("points", str(c.score))
        case.add_property("max_points", str(c.max_score))
        if c.file:
            case.add_property("file", c.file)
        if c.line:
            case.add_property("line", str(c.line))
        text = clean("\n".join(x for x in (c.message, f"hint: {c.hint}" if c.hint else "", c.log_tail) if x))
        if c.status == "fail":
            case.result = [Failure(clean(c.message), "points lost")]
            case.result[0].text = text
        elif c.status == "skip":
            case.result = [Skipped(clean(c.message))]
        elif c.status == "error":
            case.result = [Error(clean(c.message), "grader error")]
            case.result[0].text = text
        else:
            case.system_out = clean(c.message)
        suite.add_testcase(case)
    xml = JUnitXml("autograde")
    xml.add_testsuite(suite)
    return xml


def write(results: GradingResults, path: str | Path) -> None:
    build(results).write(str(path), pretty=True)
