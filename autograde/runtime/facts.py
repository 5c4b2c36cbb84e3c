"""What the runtime session saw. Checks grade from these; they never touch Docker."""

from __future__ import annotations

from dataclasses import dataclass, field

from autograde.runtime.evidence import BuildEvidence, ImageEvidence


@dataclass
class BuildFacts:
    ok: bool
    """The build finished and produced an image."""
    seconds: float
    """Wall-clock seconds the build took."""
    image_id: str | None = None
    """The built image's id (`sha256:...`), when it was built."""
    tag: str | None = None
    """The tag the grader built it under, when it was built."""
    size_bytes: int | None = None
    """The built image's size in bytes, as the engine reports it."""
    timed_out: bool = False
    """The build was stopped at the grader's build timeout."""
    error: str = ""  # the builder's own error line
    """The builder's own error line when the build failed; empty otherwise."""
    failed_step: str | None = None  # instruction text the builder quotes as failing
    """The instruction the builder quotes as failing (e.g. `RUN pytest tests/`), when it names one."""
    output_tail: str = ""  # student-controlled
    """The last lines of the build's output (student-controlled: print it fenced, never raw)."""
    exit_code: int | None = None  # of the failing RUN step, when the builder says it
    """The exit code of the failing `RUN` step, when the builder gives it."""
    step_log: str = ""  # the failing step's own last output lines (student-controlled)
    """The failing step's own last output lines (student-controlled), e.g. pytest's summary."""
    infrastructure: str = ""  # not the student's doing (registry or engine trouble): why, else ""
    """Why the build failed for the machine's reasons (registry outage, engine trouble): then it is an `error`, not the
    student's fault; empty otherwise.
    """
    done_steps: list[str] = field(default_factory=list)  # instructions that finished (or were cached)
    """The instructions that finished (or came from the cache), as the builder names them: evidence of how far the
    build got.
    """
    evidence: BuildEvidence | None = None
    """What the whole build log says about its steps (each step, the pytest runs and their summaries)."""
    running_step: str | None = None
    """The instruction that was running when the build was stopped (timeout or interruption)."""
    oom_limit: str = ""
    """A `RUN` step was killed by the out-of-memory killer under this cap (e.g. "2 GiB"); empty otherwise."""
    still_running: list[str] = field(default_factory=list)
    """Steps still running after the build ended, which the grader killed (one line each)."""
    pids_limit: int = 0
    """The failing `RUN` step was refused processes by this cap (a fork bomb); 0 otherwise."""


@dataclass
class ServiceFacts:
    name: str
    """The Compose service's name: `web_prod`, or the student's Redis service."""
    state: str  # running, exited, created, missing, ...
    """Its container's state as the engine reports it (`running`, `exited`, `created`, `restarting`, ...), or
    `missing` when it has no container.
    """
    exit_code: int | None = None
    """The container's exit code when it stopped; None while running or when unknown."""
    log_tail: str = ""  # student-controlled
    """The container's last log lines (student-controlled)."""


@dataclass
class UpFacts:
    ok: bool
    """Every service of the prod stack was started and is running."""
    message: str = ""
    """Why not, in one line; empty when `ok`."""
    services: list[ServiceFacts] = field(default_factory=list)
    """Each service of the prod stack, as seen after `up`."""
    output_tail: str = ""
    """The last lines of `docker compose up`'s own output."""
    seconds: float = 0.0
    """Wall-clock seconds `up` took (0 when it failed)."""
    infrastructure: str = ""  # `up` failed for the machine's reasons (a pull, the engine): why, else ""
    """Why `up` failed for the machine's reasons (an image pull, the engine): then it is an `error`, not the student's
    fault; empty otherwise.
    """


@dataclass
class HttpAnswer:
    status: int | None  # None: no answer
    """The HTTP status of the answer; None when there was no complete answer."""
    body: str = ""  # first bytes only, student-controlled
    """The start of the body (capped; student-controlled)."""
    error: str = ""
    """Why there was no (complete) answer: refused, timed out, cut off; empty otherwise."""
    count: int | None = None
    """The hit count the page states, for a 200 whose body names one; None otherwise."""


