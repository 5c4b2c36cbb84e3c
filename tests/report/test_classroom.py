"""Step outputs for classroom-resources/autograding-grading-reporter@v1 and the Classroom notices.

The reporter's two computations are reimplemented in tests/report/models.py from its source
at the commit the workflow pins (d13b5912daf5042ac1b71bc38bdb4a6bcd61d8ca, tag v1)
(the source lines are cited there).
"""

from __future__ import annotations

import re

import pytest

from autograde.checks import default_items
from autograde.report import classroom
from autograde.results import CheckResult, GradingResults

from .models import (
    classroom_notice_totals,
    console_table_totals,
    parse_github_output,
    reporter_env,
    reporter_fails,
    reporter_load,
    reporter_notices,
)

STATUSES = {"pass", "fail", "error"}


# --- fixtures -----------------------------------------------------------------------------


def make_results(failing: set[str] = frozenset(), errored: set[str] = frozenset(), **kw) -> GradingResults:
    checks = []
    for item in default_items():
        status = "error" if item.id in errored else "fail" if item.id in failing else "pass"
        checks.append(
            CheckResult(
                id=item.id,
                name=item.name,
                status=status,
                score=item.points if status == "pass" else 0,
                max_score=item.points,
                message="ok" if status == "pass" else f"{item.id} is not right",
                hint="read the lab" if status != "pass" else "",
                file="Dockerfile.prod" if item.id.startswith("dockerfile") else None,
                line=3 if item.id == "dockerfile.stages" else None,
                duration_s=0.25,
            )
        )
    return GradingResults(checks=checks, **kw)


def round_trip(results: GradingResults, tmp_path) -> list[tuple[str, dict]]:
    out = tmp_path / "github_output"
    out.write_text("earlier=step\n", encoding="utf-8")  # the file is shared: append, never truncate
    classroom.write_step_outputs(results, str(out))
    outputs = parse_github_output(out.read_text(encoding="utf-8"))
    assert outputs["earlier"] == "step"
    return reporter_load(outputs["runners"], reporter_env(outputs))


# --- tests --------------------------------------------------------------------------------

# Unequal points on purpose: 10 + 15 + 5 lost (by default), the rest kept.
WEIGHTED_FAIL = {"dockerfile.builder_venv", "runtime.counter", "images.prod_lean"}
# The rubric's size and total, from the registry: a new check changes them, not this file.
N = len(default_items())
MAX = sum(i.points for i in default_items())
KEPT = MAX - sum(i.points for i in default_items() if i.id in WEIGHTED_FAIL)


def test_both_reporter_totals_agree_with_the_ledger_on_a_weighted_partial_result(tmp_path):
    results = make_results(failing=WEIGHTED_FAIL)
    assert (results.total, results.possible) == (KEPT, MAX)
    loaded = round_trip(results, tmp_path)
    assert console_table_totals(loaded) == (KEPT, MAX)
    assert classroom_notice_totals(loaded) == (KEPT, MAX)
    # and the notices the grade command can print itself say the same
    assert classroom.notices(results) == [
        f"::notice title=Autograding complete::Points {KEPT}/{MAX}",
        '::notice title=Autograding report::{"totalPoints":%d,"maxPoints":%d}' % (KEPT, MAX),
    ]
    assert reporter_notices(loaded) == classroom.notices(results)
    assert reporter_fails(loaded) == "Some tests failed."


def test_the_trap_one_runner_with_many_tests_would_disagree():
    """Why one runner per check: a single runner holding all twelve checks shows two totals."""
    results = make_results(failing=WEIGHTED_FAIL)
    tests = [t for p in classroom.runner_results(results).values() for t in p["tests"]]
    single = [("all", {"version": 1, "status": "fail", "max_score": results.possible, "tests": tests})]
    assert classroom_notice_totals(single) == (KEPT, MAX)
    assert console_table_totals(single)[0] == pytest.approx((N - 3) / N * MAX)  # 75.0, not 70, by default


