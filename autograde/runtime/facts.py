"""What the runtime session saw. Checks grade from these; they never touch Docker."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BuildFacts:
    ok: bool
    seconds: float
    image_id: str | None = None
    tag: str | None = None
    size_bytes: int | None = None
    timed_out: bool = False
    error: str = ""  # the builder's own error line
    failed_step: str | None = None  # instruction text the builder quotes as failing
    output_tail: str = ""  # student-controlled


@dataclass
class ServiceFacts:
    name: str
    state: str  # running, exited, created, missing, ...
    exit_code: int | None = None
    log_tail: str = ""  # student-controlled


@dataclass
class UpFacts:
    ok: bool
    message: str = ""
    services: list[ServiceFacts] = field(default_factory=list)
    output_tail: str = ""
    seconds: float = 0.0


@dataclass
class Response:
    status: int | None  # None: no answer
    body: str = ""  # first bytes only, student-controlled
    error: str = ""
    count: int | None = None


@dataclass
class CounterFacts:
    url: str
    first: Response | None = None
    second: Response | None = None
    redis_value: str | None = None
    redis_error: str = ""
    after_restart: Response | None = None
    restart_error: str = ""


@dataclass
class LeanFacts:
    python: str
    flask_ok: bool
    pytest_importable: bool
    tests_dirs: list[str] = field(default_factory=list)
    in_venv: bool = False
    error: str = ""


@dataclass
class Facts:
    skipped: str | None = None  # reason the runtime checks were not run (student's side)
    error: str | None = None  # the grader or the machine failed; not the student's fault
    error_hint: str = ""
    interrupted: bool = False
    host_port: int | None = None
    prod_build: BuildFacts | None = None
    dev_build: BuildFacts | None = None
    up: UpFacts | None = None
    counter: CounterFacts | None = None
    lean: LeanFacts | None = None
