"""Run LAB06 submissions the way a student runs them, to confirm what a corpus case's expect.yml claims.

    python tests/packs/lab06/run_as_student.py [--starter] [--solution] [CASE ...]
    (no argument: the starter, the solution and every case of tests/packs/lab06/corpus)

For each submission: the template with the submission's files, `docker compose up --build -d`, then
what Docker itself reports (`State.Health` of web and redis, and how many seconds after its start each
became healthy, against the budget its own settings allow: start_period + interval x retries), two
GETs of / and Redis' `GET hits`, then `docker compose stop redis`: whether web's health test fails at
once when run by hand, and whether Docker turns web `unhealthy` within interval x retries. Then
everything is removed. Not a test: it prints a few lines per submission.

It shares the engine politely: its own project name (-p), and an extra -f override that only
publishes web on a free 127.0.0.1 port (5007 may be taken) and gives the built image a unique tag,
removed at the end. Base images are never touched.
"""

from __future__ import annotations

import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lab06_support import (
    REDIS,
    WEB,
    StackRun,
    case_names,
    first_healthy_after_start,
    make_checkout,
    seconds_between,
)

from support import http_get

MARGIN_S = 15.0  # on top of a budget: a loaded 2-core machine, the container's own start
UNHEALTHY_CAP_S = 150.0  # never wait longer than this for Docker to say `unhealthy`


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f} s"


def run(label: str, root: Path) -> list[str]:
    out: list[str] = []
    stack = StackRun(root)
    try:
        t_up = time.monotonic()
        up = stack.compose("up", "--build", "-d")
        up_s = time.monotonic() - t_up
        if up.returncode != 0:
            tail = [ln for ln in (up.stdout + up.stderr).strip().splitlines() if ln.strip()][-3:]
            out.append(f"up FAILED (exit {up.returncode}, {up_s:.0f} s): {' | '.join(tail)}")
        else:
            out.append(f"up ok ({up_s:.0f} s, build included)")

        settings = {svc: stack.health(svc) for svc in (REDIS, WEB)}
        for svc in (REDIS, WEB):
            hc = settings[svc]
            state = stack.state(svc)
            if not state:
                out.append(f"{svc}: no container")
                continue
            if hc is None:
                out.append(
                    f"{svc}: {state['status']}, no health check (State.Health absent: {state['health'] is None})"
                )
                continue
            budget = hc.budget()
            health, waited = stack.wait_health(svc, {"healthy"}, budget + MARGIN_S)
            state = stack.state(svc)
            first = first_healthy_after_start(state)
            last = state["health_log"][-1] if state["health_log"] else {}
            probes = " ".join(
                f"{e.get('ExitCode')}@{seconds_between(state['started_at'], e['End']):.1f}s"
                f"({seconds_between(e['Start'], e['End']):.2f}s)"
                for e in state["health_log"]
            )
            out.append(
                f"{svc}: {state['status']}, health={health}; first passing probe {fmt(first)} after start; "
                f"budget {budget:g} s (start_period {hc.start_period:g} + interval {hc.interval:g} x retries {hc.retries}"
                f", timeout {hc.timeout:g}, start_interval {hc.start_interval:g}); last probe exit "
                f"{last.get('ExitCode')}: {str(last.get('Output', '')).strip()[:120]!r}"
            )
            out.append(f"{svc} probes (exit@end since start(duration)): {probes}")
        web_state, redis_state = stack.state(WEB), stack.state(REDIS)
        if web_state.get("status") == "running" and redis_state.get("status") == "running":
            if redis_state.get("started_at") and settings[WEB] and web_state.get("health") == "healthy":
                web_first = [e for e in web_state["health_log"] if e.get("ExitCode") == 0]
                if web_first:
                    total = seconds_between(redis_state["started_at"], web_first[0]["End"])
                    out.append(f"stack: both healthy {total:.1f} s after redis started")
            counts, hits = stack.counter()
            out.append(f"counter: GET / -> {counts}, redis GET hits -> {hits}")

            stop = stack.compose("stop", REDIS, timeout=120)
            after = stack.state(WEB)
            out.append(
                f"stop redis: exit {stop.returncode}; web is {after.get('status')}, health={after.get('health')}"
            )
            hc = settings[WEB]
            if hc and after.get("status") == "running":
                code, text = stack.exec_test(WEB)
                out.append(f"web health test run by hand without redis: exit {code}: {text[-150:]!r}")
                cap = min(hc.interval * hc.retries + hc.timeout * hc.retries + MARGIN_S, UNHEALTHY_CAP_S)
                health, waited = stack.wait_health(WEB, {"unhealthy"}, cap)
                out.append(
                    f"web after redis stopped: {health} after {waited:.1f} s (interval x retries = "
                    f"{hc.interval * hc.retries:g} s, waited at most {cap:g} s)"
                )
                status, body = stack_http(stack)
                out.append(f"GET /health without redis: {status} {body.strip()[:80]!r}")
        else:
            out.append(f"web {web_state.get('status')}, redis {redis_state.get('status')}: no counter, no redis stop")
        return out
    finally:
        stack.down()


def stack_http(stack: StackRun) -> tuple[int | str, str]:
    try:
        return http_get(stack.url + "health", timeout=10)
    except OSError as e:
        return type(e).__name__, str(e)


def main(argv: list[str]) -> int:
    targets = [a for a in argv if not a.startswith("--")]
    flags = {a for a in argv if a.startswith("--")}
    todo: list[tuple[str, dict]] = []
    if "--starter" in flags or not argv:
        todo.append(("starter", {}))
    if "--solution" in flags or not argv:
        todo.append(("solution", {"solution": True}))
    for name in targets or ([] if argv else case_names()):
        todo.append((name, {"case": name}))
    with tempfile.TemporaryDirectory(prefix="lab06-run-") as tmp:
        for label, kwargs in todo:
            t0 = time.monotonic()
            try:
                root = make_checkout(Path(tmp) / label, **kwargs)
                lines = run(label, root)
            except Exception as e:  # one submission's trouble must not stop the others
                lines = [f"{type(e).__name__}: {e}"]
                traceback.print_exc(limit=3)
            print(f"== {label} ({time.monotonic() - t0:.0f} s)", flush=True)
            for line in lines:
                print(f"   {line}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
