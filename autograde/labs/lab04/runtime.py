"""Checks of the running prod stack, graded from the session's facts."""

from __future__ import annotations

import re

from autograde.checks.base import Context, Outcome, check, errored, failed, not_built, passed, runtime_facts, skipped
from autograde.runtime.facts import BuildFacts, Facts, HttpAnswer


def build_failure(ctx: Context, build: BuildFacts, what: str) -> Outcome:
    """A failed build, told with the failing instruction and a targeted hint (an error if not the student's)."""
    from autograde.labs.lab04.build_diagnosis import explain_build

    return explain_build(ctx.submission, build, what)


def stack_facts(ctx: Context) -> Facts | Outcome:
    """Need: the session's facts, also when Docker Compose refused the student's file (then `up` fails)."""
    facts = ctx.facts
    if facts is not None and facts.refused and facts.compose_refused:
        return facts
    return runtime_facts(ctx)


@check(
    "runtime.up",
    name="Prod stack builds and both services run",
    points=10,
    checklist="8",
    phase="runtime",
    passes_when="`docker compose -f docker-compose.prod.yml up --build -d` builds and both services are running",
    needs=(stack_facts,),
)
def up(ctx: Context, facts: Facts) -> Outcome:
    if facts.compose_refused and facts.refused:
        prod = ctx.submission.prod
        where = prod.refused if prod is not None else None
        return failed(
            f"{facts.refused}, so `docker compose -f docker-compose.prod.yml up --build` fails before anything starts",
            where.hint if where is not None else "",
            where.file if where is not None else "docker-compose.prod.yml",
            where.line if where is not None else None,
        )
    build = facts.prod_build
    if build is None:
        return errored("the prod build did not run")
    if not build.ok:
        return build_failure(ctx, build, "the prod image")
    if facts.up is None:
        return errored("the prod stack was not started" + (" (interrupted)" if facts.interrupted else ""))
    if not facts.up.ok and facts.up.infrastructure:
        return errored(
            f"{facts.up.message}, but not because of your files: {facts.up.infrastructure}",
            "Nothing to fix in your files. Grade again; tell your instructor if it keeps happening.",
        )
    if not facts.up.ok:
        down = [s for s in facts.up.services if s.state != "running"]
        detail = "; ".join(
            f"{s.name} is {s.state}" + (f" (exit code {s.exit_code})" if s.exit_code is not None else "") for s in down
        )
        logs = "\n".join(f"--- {s.name} ---\n{s.log_tail}" for s in down if s.log_tail)
        # what the stopped service said last (a traceback's last line names the error), in its own words
        last = next((line.strip() for s in down for line in reversed(s.log_tail.splitlines()) if line.strip()), "")
        said = f'; its last log line: "{last[:200]}"' if last else ""
        return failed(
            f"{facts.up.message}{': ' + detail if detail else ''}{said}",
            "Run `docker compose -f docker-compose.prod.yml up --build` and read the logs of the service that stops.",
            log_tail=logs or facts.up.output_tail,
        )
    names = ", ".join(s.name for s in facts.up.services)
    return passed(f"the prod image built in {build.seconds:.1f} s and {names} are running" + _health_note(ctx, facts))


_MISSING = re.compile(r"(?:^|[\s:])(?P<prog>[\w./-]+): (?:not found|No such file or directory|command not found)", re.M)


def _health_note(ctx: Context, facts: Facts) -> str:
    """Rule: a HEALTHCHECK that fails in the running prod container costs no points (the app serves, and no
    rubric row asks for a health check), but runtime.up says so: Docker marks web_prod unhealthy, so anything
    that waits for it to be healthy never starts. A program the image lacks (curl and wget are not in
    python:3.13-slim) is named, with a check the image can run."""
    h = facts.health
    if h is None or h.exit_code == 0 or not h.test:
        return ""
    command = h.test[1] if h.test[0] == "CMD-SHELL" and len(h.test) > 1 else " ".join(h.test[1:])
    where = _health_where(ctx)
    if h.exit_code is None:
        why = f"it did not finish within {h.timeout:g} s"
    else:
        why = f"exit code {h.exit_code}"
        said = " ".join(h.output.split())[-160:]
        if said:
            why += f": {said}"
    note = (
        f" (no points depend on it, but Docker marks web_prod unhealthy: its health check `{command}`{where} fails "
        f"in the running container, {why}"
    )
    missing = _MISSING.search(h.output or "")
    if missing and h.exit_code in (126, 127, 1, 2):
        prog = missing.group("prog").rsplit("/", 1)[-1]
        note += (
            f"; {prog} is not in the prod image (python:3.13-slim has no curl or wget): check with Python, e.g. "
            "`HEALTHCHECK CMD python -c \"import urllib.request; urllib.request.urlopen('http://localhost:5000/')\"`"
        )
    return note + ")"


def _health_where(ctx: Context) -> str:
    prod = ctx.submission.prod
    web = prod.services.get("web_prod") if prod is not None else None
    if prod is not None and web is not None and web.get("healthcheck") is not None:
        line = prod.line("services", "web_prod", "healthcheck")
        return f" (docker-compose.prod.yml:{line})" if line else " (docker-compose.prod.yml)"
    df = ctx.submission.dockerfile
    found = [i for i in df.instructions if i.cmd.upper() == "HEALTHCHECK"] if df is not None else []
    return f" (Dockerfile.prod:{found[-1].line})" if found else ""


