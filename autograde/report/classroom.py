"""GitHub Classroom: step outputs for classroom-resources/autograding-grading-reporter@v1,
and the two notices the Classroom dashboard reads.

Wiring: ONE RUNNER PER CHECK, each with ONE test and max_score = that check's points,
exactly like the official autograding-command-grader (src/main.js, generateResult: one
test, score = max_score if pass else 0). Why: the reporter computes a grade twice,
  - its console table (src/helpers/test-helpers.js getTestScore, used by
    src/aggregate-results.js and src/console-results.js): per runner,
    (tests with status "pass" / number of tests) * max_score;
  - its Classroom notices (src/notify-classroom.js): sum over runners with a non-zero
    max_score of every tests[].score, out of the sum of max_score.
With a single test per runner whose score is max_score when it passes and 0 otherwise,
both equal results.total out of results.possible. (A check with a partial score, which
the rubric does not produce, is spread over max_score one-point tests so the two still
agree.)

Runner ids are the check ids without non-alphanumerics (`dockerfile.stages` ->
`dockerfilestages`): the reporter reads env `<RUNNER.toUpperCase()>_RESULTS` and its
error path expects runners matching ^([a-zA-Z0-9]+,)*[a-zA-Z0-9]+$.

The reporter prints test names, error messages and test_code to its own log, where no
Fence of ours applies, so every string in the payload is `neutralize`d.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from typing import Any

from autograde.report.github import command, neutralize
from autograde.results import CheckResult, GradingResults
from autograde.rubric import RubricItem

PAYLOAD_VERSION = 1
MESSAGE_MAX = 1000


def runner_id(check_id: str) -> str:
    return re.sub(r"[^a-z0-9]", "", check_id.lower()) or "check"


def runners_of(items: tuple[RubricItem, ...]) -> tuple[str, ...]:
    """The runners of a rubric, in order: the workflow's reporter step lists these."""
    return tuple(runner_id(i.id) for i in items)


def default_runners() -> tuple[str, ...]:
    from autograde.checks import default_items

    return runners_of(default_items())


