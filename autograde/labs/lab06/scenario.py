"""LAB06's probes of the started stack: Docker's own health verdicts, the counter, and web's check without Redis.

1. `docker compose up -d` (web and redis; with `depends_on: condition: service_healthy`, Compose itself waits
   for Redis to be healthy before it starts web).
2. Each container's `State.Health`, polled until Docker says `healthy` or `unhealthy`, or until the time its
   own settings allow has passed (start_period + interval x (retries + 1) + timeout, and a margin).
3. GET / twice and `redis-cli GET hits` (when web runs).
4. Each check run once by hand in its running container (it must pass), then Redis stopped and web's check
   run once more (it must fail: the app's /health answers 503 without Redis). Running it by hand, as Docker
   runs it, decides at once where Docker would need `retries` more intervals.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from autograde.runtime import http
from autograde.runtime.facts import CounterFacts, ServiceHealth

if TYPE_CHECKING:
    from autograde.runtime.session import Session

MARGIN_S = 10.0  # a busy machine starts a container's first check late
BY_HAND_S = 10.0  # a check run by hand may take this long: whether its command works, not its timeout
MAX_WAIT_S = 150.0  # the longest the grader waits for one container's health, whatever its settings


def budget(check: dict[str, Any]) -> tuple[float, float, int, float, float]:
    """(interval, timeout, retries, start_period, budget) in seconds from Docker's Config.Healthcheck
    (nanoseconds; 0 is Docker's default: 30 s, 30 s, 3, 0)."""
    interval = (check.get("Interval") or 30e9) / 1e9
    timeout = (check.get("Timeout") or 30e9) / 1e9
    retries = int(check.get("Retries") or 3)
    start = (check.get("StartPeriod") or 0) / 1e9
    return interval, timeout, retries, start, min(start + interval * (retries + 1) + timeout + MARGIN_S, MAX_WAIT_S)


def epoch(text: str) -> float | None:
    """Docker's RFC 3339 time (nanoseconds, `Z`) as epoch seconds."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text.strip())
    if not m or m.group(1).startswith("0001"):
        return None
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    return dt.datetime.fromisoformat(m.group(1) + zone).timestamp() + float("0." + (m.group(2) or "0"))


def probe(session: Session, pool: ThreadPoolExecutor, files: list[str], port: int) -> None:
    facts, stack, phases = session.facts, session.stack, session.phases
    web, redis = stack.web, stack.redis
    declared = _declared_budgets(session)
    facts.up = stack.up(files, timeout=max(declared, default=0.0) + session.options.ready_timeout + 60)
    if not facts.up.ok and not facts.up.infrastructure:
        facts.up.infrastructure = session.machine.judge_message(facts.up.output_tail)
    start = time.monotonic()
    phases.phase("probes", "start")
    states = _watch(session, (web, redis))
    facts.health_states = states
    if any(s.name == web and s.state == "running" for s in facts.up.services) or states[web].state == "running":
        facts.counter = _count(session, port)
    for name in (web, redis):
        if states[name].test and states[name].state == "running":
            states[name].by_hand = stack.health_once(name, timeout=BY_HAND_S)
    if states[web].test and states[web].state == "running":
        stopped = stack.stop(redis)
        if not stopped:
            states[web].without = stack.health_once(web, timeout=BY_HAND_S)
    phases.time("probes", time.monotonic() - start)
    session.teardown_stack(background=True)


def _declared_budgets(session: Session) -> list[float]:
    """What the file's own settings allow each declared check (for how long `up` may wait on a dependency)."""
    prod = session.sub.prod
    out = []
    for svc in prod.services.values() if prod is not None else []:
        hc = svc.get("healthcheck")
        if isinstance(hc, dict) and not hc.get("disable"):
            from autograde.labs.lab06.checks import go_duration

            ns = {k: (go_duration(hc.get(k)) or 0) * 1e9 for k in ("interval", "timeout", "start_period")}
            out.append(
                budget(
                    {
                        "Interval": ns["interval"],
                        "Timeout": ns["timeout"],
                        "StartPeriod": ns["start_period"],
                        "Retries": hc.get("retries") if isinstance(hc.get("retries"), int) else 0,
                    }
                )[4]
            )
    return out


def _watch(session: Session, names: tuple[str, ...]) -> dict[str, ServiceHealth]:
    """Poll each container's health until Docker decides, or its budget has passed since it started."""
    stack = session.stack
    states: dict[str, ServiceHealth] = {}
    deadline: dict[str, float] = {}
    for name in names:
        check, _health, started, status = stack.health_state(name)
        test = [str(t) for t in check.get("Test") or []]
        interval, timeout, retries, start_period, allowed = budget(check)
        states[name] = ServiceHealth(
            name, test if test and test[0] != "NONE" else [], interval, timeout, retries, start_period, state=status
        )
        states[name].budget_s = allowed
        begun = epoch(started)
        deadline[name] = (begun if begun is not None else time.time()) + allowed
    waiting = {n for n, s in states.items() if s.test and s.state == "running"}
    while waiting:
        for name in sorted(waiting):
            check, health, started, status = stack.health_state(name)
            s = states[name]
            s.state, s.status = status, str(health.get("Status") or "")
            s.log = [
                (code if isinstance(code := e.get("ExitCode"), int) else -1, str(e.get("Output") or "")[-1000:])
                for e in health.get("Log") or []
                if isinstance(e, dict)
            ][-5:]
            begun = epoch(started)
            if s.status == "healthy" and s.healthy_after_s is None:
                ok = [e for e in health.get("Log") or [] if isinstance(e, dict) and e.get("ExitCode") == 0]
                first = epoch(str(ok[0].get("End") or "")) if ok else None
                now = time.time()
                s.healthy_after_s = round(((first or now) - begun) if begun is not None else 0.0, 1)
            if s.status in ("healthy", "unhealthy") or status != "running" or time.time() > deadline[name]:
                waiting.discard(name)
        if waiting:
            time.sleep(0.5)
    return states


def _count(session: Session, port: int) -> CounterFacts:
    stack = session.stack
    counter = CounterFacts(f"http://localhost:{port}/")
    counter.first = stack.until_answer(port, time.monotonic() + session.options.ready_timeout)
    if counter.first.status == 200:
        counter.second = http.get("127.0.0.1", port, timeout=session.options.request_timeout)
        counter.redis_value, counter.redis_error = stack.redis_get()
    return counter