def _said(r: HttpAnswer | None) -> str:
    if r is None:
        return "no request was made"
    if r.status is None:
        return f"no answer ({r.error})"
    return f"answered HTTP {r.status}: {_excerpt(r.body)!r}"


def _excerpt(body: str, limit: int = 120) -> str:
    """A short, printable excerpt of a body the student's app sent."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in body).split())
    return text if len(text) <= limit else text[:limit] + " [...]"


_UNRESOLVED = (
    re.compile(
        r"Error -?\d+ connecting to (?P<host>[\w.-]+):\d+\. (?:-?\d+\. )?(?:Name or service not known|"
        r"Temporary failure in name resolution|Name does not resolve)"
    ),
    re.compile(r"(?:cannot|could not) (?:reach|resolve) (?:Redis at )?(?P<host>[\w.-]+):\d+"),
)


def _unresolved_hosts(ctx: Context, facts: Facts, body: str) -> str:
    """A cause the evidence names: hosts the app's log says it cannot resolve, or a host its answer names
    that no service of docker-compose.prod.yml is called. "" when there is none."""
    logged = list(dict.fromkeys(m.group("host") for m in _UNRESOLVED[0].finditer(_tail(facts))))
    if logged:
        return f"; the app's log shows it cannot resolve the host {', '.join(logged)}"
    prod = ctx.submission.prod
    names = set(prod.services) if prod is not None else set()
    named = [m.group("host") for m in _UNRESOLVED[1].finditer(body) if m.group("host") not in names]
    if named and prod is not None:
        return f"; the app tries {named[0]}, but no service of docker-compose.prod.yml is named {named[0]}"
    return ""


def _port_note(ctx: Context, facts: Facts) -> str:
    """When the student's file does not publish 5005 -> 5000, say that the grader's own mapping was used."""
    prod = ctx.submission.prod
    web = prod.services.get("web_prod") if prod is not None else None
    if prod is None or web is None or facts.host_port is None:
        return ""
    ports = prod.ports(web)
    if any(p.published in ("5005", "5005-5005") and p.target == "5000" for p in ports):
        return ""
    seen = ", ".join(f"{p.published or '(none)'}->{p.target}" for p in ports) or "no port"
    return (
        f" (the grader published web_prod on its own port {facts.host_port} to keep grading; as written, "
        f"docker-compose.prod.yml publishes {seen}, so `curl localhost:5005` does not answer your stack: "
        "see compose.web_prod)"
    )


@check(
    "runtime.counter",
    name="Hit counter on port 5005 counts in Redis",
    points=15,
    checklist="9",
    phase="runtime",
    passes_when="GET / answers 200 twice with n then n+1, Redis holds the count, and counting goes on after a restart",
    needs=(runtime_facts,),
)
def counter(ctx: Context, facts: Facts) -> Outcome:
    if facts.up is None or not facts.up.ok:
        if facts.prod_build is not None and not facts.prod_build.ok:
            return not_built(facts.prod_build, "the prod image")
        if facts.up is not None and facts.up.infrastructure:
            return errored(
                f"the prod stack did not start, for a reason outside your files: {facts.up.infrastructure}",
                "Grade again.",
            )
        return skipped("the prod stack did not come up (see runtime.up)")
    c = facts.counter
    if c is None:
        return errored("the counter was not probed" + (" (interrupted)" if facts.interrupted else ""))
    for label, r in (("first request", c.first), ("second request", c.second)):
        if r is None or r.status != 200:
            cause = _unresolved_hosts(ctx, facts, r.body if r is not None else "")
            return failed(
                f"{label} to {c.url}: {_said(r)}{cause}",
                "The app must answer 200 on /. Read its log below, and check that REDIS_HOST names the "
                "redis service (`REDIS_HOST=redis_prod`).",
                log_tail=_tail(facts),
            )
        if r.count is None:
            return failed(
                f"{label} to {c.url} answered 200 without a hit count: {r.body.strip()[:120]!r}",
                "Keep the app's message with the number of views.",
            )
    assert c.first is not None and c.second is not None and c.first.count is not None
    n = c.first.count
    if c.second.count != n + 1:
        return failed(
            f"two requests counted {n} then {c.second.count}, not {n} then {n + 1}",
            "Each visit must increment the counter once (INCR hits in Redis).",
        )
    if c.redis_value is None or c.redis_value.strip() != str(n + 1):
        seen = c.redis_error or f"GET hits = {c.redis_value!r}"
        return failed(
            f"the app counted {n + 1}, but Redis in redis_prod says {seen}: the count does not live in redis_prod",
            "Point the app at redis_prod (REDIS_HOST=redis_prod) and keep the counter in "
            "Redis, not in the web process.",
        )
    r = c.after_restart
    if r is None or r.status != 200 or r.count is None:
        return failed(
            f"after restarting web_prod, {c.url}: {_said(r)}{'; ' + c.restart_error if c.restart_error else ''}",
            "The app must come back after `docker compose restart web_prod`.",
            log_tail=_tail(facts),
        )
    if r.count != n + 2:
        return failed(
            f"after a restart of web_prod the count was {r.count}, expected {n + 2}: state was lost",
            "Keep the counter in Redis so it survives restarts of the web service.",
        )
    return passed(
        f"{c.url} counted {n}, {n + 1}; Redis holds {n + 1}; after a restart of web_prod: {n + 2}"
        + _port_note(ctx, facts)
    )


def _tail(facts: Facts) -> str:
    if facts.up is None:
        return ""
    return "\n".join(f"--- {s.name} ---\n{s.log_tail}" for s in facts.up.services if s.log_tail)