def _clip(text: str, limit: int = MESSAGE_MAX) -> str:
    text = neutralize(text.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _checks(results: GradingResults) -> list[CheckResult]:
    """The checks to report; when grading stopped before any check, the rubric's checks,
    all errored, so Classroom still gets a max_score and a non-empty tests list."""
    if results.checks:
        return list(results.checks)
    reason = results.error or "grading stopped before any check ran"
    rows = results.rubric.get("checks")  # the rubric in effect, an instructor's override included
    if not rows:
        from autograde.checks import default_items

        points = results.grader.get("points") or {}
        rows = [{"id": i.id, "name": i.name, "points": points.get(i.id, i.points)} for i in default_items()]
    return [
        CheckResult(
            id=str(r["id"]),
            name=str(r["name"]),
            status="error",
            score=0,
            max_score=int(r["points"]),
            message=f"not graded: {reason}",
            bonus=bool(r.get("bonus", False)),
        )
        for r in rows
    ]


def _test_status(check: CheckResult, error: str | None) -> str:
    if check.status == "error":
        return "error"
    if check.max_score > 0:
        passed = check.score >= check.max_score
    else:
        passed = check.status == "pass"
    if passed:
        return "pass"
    return "error" if error and check.status == "skip" else "fail"


def runner_payload(check: CheckResult, error: str | None = None) -> dict[str, Any]:
    status = _test_status(check, error)
    message = check.message
    if check.status == "skip":
        message = f"skipped: {message}"
    if status == "error" and error and error not in message:
        message = f"{message} (grading error: {error})"
    detail = message if status == "pass" else "\n".join(x for x in (message, check.hint and "Hint: " + check.hint) if x)
    base = {
        "name": _clip(f"{check.id}: {check.name}", 200),
        "message": _clip(message),
        "test_code": "" if status == "pass" else _clip(detail),
        "filename": neutralize(check.file or ""),
        "line_no": int(check.line or 0),
        "duration": round(check.duration_s * 1000),
    }
    if check.bonus:  # worth nothing on its own runner (the notice skips it); its points travel in a host runner
        test = {**base, "status": status, "score": 0}
        return {"version": PAYLOAD_VERSION, "status": status, "max_score": 0, "tests": [test]}
    score = max(0, min(int(check.score), int(check.max_score)))
    if status == "pass" or score in (0, check.max_score):
        tests = [{**base, "status": status, "score": check.max_score if status == "pass" else 0}]
    else:  # partial credit: one-point tests, `score` of them passing
        tests = [
            {
                **base,
                "name": _clip(f"{check.id}: point {k + 1} of {check.max_score}", 200),
                "status": "pass" if k < score else status,
                "score": 1 if k < score else 0,
            }
            for k in range(check.max_score)
        ]
    runner_status = "pass" if all(t["status"] == "pass" for t in tests) else status
    return {"version": PAYLOAD_VERSION, "status": runner_status, "max_score": int(check.max_score), "tests": tests}


def runner_results(results: GradingResults) -> dict[str, dict[str, Any]]:
    """{runner id: payload}, in check order; ids are made unique if two checks collide."""
    out: dict[str, dict[str, Any]] = {}
    checks = _checks(results)
    for check in checks:
        rid, n = runner_id(check.id), 2
        while rid in out:
            rid, n = f"{runner_id(check.id)}{n}", n + 1
        out[rid] = runner_payload(check, results.error)
    _carry_bonus(out, checks)
    return out


def _carry_bonus(runners: dict[str, dict[str, Any]], checks: list[CheckResult]) -> None:
    """A passed bonus check's points ride as one more passing test in a runner that counts (the
    notice sums the tests of runners with a max_score, uncapped): the first such runner that passed,
    so its console line stays (2/2 x max_score); if none passed, the first that counts."""
    earned = [c for c in checks if c.bonus and c.status == "pass" and c.score > 0]
    counting = [p for p in runners.values() if p["max_score"] > 0]
    if not earned or not counting:
        return
    host = next((p for p in counting if p["status"] == "pass"), counting[0])
    for c in earned:
        host["tests"].append(
            {
                "name": _clip(f"bonus {c.id}: {c.name}", 200),
                "status": "pass",
                "message": _clip(f"bonus: +{c.score} ({c.message})"),
                "test_code": "",
                "filename": neutralize(c.file or ""),
                "line_no": int(c.line or 0),
                "duration": 0,
                "score": int(c.score),
            }
        )


def encode(payload: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(payload, ensure_ascii=False).encode("utf-8")).decode("ascii")


def single_runner_payload(results: GradingResults) -> dict[str, Any]:
    """Every check as one test of a single runner (`runners: autograde`, env AUTOGRADE_RESULTS).

    The reporter's notice sums these tests' scores, so the dashboard is right; its console
    table, however, shows (passed tests / all tests) x max_score, which differs when checks
    of unequal points fail. That is why the default workflow uses one runner per check."""
    runners = runner_results(results).values()
    tests = [t for p in runners for t in p["tests"]]
    statuses = {p["status"] for p in runners}
    status = "fail" if "fail" in statuses else "error" if "error" in statuses else "pass"
    return {
        "version": PAYLOAD_VERSION,
        "status": status,
        "max_score": sum(p["max_score"] for p in runners),
        "tests": tests,
    }


def step_outputs(results: GradingResults) -> dict[str, str]:
    runners = runner_results(results)
    outputs = {rid: encode(payload) for rid, payload in runners.items()}
    outputs["result"] = encode(single_runner_payload(results))
    total = sum(t["score"] for p in runners.values() for t in p["tests"])
    possible = sum(p["max_score"] for p in runners.values())
    outputs.update(runners=",".join(runners), points=f"{total}/{possible}", total=str(total), possible=str(possible))
    from autograde.report import junit

    outputs["check_summary"] = junit.check_summary(results)  # the Autograde check's summary line
    return outputs


def _output_block(name: str, value: str) -> str:
    """`name<<DELIM\\nvalue\\nDELIM\\n`, as @actions/core prepareKeyValueMessage writes it."""
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    if delimiter in name or delimiter in value:  # pragma: no cover - a random uuid
        raise ValueError("output value contains its delimiter")
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def write_step_outputs(results: GradingResults, path: str) -> None:
    """Append the reporter's inputs to the $GITHUB_OUTPUT file: one output per runner (base64
    JSON), `runners` (comma-separated ids), `result` (all checks as one runner, base64 JSON)
    and `points`/`total`/`possible`."""
    text = "".join(_output_block(k, v) for k, v in step_outputs(results).items())
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


def notices(results: GradingResults) -> list[str]:
    """The two notices the Classroom dashboard reads (as notify-classroom.js prints them)."""
    runners = runner_results(results).values()
    total = sum(t["score"] for p in runners if p["max_score"] for t in p["tests"])
    possible = sum(p["max_score"] for p in runners)
    report = json.dumps({"totalPoints": total, "maxPoints": possible}, separators=(",", ":"))
    return [
        command("notice", f"Points {total}/{possible}", title="Autograding complete"),
        command("notice", report, title="Autograding report"),
    ]
