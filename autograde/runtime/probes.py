"""The prod stack of one run: start it, probe the hit counter over HTTP and in Redis, restart it,
and read the app's interpreter from the engine's process list."""

from __future__ import annotations

import importlib.resources
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_fixed

from autograde.runtime import http
from autograde.runtime.diagnose import up_infrastructure
from autograde.runtime.engine import PROJECT_LABEL, SERVICE_LABEL, Engine, Phases, engine_gone
from autograde.runtime.facts import AppProcess, CounterFacts, HealthFacts, HttpAnswer, ServiceFacts, UpFacts
from autograde.runtime.interpreter import from_processes

if TYPE_CHECKING:
    from autograde.model.compose import ComposeFile

PROCESS_SCRIPT = (importlib.resources.files("autograde.runtime") / "process_probe.py").read_text(encoding="utf-8")

# After the app first answers with an error (5xx, 404 ...) while Redis may still be starting, how long
# to keep asking for a 200. An error answer to a request sent once Redis answered PING is final at once.
ANSWER_GRACE_S = 8.0
# An app that accepted the connection but answers slowly (its own Redis retries) gets this long per
# request, so that its answer is seen rather than cut off at --request-timeout.
SLOW_ANSWER_S = 15.0


def parse_process(line: str) -> AppProcess:
    """The process probe's JSON line (student-controlled: every field is checked) as AppProcess."""
    try:
        data = json.loads(line)
    except ValueError:
        return AppProcess([], error=f"the process probe printed {line[:120]!r}")
    if not isinstance(data, dict):
        return AppProcess([], error="the process probe printed no mapping")
    if data.get("error"):
        return AppProcess([], error=str(data["error"])[:200])

    def text(key: str) -> str:
        value = data.get(key)
        return value[:1000] if isinstance(value, str) else ""

    argv = data.get("argv")
    pid = data.get("pid")
    return AppProcess(
        [str(w)[:400] for w in argv[:20]] if isinstance(argv, list) else [],
        text("cwd"),
        text("interpreter"),
        text("venv"),
        text("script"),
        text("sha256"),
        pid if isinstance(pid, int) else 0,
    )


def engine_ports(client: Any) -> dict[int, str]:
    """TCP host ports the engine's containers already publish, each with a container's name."""
    out: dict[int, str] = {}
    try:
        listed = client.api.containers()
    except Exception:  # only a help in choosing the port: the local check still applies
        return out
    for c in listed:
        names = c.get("Names") or ["?"]
        for p in c.get("Ports") or []:
            if p.get("PublicPort") and p.get("Type", "tcp") == "tcp":
                out.setdefault(int(p["PublicPort"]), str(names[0]).lstrip("/"))
    return out


@dataclass
class Probed:
    up: UpFacts
    counter: CounterFacts | None = None
    interpreter: tuple[str, str] | None = None  # the app's interpreter and how it was found, if it ran
    health: HealthFacts | None = None  # web_prod's HEALTHCHECK run once, when it has one
    app: AppProcess | None = None  # the app's process, when web_prod ran