@dataclass
class CounterFacts:
    url: str
    """The URL of the app on the host (`http://127.0.0.1:<host port>/`)."""
    first: HttpAnswer | None = None
    """The first 200 answer (or the last failed try) once the app was up."""
    second: HttpAnswer | None = None
    """The answer to a second request right after the first (the count must go up by one)."""
    redis_value: str | None = None
    """The `hits` key read with `redis-cli GET hits` inside the Redis container, after the two requests; None when it
    could not be read.
    """
    redis_error: str = ""
    """Why `hits` could not be read; empty otherwise."""
    after_restart: HttpAnswer | None = None
    """The answer after `web_prod` was restarted (the count must survive in Redis); None when the restart failed."""
    restart_error: str = ""
    """Why `web_prod` could not be restarted; empty otherwise."""


@dataclass
class HealthFacts:
    """web_prod's HEALTHCHECK, run once in the running container as Docker runs it."""

    test: list[str]
    """The check as Docker stores it: `["CMD-SHELL", "curl -f ..."]` or `["CMD", "prog", ...]`."""
    exit_code: int | None
    """Its exit code; None when it did not finish in time."""
    output: str = ""
    """Its last output lines (student-controlled)."""
    timeout: float = 10.0
    """How long it was given, in seconds."""


@dataclass
class LeanFacts:
    python: str  # the interpreter probed, as the app's process names it
    """The interpreter probed inside the prod image, as the app's process names it."""
    flask_ok: bool
    """Flask imports with that interpreter (the app can run)."""
    pytest_importable: bool
    """pytest imports too (a test tool left in the prod image)."""
    tests_dirs: list[str] = field(default_factory=list)
    """`tests` folders holding `test_*.py` found in the image (at most 5): test code left in the prod image."""
    error: str = ""
    """Why the probe failed (exit status and what it said, or the engine's error); empty otherwise."""
    found_by: str = ""  # how the interpreter was chosen: the running app's process, the image's command, PATH
    """How the interpreter was chosen: the running app's process, the image's command, or PATH."""
    exe: str = ""
    """The interpreter's own path as it reports it (`sys.executable`: a venv's `bin/python`, not the link's target);
    "" when the probe did not run."""
    flask_error: str = ""
    """Why Flask did not import, as Python said it (`ModuleNotFoundError: No module named 'werkzeug'`; capped,
    student-controlled); empty otherwise."""
    flask_by: str = "import"
    """How `flask_ok` was decided: `import` (Flask imported in the image), `find` (its module was only looked for:
    False is final, True still to be confirmed) or `app` (the running app's own main.py, which imports Flask,
    answered over HTTP with this interpreter)."""


@dataclass
class ServiceHealth:
    """A service's health check as Docker ran it in the started stack (`docker inspect`: Config.Healthcheck,
    State.Health), and as the grader ran it by hand."""

    name: str
    """The Compose service."""
    test: list[str]
    """The check as Docker stores it (`["CMD-SHELL", "..."]`, `["CMD", ...]`); empty: the service has none."""
    interval_s: float = 30.0
    """The interval Docker applies (its default, 30 s, when the file sets none)."""
    timeout_s: float = 30.0
    """The timeout Docker applies (default 30 s)."""
    retries: int = 3
    """The failures in a row that make the container unhealthy (default 3)."""
    start_period_s: float = 0.0
    """The start period during which failures do not count (default 0)."""
    status: str = ""
    """Docker's last verdict: `healthy`, `unhealthy`, `starting`; "" when the container had none (or never ran)."""
    healthy_after_s: float | None = None
    """Seconds from the container's start to Docker's first `healthy`; None when it was not seen healthy."""
    budget_s: float = 0.0
    """How long the file's own settings give the container to become healthy (with a margin)."""
    log: list[tuple[int, str]] = field(default_factory=list)
    """Docker's last runs of the check: (exit code, output), oldest first (student-controlled output)."""
    by_hand: HealthFacts | None = None
    """The check run once by the grader in the running container, the stack up."""
    without: HealthFacts | None = None
    """The check run once after the service it depends on was stopped (LAB06: web's, without Redis)."""
    state: str = ""
    """The container's own state at the end (`running`, `exited`, `missing`...)."""


