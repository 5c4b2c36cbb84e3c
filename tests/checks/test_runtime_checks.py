"""Runtime checks graded from plain facts (what a session saw): every verdict they can give."""

from __future__ import annotations

import pytest

from autograde.checks import default_rubric, run_check
from autograde.checks.base import Context
from autograde.model import load_submission
from autograde.rubric import Rubric
from autograde.runtime.facts import BuildFacts, CounterFacts, Facts, HttpAnswer, LeanFacts, ServiceFacts, UpFacts
from support import make_checkout, solution_files

URL = "http://localhost:5005/"
SOLUTION = solution_files()


def ok(count: int) -> HttpAnswer:
    return HttpAnswer(200, f"Hello from Docker! This page has been viewed {count} times.", "", count)


def good_facts() -> Facts:
    return Facts(
        host_port=5005,
        prod_build=BuildFacts(True, 7.0, "sha256:p", "p:graded", 200_000_000),
        dev_build=BuildFacts(True, 3.0, "sha256:d", "d:graded", 600_000_000),
        up=UpFacts(True, "", [ServiceFacts("web_prod", "running"), ServiceFacts("redis_prod", "running")]),
        counter=CounterFacts(URL, ok(4), ok(5), "5", "", ok(6)),
        lean=LeanFacts("python", True, False, []),
    )


@pytest.fixture(scope="module")
def submission(tmp_path_factory):
    return load_submission(make_checkout(tmp_path_factory.mktemp("c")))


def grade(submission, check_id: str, facts: Facts | None, rubric: Rubric | None = None):
    return run_check(check_id, Context(submission, rubric or default_rubric(), facts))


RUNTIME = ["dockerfile.builder_tests", "runtime.up", "runtime.counter", "images.size_ratio", "images.prod_lean"]


@pytest.mark.parametrize("check_id", RUNTIME)
def test_all_good_facts_pass(submission, check_id):
    r = grade(submission, check_id, good_facts())
    assert r.status == "pass" and r.score == r.max_score, r.message


@pytest.mark.parametrize("check_id", RUNTIME)
def test_preconditions(submission, check_id):
    assert grade(submission, check_id, None).status == "skip"
    assert grade(submission, check_id, Facts(refused="refused to run: privileged")).status == "skip"
    engine = grade(submission, check_id, Facts(error="the Docker engine is not reachable", error_hint="start it"))
    assert engine.status == "error"  # the machine's trouble is never the student's loss
    assert engine.score == 0


def counter_with(**changes) -> Facts:
    facts = good_facts()
    for key, value in changes.items():
        setattr(facts.counter, key, value)
    return facts


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"first": HttpAnswer(None, "", "connection refused")}, "no answer (connection refused)"),
        ({"first": HttpAnswer(500, "Internal Server Error")}, "HTTP 500"),
        ({"second": HttpAnswer(200, "no number here", "", None)}, "without a hit count"),
        ({"second": ok(4)}, "counted 4 then 4, not 4 then 5"),
        ({"second": ok(7)}, "counted 4 then 7"),
        ({"redis_value": "1"}, "Redis in redis_prod says GET hits = '1'"),
        ({"redis_value": None, "redis_error": "redis_prod is not running"}, "redis_prod is not running"),
        ({"after_restart": ok(1)}, "after a restart of web_prod the count was 1, expected 6"),
        ({"after_restart": HttpAnswer(None, "", "timed out"), "restart_error": ""}, "after restarting web_prod"),
    ],
)
def test_counter_failures(submission, changes, words):
    r = grade(submission, "runtime.counter", counter_with(**changes))
    assert r.status == "fail" and words in r.message, r.message
    assert r.hint


def test_counter_skips_when_the_stack_is_down(submission):
    facts = good_facts()
    facts.up = UpFacts(
        False,
        "not every service is running",
        [ServiceFacts("web_prod", "exited", 1, "Traceback (most recent call last):\n  ...\nValueError: boom\n\n")],
    )
    assert grade(submission, "runtime.counter", facts).status == "skip"
    up = grade(submission, "runtime.up", facts)
    assert up.status == "fail" and "web_prod is exited (exit code 1)" in up.message and "boom" in up.log_tail
    assert up.message.endswith('; its last log line: "ValueError: boom"'), up.message


def test_up_fails_on_build_failure_with_log(submission):
    facts = good_facts()
    facts.prod_build = BuildFacts(
        False,
        3.0,
        error="failed to solve: exit code: 1",
        failed_step="RUN python -m venv /opt/venv  && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt",
        output_tail="pip: boom",
    )
    r = grade(submission, "runtime.up", facts)
    assert r.status == "fail" and r.file == "Dockerfile.prod" and r.line and r.log_tail == "pip: boom"
    assert grade(submission, "images.size_ratio", facts).status == "skip"
    assert grade(submission, "images.prod_lean", facts).status == "skip"
    assert grade(submission, "dockerfile.builder_tests", facts).status == "skip"