class Stack:
    """The started stack: the lab's web service (`web`, LAB04's web_prod) and its Redis service (`redis`)."""

    def __init__(
        self,
        engine: Engine,
        phases: Phases,
        redis: str,
        ready_timeout: float,
        request_timeout: float,
        stop_timeout: int,
        web: str,
    ) -> None:
        self.engine = engine
        self.phases = phases
        self.web = web
        self.redis = redis
        self.ready_timeout = ready_timeout
        self.request_timeout = request_timeout
        self.stop_timeout = stop_timeout

    def up_and_probe(
        self, files: list[str], port: int, on_running: Callable[[tuple[str, str] | None], None] | None = None
    ) -> Probed:
        """Start the stack and probe it. `on_running` is told the app's interpreter as soon as it is known (the
        running process, read while the counter is probed), so that the image can be inspected meanwhile."""
        start = time.monotonic()
        self.phases.phase("up", "start")
        ran = self.engine.compose(
            files, "up", "-d", "--no-build", self.web, self.redis, timeout=self.ready_timeout + 60
        )
        if ran.returncode != 0:
            return Probed(
                UpFacts(
                    False,
                    "`docker compose up` failed" + (" (timed out)" if ran.timed_out else ""),
                    self.services(),
                    ran.tail,
                    infrastructure=up_infrastructure(ran.tail),
                )
            )
        url = f"http://localhost:{port}/"
        first = self.until_answer(port, start + self.ready_timeout)
        services = self.services(logs=first.status != 200)
        self.phases.time("up", time.monotonic() - start)
        seen = self.app_interpreter()

        def process() -> tuple[AppProcess | None, tuple[str, str] | None]:
            app = self.app_process(seen[0] if seen else None)
            best = (app.interpreter, "the running app's process") if app and app.interpreter and not app.error else seen
            if on_running is not None:
                on_running(best)
            return app, best

        running = all(s.state == "running" for s in services) and {s.name for s in services} >= {self.web, self.redis}
        if not running:
            app, interpreter = process()
            return Probed(
                UpFacts(False, "not every service is running", services, ran.tail), None, interpreter, app=app
            )
        up = UpFacts(True, "", services, ran.tail, time.monotonic() - start)
        probes = time.monotonic()
        self.phases.phase("probes", "start")
        counter = CounterFacts(url)
        counter.first = first
        # the app's process is read while the counter is asked (before the restart); the health check runs
        # once counting is over, since a check may request the page that counts
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="autograde-probe") as side:
            found = side.submit(process)
            if first.status == 200:
                counter.second = http.get("127.0.0.1", port, timeout=self.request_timeout)
                counter.redis_value, counter.redis_error = self.redis_get()
            app, interpreter = found.result()
        if first.status == 200:
            counter.after_restart, counter.restart_error = self.restart_and_get(port)
        health = self.health_once()
        self.phases.time("probes", time.monotonic() - probes)
        return Probed(up, counter, interpreter, health, app)

    def health_once(self, service: str | None = None, timeout: float | None = None) -> HealthFacts | None:
        """Run a service's health check (the web service's by default) once in its running container, as Docker
        runs it (`docker exec`), rather than wait out its interval for Docker's own verdict. `timeout`: how long
        it may take (default: its own timeout, at most 10 s)."""
        web = self.container(service or self.web)
        if web is None or web.status != "running":
            return None
        health = (web.attrs.get("Config") or {}).get("Healthcheck") or {}
        test = [str(t) for t in health.get("Test") or []]
        if not test or test[0] == "NONE":
            return None
        argv = ["/bin/sh", "-c", test[1]] if test[0] == "CMD-SHELL" and len(test) > 1 else test[1:]
        if not argv:
            return None
        timeout = timeout if timeout is not None else min(10.0, (health.get("Timeout") or 30e9) / 1e9)
        ran = self.engine.procs.run(["docker", "exec", web.id, *argv], timeout=timeout, env=self.engine.env(), keep=10)
        return HealthFacts(test, None if ran.timed_out else ran.returncode, ran.tail[-1000:], timeout)

    def health_state(self, service: str) -> tuple[dict[str, Any], dict[str, Any], str, str]:
        """(Config.Healthcheck, State.Health, State.StartedAt, State.Status) of a service's container, as Docker
        reports them now; empty when it has no container."""
        c = self.container(service)
        if c is None:
            return {}, {}, "", "missing"
        try:
            c.reload()
        except Exception as e:
            if engine_gone(e):
                raise
        state = c.attrs.get("State") or {}
        check = (c.attrs.get("Config") or {}).get("Healthcheck") or {}
        return check, state.get("Health") or {}, str(state.get("StartedAt") or ""), str(state.get("Status") or "")

    def stop(self, service: str) -> str:
        """Stop a service's container (what `docker compose stop SERVICE` does); what went wrong, or ""."""
        c = self.container(service)
        if c is None:
            return f"{service} has no container"
        try:
            c.stop(timeout=self.stop_timeout)
        except Exception as e:
            if engine_gone(e):
                raise
            return f"stopping {service} failed: {e}"
        return ""

    def up(self, files: list[str], timeout: float) -> UpFacts:
        """`docker compose up -d` of the web service and Redis (no build): the stack as the student starts it."""
        start = time.monotonic()
        self.phases.phase("up", "start")
        ran = self.engine.compose(files, "up", "-d", "--no-build", self.web, self.redis, timeout=timeout)
        services = self.services(logs=ran.returncode != 0)
        self.phases.time("up", time.monotonic() - start)
        if ran.returncode != 0:
            return UpFacts(
                False,
                "`docker compose up` failed" + (" (timed out)" if ran.timed_out else ""),
                services,
                ran.tail,
                infrastructure=up_infrastructure(ran.tail),
            )
        ok = all(s.state == "running" for s in services)
        return UpFacts(ok, "" if ok else "not every service is running", services, ran.tail, time.monotonic() - start)

    def first_services(self, prod: ComposeFile) -> list[str]:
        """The services that may start while the web image is still built: the stack's Redis, when it needs no
        build and depends on nothing (Compose would start it first, and the same way, in the stack's `up`)."""
        service = prod.services.get(self.redis)
        if service is None or self.redis == self.web or not prod.image(service):
            return []
        if service.get("build") is not None or service.get("depends_on"):
            return []
        return [self.redis]

    def start_first(self, files: list[str], services: list[str], timeout: float) -> None:
        """`docker compose up -d` of `services` alone, the images already there (pulled beside the builds), while
        the web image is built: the stack's own `up` then only adds the web service. What it says is not
        recorded: the stack's `up` starts what this did not, and says why when it cannot."""
        if not services:
            return
        start = time.monotonic()
        self.phases.phase("first", "start")
        self.engine.compose(files, "up", "-d", "--no-build", "--pull", "never", *services, timeout=timeout)
        self.phases.time("first", time.monotonic() - start)

    def until_answer(self, port: int, deadline: float) -> HttpAnswer:
        """GET / until it answers 200, the deadline passes, or web_prod stops. The first 200 counts as request 1.

        An app that answers, but not 200, has answered: that answer is what was seen once Redis was
        ready when the request was sent (or after ANSWER_GRACE_S more of such answers), without
        sitting out the whole deadline.
        """
        last = HttpAnswer(None, "", "no answer yet")
        checked = 0.0
        answered_at: float | None = None
        redis_ready: float | None = None
        timeout = self.request_timeout
        while time.monotonic() < deadline:
            sent = time.monotonic()
            if redis_ready is None and self.redis_ping():
                redis_ready = sent
            last = http.get("127.0.0.1", port, timeout=min(timeout, max(0.1, deadline - time.monotonic())))
            if last.status == 200:
                return last
            if last.status is not None:
                answered_at = answered_at or time.monotonic()
                if redis_ready is not None or time.monotonic() - answered_at >= ANSWER_GRACE_S:
                    return last
            elif last.error.startswith(("timed out", "HTTP ")):  # connected, but the answer is slow
                timeout = max(timeout, SLOW_ANSWER_S)
            if time.monotonic() - checked > 0.5:
                checked = time.monotonic()
                web = self.container(self.web)
                if web is None or web.status in ("exited", "dead"):
                    return HttpAnswer(None, "", f"{self.web} stopped")
            time.sleep(0.05)
        if last.status is not None:
            return last
        return HttpAnswer(None, last.body, last.error or f"no 200 within {self.ready_timeout:g} s")

    def redis_ping(self) -> bool:
        """Whether redis_prod answers PING (so an error answer of the app is not Redis still starting)."""
        redis = self.container(self.redis)
        if redis is None or redis.status != "running":
            return False
        try:
            code, out = redis.exec_run(["redis-cli", "PING"])
        except Exception as e:
            if engine_gone(e):
                raise
            return False
        return code == 0 and b"PONG" in out

    def app_process(self, interpreter: str | None) -> AppProcess | None:
        """The app's process as the running web_prod container's /proc shows it (PROCESS_SCRIPT run with the
        app's own interpreter, else the image's `python3`); None when web_prod is not running."""
        web = self.container(self.web)
        if web is None or web.status != "running":
            return None
        said = ""
        for python in dict.fromkeys([interpreter or "python3", "python3", "python"]):
            ran = self.engine.procs.run(
                ["docker", "exec", web.id, python, "-c", PROCESS_SCRIPT], timeout=15, env=self.engine.env(), keep=5
            )
            lines = [ln for ln in ran.tail.splitlines() if ln.strip()]
            if ran.returncode == 0 and lines:
                return parse_process(lines[-1])
            said = (lines[-1] if lines else f"exit status {ran.returncode}")[-200:]
        return AppProcess([], error=f"the process probe could not run in {self.web} ({said})")

    def app_interpreter(self) -> tuple[str, str] | None:
        """The Python the running web_prod process uses, from the engine's process list."""
        web = self.container(self.web)
        if web is None or web.status != "running":
            return None
        try:
            top = web.top(ps_args="-eo pid,args")
        except Exception:  # some engines refuse ps arguments: try their default columns
            try:
                top = web.top()
            except Exception:
                return None
        titles = [t.upper() for t in top.get("Titles") or []]
        column = next((i for i, t in enumerate(titles) if t in ("ARGS", "CMD", "COMMAND")), None)
        if column is None:
            return None
        found = from_processes([p[column] for p in top.get("Processes") or [] if len(p) > column])
        return (found, "the running app's process") if found else None

    def restart_and_get(self, port: int) -> tuple[HttpAnswer | None, str]:
        web = self.container(self.web)
        if web is None:
            return None, f"{self.web} is gone"
        try:
            web.restart(timeout=self.stop_timeout)
        except Exception as e:
            if engine_gone(e):
                raise
            return None, f"restart failed: {e}"
        return self.until_answer(port, time.monotonic() + self.ready_timeout), ""

    def redis_get(self) -> tuple[str | None, str]:
        redis = self.container(self.redis)
        if redis is None:
            return None, f"{self.redis} is not running"
        try:
            code, out = redis.exec_run(["redis-cli", "GET", "hits"])
        except Exception as e:
            if engine_gone(e):
                raise
            return None, f"could not run redis-cli in {self.redis} ({e})"
        text = out.decode("utf-8", "replace")[:200].strip()
        if code != 0:
            return None, f"redis-cli failed in {self.redis}: {text}"
        return text, ""

    def containers(self) -> list[Any]:
        import docker.errors

        label = {"label": f"{PROJECT_LABEL}={self.engine.project}"}
        try:  # a container can go between listing and inspecting (the lean probe's): list again
            for attempt in Retrying(
                retry=retry_if_exception_type(docker.errors.NotFound),
                stop=stop_after_attempt(5),
                wait=wait_fixed(0.1),
                reraise=True,
            ):
                with attempt:
                    return list(self.engine.client.containers.list(all=True, filters=label))
        except docker.errors.NotFound:
            pass
        return []

    def container(self, service: str) -> Any:
        for c in self.containers():
            if c.labels.get(SERVICE_LABEL) == service:
                return c
        return None

    def services(self, logs: bool = False) -> list[ServiceFacts]:
        out = []
        for name in (self.web, self.redis):
            c = self.container(name)
            if c is None:
                out.append(ServiceFacts(name, "missing"))
                continue
            state = c.attrs.get("State", {})
            status = state.get("Status", c.status)
            tail = ""
            if status != "running" or logs:
                try:
                    tail = c.logs(tail=30).decode("utf-8", "replace")[-4000:]
                except Exception:
                    tail = ""
            out.append(ServiceFacts(name, status, state.get("ExitCode") if status != "running" else None, tail))
        return out
