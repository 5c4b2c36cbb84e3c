"""One runtime session: build dev and prod at once, start the prod stack, probe it, inspect images.

Everything is started under one unique compose project name and removed by `cleanup`,
which the grade command calls after the report is written, also on errors and signals.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import tempfile
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograde.model import Submission
from autograde.model.compose import DEV_FILE, PROD_FILE
from autograde.runtime import http
from autograde.runtime.diagnose import parse_build_output
from autograde.runtime.facts import (BuildFacts, CounterFacts, Facts, LeanFacts, Response, ServiceFacts,
                                     UpFacts)
from autograde.runtime.safety import scan
from autograde.util import Processes

PROJECT_LABEL = "com.docker.compose.project"
MIN_COMPOSE = (2, 24)
SERVICE_LABEL = "com.docker.compose.service"
LEAN_SCRIPT = r"""
import importlib.util, json, os, sys
r = {"prefix": sys.prefix, "base": sys.base_prefix, "exe": sys.executable}
try:
    import flask  # noqa: F401
    r["flask"] = True
except Exception as e:
    r["flask"], r["flask_error"] = False, f"{type(e).__name__}: {e}"
r["pytest"] = importlib.util.find_spec("pytest") is not None
skip = {"/proc", "/sys", "/dev", "/usr/lib", "/usr/share", "/usr/include", "/lib", "/usr/local/lib", "/var/lib"}
found = []
for top, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if os.path.join(top, d) not in skip and "site-packages" not in d]
    if os.path.basename(top) == "tests" and any(f.startswith("test_") and f.endswith(".py") for f in files):
        found.append(top)