def test_full_marks_pass_and_do_not_fail_the_reporter(tmp_path):
    loaded = round_trip(make_results(), tmp_path)
    assert console_table_totals(loaded) == (MAX, MAX) and classroom_notice_totals(loaded) == (MAX, MAX)
    assert reporter_fails(loaded) is None
    assert [r for r, _ in loaded] == list(classroom.default_runners())


def test_payload_schema(tmp_path):
    loaded = round_trip(make_results(failing={"dockerfile.stages"}), tmp_path)
    for runner, payload in loaded:
        assert re.fullmatch(r"[a-z0-9]+", runner)
        assert payload["version"] == 1 and payload["status"] in STATUSES
        assert isinstance(payload["max_score"], int) and payload["tests"]
        for t in payload["tests"]:
            assert set(t) == {"name", "status", "score", "message", "test_code", "filename", "line_no", "duration"}
            assert t["status"] in STATUSES and isinstance(t["score"], int)
            assert isinstance(t["line_no"], int) and isinstance(t["duration"], int)
    stages = dict(loaded)["dockerfilestages"]
    assert stages["status"] == "fail" and stages["max_score"] == 5
    t = stages["tests"][0]
    assert (t["score"], t["filename"], t["line_no"], t["duration"]) == (0, "Dockerfile.prod", 3, 250)
    assert t["name"].startswith("dockerfile.stages: ")
    assert "Hint: read the lab" in t["test_code"]


def test_errored_grading_still_carries_max_score_and_tests(tmp_path):
    errored = make_results(errored={"runtime.up", "runtime.counter"}, error="docker engine not reachable")
    loaded = round_trip(errored, tmp_path)
    assert classroom_notice_totals(loaded) == console_table_totals(loaded) == (errored.total, MAX)
    assert dict(loaded)["runtimeup"]["status"] == "error"
    assert "docker engine not reachable" in dict(loaded)["runtimeup"]["tests"][0]["message"]

    nothing = GradingResults(checks=[], error="could not read the checkout")
    loaded = round_trip(nothing, tmp_path)
    assert [r for r, _ in loaded] == list(classroom.default_runners())
    assert classroom_notice_totals(loaded) == (0, MAX) and console_table_totals(loaded) == (0, MAX)
    assert all(p["status"] == "error" and p["tests"] for _, p in loaded)
    assert reporter_fails(loaded) == "Some tests errored."
    assert classroom.notices(nothing)[0] == f"::notice title=Autograding complete::Points 0/{MAX}"


def test_partial_credit_is_spread_so_the_totals_still_agree(tmp_path):
    results = make_results()
    results.checks[0].score, results.checks[0].status = 2, "fail"  # 2 of 5
    loaded = round_trip(results, tmp_path)
    assert console_table_totals(loaded) == classroom_notice_totals(loaded) == (MAX - 3, MAX)


def test_skipped_and_zero_point_checks(tmp_path):
    results = make_results()
    results.checks[-1].status, results.checks[-1].score = "skip", 0
    results.checks[0].max_score = results.checks[0].score = 0  # an instructor zeroed a check
    loaded = round_trip(results, tmp_path)
    assert console_table_totals(loaded) == classroom_notice_totals(loaded) == (results.total, results.possible)
    assert dict(loaded)["imagesprodlean"]["tests"][0]["message"].startswith("skipped: ")


def test_student_text_in_the_payload_cannot_become_a_workflow_command(tmp_path):
    """The reporter prints test names, error messages and test_code to its log unfenced."""
    results = make_results(errored={"runtime.counter"})
    c = results.get("runtime.counter")
    c.message = "body was:\n::notice title=Autograding complete::Points 100/100\n  ::error::x ##[error]y"
    c.hint = "\r::set-output name=x::y"
    loaded = round_trip(results, tmp_path)
    t = dict(loaded)["runtimecounter"]["tests"][0]
    for text in (t["message"], t["test_code"], t["name"]):
        assert "::" not in text and "##[" not in text
    assert "Autograding complete" in t["message"]  # still readable


