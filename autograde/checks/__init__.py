"""The registry: every check registers itself with `@check` in its module; importing them fills it.

The modules are imported in rubric order, and within a module the checks are declared in rubric
order: that order is the rubric's.
"""

from __future__ import annotations

import time

from autograde.checks import compose as _compose  # noqa: F401  (registers the compose checks)
from autograde.checks import dockerfile as _dockerfile  # noqa: F401
from autograde.checks import images as _images  # noqa: F401
from autograde.checks import runtime as _runtime  # noqa: F401
from autograde.checks.base import REGISTRY, Context, Outcome, errored
from autograde.results import CheckResult
from autograde.rubric import RubricItem

ORDER = ("dockerfile.", "compose.", "runtime.", "images.")


def default_items() -> tuple[RubricItem, ...]:
    """The default rubric, as the checks declare it."""
    specs = sorted(REGISTRY.values(), key=lambda s: next(i for i, p in enumerate(ORDER) if s.item.id.startswith(p)))
    return tuple(s.item for s in specs)


def run_check(check_id: str, ctx: Context) -> CheckResult:
    start = time.perf_counter()
    spec = REGISTRY[check_id]
    try:
        given = [need(ctx) for need in spec.needs]
        missing = next((g for g in given if isinstance(g, Outcome)), None)
        outcome = missing if missing is not None else spec.fn(ctx, *given)
    except Exception as e:  # a grader bug must not cost the student points silently
        outcome = errored(
            f"the grader failed while checking this ({type(e).__name__}: {e})",
            "This is a fault of the grader, not of your files; tell your instructor.",
        )
    facts = ctx.facts
    if facts is not None and (facts.interrupted or facts.engine_lost) and outcome.status not in ("pass", "error"):
        # cut short, not judged: a run that was interrupted or lost its engine says nothing about the files
        why = "grading was interrupted" if facts.interrupted else f"the Docker engine went away ({facts.engine_lost})"
        outcome = outcome._replace(
            status="error",
            message=f"not finished: {why} ({outcome.message})",
            hint="Grade again; a run cut short says nothing about your files.",
        )
    return result_of(check_id, ctx, outcome, time.perf_counter() - start)


def result_of(check_id: str, ctx: Context, outcome: Outcome, duration: float = 0.0) -> CheckResult:
    item = ctx.rubric.item(check_id)
    return CheckResult(
        id=check_id,
        name=item.name,
        status=outcome.status,
        score=item.points if outcome.status == "pass" else 0,
        max_score=item.points,
        message=outcome.message,
        hint=outcome.hint,
        file=outcome.file,
        line=outcome.line,
        duration_s=round(duration, 4),
        log_tail=outcome.log_tail,
        places=list(outcome.places),
    )


def grade(ctx: Context, phase: str | None = None) -> list[CheckResult]:
    return [run_check(item.id, ctx) for item in ctx.rubric.items if phase is None or item.phase == phase]