@dataclass
class AppProcess:
    """The running app's process in web_prod, as the container's own /proc shows it."""

    argv: list[str]
    """Its command line (student-controlled), e.g. `["python", "main.py"]`."""
    cwd: str = ""
    """Its working directory in the container."""
    interpreter: str = ""
    """Its argv[0] found on the process' own PATH, by path (a venv's `bin/python`, not the link's target)."""
    venv: str = ""
    """The virtual environment that interpreter belongs to (the folder holding pyvenv.cfg); "" when none."""
    script: str = ""
    """The Python file it runs, by absolute path (`python main.py`, `python -m main`); "" when none."""
    script_sha256: str = ""
    """The SHA-256 of that file's bytes; "" when it could not be read."""
    pid: int = 0
    """Its process id in the container (1 when it is the container's first process)."""
    error: str = ""
    """Why the process could not be read (no Python process, the probe failed); empty otherwise."""


@dataclass
class Facts:
    refused: str | None = None  # why the runtime checks were not run (the student's side)
    """Why nothing was built or run, for a reason on the student's side (e.g. a Compose file asking for what the grader
    refuses): runtime checks are `skip`; None otherwise.
    """
    compose_refused: bool = False
    """`refused` is Docker Compose's own refusal of the student's file: `docker compose up` fails as the student runs
    it (runtime.up fails; the other runtime checks are `skip`)."""
    error: str | None = None  # the grader or the machine failed; not the student's fault
    """Why the runtime part failed for the grader's or the machine's reasons (no engine, engine too old, lost engine):
    runtime checks are `error`; None otherwise.
    """
    error_hint: str = ""
    """What the person running the grader can do about `error`."""
    interrupted: bool = False
    """The grade was stopped (Ctrl-C, SIGTERM, a timeout) before the runtime part finished."""
    engine_lost: str = ""  # the engine went away mid-run: what was seen
    """The engine went away mid-run: what was seen; empty otherwise."""
    removed_leftovers: list[str] = field(default_factory=list)  # abandoned runs' remains removed first
    """What abandoned grading runs had left on the engine and was removed first (one line each)."""
    machine_unfit: str = ""
    """Why the grading machine was unfit to grade (out of disk, cannot start containers); empty when fit."""
    machine_notes: list[str] = field(default_factory=list)
    """What the machine's health check did (stray steps stopped, build cache pruned), one line each."""
    free_disk_bytes: int | None = None
    """Free bytes on the engine's data root before the grade; None when it could not be read."""
    host_port: int | None = None
    """The host port `web_prod` was published on; None before `up`."""
    host_port_note: str = ""  # why web_prod was published on another port than the one asked for
    """Why `web_prod` was published on another port than the one asked for; empty otherwise."""
    prod_build: BuildFacts | None = None
    """The prod image's build (`web_prod` from the student's `Dockerfile.prod`); None when not run."""
    dev_build: BuildFacts | None = None
    """The dev image's build (`web_dev` from `docker-compose.yml`); None when not run."""
    up: UpFacts | None = None
    """Starting the prod stack (`docker compose up`); None when not run."""
    counter: CounterFacts | None = None
    """The hit-counter probes against the running prod stack; None when not run."""
    lean: LeanFacts | None = None
    """The probe of what the prod image holds (interpreter, Flask, pytest, tests); None when not run."""
    image: ImageEvidence | None = None
    """The prod image's venvs and their packages, read from the built image; None when it did not build."""
    health: HealthFacts | None = None
    """web_prod's HEALTHCHECK run once in the running container; None when it has none, or it was not run."""
    health_states: dict[str, ServiceHealth] = field(default_factory=dict)
    """Each service's health check as Docker ran it, by service name (labs that judge health checks); empty
    otherwise."""
    app: AppProcess | None = None
    """The running app's process (what it runs, with which interpreter, in which folder); None when web_prod did not
    run."""
