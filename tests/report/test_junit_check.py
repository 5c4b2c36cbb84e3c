"""The Autograde check as mikepenz/action-junit-report makes it from our JUnit file.

tests/report/junit_action.py models the action's parser (v6.4.2, the commit the workflow
pins) and is fed the inputs the workflow gives it, read from .github/workflows/classroom.yml.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from autograde.report import junit
from autograde.results import CheckResult, GradingResults

from .junit_action import parse, resolve_file_and_line

REPO = Path(__file__).resolve().parents[2]


def action_inputs() -> dict:
    wf = yaml.safe_load((REPO / ".github/workflows/classroom.yml").read_text(encoding="utf-8"))
    step = next(
        s
        for job in wf["jobs"].values()
        for s in job["steps"]
        if s.get("uses", "").startswith("mikepenz/action-junit-report@")
    )
    return step["with"]


def boolean(value: object) -> bool:
    return str(value).lower() == "true"  # core.getInput(...) === 'true'


def privileged_and_broken() -> GradingResults:
    """A privileged compose file and a build that fails on line 25: 50/100, five checks lose points."""
    return GradingResults(
        checks=[
            CheckResult("dockerfile.stages", "Stages", "pass", 5, 5, "2 stages", file="Dockerfile.prod", line=1),
            CheckResult(
                "dockerfile.builder_tests",
                "Tests",
                "fail",
                0,
                5,
                "Dockerfile.prod:25: the app's tests failed",
                hint="Read the pytest output.",
                file="Dockerfile.prod",
                line=25,
            ),
            CheckResult("dockerfile.final_slim", "Slim", "pass", 5, 5, "slim", file="Dockerfile.prod", line=27),
            CheckResult(
                "compose.web_prod",
                "web_prod",
                "fail",
                0,
                10,
                "web_prod is privileged",
                hint="Remove `privileged: true`.",
                file="docker-compose.prod.yml",
                line=9,
            ),
            CheckResult("compose.web_build", "build", "pass", 5, 5, "ok", file="docker-compose.prod.yml", line=4),
            CheckResult(
                "runtime.up",
                "Up",
                "fail",
                0,
                10,
                "building the prod image failed at Dockerfile.prod:25",
                file="Dockerfile.prod",
                line=25,
                log_tail="#9 ERROR: exit code: 1",
            ),
            CheckResult("runtime.counter", "Counter", "skip", 0, 15, "the prod stack did not come up (see runtime.up)"),
            CheckResult("images.size_ratio", "Ratio", "skip", 0, 15, "the prod image did not build (see runtime.up)"),
            CheckResult("images.prod_lean", "Lean", "error", 0, 5, "the engine went away"),
        ]
    )


@pytest.fixture
def workspace(tmp_path):
    """A student checkout with the grader in it (where the old classname led the action)."""
    ws = tmp_path / "ws"
    for name in (
        "Dockerfile.prod",
        "docker-compose.prod.yml",
        "autograde/model/dockerfile.py",
        "autograde/model/compose.py",
        "autograde/checks/runtime.py",
        "autograde/checks/images.py",
        "autograde.egg-info/PKG-INFO",
    ):
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_text("x\n", encoding="utf-8")
    return ws


def check_run(results: GradingResults, ws: Path, **overrides):
    path = ws / "autograde-report.xml"
    junit.write(results, path)
    inputs = {**action_inputs(), **overrides}
    return parse(
        path,
        ws,
        include_passed=boolean(inputs.get("include_passed")),
        annotate_notice=boolean(inputs.get("annotate_notice")),
        check_annotations=boolean(inputs.get("check_annotations", "true")),
        check_title_template=inputs.get("check_title_template"),
        summary=junit.check_summary(results),
    )


def test_the_check_is_red_when_points_are_lost(workspace):
    run = check_run(privileged_and_broken(), workspace)
    assert run.conclusion == "failure"
    assert (run.total, run.passed, run.skipped, run.failed) == (9, 3, 0, 6)
    assert run.summary.startswith("Points 15/75")


def test_the_check_is_green_only_with_full_marks(workspace):
    r = GradingResults(
        checks=[
            CheckResult("dockerfile.stages", "Stages", "pass", 5, 5, "ok", file="Dockerfile.prod", line=1),
            CheckResult("extra.thing", "Nothing at stake", "skip", 0, 0, "not run"),
        ]
    )
    run = check_run(r, workspace)
    assert run.conclusion == "success" and run.skipped == 1 and run.summary.startswith("Points 5/5")


def test_annotations_point_at_the_students_files_with_readable_titles(workspace):
    # as if the workflow turned the check's annotations on: where would they go?
    run = check_run(privileged_and_broken(), workspace, check_annotations="true")
    got = {a.title: (a.path, a.line) for a in run.annotations}
    assert got["dockerfile.builder_tests"] == ("Dockerfile.prod", 25)
    assert got["runtime.up"] == ("Dockerfile.prod", 25)
    assert got["compose.web_prod"] == ("docker-compose.prod.yml", 9)
    for a in run.annotations:
        assert not a.path.startswith("autograde"), a  # never the grader's own source
        assert a.title.count(".") == 1, a.title  # `dockerfile.builder_tests`, not doubled
    assert {a.message.split(":")[0] for a in run.annotations} >= {"lost 10 of 10 points", "lost 15 of 15 points"}


def test_the_workflow_turns_the_checks_own_annotations_off(workspace):
    """The grader annotates lost checks itself (title, hint, points); the check adds none."""
    assert check_run(privileged_and_broken(), workspace).annotations == []


def test_the_old_classname_led_to_the_graders_source(workspace):
    """Why the classname is not `autograde.<group>`: the action falls back to it for the file."""
    assert resolve_file_and_line(None, None, "autograde.dockerfile", "") == ("dockerfile", 1)
    from .junit_action import resolve_path

    assert resolve_path(str(workspace), "dockerfile", ["/build/", "/__pycache__/"]) == "autograde/model/dockerfile.py"
    assert resolve_path(str(workspace), junit.CLASSNAME, ["/build/", "/__pycache__/"]) == junit.CLASSNAME


def test_check_summary_is_one_line_with_the_points():
    text = junit.check_summary(privileged_and_broken())
    assert "\n" not in text and text.startswith("Points 15/75")
    assert "Fix first: Dockerfile.prod:25" in text
