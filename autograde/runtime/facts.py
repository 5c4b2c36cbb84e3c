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
    exit_code: int | None = None  # of the failing RUN step, when the builder says it
    step_log: str = ""  # the failing step's own last output lines (student-controlled)
    infrastructure: str = ""  # not the student's doing (registry or engine trouble): why, else ""
    done_steps: list[str] = field(default_factory=list)  # instructions that finished (or were cached)


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
    infrastructure: str = ""  # `up` failed for the machine's reasons (a pull, the engine): why, else ""


@dataclass
class HttpAnswer:
    status: int | None  # None: no answer
    body: str = ""  # first bytes only, student-controlled
    error: str = ""
    count: int | None = None


@dataclass
class CounterFacts:
    url: str
    first: HttpAnswer | None = None
    second: HttpAnswer | None = None
    redis_value: str | None = None
    redis_error: str = ""
    after_restart: HttpAnswer | None = None
    restart_error: str = ""


@dataclass
class LeanFacts:
    python: str  # the interpreter probed, as the app's process names it
    flask_ok: bool
    pytest_importable: bool
    tests_dirs: list[str] = field(default_factory=list)
    error: str = ""
    found_by: str = ""  # how the interpreter was chosen: the running app's process, the image's command, PATH


@dataclass
class Facts:
    refused: str | None = None  # why the runtime checks were not run (the student's side)
    error: str | None = None  # the grader or the machine failed; not the student's fault
    error_hint: str = ""
    interrupted: bool = False
    engine_lost: str = ""  # the engine went away mid-run: what was seen
    removed_leftovers: list[str] = field(default_factory=list)  # abandoned runs' remains removed first
    host_port: int | None = None
    host_port_note: str = ""  # why web_prod was published on another port than the one asked for
    prod_build: BuildFacts | None = None
    dev_build: BuildFacts | None = None
    up: UpFacts | None = None
    counter: CounterFacts | None = None
    lean: LeanFacts | None = None