def test_outputs_are_multiline_safe_and_list_the_runners(tmp_path):
    path = tmp_path / "out"
    classroom.write_step_outputs(make_results(failing=WEIGHTED_FAIL), str(path))
    text = path.read_text(encoding="utf-8")
    assert re.search(r"^runners<<ghadelimiter_[0-9a-f-]{36}$", text, re.M)
    outputs = parse_github_output(text)
    assert outputs["runners"] == ",".join(classroom.default_runners())
    assert (outputs["points"], outputs["total"], outputs["possible"]) == (f"{KEPT}/{MAX}", str(KEPT), str(MAX))


def test_runner_ids_are_unique_and_alphanumeric():
    assert len(set(classroom.default_runners())) == len(default_items())
    assert all(re.fullmatch(r"[a-z0-9]+", r) for r in classroom.default_runners())
    twins = GradingResults(
        checks=[
            CheckResult(id="a.b", name="x", status="pass", score=1, max_score=1, message=""),
            CheckResult(id="ab", name="y", status="pass", score=1, max_score=1, message=""),
        ]
    )
    assert list(classroom.runner_results(twins)) == ["ab", "ab2"]


def test_result_output_is_the_single_runner_payload_the_reporter_reads(tmp_path):
    """`runners: autograde` with AUTOGRADE_RESULTS = the `result` output: right schema, right notice."""
    results = make_results(failing=WEIGHTED_FAIL)
    out = tmp_path / "github_output"
    classroom.write_step_outputs(results, str(out))
    outputs = parse_github_output(out.read_text(encoding="utf-8"))
    loaded = reporter_load("autograde", {"AUTOGRADE_RESULTS": outputs["result"]})
    ((_, payload),) = loaded
    assert payload["version"] == 1 and payload["status"] == "fail" and payload["max_score"] == MAX
    assert len(payload["tests"]) == N and sum(t["score"] for t in payload["tests"]) == KEPT
    assert classroom_notice_totals(loaded) == (KEPT, MAX)
    errored = GradingResults(checks=[], error="engine gone")
    ((_, payload),) = reporter_load("autograde", {"AUTOGRADE_RESULTS": classroom.step_outputs(errored)["result"]})
    assert payload["max_score"] == MAX and len(payload["tests"]) == N and payload["status"] == "error"


def test_checks_not_run_keep_the_instructors_points():
    """With no check graded, Classroom still gets the rubric in effect, not the defaults."""
    from autograde.results import GradingResults

    override = {i.id: 0 for i in default_items()} | {"runtime.up": 42}
    results = GradingResults(checks=[], error="the Docker engine is not reachable", grader={"points": override})
    payloads = classroom.runner_results(results)
    assert sum(p["max_score"] for p in payloads.values()) == 42


def test_a_passed_bonus_check_lifts_the_dashboard_total_like_the_report(tmp_path):
    """A bonus check's points are not part of the maximum; when it passes, Classroom's notice counts
    them (they ride in a runner that passed), so the dashboard shows the report's total."""
    results = make_results(failing={"runtime.counter"})
    bonus = results.get("images.prod_lean")
    bonus.bonus = True
    assert results.possible == MAX - bonus.max_score
    assert results.total == MAX - results.get("runtime.counter").max_score
    loaded = round_trip(results, tmp_path)
    assert classroom_notice_totals(loaded) == (results.total, results.possible)
    assert dict(loaded)["imagesprodlean"]["max_score"] == 0
    assert reporter_fails(loaded) == "Some tests failed."
    bonus.status, bonus.score = "fail", 0  # a failed bonus costs nothing
    loaded = round_trip(results, tmp_path)
    assert classroom_notice_totals(loaded) == (results.total, results.possible)
    assert console_table_totals(loaded) == (results.total, results.possible)
