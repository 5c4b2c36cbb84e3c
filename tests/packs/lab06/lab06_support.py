"""LAB06's template as files: the template folder, its solutions.md, checkouts, and one stack run.

A checkout is the template repository as a student receives it (autograde/labs/lab06/template/),
optionally solved from solutions.md or with a corpus case's files put over it. `StackRun` brings a
checkout up the way a student does (`docker compose up --build -d`) under its own project name,
with an override that only moves web's published port to a free 127.0.0.1 port and tags the
built image uniquely, and records what Docker reports: health, the counter, and what happens when
Redis goes away. Nothing here imports the grader.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
TEMPLATE = REPO / "autograde" / "labs" / "lab06" / "template"
CORPUS = HERE / "corpus"
COMPOSE_FILE = "docker-compose.yml"
WEB, REDIS = "web", "redis"

sys.path.insert(0, str(REPO / "tests"))
from support import fenced_files, first_int, unique_project, wait_ok  # noqa: E402

# An opening fence with an info string "<language> <filename>", e.g. ```yaml docker-compose.yml
# Docker's defaults for a health check setting left at 0 (`docker inspect` shows 0 for "inherit").
DEFAULT_INTERVAL_S, DEFAULT_TIMEOUT_S, DEFAULT_RETRIES = 30.0, 30.0, 3


def solution_files(text: str | None = None) -> dict[str, str]:
    """The files LAB06's solutions.md gives, {path: content}, from blocks fenced as ```lang path (the same
    convention as LAB04's: tests/support.fenced_files)."""
    return fenced_files(text if text is not None else (TEMPLATE / "solutions.md").read_text(encoding="utf-8"))


def case_files(case: str) -> dict[str, bytes]:
    """The files a corpus case puts over the template, byte for byte (expect.yml excluded)."""
    folder = CORPUS / case
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "expect.yml" and "__pycache__" not in p.parts
    }


def case_names() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if (p / "expect.yml").is_file())


