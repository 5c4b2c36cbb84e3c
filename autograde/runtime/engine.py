"""The engine connection of one run: the docker SDK client, the Compose command line, and what an
engine error means (the engine is gone, or the thing asked for is already gone).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autograde.model import compose_cli
from autograde.util import Processes, Ran

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
MIN_COMPOSE = (2, 24)


class Engine:
    """The docker SDK client and the `docker compose` command line of one compose project."""

    def __init__(self, project: str, root: Path, procs: Processes) -> None:
        self.project = project
        self.root = root
        self.procs = procs
        self.client: Any = None
        self.name = ""  # "Docker Engine 26.1.5", once connected: named when a build is too new for it
        self.compose_version: tuple[int, int] | None = None

    def connect(self) -> tuple[str, str] | None:
        """Connect and check Compose; returns (error, hint) when the engine or Compose cannot be used."""
        try:
            import docker

            self.client = docker.from_env(timeout=60)
            self.client.ping()
            self.name = engine_name(self.client.version())
        except Exception as e:
            return (
                f"the Docker engine is not reachable ({type(e).__name__}: {str(e)[:160]})",
                "Start Docker (Docker Desktop, or `sudo systemctl start docker`) and grade again; "
                "the static checks were graded.",
            )
        found = compose_cli.find_cli()  # asked once per process (the model of the compose files asks it too)
        if found is not None and found.argv == ("docker", "compose"):
            said = found.version
        else:
            ran = self.procs.run(["docker", "compose", "version", "--short"], timeout=30, env=self.env())
            if ran.returncode != 0:
                return (
                    "Docker Compose v2 (`docker compose`) is not available",
                    "Install the Compose plugin (docker-compose-plugin) and grade again.",
                )
            said = ran.tail
        version = self.compose_version = compose_version(said)
        if version is not None and version < MIN_COMPOSE:
            return (
                f"this engine is too old for the grader's Compose override file: its Docker Compose is "
                f"{'.'.join(map(str, version))}, and `!override`/`!reset` need "
                f"{'.'.join(map(str, MIN_COMPOSE))} or newer",
                "Update the Compose plugin and grade again.",
            )
        return None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
        env["COMPOSE_PROJECT_NAME"] = self.project
        env["DOCKER_CLI_HINTS"] = "false"
        return env

    def compose(
        self, files: list[str], *args: str, timeout: float, on_line: Callable[[str], None] | None = None
    ) -> Ran:
        argv = ["docker", "compose", "--progress", "plain", "-p", self.project]
        for f in files:
            argv += ["-f", f]
        argv += ["--project-directory", str(self.root), *args]
        return self.procs.run(argv, timeout=timeout, cwd=str(self.root), env=self.env(), on_line=on_line)

    def alive(self) -> bool:
        try:
            self.client.ping()
            return True
        except Exception:
            return False


class Phases:
    """Timings of a run's phases, when each began and ended (wall clock), and the display hook told
    (phase, "start"|"end"|"line:TEXT")."""

    def __init__(self, timings: dict[str, float], progress: Callable[[str, str], None]) -> None:
        self.timings = timings
        self._progress = progress
        self._lock = threading.Lock()
        self.spans: dict[str, list[float]] = {}  # phase -> [first start, last end], epoch seconds

    def time(self, key: str, seconds: float) -> None:
        now = time.time()
        with self._lock:
            self.timings[key] = round(self.timings.get(key, 0.0) + seconds, 3)
            span = self.spans.setdefault(key, [now - seconds, now])
            span[1] = now
        self.phase(key, "end")

    def phase(self, name: str, event: str) -> None:
        if event == "start":
            with self._lock:
                now = time.time()
                self.spans.setdefault(name, [now, now])
        try:
            self._progress(name, event)
        except Exception:  # a display problem must not change a grade
            pass


def compose_version(text: str) -> tuple[int, int] | None:
    m = re.search(r"(\d+)\.(\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def engine_name(version: dict[str, Any]) -> str:
    """ "Docker Engine 26.1.5" from the engine's version answer ("" if it does not say)."""
    number = str(version.get("Version") or "").strip()
    return f"Docker Engine {number}" if number else ""


def engine_gone(e: BaseException) -> bool:
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


def gone(e: Exception) -> bool:
    """Whether removing something failed only because it is already gone (never: the engine is gone)."""
    if engine_gone(e):
        return False
    import docker.errors

    if isinstance(e, docker.errors.NotFound):
        return True
    text = str(e)
    return "No such" in text or "404" in text or "not found" in text.lower()
