from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from autograde.checks import load_rubric
from autograde.rubric import RubricError


def test_override_points_and_threshold(tmp_path):
    f = tmp_path / "r.yml"
    f.write_text("points:\n  images.size_ratio: 20\nthresholds:\n  size_ratio_max: 0.4\n")
    r = load_rubric(f)
    assert r.item("images.size_ratio").points == 20 and r.possible == load_rubric().possible + 5
    assert r.thresholds["size_ratio_max"] == 0.4


@pytest.mark.parametrize(
    "text, words",
    [
        ("points:\n  images.size_ration: 3\n", "did you mean 'images.size_ratio'"),
        ("points:\n  runtime.up: -1\n", "whole number >= 0"),
        ("points:\n  runtime.up: 2.5\n", "whole number >= 0"),
        ("thresholds:\n  size_ratio_max: 3\n", "in (0, 1]"),
        ("pointz: {}\n", "did you mean 'points'"),
        ("- a\n", "must be a mapping"),
        ("points: [\n", "not valid YAML"),
    ],
)
def test_bad_rubric_files_are_refused_clearly(tmp_path, text, words):
    f = tmp_path / "r.yml"
    f.write_text(text)
    with pytest.raises(RubricError, match=None) as e:
        load_rubric(f)
    assert words in str(e.value) and str(f) in str(e.value)


@pytest.mark.slow
def test_cli_reports_a_bad_rubric_without_traceback(tmp_path):
    f = tmp_path / "r.yml"
    f.write_text("points:\n  nope: 1\n")
    for verb in (["rubric"], ["grade", str(tmp_path), "--static-only"]):
        p = subprocess.run(
            [sys.executable, "-m", "autograde", *verb, "--rubric", str(f)], capture_output=True, text=True
        )
        assert p.returncode == 2 and "unknown check id 'nope'" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.slow
def test_thresholds_in_effect_are_written_into_passes_when(tmp_path):
    """`autograde rubric` shows the limit an instructor set, not a placeholder or the default."""
    f = tmp_path / "r.yml"
    f.write_text("thresholds:\n  size_ratio_max: 0.4\n")
    text = subprocess.run(
        [sys.executable, "-m", "autograde", "rubric", "--rubric", str(f)], capture_output=True, text=True, check=True
    ).stdout
    assert "prod image size <= 0.4 x dev image size" in text and "{" not in text
    as_json = subprocess.run(
        [sys.executable, "-m", "autograde", "rubric", "--rubric", str(f), "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    check = next(c for c in json.loads(as_json)["checks"] if c["id"] == "images.size_ratio")
    assert check["passes_when"] == "prod image size <= 0.4 x dev image size"
    default = load_rubric(None)
    assert default.passes_when(default.item("images.size_ratio")) == "prod image size <= 0.5 x dev image size"


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("points:\n  runtime.up: 10\n  images.size_ration: 3\n", 3, "did you mean 'images.size_ratio'"),
        ("thresholds:\n\n  size_ratio_max: 3\n", 3, "in (0, 1]"),
        ("points: {}\nbonus:\n  - runtime.up\n  - nope\n", 4, "unknown check id 'nope' under bonus"),
        ("points:\n  runtime.up: [1\n", 3, "not valid YAML"),
        ("# comment\npointz: {}\n", 2, "did you mean 'points'"),
    ],
)
def test_rubric_errors_name_their_line(text, line, words):
    with pytest.raises(RubricError) as e:
        load_rubric(text=text, source="env AUTOGRADE_RUBRIC")
    assert str(e.value).startswith(f"env AUTOGRADE_RUBRIC:{line}: ") and words in str(e.value), str(e.value)


def test_zero_drops_a_check_and_bonus_is_extra():
    default = load_rubric()
    r = load_rubric(text="points:\n  dockerfile.builder_tests: 0\n  images.prod_lean: 8\nbonus: [images.prod_lean]\n")
    ids = [i.id for i in r.items]
    assert "dockerfile.builder_tests" not in ids and len(ids) == len(default.items) - 1
    lean = default.item("images.prod_lean").points
    assert r.possible == default.possible - default.item("dockerfile.builder_tests").points - lean
    assert r.item("images.prod_lean").bonus and r.bonus_points == 8
    assert r.fingerprint() != default.fingerprint()
    assert load_rubric(text="points: {}\n").fingerprint() == default.fingerprint()  # the same rubric, spelled out


