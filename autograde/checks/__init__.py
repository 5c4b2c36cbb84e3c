"""The registry: every rubric check id mapped to the function that grades it."""
from __future__ import annotations

import time

from autograde.checks import compose, dockerfile, images, runtime
from autograde.checks.base import Check, Context, Outcome, errored
from autograde.results import CheckResult

REGISTRY: dict[str, Check] = {
    "dockerfile.stages": dockerfile.stages,
    "dockerfile.builder_venv": dockerfile.builder_venv,
    "dockerfile.builder_tests": dockerfile.builder_tests,
    "dockerfile.final_slim": dockerfile.final_slim,
    "dockerfile.final_copies": dockerfile.final_copies,
    "compose.services": compose.services,
    "compose.web_prod": compose.web_prod,
    "compose.web_build": compose.web_build,
    "runtime.up": runtime.up,
    "runtime.counter": runtime.counter,
    "images.size_ratio": images.size_ratio,
    "images.prod_lean": images.prod_lean,
}


def run_check(check_id: str, ctx: Context) -> CheckResult:
    start = time.perf_counter()
    try:
        outcome = REGISTRY[check_id](ctx)
    except Exception as e:  # a grader bug must not cost the student points silently
        outcome = errored(f"the grader failed while checking this ({type(e).__name__}: {e})",
                          "This is a fault of the grader, not of your files; tell your instructor.")
    facts = ctx.facts
    if facts is not None and (facts.interrupted or facts.engine_lost) and outcome.status not in ("pass", "error"):
        # cut short, not judged: a run that was interrupted or lost its engine says nothing about the files
        why = "grading was interrupted" if facts.interrupted else f"the Docker engine went away ({facts.engine_lost})"
        outcome = outcome._replace(status="error", message=f"not finished: {why} ({outcome.message})",
                                   hint="Grade again; a run cut short says nothing about your files.")
    return result_of(check_id, ctx, outcome, time.perf_counter() - start)


def result_of(check_id: str, ctx: Context, outcome: Outcome, duration: float = 0.0) -> CheckResult:
    item = ctx.rubric.item(check_id)
    return CheckResult(
        id=check_id, name=item.name, status=outcome.status,
        score=item.points if outcome.status == "pass" else 0, max_score=item.points,
        message=outcome.message, hint=outcome.hint, file=outcome.file, line=outcome.line,
        duration_s=round(duration, 4), log_tail=outcome.log_tail,
    )


def grade(ctx: Context, phase: str | None = None) -> list[CheckResult]:
    return [run_check(item.id, ctx) for item in ctx.rubric.items if phase is None or item.phase == phase]