def test_build_timeout_is_named(submission):
    facts = good_facts()
    facts.prod_build = BuildFacts(False, 20.0, timed_out=True)
    r = grade(submission, "runtime.up", facts)
    assert r.status == "fail" and "did not finish within 20 s" in r.message


def test_failing_tests_in_the_build_fail_builder_tests(submission):
    assert (
        "RUN pip install --no-cache-dir -r requirements-dev.txt \\\n && python -m pytest -q tests/"
        in SOLUTION["Dockerfile.prod"]
    )
    facts = good_facts()
    facts.prod_build = BuildFacts(
        False,
        3.0,
        error="exit code: 1",
        failed_step="RUN pip install --no-cache-dir -r requirements-dev.txt  && python -m pytest -q tests/",
        output_tail="1 failed",
    )
    r = grade(submission, "dockerfile.builder_tests", facts)
    assert r.status == "fail" and "tests failed" in r.message and r.log_tail == "1 failed"


@pytest.mark.parametrize(
    "prod, limit, status",
    [
        (300_000_000, None, "pass"),  # exactly 0.5
        (300_000_001, None, "fail"),
        (240_000_000, 0.4, "pass"),
        (250_000_000, 0.4, "fail"),
    ],
)
def test_size_ratio_threshold(submission, tmp_path, prod, limit, status):
    facts = good_facts()
    facts.prod_build.size_bytes = prod
    rubric = default_rubric()
    if limit is not None:
        from autograde.checks import load_rubric

        f = tmp_path / "r.yml"
        f.write_text(f"thresholds:\n  size_ratio_max: {limit}\n")
        rubric = load_rubric(f)
    r = grade(submission, "images.size_ratio", facts, rubric)
    assert r.status == status, r.message
    assert "MB / dev 600.0 MB" in r.message and f"{600 * (limit or 0.5):.1f} MB)" in r.message


def test_dev_build_failure_is_reported_not_hidden(submission):
    facts = good_facts()
    facts.dev_build = BuildFacts(False, 1.0, error="failed to solve", output_tail="x")
    r = grade(submission, "images.size_ratio", facts)
    assert r.status == "fail" and "dev image" in r.message


@pytest.mark.parametrize(
    "lean, words",
    [
        (LeanFacts("python", False, False, []), "Flask does not import"),
        (LeanFacts("python", True, True, []), "pytest is importable"),
        (LeanFacts("python", True, False, ["/usr/src/app/tests"]), "the app's tests are in the image"),
        (LeanFacts("/venv/bin/python", False, False, error="exec: not found"), "could not run"),
    ],
)
def test_prod_lean_failures(submission, lean, words):
    facts = good_facts()
    facts.lean = lean
    r = grade(submission, "images.prod_lean", facts)
    assert r.status == "fail" and words in r.message, r.message


def test_prod_lean_does_not_ask_for_a_venv(submission):
    """A system interpreter with Flask is what `final_copies` judges, not `prod_lean` (one mistake, one check)."""
    facts = good_facts()
    facts.lean = LeanFacts("python", True, False, [])
    assert grade(submission, "images.prod_lean", facts).status == "pass"


def test_interrupted_run_marks_unfinished_checks_error(submission):
    facts = Facts(interrupted=True, prod_build=BuildFacts(True, 5.0, "sha256:p", "p", 1))
    assert grade(submission, "runtime.up", facts).status == "error"
    assert grade(submission, "runtime.counter", facts).status == "error"
    assert grade(submission, "images.size_ratio", facts).status == "error"
    assert grade(submission, "images.prod_lean", facts).status == "error"


def test_a_failing_healthcheck_costs_nothing_and_names_the_missing_program(submission):
    from autograde.runtime.facts import HealthFacts

    facts = good_facts()
    facts.health = HealthFacts(["CMD-SHELL", "curl -f http://localhost:5000/"], 127, "/bin/sh: 1: curl: not found")
    r = grade(submission, "runtime.up", facts)
    assert r.status == "pass" and r.score == r.max_score
    assert "Docker marks web_prod unhealthy" in r.message and "curl is not in the prod image" in r.message
    facts.health = HealthFacts(["CMD", "python", "-c", "raise SystemExit(3)"], 3, "")
    r = grade(submission, "runtime.up", facts)
    assert r.status == "pass" and "exit code 3" in r.message and "not in the prod image" not in r.message
    facts.health = HealthFacts(["CMD", "sleep", "100"], None, "", 3.0)
    assert "did not finish within 3 s" in grade(submission, "runtime.up", facts).message
    facts.health = HealthFacts(["CMD-SHELL", "true"], 0, "")
    assert "unhealthy" not in grade(submission, "runtime.up", facts).message
