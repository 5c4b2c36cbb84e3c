"""Checks of the running prod stack, graded from the session's facts."""
from __future__ import annotations

from autograde.checks.base import Context, Outcome, errored, failed, passed, skipped
from autograde.runtime.facts import BuildFacts, Facts, Response


def precondition(ctx: Context) -> Facts | Outcome:
    """The facts, or why runtime checks cannot be graded (skip: student's side; error: the grader's)."""
    facts = ctx.facts
    if facts is None:
        return skipped("not run: --static-only grades the files only")
    if facts.skipped:
        return skipped(facts.skipped)
    if facts.error:
        return errored(facts.error, facts.error_hint)
    return facts


def build_failure(ctx: Context, build: BuildFacts, what: str) -> Outcome:
    """A failed build, told with the failing instruction and a targeted hint."""
    from autograde.runtime.diagnose import explain_build

    message, hint, file, line = explain_build(ctx.submission, build, what)
    return failed(message, hint, file, line, build.output_tail)


def up(ctx: Context) -> Outcome:
    facts = precondition(ctx)
    if isinstance(facts, Outcome):
        return facts
    build = facts.prod_build
    if build is None:
        return errored("the prod build did not run")
    if not build.ok:
        return build_failure(ctx, build, "the prod image")
    if facts.up is None:
        return errored("the prod stack was not started" + (" (interrupted)" if facts.interrupted else ""))
    if not facts.up.ok:
        down = [s for s in facts.up.services if s.state != "running"]
        detail = "; ".join(f"{s.name} is {s.state}" + (f" (exit code {s.exit_code})" if s.exit_code is not None
                                                         else "") for s in down)
        logs = "\n".join(f"--- {s.name} ---\n{s.log_tail}" for s in down if s.log_tail)
        return failed(f"{facts.up.message}{': ' + detail if detail else ''}",
                      "Run `docker compose -f docker-compose.prod.yml up --build` and read the logs of the "
                      "service that stops.", log_tail=logs or facts.up.output_tail)
    names = ", ".join(s.name for s in facts.up.services)
    return passed(f"the prod image built in {build.seconds:.1f} s and {names} are running")


def _said(r: Response | None) -> str:
    if r is None:
        return "no request was made"
    if r.status is None:
        return f"no answer ({r.error})"
    return f"HTTP {r.status}: {r.body.strip()[:120]!r}"


def counter(ctx: Context) -> Outcome:
    facts = precondition(ctx)
    if isinstance(facts, Outcome):
        return facts
    if facts.up is None or not facts.up.ok:
        return skipped("the prod stack did not come up (see runtime.up)")
    c = facts.counter
    if c is None:
        return errored("the counter was not probed" + (" (interrupted)" if facts.interrupted else ""))
    for label, r in (("first request", c.first), ("second request", c.second)):
        if r is None or r.status != 200:
            return failed(f"{label} to {c.url}: {_said(r)}",
                          "The app must answer 200 on /; check its logs and that REDIS_HOST names the redis "
                          "service.", log_tail=_tail(facts))
        if r.count is None:
            return failed(f"{label} to {c.url} answered 200 without a hit count: {r.body.strip()[:120]!r}",
                          "Keep the app's message with the number of views.")
    assert c.first is not None and c.second is not None and c.first.count is not None
    n = c.first.count
    if c.second.count != n + 1:
        return failed(f"two requests counted {n} then {c.second.count}, not {n} then {n + 1}",
                      "Each visit must increment the counter once (INCR hits in Redis).")
    if c.redis_value is None or c.redis_value.strip() != str(n + 1):
        seen = c.redis_error or f"GET hits = {c.redis_value!r}"
        return failed(f"the app counted {n + 1}, but Redis in redis_prod says {seen}: the count does not live in "
                      "redis_prod", "Point the app at redis_prod (REDIS_HOST=redis_prod) and keep the counter in "
                      "Redis, not in the web process.")
    r = c.after_restart
    if r is None or r.status != 200 or r.count is None:
        return failed(f"after restarting web_prod, {c.url}: {_said(r)}{'; ' + c.restart_error if c.restart_error else ''}",
                      "The app must come back after `docker compose restart web_prod`.", log_tail=_tail(facts))
    if r.count != n + 2:
        return failed(f"after a restart of web_prod the count was {r.count}, expected {n + 2}: state was lost",
                      "Keep the counter in Redis so it survives restarts of the web service.")
    return passed(f"{c.url} counted {n}, {n + 1}; Redis holds {n + 1}; after a restart of web_prod: {n + 2}")


def _tail(facts: Facts) -> str:
    if facts.up is None:
        return ""
    return "\n".join(f"--- {s.name} ---\n{s.log_tail}" for s in facts.up.services if s.log_tail)