def make_checkout(dest: Path, *, solution: bool = False, case: str | None = None) -> Path:
    """The template as a student receives it at dest; solved from solutions.md, or with a case's files."""
    shutil.copytree(TEMPLATE, dest, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    if solution:
        for rel, text in solution_files().items():
            (dest / rel).write_text(text, encoding="utf-8")
    if case:
        for rel, data in case_files(case).items():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return dest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seconds(ns: int | None, default: float) -> float:
    return ns / 1e9 if ns else default


@dataclass
class Health:
    """A container's health settings as Docker runs them (compose file or image HEALTHCHECK), in seconds."""

    test: list[str]
    interval: float
    timeout: float
    retries: int
    start_period: float
    start_interval: float

    @classmethod
    def from_inspect(cls, config: dict[str, Any] | None) -> Health | None:
        if not config or not config.get("Test") or config["Test"] == ["NONE"]:
            return None
        interval = seconds(config.get("Interval"), DEFAULT_INTERVAL_S)
        return cls(
            test=list(config["Test"]),
            interval=interval,
            timeout=seconds(config.get("Timeout"), DEFAULT_TIMEOUT_S),
            retries=int(config.get("Retries") or DEFAULT_RETRIES),
            start_period=seconds(config.get("StartPeriod"), 0.0),
            start_interval=seconds(config.get("StartInterval"), interval),
        )

    def budget(self) -> float:
        """How long Docker may report `starting` before it must say `unhealthy`: start_period + interval x retries."""
        return self.start_period + self.interval * self.retries

    def argv(self) -> list[str]:
        """The command Docker runs for the test: CMD args as they are, CMD-SHELL through /bin/sh -c."""
        kind, rest = self.test[0], self.test[1:]
        return ["/bin/sh", "-c", rest[0]] if kind == "CMD-SHELL" else rest


@dataclass
class StackRun:
    """One checkout brought up as a student would, on its own project and a free port."""

    root: Path
    prefix: str = "lab06run"
    project: str = field(init=False)
    port: int = field(init=False)
    image: str = field(init=False)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.project = unique_project(self.prefix)
        self.port = free_port()
        self.image = f"{self.project}-web:student"
        (self.root / "override.yml").write_text(
            f'services:\n  {WEB}:\n    image: {self.image}\n    ports: !override ["127.0.0.1:{self.port}:5000"]\n',
            encoding="utf-8",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def compose(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        argv = ["docker", "compose", "-p", self.project, "-f", COMPOSE_FILE, "-f", "override.yml", *args]
        return subprocess.run(argv, cwd=self.root, capture_output=True, text=True, timeout=timeout)

    def container(self, service: str) -> str | None:
        ids = self.compose("ps", "-a", "-q", service, timeout=60).stdout.split()
        return ids[0] if ids else None

    def inspect(self, service: str) -> dict[str, Any] | None:
        cid = self.container(service)
        if not cid:
            return None
        out = subprocess.run(["docker", "inspect", cid], capture_output=True, text=True, timeout=60)
        return json.loads(out.stdout)[0] if out.returncode == 0 else None

    def health(self, service: str) -> Health | None:
        info = self.inspect(service)
        return Health.from_inspect(info["Config"].get("Healthcheck")) if info else None

    def state(self, service: str) -> dict[str, Any]:
        """{status, health, started_at, health_log} of the service's container ({} when there is none)."""
        info = self.inspect(service)
        if not info:
            return {}
        st = info["State"]
        return {
            "status": st.get("Status"),
            "health": (st.get("Health") or {}).get("Status"),
            "started_at": st.get("StartedAt"),
            "health_log": (st.get("Health") or {}).get("Log") or [],
        }

    def wait_health(self, service: str, wanted: set[str], budget: float) -> tuple[str | None, float]:
        """Poll the container's health until it is in `wanted` or `budget` seconds passed: (health, seconds)."""
        t0 = time.monotonic()
        while True:
            health = self.state(service).get("health")
            waited = time.monotonic() - t0
            if health in wanted or waited >= budget:
                return health, waited
            time.sleep(0.25)

    def exec_test(self, service: str, timeout: float = 30) -> tuple[int, str]:
        """Run the service's health test in its container now, as Docker would: (exit status, output)."""
        health = self.health(service)
        cid = self.container(service)
        if not health or not cid:
            return -1, "no health check or no container"
        ran = subprocess.run(["docker", "exec", cid, *health.argv()], capture_output=True, text=True, timeout=timeout)
        return ran.returncode, (ran.stdout + ran.stderr).strip()[-300:]

    def counter(self) -> tuple[list[int | str], str]:
        counts: list[int | str] = []
        for _ in range(2):
            status, body = wait_ok(self.url, timeout=60)
            counts.append(first_int(body) if status == 200 else f"HTTP {status}")
        hits = self.compose("exec", "-T", REDIS, "redis-cli", "GET", "hits", timeout=60).stdout.strip()
        return counts, hits

    def down(self) -> None:
        self.compose("down", "-v", "--remove-orphans", "-t", "1", timeout=180)
        subprocess.run(["docker", "rmi", "-f", self.image], capture_output=True, timeout=120)


def docker_time(ts: str) -> datetime:
    """A Docker timestamp (RFC 3339, nanoseconds, `Z` or an offset) as an aware datetime."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", ts.strip())
    if not m:
        raise ValueError(f"not a Docker timestamp: {ts!r}")
    head, frac, zone = m.groups()
    micro = ((frac or "") + "000000")[:6]
    return datetime.fromisoformat(f"{head}.{micro}{'+00:00' if zone == 'Z' else zone}")


def seconds_between(start: str, end: str) -> float:
    return (docker_time(end) - docker_time(start)).total_seconds()


def first_healthy_after_start(state: dict[str, Any]) -> float | None:
    """Seconds from the container's start to the end of its first passing probe (when Docker said healthy)."""
    for entry in state.get("health_log", []):
        if entry.get("ExitCode") == 0:
            return seconds_between(state["started_at"], entry["End"])
    return None