def _grade(tmp_path, env_rubric: str | None, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    from support import REPO, make_checkout

    root = make_checkout(tmp_path / "sub")
    (root / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(REPO / ".github" / "workflows" / "classroom.yml", root / ".github" / "workflows")
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADE_RUBRIC" and not k.startswith("GITHUB_")}
    if env_rubric is not None:
        env["AUTOGRADE_RUBRIC"] = env_rubric
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    env |= {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(out / "o"), "GITHUB_STEP_SUMMARY": str(out / "s")}
    p = subprocess.run(
        [
            *(sys.executable, "-m", "autograde", "grade", str(root), "--static-only", "--classroom"),
            *("--classroom-notice", "--json", str(out / "r.json"), "--junit", str(out / "r.xml"), *extra),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    return p, json.loads((out / "r.json").read_text())


@pytest.mark.slow
def test_a_rubric_in_the_environment_changes_every_total_alike(tmp_path):
    """AUTOGRADE_RUBRIC (the workflow passes vars.AUTOGRADE_RUBRIC): console, JSON, JUnit, summary and
    the Classroom notice all show the instructor's total."""
    from junitparser import JUnitXml

    text = "points:\n  dockerfile.stages: 25\n  compose.web_build: 0\nbonus:\n  - compose.services\n"
    p, report = _grade(tmp_path, text)
    rubric = load_rubric(text=text)
    static = [i for i in rubric.items if i.phase == "static"]
    total = sum(i.points for i in static)
    possible = rubric.possible
    assert (report["score"], report["max_score"]) == (total, possible), p.stdout
    assert report["rubric"]["source"] == "env AUTOGRADE_RUBRIC"
    assert report["rubric"]["fingerprint"] == rubric.fingerprint() == report["grader"]["rubric_fingerprint"]
    assert "compose.web_build" not in [c["id"] for c in report["checks"]]
    assert next(c for c in report["checks"] if c["id"] == "compose.services")["bonus"] is True
    assert f"Total: {total}/{possible}" in p.stdout
    assert f"Points {total}/{possible}" in p.stdout  # the notices
    suite = next(iter(JUnitXml.fromfile(str(tmp_path / "out" / "r.xml"))))
    props = {q.name: q.value for q in suite.properties()}
    assert (props["score"], props["max_score"]) == (str(total), str(possible))
    assert f"{total} / {possible} points" in (tmp_path / "out" / "s").read_text()
    # the workflow in the checkout lists compose.web_build's runner, which this rubric does not grade
    assert "does not match the rubric in effect" in (tmp_path / "out" / "s").read_text()
    assert report["grader"]["workflow_mismatch"] == {"missing": [], "extra": ["composewebbuild"]}


def test_a_bad_rubric_in_the_environment_is_refused_with_its_line(tmp_path):
    env = {**os.environ, "AUTOGRADE_RUBRIC": "points:\n  runtime.up: -3\n"}
    p = subprocess.run([sys.executable, "-m", "autograde", "rubric"], capture_output=True, text=True, env=env)
    assert p.returncode == 2 and "env AUTOGRADE_RUBRIC:2: points for runtime.up" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr


def test_the_instructors_guide_example_is_a_valid_rubric():
    """docs/instructors.md's example rubric loads (with the example plugin's check declared)."""
    import re

    from autograde.checks import default_items
    from autograde.rubric import RubricItem, parse_rubric
    from support import REPO

    text = (REPO / "docs" / "instructors.md").read_text(encoding="utf-8")
    block = re.search(r"## Your rubric\n.*?```yaml\n(.*?)```", text, re.S)
    assert block, "docs/instructors.md lost its example rubric"
    plugin = RubricItem("nonroot.final_user", "non-root", 5, "-", "static", "USER is not root")
    from autograde.checks import default_rubric

    thresholds = default_rubric().thresholds  # the lab's own (LAB04's size_ratio_max)
    r = parse_rubric(block.group(1), "docs/instructors.md", (*default_items(), plugin), thresholds=thresholds)
    assert r.item("images.size_ratio").points == 20 and r.thresholds["size_ratio_max"] == 0.4
    assert "dockerfile.builder_tests" not in [i.id for i in r.items] and r.item("nonroot.final_user").bonus


def test_a_failed_bonus_check_loses_nothing_in_junit_or_annotations():
    from autograde.report import junit
    from autograde.results import CheckResult

    bonus = CheckResult("x.bonus", "Bonus", "fail", 0, 5, "not done", bonus=True)
    plain = CheckResult("x.plain", "Plain", "fail", 0, 5, "not done")
    assert junit.outcome(bonus) == "skipped" and junit.outcome(plain) == "failure"
    from autograde.report import github
    from autograde.results import GradingResults

    bonus.file = plain.file = "Dockerfile.prod"
    results = GradingResults(checks=[plain, bonus])
    assert (results.total, results.possible) == (0, 5)
    assert [line for line in github.annotation_lines(results) if "x.bonus" in line] == []
    assert "x.bonus" not in junit.check_summary(results) and "`x.plain` 5" in junit.check_summary(results)
