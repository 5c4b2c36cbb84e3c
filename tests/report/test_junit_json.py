"""JUnit and JSON reports carry per-check points and read back losslessly."""

from __future__ import annotations

import json

from junitparser import Error, Failure, Skipped
from junitparser.xunit2 import JUnitXml

from autograde.report import json_report, junit
from autograde.results import CheckResult, GradingResults, ImageFacts


def sample() -> GradingResults:
    return GradingResults(
        checks=[
            CheckResult("dockerfile.stages", "Stages", "pass", 5, 5, "ok", file="Dockerfile.prod", line=2),
            CheckResult(
                "runtime.up",
                "Up",
                "fail",
                0,
                10,
                "build failed\x1b[31m",
                hint="fix",
                file="Dockerfile.prod",
                line=7,
                log_tail="::error::forged\x00",
            ),
            CheckResult("runtime.counter", "Counter", "skip", 0, 15, "needs up"),
            CheckResult("images.prod_lean", "Lean", "error", 0, 5, "engine gone"),
        ],
        dev_image=ImageFacts("sha256:d", "dev", 600_000_000),
        prod_image=ImageFacts("sha256:p", "prod", 200_000_000),
        source={"repository": "org/lab04-ann", "commit": "abc", "graded_at": "2026-11-27T00:00:00+00:00"},
    )


def test_junit_has_points_per_testcase_and_totals(tmp_path):
    path = tmp_path / "r.xml"
    junit.write(sample(), path)
    xml = JUnitXml.fromfile(str(path))
    suite = next(iter(xml))
    props = {p.name: p.value for p in suite.properties()}
    assert props["score"] == "5" and props["max_score"] == "35" and props["source.repository"] == "org/lab04-ann"
    cases = {c.name: c for c in suite}
    assert list(cases) == ["dockerfile.stages", "runtime.up", "runtime.counter", "images.prod_lean"]
    points = {name: {p.name: p.value for p in c.properties()} for name, c in cases.items()}
    assert points["dockerfile.stages"]["points"] == "5" and points["runtime.up"]["max_points"] == "10"
    assert cases["dockerfile.stages"].is_passed
    assert isinstance(cases["runtime.up"].result[0], Failure)
    # a skip that costs points is a failure: the check must not be green while points are lost
    assert isinstance(cases["runtime.counter"].result[0], Failure)
    assert cases["runtime.counter"].result[0].message == "lost 15 of 15 points: needs up"
    assert isinstance(cases["images.prod_lean"].result[0], Error)
    assert "\x00" not in path.read_text() and "\x1b" not in path.read_text()


def test_only_a_skip_worth_nothing_stays_skipped(tmp_path):
    r = GradingResults(
        checks=[
            CheckResult("runtime.counter", "Counter", "skip", 0, 0, "not in this rubric"),
            CheckResult("images.size_ratio", "Ratio", "skip", 0, 15, "no image"),
        ]
    )
    path = tmp_path / "r.xml"
    junit.write(r, path)
    cases = {c.name: c for c in next(iter(JUnitXml.fromfile(str(path))))}
    assert isinstance(cases["runtime.counter"].result[0], Skipped)
    assert isinstance(cases["images.size_ratio"].result[0], Failure)


def test_json_round_trip(tmp_path):
    path = tmp_path / "r.json"
    json_report.write(sample(), path)
    data = json.loads(path.read_text())
    assert data["score"] == 5 and data["max_score"] == 35 and data["images"]["ratio"] == 0.3333
    back = GradingResults.from_dict(data)
    assert back.to_dict() == data


def test_static_only_leaves_the_ungraded_runtime_checks_skipped(tmp_path):
    r = GradingResults(
        checks=[
            CheckResult("runtime.counter", "Counter", "skip", 0, 15, "not run: --static-only"),
            CheckResult("compose.web_prod", "web_prod", "fail", 0, 10, "no port"),
        ],
        static_only=True,
    )
    path = tmp_path / "r.xml"
    junit.write(r, path)
    cases = {c.name: c for c in next(iter(JUnitXml.fromfile(str(path))))}
    assert isinstance(cases["runtime.counter"].result[0], Skipped)
    assert isinstance(cases["compose.web_prod"].result[0], Failure)
