"""One runtime session: build dev and prod at once, start the prod stack, probe it, inspect images.

Everything is started under one unique compose project name and removed by `cleanup`,
which the grade command calls after the report is written, also on errors and signals.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_fixed

from autograde.model import Submission
from autograde.model.compose import DEV_FILE, PROD_FILE
from autograde.model.dockerfile import FILENAME as PROD_DOCKERFILE
from autograde.model.files import FileProblem, read_text
from autograde.runtime import engine_age, http, leftovers
from autograde.runtime.diagnose import Steps, parse_build_output, up_infrastructure
from autograde.runtime.evidence import BuildLog, inspect_image
from autograde.runtime.facts import (
    BuildFacts,
    CounterFacts,
    Facts,
    HealthFacts,
    HttpAnswer,
    LeanFacts,
    ServiceFacts,
    UpFacts,
)
from autograde.runtime.interpreter import from_command, from_processes
from autograde.runtime.override import Caps, dev_override, merge_refusal, prod_override
from autograde.runtime.policy import DEFAULT_HOST_PORT, choose_host_port, refusals
from autograde.util import Processes

PROJECT_LABEL = "com.docker.compose.project"
MIN_COMPOSE = (2, 24)
SERVICE_LABEL = "com.docker.compose.service"
# The image probe's container is labelled as a service of its own: it would otherwise inherit the prod
# image's label `com.docker.compose.service=web_prod` (Compose labels the images it builds) and be
# taken for web_prod by the probes and the teardown.
PROBE_SERVICE = "autograde-probe"
# After the app first answers with an error (5xx, 404 ...) while Redis may still be starting, how long
# to keep asking for a 200. An error answer to a request sent once Redis answered PING is final at once.
ANSWER_GRACE_S = 8.0
# An app that accepted the connection but answers slowly (its own Redis retries) gets this long per
# request, so that its answer is seen rather than cut off at --request-timeout.
SLOW_ANSWER_S = 15.0
LEAN_SCRIPT = (importlib.resources.files("autograde.runtime") / "lean_probe.py").read_text(encoding="utf-8")


@dataclass
class SessionOptions:
    host_port: int | None = DEFAULT_HOST_PORT  # None: pick a free port
    host_port_strict: bool = False  # only host_port: an error when it is in use (else a free one, said)
    build_timeout: float = 600.0
    ready_timeout: float = 60.0
    request_timeout: float = 5.0
    stop_timeout: int = 1
    keep_images: bool = False
    memory: str = "512m"
    pids: int = 256
    cpus: float = 1.0
    dev_image: str | None = None  # an image already built from byte-identical dev files: used, not built


@dataclass
class Session:
    sub: Submission
    options: SessionOptions = field(default_factory=SessionOptions)
    project: str = field(default_factory=lambda: f"autograde-{uuid.uuid4().hex[:12]}")
    timings: dict[str, float] = field(default_factory=dict)
    # told (phase, "start") when a phase begins, (phase, "end") when it is timed and (phase, "line:TEXT")
    # for a line of build output; for display only
    progress: Callable[[str, str], None] | None = None

    def __post_init__(self) -> None:
        self.root = self.sub.root.resolve()
        self.procs = Processes()
        self.tmp = Path(tempfile.mkdtemp(prefix="autograde-"))
        self.prod_tag = f"{self.project}-web-prod:graded"
        self.dev_tag = f"{self.project}-web-dev:graded"
        self.other_tags: list[str] = []  # images of the student's other buildable services
        self.client: Any = None
        self.facts = Facts()
        self._dev_refusal: str | None = None  # why the dev image cannot be built, if it cannot
        self._lock = threading.Lock()
        self._run_lock = leftovers.RunLock(self.project)
        self._engine = ""  # "Docker Engine 26.1.5", once connected: named when a build is too new for it
        self._compose_version: tuple[int, int] | None = None
        self._refused = ""  # what Compose said when it refused the student's prod file on its own
        # the stack's Redis: redis_prod, or the redis service web_prod names (its name is compose.services' business)
        self.redis = (self.sub.prod.redis_service() if self.sub.prod is not None else None) or "redis_prod"

    # -- the session -------------------------------------------------------------------------
    def run(self) -> Facts:
        try:
            self._run()
        except KeyboardInterrupt:
            self.facts.interrupted = True
            self.procs.stop_all()
        return self.facts

    def _run(self) -> None:
        facts = self.facts
        refused = refusals(self.sub, self.root)
        self._dev_refusal = refused.dev
        if refused.prod:
            facts.refused = refused.prod
            return
        if not self._connect():
            return
        try:
            self._run_lock.acquire()
        except OSError:  # no writable lock dir: grade anyway; only the sweep of abandoned runs needs locks
            pass
        else:
            self._sweep_leftovers()
        port = self._port()
        if port is None:
            return
        facts.host_port = port
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="autograde-dev-files") as prep:
            dev_prepared = prep.submit(self._dev_files)  # both ask Compose to resolve a file: at once
            prod_files = self._write_prod_override(port)
            dev_files = dev_prepared.result()
        if prod_files is None:
            return
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="autograde") as pool:
            try:
                self._parallel(pool, prod_files, dev_files, port)
            except BaseException as e:
                self.procs.stop_all()  # before the pool waits for its threads
                if not isinstance(e, KeyboardInterrupt) and _engine_gone(e):
                    self.facts.engine_lost = f"{type(e).__name__}: {str(e)[:200]}"
                    return
                raise

    def _parallel(
        self, pool: ThreadPoolExecutor, prod_files: list[str], dev_files: list[str] | None, port: int
    ) -> None:
        facts = self.facts
        dev: Future[BuildFacts] | None = None
        if dev_files is not None and self.options.dev_image:
            dev = pool.submit(self._prebuilt, self.options.dev_image)
        elif dev_files is not None:
            dev = pool.submit(self._build, dev_files, ["web_dev"], self.dev_tag, "build_dev")
        elif facts.dev_build is None:  # set already when the grader's own override does not merge
            facts.dev_build = BuildFacts(False, 0.0, error=self._dev_refusal or "docker-compose.yml is unusable")
        pool.submit(self._pull_missing, prod_files)
        prod = pool.submit(self._build, prod_files, [], self.prod_tag, "build_prod")
        facts.prod_build = prod.result()
        if facts.prod_build.ok:
            # the image is inspected with the running app's interpreter, once probing is over: a probe
            # container started while web_prod restarts was seen killed (exit 137) under parallel grades
            lean = pool.submit(self._lean, self._up_and_probe(prod_files, port))
            teardown = pool.submit(self._teardown_stack)
            facts.lean = lean.result()
            facts.image = inspect_image(self.client, self.prod_tag, **self._probe_limits())
            teardown.result()
        if dev is not None:
            facts.dev_build = dev.result()
        for build in (facts.prod_build, facts.dev_build):
            if build is not None and not build.ok and not build.infrastructure and not self._engine_alive():
                build.infrastructure = "the Docker engine stopped answering during the build"
        if any(
            b is not None and b.infrastructure.startswith("the connection to the Docker engine")
            for b in (facts.prod_build, facts.dev_build)
        ):
            facts.engine_lost = facts.engine_lost or "the engine went away during the build"

    # -- guards ------------------------------------------------------------------------------
    def _connect(self) -> bool:
        try:
            import docker

            self.client = docker.from_env(timeout=60)
            self.client.ping()
            self._engine = engine_name(self.client.version())
        except Exception as e:
            self.facts.error = f"the Docker engine is not reachable ({type(e).__name__}: {str(e)[:160]})"
            self.facts.error_hint = (
                "Start Docker (Docker Desktop, or `sudo systemctl start docker`) and grade again; "
                "the static checks were graded."
            )
            return False
        ran = self.procs.run(["docker", "compose", "version", "--short"], timeout=30, env=self._env())
        if ran.returncode != 0:
            self.facts.error = "Docker Compose v2 (`docker compose`) is not available"
            self.facts.error_hint = "Install the Compose plugin (docker-compose-plugin) and grade again."
            return False
        version = compose_version(ran.tail)
        self._compose_version = version
        if version is not None and version < MIN_COMPOSE:
            self.facts.error = (
                f"this engine is too old for the grader's Compose override file: its Docker Compose is "
                f"{'.'.join(map(str, version))}, and `!override`/`!reset` need "
                f"{'.'.join(map(str, MIN_COMPOSE))} or newer"
            )
            self.facts.error_hint = "Update the Compose plugin and grade again."
            return False
        return True

    def _port(self) -> int | None:
        choice = choose_host_port(
            self.options.host_port, strict=self.options.host_port_strict, engine_ports=self._engine_ports()
        )
        if choice.port is None:
            self.facts.error, self.facts.error_hint = choice.error, choice.hint
            return None
        self.facts.host_port_note = choice.note
        return choice.port

    def _engine_ports(self) -> dict[int, str]:
        """TCP host ports the engine's containers already publish, each with a container's name."""
        out: dict[int, str] = {}
        try:
            listed = self.client.api.containers()
        except Exception:  # only a help in choosing the port: the local check still applies
            return out
        for c in listed:
            names = c.get("Names") or ["?"]
            for p in c.get("Ports") or []:
                if p.get("PublicPort") and p.get("Type", "tcp") == "tcp":
                    out.setdefault(int(p["PublicPort"]), str(names[0]).lstrip("/"))
        return out

    # -- compose files -----------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
        env["COMPOSE_PROJECT_NAME"] = self.project
        env["DOCKER_CLI_HINTS"] = "false"
        return env

    def _caps(self) -> Caps:
        return Caps(self.options.memory, self.options.pids, self.options.cpus)

    def _write_prod_override(self, port: int) -> list[str] | None:
        """The prod stack's files with the grader's override; None (and the grader's error) if they do not merge."""
        assert self.sub.prod is not None
        student = [str(self.root / PROD_FILE)]
        resolved = self._resolved(student, "prod")
        if resolved is None and (
            too_old := engine_age.compose_too_old(self._refused, self._compose_version, PROD_FILE)
        ):
            self.facts.error = too_old
            self.facts.error_hint = "Nothing to fix in your files: grade with a newer Docker Compose."
            return None
        text, self.other_tags = prod_override(
            self.sub.prod,
            self.sub.build,
            self.root,
            prod_tag=self.prod_tag,
            other_tag=f"{self.project}-svc{{index}}:graded",
            port=port,
            caps=self._caps(),
            resolved=resolved,
        )
        path = self.tmp / "prod-override.yml"
        path.write_text(text)
        files = [*student, str(path)]
        refused = self._merge_refused(files, PROD_FILE, resolved)
        if refused is not None:
            self.facts.error, self.facts.error_hint = refused
            return None
        return files

    def _dev_files(self) -> list[str] | None:
        if self._dev_refusal:
            return None
        student = [str(self.root / DEV_FILE)]
        resolved = self._resolved(student, "dev")
        path = self.tmp / "dev-override.yml"
        path.write_text(dev_override(dev_tag=self.dev_tag, caps=self._caps(), resolved=resolved))
        files = [*student, str(path)]
        refused = self._merge_refused(files, DEV_FILE, resolved)
        if refused is not None:
            self.facts.dev_build = BuildFacts(False, 0.0, error=refused[0], infrastructure=refused[0])
            return None
        return files

    def _resolved(self, files: list[str], name: str) -> dict[str, Any] | None:
        """The student's compose file as Compose itself resolves it (`config --format json`); None if it cannot."""
        out = self.tmp / f"{name}-resolved.json"
        ran = self._compose(files, "config", "--format", "json", "--output", str(out), timeout=60)
        if name == "prod":
            self._refused = ran.tail if ran.returncode != 0 else ""
        try:
            data = json.loads(out.read_text(encoding="utf-8")) if ran.returncode == 0 else None
        except (OSError, ValueError):
            data = None
        return data if isinstance(data, dict) else None

    def _merge_refused(self, files: list[str], name: str, resolved: dict[str, Any] | None) -> tuple[str, str] | None:
        """The grader's error when Compose refuses the student's file merged with the override, but not alone.

        A student's file Compose refuses on its own (`resolved` is None) is the student's: the build says so.
        """
        if resolved is None:
            return None
        ran = self._compose(files, "config", "--quiet", timeout=60)
        if ran.returncode == 0:
            return None
        return merge_refusal(name, ran.tail)

    def _compose(self, files: list[str], *args: str, timeout: float, on_line: Any = None) -> Any:
        argv = ["docker", "compose", "--progress", "plain", "-p", self.project]
        for f in files:
            argv += ["-f", f]
        argv += ["--project-directory", str(self.root), *args]
        return self.procs.run(argv, timeout=timeout, cwd=str(self.root), env=self._env(), on_line=on_line)

    # -- build -------------------------------------------------------------------------------
    def _build(self, files: list[str], services: list[str], tag: str, timing: str) -> BuildFacts:
        self._phase(timing, "start")
        steps = Steps()
        log = BuildLog()
        skipped: list[str] = []  # heredoc steps the classic builder ran without their bodies

        def seen(line: str) -> None:
            steps.feed(line)
            log.feed(line)
            if engine_age.classic_heredoc(line):
                skipped.append(line)
            self._phase(timing, "line:" + line)  # display only

        ran = self._compose(files, "build", *services, timeout=self.options.build_timeout, on_line=seen)
        self._time(timing, ran.seconds)
        text = self._dockerfile_text(timing)
        # built or not, the image is not what the file describes (for Dockerfile.prod, only if it has a heredoc:
        # a classic builder shows a step's own output unprefixed, so a RUN could print such a line)
        credible = timing != "build_prod" or bool(text and engine_age.heredoc_lines(text))
        if skipped and credible:
            said = engine_age.skipped_heredoc(skipped[0], self._engine)
            return BuildFacts(False, ran.seconds, error=said, output_tail=ran.tail, infrastructure=said)
        if ran.returncode != 0 or ran.timed_out:
            out = parse_build_output(ran.tail)
            too_old = "" if ran.timed_out else engine_age.too_old(ran.tail, text, self._engine)
            return BuildFacts(
                False,
                ran.seconds,
                timed_out=ran.timed_out,
                error=out.error,
                failed_step=out.step,
                output_tail=ran.tail,
                exit_code=out.exit_code,
                step_log=out.step_log,
                infrastructure="" if ran.timed_out else out.infrastructure or too_old,
                done_steps=steps.done,
            )
        try:
            image = self.client.images.get(tag)
        except Exception as e:
            return BuildFacts(
                False, ran.seconds, error=f"the build reported success but {tag} is missing ({e})", output_tail=ran.tail
            )
        return BuildFacts(
            True,
            ran.seconds,
            image.id,
            tag,
            int(image.attrs.get("Size") or 0),
            output_tail=ran.tail,
            evidence=log.evidence,
        )

    def _dockerfile_text(self, timing: str) -> str | None:
        """Dockerfile.prod's text for the prod build (None for the dev build, or when it cannot be read)."""
        if timing != "build_prod":
            return None
        try:
            return read_text(self.root, PROD_DOCKERFILE, what="the production Dockerfile")
        except FileProblem:
            return None

    def _prebuilt(self, ref: str) -> BuildFacts:
        """The dev image a class batch built once from these same dev files (never removed by cleanup)."""
        try:
            image = self.client.images.get(ref)
        except Exception as e:
            return BuildFacts(False, 0.0, error=f"the shared dev image {ref} is missing ({e})")
        return BuildFacts(True, 0.0, image.id, ref, int(image.attrs.get("Size") or 0))

    def _pull_missing(self, files: list[str]) -> None:
        """Pull the stack's registry images while the builds run, so `up` does not wait for them."""
        assert self.sub.prod is not None
        for service in self.sub.prod.services.values():
            image = self.sub.prod.image(service)
            if image and service.name != "web_prod":
                try:
                    self.client.images.get(image)
                except Exception:
                    self._phase("pull", "start")
                    self._compose(
                        files,
                        "pull",
                        "--ignore-buildable",
                        "--ignore-pull-failures",
                        "--quiet",
                        timeout=self.options.build_timeout,
                    )
                    self._phase("pull", "end")
                    return

    # -- run and probe -----------------------------------------------------------------------
    def _up_and_probe(self, files: list[str], port: int) -> tuple[str, str] | None:
        """Start the stack and probe it; returns the app's interpreter and how it was found, if it ran."""
        o = self.options
        start = time.monotonic()
        self._phase("up", "start")
        ran = self._compose(files, "up", "-d", "--no-build", "web_prod", self.redis, timeout=o.ready_timeout + 60)
        if ran.returncode != 0:
            self.facts.up = UpFacts(
                False,
                "`docker compose up` failed" + (" (timed out)" if ran.timed_out else ""),
                self._services(),
                ran.tail,
                infrastructure=up_infrastructure(ran.tail),
            )
            return None
        url = f"http://localhost:{port}/"
        first = self._until_answer(port, start + o.ready_timeout)
        services = self._services(logs=first.status != 200)
        self._time("up", time.monotonic() - start)
        interpreter = self._app_interpreter()
        running = all(s.state == "running" for s in services) and {s.name for s in services} >= {"web_prod", self.redis}
        if not running:
            self.facts.up = UpFacts(False, "not every service is running", services, ran.tail)
            return interpreter
        self.facts.up = UpFacts(True, "", services, ran.tail, time.monotonic() - start)
        probes = time.monotonic()
        self._phase("probes", "start")
        counter = CounterFacts(url)
        self.facts.counter = counter
        counter.first = first
        if first.status == 200:
            counter.second = http.get("127.0.0.1", port, timeout=o.request_timeout)
            counter.redis_value, counter.redis_error = self._redis_get()
            counter.after_restart, counter.restart_error = self._restart_and_get(port)
        self.facts.health = self._health_once()
        self._time("probes", time.monotonic() - probes)
        return interpreter

    def _until_answer(self, port: int, deadline: float) -> HttpAnswer:
        """GET / until it answers 200, the deadline passes, or web_prod stops. The first 200 counts as request 1.

        An app that answers, but not 200, has answered: that answer is what was seen once Redis was
        ready when the request was sent (or after ANSWER_GRACE_S more of such answers), without
        sitting out the whole deadline.
        """
        last = HttpAnswer(None, "", "no answer yet")
        checked = 0.0
        answered_at: float | None = None
        redis_ready: float | None = None
        timeout = self.options.request_timeout
        while time.monotonic() < deadline:
            sent = time.monotonic()
            if redis_ready is None and self._redis_ping():
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
                web = self._container("web_prod")
                if web is None or web.status in ("exited", "dead"):
                    return HttpAnswer(None, "", "web_prod stopped")
            time.sleep(0.05)
        if last.status is not None:
            return last
        return HttpAnswer(None, last.body, last.error or f"no 200 within {self.options.ready_timeout:g} s")

    def _redis_ping(self) -> bool:
        """Whether redis_prod answers PING (so an error answer of the app is not Redis still starting)."""
        redis = self._container(self.redis)
        if redis is None or redis.status != "running":
            return False
        try:
            code, out = redis.exec_run(["redis-cli", "PING"])
        except Exception as e:
            if _engine_gone(e):
                raise
            return False
        return code == 0 and b"PONG" in out

    def _health_once(self) -> HealthFacts | None:
        """Run web_prod's HEALTHCHECK once in the running container, as Docker runs it (`docker exec`), rather
        than wait out its interval for Docker's own verdict."""
        web = self._container("web_prod")
        if web is None or web.status != "running":
            return None
        health = (web.attrs.get("Config") or {}).get("Healthcheck") or {}
        test = [str(t) for t in health.get("Test") or []]
        if not test or test[0] == "NONE":
            return None
        argv = ["/bin/sh", "-c", test[1]] if test[0] == "CMD-SHELL" and len(test) > 1 else test[1:]
        if not argv:
            return None
        timeout = min(10.0, (health.get("Timeout") or 30e9) / 1e9)
        ran = self.procs.run(["docker", "exec", web.id, *argv], timeout=timeout, env=self._env(), keep=10)
        return HealthFacts(test, None if ran.timed_out else ran.returncode, ran.tail[-1000:], timeout)

    def _app_interpreter(self) -> tuple[str, str] | None:
        """The Python the running web_prod process uses, from the engine's process list."""
        web = self._container("web_prod")
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

    def _restart_and_get(self, port: int) -> tuple[HttpAnswer | None, str]:
        web = self._container("web_prod")
        if web is None:
            return None, "web_prod is gone"
        try:
            web.restart(timeout=self.options.stop_timeout)
        except Exception as e:
            if _engine_gone(e):
                raise
            return None, f"restart failed: {e}"
        return self._until_answer(port, time.monotonic() + self.options.ready_timeout), ""

    def _redis_get(self) -> tuple[str | None, str]:
        redis = self._container(self.redis)
        if redis is None:
            return None, "redis_prod is not running"
        try:
            code, out = redis.exec_run(["redis-cli", "GET", "hits"])
        except Exception as e:
            if _engine_gone(e):
                raise
            return None, f"could not run redis-cli in redis_prod ({e})"
        text = out.decode("utf-8", "replace")[:200].strip()
        if code != 0:
            return None, f"redis-cli failed in redis_prod: {text}"
        return text, ""

    def _containers(self) -> list[Any]:
        import docker.errors

        try:  # a container can go between listing and inspecting (the lean probe's): list again
            for attempt in Retrying(
                retry=retry_if_exception_type(docker.errors.NotFound),
                stop=stop_after_attempt(5),
                wait=wait_fixed(0.1),
                reraise=True,
            ):
                with attempt:
                    return list(
                        self.client.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={self.project}"})
                    )
        except docker.errors.NotFound:
            pass
        return []

    def _container(self, service: str) -> Any:
        for c in self._containers():
            if c.labels.get(SERVICE_LABEL) == service:
                return c
        return None

    def _services(self, logs: bool = False) -> list[ServiceFacts]:
        out = []
        for name in ("web_prod", self.redis):
            c = self._container(name)
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

    # -- image inspection --------------------------------------------------------------------
    def _probe_limits(self) -> dict[str, Any]:
        return {
            "labels": {PROJECT_LABEL: self.project, SERVICE_LABEL: PROBE_SERVICE},
            "memory": self.options.memory,
            "pids": self.options.pids,
            "cpus": self.options.cpus,
        }

    def _lean(self, interpreter: tuple[str, str] | None) -> LeanFacts:
        """Run LEAN_SCRIPT in the prod image with the interpreter the app runs with.

        That is the running app's own process when it could be seen; otherwise the image's command
        (exec or shell form); otherwise `python` on the image's PATH.
        """
        start = time.monotonic()
        self._phase("inspect", "start")
        python, found_by = interpreter or ("python", "")
        try:
            image = self.client.images.get(self.prod_tag)
            config = image.attrs.get("Config") or {}
            if interpreter is None:
                python, found_by = from_command(config.get("Entrypoint") or [], config.get("Cmd") or [])
            env = [e for e in config.get("Env") or [] if e.startswith("PATH=")]
            container = self.client.containers.create(
                self.prod_tag,
                entrypoint=[python],
                command=["-c", LEAN_SCRIPT],
                network_disabled=True,
                mem_limit=self.options.memory,
                memswap_limit=self.options.memory,
                pids_limit=self.options.pids,
                nano_cpus=int(self.options.cpus * 1e9),
                environment=env,
                labels={PROJECT_LABEL: self.project, SERVICE_LABEL: PROBE_SERVICE},
                working_dir="/",
            )
            try:
                container.start()
                result = container.wait(timeout=60)
                out = container.logs(stdout=True, stderr=False).decode("utf-8", "replace").strip()
                err = container.logs(stdout=False, stderr=True).decode("utf-8", "replace").strip()
            finally:
                container.remove(force=True)
            if result.get("StatusCode") != 0 or not out:
                said = (err or out or "no output")[-300:]
                return LeanFacts(
                    python, False, False, error=f"exit status {result.get('StatusCode')}: {said}", found_by=found_by
                )
            data = json.loads(out.splitlines()[-1])
            return LeanFacts(
                python,
                bool(data.get("flask")),
                bool(data.get("pytest")),
                list(data.get("tests") or []),
                found_by=found_by,
            )
        except Exception as e:
            if _engine_gone(e):
                self.facts.engine_lost = self.facts.engine_lost or f"{type(e).__name__}: {str(e)[:200]}"
            return LeanFacts(python, False, False, error=f"{type(e).__name__}: {str(e)[:200]}", found_by=found_by)
        finally:
            self._time("inspect", time.monotonic() - start)

    # -- cleanup -----------------------------------------------------------------------------
    def cleanup(self) -> list[str]:
        """Remove every container, network, volume and image of this run. Returns what could not be removed.

        If the engine cannot be reached, the run's lock file stays behind (released): the next grade on
        this machine then knows these remains are abandoned and removes them.
        """
        start = time.monotonic()
        self._phase("cleanup", "start")
        self.procs.stop_all()
        problems: list[str] = []
        if self.client is not None:
            problems += self._remove_resources(self.project, lambda c: True)
            if not self.options.keep_images:
                problems += self._remove_images()
        if problems:
            self._run_lock.release(keep_file=True)
        else:
            self._run_lock.release()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self._time("cleanup", time.monotonic() - start)
        return problems

    def _sweep_leftovers(self) -> None:
        """Remove what runs of this machine whose grader is gone left on the engine, and say so."""
        try:
            projects = leftovers.projects_on_engine(self.client)
        except Exception:
            return
        for project in sorted(projects - {self.project}):
            if not leftovers.abandoned(project):
                continue
            counts = self._remove_resources(project, lambda c: True, count=True)
            images = 0
            try:
                for image in self.client.images.list():
                    if (
                        any(t.startswith(f"{project}-") and t.endswith(":graded") for t in image.tags)
                        or (image.labels or {}).get(PROJECT_LABEL) == project
                    ):
                        self.client.images.remove(image.id, force=True)
                        images += 1
            except Exception:
                continue
            leftovers.forget(project)
            what = (
                ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in (*counts, ("image", images)) if n)
                or "nothing but its lock"
            )
            self.facts.removed_leftovers.append(f"{project}: {what}")

    def _engine_alive(self) -> bool:
        try:
            self.client.ping()
            return True
        except Exception:
            return False

    def _teardown_stack(self) -> None:
        """Remove the prod stack once probed, while inspection and the dev build may still run."""
        start = time.monotonic()
        self._phase("teardown", "start")
        self._remove_resources(self.project, lambda c: c.labels.get(SERVICE_LABEL) not in (None, PROBE_SERVICE))
        self._time("teardown", time.monotonic() - start)

    @overload
    def _remove_resources(self, project: str, which: Any) -> list[str]: ...

    @overload
    def _remove_resources(self, project: str, which: Any, count: Literal[True]) -> list[tuple[str, int]]: ...

    def _remove_resources(self, project: str, which: Any, count: bool = False) -> Any:
        """Remove a project's containers (those `which` accepts), networks and volumes.

        Returns the problems, or with `count` how many of each kind were removed.
        """
        label = {"label": f"{PROJECT_LABEL}={project}"}
        problems: list[str] = []
        removed: list[tuple[str, int]] = []
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="autograde-rm") as pool:
            for kind, listing, remove in (
                (
                    "container",
                    lambda: [c for c in self.client.containers.list(all=True, filters=label) if which(c)],
                    lambda x: x.remove(force=True, v=True),
                ),
                ("network", lambda: self.client.networks.list(filters=label), lambda x: x.remove()),
                ("volume", lambda: self.client.volumes.list(filters=label), lambda x: x.remove(force=True)),
            ):
                try:
                    for attempt in Retrying(stop=stop_after_attempt(3), wait=wait_fixed(0.3), reraise=True):
                        with attempt:
                            items = listing()
                            list(pool.map(remove, items))  # in parallel: each container's kill takes a moment
                            removed.append((kind, len(items)))
                except Exception as e:
                    if not _gone(e):
                        problems.append(f"{kind}: {e}")
        return removed if count else problems

    def _remove_images(self) -> list[str]:
        problems: list[str] = []

        def remove(ref: str) -> None:
            try:
                self.client.images.remove(ref, force=True)
            except Exception as e:
                if not _gone(e):
                    problems.append(f"image {ref}: {e}")

        with ThreadPoolExecutor(max_workers=3, thread_name_prefix="autograde-rmi") as pool:
            list(pool.map(remove, (self.prod_tag, self.dev_tag, *self.other_tags)))
        try:  # anything else Compose built for this project carries its label
            for image in self.client.images.list(filters={"label": f"{PROJECT_LABEL}={self.project}"}):
                remove(image.id)
        except Exception as e:
            if not _gone(e):
                problems.append(f"image: {e}")
        return problems

    def _time(self, key: str, seconds: float) -> None:
        with self._lock:
            self.timings[key] = round(self.timings.get(key, 0.0) + seconds, 3)
        self._phase(key, "end")

    def _phase(self, name: str, event: str) -> None:
        if self.progress is not None:
            try:
                self.progress(name, event)
            except Exception:  # a display problem must not change a grade
                pass


def engine_name(version: dict[str, Any]) -> str:
    """ "Docker Engine 26.1.5" from the engine's version answer ("" if it does not say)."""
    number = str(version.get("Version") or "").strip()
    return f"Docker Engine {number}" if number else ""


def compose_version(text: str) -> tuple[int, int] | None:
    m = re.search(r"(\d+)\.(\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _engine_gone(e: BaseException) -> bool:
    """Whether an exception from the docker SDK means the engine itself cannot be reached."""
    import requests

    if isinstance(e, requests.exceptions.ConnectionError):
        return True
    text = str(e)
    return any(
        s in text
        for s in (
            "Connection aborted",
            "Connection refused",
            "Cannot connect to the Docker daemon",
            "No such file or directory', 'docker.sock",
            "Remote end closed connection",
        )
    )


def _gone(e: Exception) -> bool:
    """Whether removing something failed only because it is already gone (never: the engine is gone)."""
    if _engine_gone(e):
        return False
    import docker.errors

    if isinstance(e, docker.errors.NotFound):
        return True
    text = str(e)
    return "No such" in text or "404" in text or "not found" in text.lower()