r["tests"] = found[:5]
print(json.dumps(r))
"""


@dataclass
class Options:
    host_port: int | None = 5005  # None: pick a free port
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
    options: Options = field(default_factory=Options)
    project: str = field(default_factory=lambda: f"autograde-{uuid.uuid4().hex[:12]}")
    timings: dict[str, float] = field(default_factory=dict)

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
        reason = self._refusal()
        if reason:
            facts.skipped = reason
            return
        if not self._connect():
            return
        port = self._port()
        if port is None:
            return
        facts.host_port = port
        prod_files = self._write_prod_override(port)
        dev_files = self._dev_files()
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="autograde") as pool:
            try:
                self._parallel(pool, prod_files, dev_files, port)
            except BaseException:
                self.procs.stop_all()  # before the pool waits for its threads
                raise

    def _parallel(self, pool: ThreadPoolExecutor, prod_files: list[str], dev_files: list[str] | None,
                  port: int) -> None:
        facts = self.facts
        dev: Future[BuildFacts] | None = None
        if dev_files is not None and self.options.dev_image:
            dev = pool.submit(self._prebuilt, self.options.dev_image)
        elif dev_files is not None:
            dev = pool.submit(self._build, dev_files, ["web_dev"], self.dev_tag, "build_dev")
        else:
            facts.dev_build = BuildFacts(False, 0.0, error=self._dev_refusal or "docker-compose.yml is unusable")
        pool.submit(self._pull_missing, prod_files)
        prod = pool.submit(self._build, prod_files, [], self.prod_tag, "build_prod")
        facts.prod_build = prod.result()
        if facts.prod_build.ok:
            lean = pool.submit(self._lean)
            self._up_and_probe(prod_files, port)
            teardown = pool.submit(self._teardown_stack)
            facts.lean = lean.result()
            teardown.result()
        if dev is not None:
            facts.dev_build = dev.result()

    # -- guards ------------------------------------------------------------------------------
    def _refusal(self) -> str | None:
        sub = self.sub
        if sub.prod_problem is not None:
            return f"{PROD_FILE} cannot be used: {sub.prod_problem.message}"
        if sub.dockerfile_problem is not None:
            return f"Dockerfile.prod cannot be built: {sub.dockerfile_problem.message}"
        assert sub.prod is not None
        missing = [s for s in ("web_prod", "redis_prod") if not sub.prod.services.get(s) or
                   not sub.prod.services[s].data]
        if missing:
            return f"{PROD_FILE} does not define {' and '.join(missing)} yet, so there is nothing to start"
        refusals = scan(sub.prod, self.root)
        if refusals:
            return ("refused to run: " + "; ".join(map(str, refusals[:3])) +
                    " (the grader does not start privileged or host-reaching containers)")
        if sub.dev is None:
            self._dev_refusal = f"{DEV_FILE} cannot be used: {sub.dev_problem.message if sub.dev_problem else ''}"
        else:
            dev_refusals = scan(sub.dev, self.root)
            if dev_refusals:
                self._dev_refusal = "refused to build the dev image: " + "; ".join(map(str, dev_refusals[:3]))
            elif "web_dev" not in sub.dev.services:
                self._dev_refusal = f"{DEV_FILE} has no web_dev service"
        return None

    def _connect(self) -> bool:
        try:
            import docker

            self.client = docker.from_env(timeout=60)
            self.client.ping()
        except Exception as e:
            self.facts.error = f"the Docker engine is not reachable ({type(e).__name__}: {str(e)[:160]})"
            self.facts.error_hint = ("Start Docker (Docker Desktop, or `sudo systemctl start docker`) and grade again; "
                                     "the static checks were graded.")
            return False
        ran = self.procs.run(["docker", "compose", "version", "--short"], timeout=30, env=self._env())
        if ran.returncode != 0:
            self.facts.error = "Docker Compose v2 (`docker compose`) is not available"
            self.facts.error_hint = "Install the Compose plugin (docker-compose-plugin) and grade again."
            return False
        version = compose_version(ran.tail)
        if version is not None and version < MIN_COMPOSE:
            self.facts.error = (f"Docker Compose {'.'.join(map(str, version))} is too old: the grader's override "
                                f"file needs {'.'.join(map(str, MIN_COMPOSE))} or newer (`!override`, `!reset`)")
            self.facts.error_hint = "Update the Compose plugin and grade again."
            return False
        return True

    def _port(self) -> int | None:
        if self.options.host_port is None:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                return int(s.getsockname()[1])
        port = self.options.host_port
        with socket.socket() as s:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                self.facts.error = (f"host port {port} is already in use on this machine by another program; "
                                    "this is not a problem with your files")
                self.facts.error_hint = (f"Stop whatever listens on {port} (`docker ps`, an earlier lab stack?), or "
                                         "grade with `--host-port auto`.")
                return None

    # -- compose files -----------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
        env["COMPOSE_PROJECT_NAME"] = self.project
        env["DOCKER_CLI_HINTS"] = "false"
        return env

    def _caps(self) -> str:
        o = self.options
        # memswap_limit = mem_limit: no swap on top of the memory cap
        return (f"    mem_limit: {o.memory}\n    memswap_limit: {o.memory}\n    pids_limit: {o.pids}\n"
                f"    cpus: {o.cpus}\n    container_name: !reset null\n")

    def _write_prod_override(self, port: int) -> list[str]:
        assert self.sub.prod is not None
        lines = ["services:"]
        for name in self.sub.prod.services:
            lines.append(f"  {json.dumps(name)}:")
            lines.append(self._caps().rstrip("\n"))
            if name == "web_prod":
                lines += [
                    f"    image: {json.dumps(self.prod_tag)}",
                    "    build: !override",
                    f"      context: {json.dumps(str(self.root))}",
                    "      dockerfile: Dockerfile.prod",
                    "    ports: !override",
                    f"      - \"127.0.0.1:{port}:5000\"",
                ]
            else:
                lines.append("    ports: !reset []")
                if self.sub.prod.services[name].get("build") is not None:
                    # never the student's `image:` name: building would overwrite that tag on a shared engine
                    tag = f"{self.project}-svc{len(self.other_tags)}:graded"
                    self.other_tags.append(tag)
                    lines.append(f"    image: {json.dumps(tag)}")
        path = self.tmp / "prod-override.yml"
        path.write_text("\n".join(lines) + "\n")
        return [str(self.root / PROD_FILE), str(path)]

    def _dev_files(self) -> list[str] | None:
        if self._dev_refusal:
            return None
        path = self.tmp / "dev-override.yml"
        path.write_text(f"services:\n  web_dev:\n    image: {json.dumps(self.dev_tag)}\n{self._caps()}")
        return [str(self.root / DEV_FILE), str(path)]

    def _compose(self, files: list[str], *args: str, timeout: float) -> Any:
        argv = ["docker", "compose", "--progress", "plain", "-p", self.project]
        for f in files:
            argv += ["-f", f]
        argv += ["--project-directory", str(self.root), *args]
        return self.procs.run(argv, timeout=timeout, cwd=str(self.root), env=self._env())

    # -- build -------------------------------------------------------------------------------
    def _build(self, files: list[str], services: list[str], tag: str, timing: str) -> BuildFacts:
        ran = self._compose(files, "build", *services, timeout=self.options.build_timeout)
        self._time(timing, ran.seconds)
        if ran.returncode != 0 or ran.timed_out:
            step, error = parse_build_output(ran.tail)
            return BuildFacts(False, ran.seconds, timed_out=ran.timed_out, error=error, failed_step=step,
                              output_tail=ran.tail)
        try:
            image = self.client.images.get(tag)
        except Exception as e:
            return BuildFacts(False, ran.seconds, error=f"the build reported success but {tag} is missing ({e})",
                              output_tail=ran.tail)
        return BuildFacts(True, ran.seconds, image.id, tag, int(image.attrs.get("Size") or 0), output_tail=ran.tail)

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
                    self._compose(files, "pull", "--ignore-buildable", "--ignore-pull-failures", "--quiet",
                                  timeout=self.options.build_timeout)
                    return

    # -- run and probe -----------------------------------------------------------------------
    def _up_and_probe(self, files: list[str], port: int) -> None:
        o = self.options
        start = time.monotonic()
        ran = self._compose(files, "up", "-d", "--no-build", "web_prod", "redis_prod",
                            timeout=o.ready_timeout + 60)
        if ran.returncode != 0:
            self.facts.up = UpFacts(False, "`docker compose up` failed" + (" (timed out)" if ran.timed_out else ""),
                                    self._services(), ran.tail)
            return
        url = f"http://localhost:{port}/"
        first = self._until_answer(port, start + o.ready_timeout)
        services = self._services(logs=first.status != 200)
        self._time("up", time.monotonic() - start)
        running = all(s.state == "running" for s in services) and {s.name for s in services} >= {"web_prod",
                                                                                                 "redis_prod"}
        if not running:
            self.facts.up = UpFacts(False, "not every service is running", services, ran.tail)
            return
        self.facts.up = UpFacts(True, "", services, ran.tail, time.monotonic() - start)
        probes = time.monotonic()
        counter = CounterFacts(url)
        self.facts.counter = counter
        counter.first = first
        if first.status == 200:
            counter.second = http.get("127.0.0.1", port, timeout=o.request_timeout)
            counter.redis_value, counter.redis_error = self._redis_get()
            counter.after_restart, counter.restart_error = self._restart_and_get(port)
        self._time("probes", time.monotonic() - probes)

    def _until_answer(self, port: int, deadline: float) -> Response:
        """GET / until it answers 200, the deadline passes, or web_prod stops. The first 200 counts as request 1."""
        last = Response(None, "", "no answer yet")
        checked = 0.0
        while time.monotonic() < deadline:
            last = http.get("127.0.0.1", port, timeout=min(self.options.request_timeout,
                                                         max(0.1, deadline - time.monotonic())))
            if last.status == 200:
                return last
            if time.monotonic() - checked > 0.5:
                checked = time.monotonic()
                web = self._container("web_prod")
                if web is None or web.status in ("exited", "dead"):
                    return Response(None, "", "web_prod stopped")
            time.sleep(0.05)
        return Response(last.status, last.body, last.error or f"no 200 within {self.options.ready_timeout:g} s")

    def _restart_and_get(self, port: int) -> tuple[Response | None, str]:
        web = self._container("web_prod")
        if web is None:
            return None, "web_prod is gone"
        try:
            web.restart(timeout=self.options.stop_timeout)
        except Exception as e:
            return None, f"restart failed: {e}"
        return self._until_answer(port, time.monotonic() + self.options.ready_timeout), ""

    def _redis_get(self) -> tuple[str | None, str]:
        redis = self._container("redis_prod")
        if redis is None:
            return None, "redis_prod is not running"
        try:
            code, out = redis.exec_run(["redis-cli", "GET", "hits"])
        except Exception as e:
            return None, f"could not run redis-cli in redis_prod ({e})"
        text = out.decode("utf-8", "replace")[:200].strip()
        if code != 0:
            return None, f"redis-cli failed in redis_prod: {text}"
        return text, ""

    def _containers(self) -> list[Any]:
        import docker.errors

        for attempt in range(5):
            try:
                return self.client.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={self.project}"})
            except docker.errors.NotFound:  # one was removed between listing and inspecting (the lean probe's)
                time.sleep(0.1)
        return []

    def _container(self, service: str) -> Any:
        for c in self._containers():
            if c.labels.get(SERVICE_LABEL) == service:
                return c
        return None

    def _services(self, logs: bool = False) -> list[ServiceFacts]:
        out = []
        for name in ("web_prod", "redis_prod"):
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
    def _lean(self) -> LeanFacts:
        start = time.monotonic()
        try:
            image = self.client.images.get(self.prod_tag)
            config = image.attrs.get("Config") or {}
            words = (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
            python = words[0] if words and os.path.basename(words[0]).startswith("python") else "python"
            container = self.client.containers.create(
                self.prod_tag, entrypoint=[python], command=["-c", LEAN_SCRIPT], network_disabled=True,
                mem_limit=self.options.memory, memswap_limit=self.options.memory, pids_limit=self.options.pids,
                nano_cpus=int(self.options.cpus * 1e9),
                labels={PROJECT_LABEL: self.project}, working_dir="/")
            try:
                container.start()
                result = container.wait(timeout=60)
                out = container.logs(stdout=True, stderr=False).decode("utf-8", "replace").strip()
                err = container.logs(stdout=False, stderr=True).decode("utf-8", "replace").strip()
            finally:
                container.remove(force=True)
            if result.get("StatusCode") != 0 or not out:
                return LeanFacts(python, False, False, error=(err or out or "no output")[-300:])
            data = json.loads(out.splitlines()[-1])
            return LeanFacts(python, bool(data.get("flask")), bool(data.get("pytest")), list(data.get("tests") or []),
                             data.get("prefix") != data.get("base"))
        except Exception as e:
            return LeanFacts("python", False, False, error=f"{type(e).__name__}: {str(e)[:200]}")
        finally:
            self._time("inspect", time.monotonic() - start)

    # -- cleanup -----------------------------------------------------------------------------
    def cleanup(self) -> list[str]:
        """Remove every container, network, volume and image of this run. Returns what could not be removed."""
        start = time.monotonic()
        self.procs.stop_all()
        problems: list[str] = []
        if self.client is not None:
            problems += self._remove_resources(lambda c: True)
            if not self.options.keep_images:
                problems += self._remove_images()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self._time("cleanup", time.monotonic() - start)
        return problems

    def _teardown_stack(self) -> None:
        """Remove the prod stack once probed, while inspection and the dev build may still run."""
        start = time.monotonic()
        self._remove_resources(lambda c: SERVICE_LABEL in c.labels)
        self._time("teardown", time.monotonic() - start)

    def _remove_resources(self, which: Any) -> list[str]:
        label = {"label": f"{PROJECT_LABEL}={self.project}"}
        problems: list[str] = []
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="autograde-rm") as pool:
            for kind, listing, remove in (
                ("container", lambda: [c for c in self.client.containers.list(all=True, filters=label) if which(c)],
                 lambda x: x.remove(force=True, v=True)),
                ("network", lambda: self.client.networks.list(filters=label), lambda x: x.remove()),
                ("volume", lambda: self.client.volumes.list(filters=label), lambda x: x.remove(force=True)),
            ):
                for attempt in range(3):
                    try:
                        list(pool.map(remove, listing()))  # containers go in parallel: each kill takes a moment
                        break
                    except Exception as e:
                        if _gone(e):
                            continue
                        if attempt == 2:
                            problems.append(f"{kind}: {e}")
                        time.sleep(0.3)
        return problems

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


def compose_version(text: str) -> tuple[int, int] | None:
    m = re.search(r"(\d+)\.(\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _gone(e: Exception) -> bool:
    text = str(e)
    return "No such" in text or "404" in text or "not found" in text.lower()
