"""One runtime session: build dev and prod at once, start the prod stack, probe it, inspect images.

Everything is started under one unique compose project name and removed by `cleanup`, which the grade
command calls after the report is written, also on errors and signals. The work lives in modules by
concern (`engine`, `health`, `builds`, `probes`, `inspection`, `cleanup`); this module orchestrates them.
"""

from __future__ import annotations

import contextlib
import importlib
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograde import labs
from autograde.model import Submission
from autograde.runtime import builds, cleanup, health, inspection, leftovers
from autograde.runtime.cgroups import StepCaps, StepGuard, parse_bytes
from autograde.runtime.engine import (
    MIN_COMPOSE,
    PROJECT_LABEL,
    SERVICE_LABEL,
    Engine,
    Phases,
    compose_version,
    engine_gone,
)
from autograde.runtime.facts import BuildFacts, Facts
from autograde.runtime.override import Caps
from autograde.runtime.policy import choose_host_port, default_host_port, refusals
from autograde.runtime.probes import Stack, engine_ports
from autograde.util import Processes

__all__ = ["MIN_COMPOSE", "Session", "SessionOptions", "compose_version"]

FIRST_TIMEOUT_S = 60.0  # the start of the services that need no build (Redis), beside the builds


@dataclass
class SessionOptions:
    host_port: int | None = field(default_factory=default_host_port)  # None: pick a free port
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
    build_memory: str = "2g"  # caps on each RUN step of the builds (where the grader sees the engine's cgroups)
    build_pids: int = 512
    build_cpus: float = 2.0
    min_free_disk: str = health.DEFAULT_FLOOR  # free disk the engine needs before a grade
    machine_known: str | None = None  # the engine's cgroup parent as this slot's previous grade found it (grade-all)
    early_start: bool = True  # start what needs no build (Redis) while the images are built (not in grade-all)


class Warmup:
    """The engine made ready for a grade while its files are still being read: connected, this run's lock taken,
    abandoned runs' remains swept, the machine checked. `start()` runs it in a thread; the Session given it
    (`Session(..., warmup=w)`) waits for it instead of doing the same work after parsing."""

    def __init__(self, root: Path, options: SessionOptions, project: str | None = None) -> None:
        self.project = project or f"autograde-{uuid.uuid4().hex[:12]}"
        self.procs = Processes()
        self.engine = Engine(self.project, root.resolve(), self.procs)
        self.facts = Facts()
        self.lock = leftovers.RunLock(self.project)
        self.timings: dict[str, float] = {}
        self.phases = Phases(self.timings, lambda name, event: None)
        floor = parse_bytes(options.min_free_disk)
        self.machine = health.Machine(self.engine, self.facts, floor, health.probe_images(None))
        self.machine_known = options.machine_known
        self.problem: tuple[str, str] | None = None  # the engine cannot be used: (error, hint)
        self.fit = False
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    def start(self) -> Warmup:
        self._thread = threading.Thread(target=self._guarded, name="autograde-warmup", daemon=True)
        self._thread.start()
        return self

    def wait(self) -> None:
        """Wait for it (raising what it raised: a lost engine is judged by the session)."""
        if self._thread is not None:
            self._thread.join()
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    def close(self) -> None:
        """When no session takes it over (the grade stopped while parsing): wait for it, let its lock go."""
        with contextlib.suppress(BaseException):
            self.wait()
        self.lock.release(keep_file=False)

    def _guarded(self) -> None:
        try:
            self.run()
        except BaseException as e:  # handed to the session's thread
            self._failure = e

    def run(self) -> None:
        self.problem, self.fit = ready(
            self.engine, self.lock, self.facts, self.machine, self.machine_known, self.phases, self.project
        )


def ready(
    engine: Engine,
    lock: leftovers.RunLock,
    facts: Facts,
    machine: health.Machine,
    known: str | None,
    phases: Phases,
    project: str,
) -> tuple[tuple[str, str] | None, bool]:
    """Connect to the engine, take the run's lock, sweep abandoned runs' remains and check the machine:
    (why the engine cannot be used, or None; whether the machine is fit to grade)."""
    start = time.monotonic()
    problem = engine.connect()
    phases.time("connect", time.monotonic() - start)
    if problem is not None:
        return problem, False
    try:
        lock.acquire()
    except OSError:  # no writable lock dir: grade anyway; only the sweep of abandoned runs needs locks
        pass
    else:
        facts.removed_leftovers += cleanup.sweep_abandoned(engine.client, project)
    start = time.monotonic()
    phases.phase("machine", "start")
    fit = machine.fit_to_grade(known)
    phases.time("machine", time.monotonic() - start)
    return None, fit


@dataclass
class Session:
    sub: Submission
    options: SessionOptions = field(default_factory=SessionOptions)
    project: str = field(default_factory=lambda: f"autograde-{uuid.uuid4().hex[:12]}")
    timings: dict[str, float] = field(default_factory=dict)
    # told (phase, "start") when a phase begins, (phase, "end") when it is timed and (phase, "line:TEXT")
    # for a line of build output; for display only
    progress: Callable[[str, str], None] | None = None
    warmup: Warmup | None = None  # the engine made ready while the files were read (its project is this run's)

    def __post_init__(self) -> None:
        self.root = self.sub.root.resolve()
        w = self.warmup
        if w is not None:
            self.project = w.project
        self.procs = w.procs if w is not None else Processes()
        self.tmp = Path(tempfile.mkdtemp(prefix="autograde-"))
        self.prod_tag = f"{self.project}-web-prod:graded"
        self.dev_tag = f"{self.project}-web-dev:graded"
        self.other_tags: list[str] = []  # images of the student's other buildable services
        self.engine = w.engine if w is not None else Engine(self.project, self.root, self.procs)
        self.phases = Phases(self.timings, lambda name, event: self.progress and self.progress(name, event))
        self.facts = w.facts if w is not None else Facts()
        self._dev_refusal: str | None = None  # why the dev image cannot be built, if it cannot
        self._run_lock = w.lock if w is not None else leftovers.RunLock(self.project)
        self._background: ThreadPoolExecutor | None = None  # work that outlives the run (the stack's teardown)
        self._prepared: tuple[builds.Prepared | None, builds.Prepared | None] = (None, None)
        self.scenario = labs.current().scenario
        # the stack's Redis: the lab's name for it, or the redis service the web service names (a name other than
        # the lab's is a static check's business)
        self.redis = (self.sub.prod.redis_service() if self.sub.prod is not None else None) or self.scenario.redis
        o = self.options
        floor, images = parse_bytes(o.min_free_disk), health.probe_images(self.sub)
        self.machine = w.machine if w is not None else health.Machine(self.engine, self.facts, floor, images)
        self.stack = Stack(
            self.engine,
            self.phases,
            self.redis,
            o.ready_timeout,
            o.request_timeout,
            o.stop_timeout,
            web=self.scenario.web,
        )

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
        w = self.warmup
        refused = refusals(self.sub, self.root)
        self._dev_refusal = refused.dev
        if refused.prod:
            if w is not None:
                w.wait()  # nothing of it is used; what it started is this run's to remove
            facts.refused, facts.compose_refused = refused.prod, refused.compose_refused
            return
        if w is None:
            o = self.options
            problem, fit = ready(
                self.engine, self._run_lock, facts, self.machine, o.machine_known, self.phases, self.project
            )
        else:
            w.wait()
            problem, fit = w.problem, w.fit
            for name, (a, b) in w.phases.spans.items():  # what the warm-up did, in this run's phases
                self.phases.spans.setdefault(name, [a, b])
                self.timings.setdefault(name, w.timings.get(name, round(b - a, 3)))
        if problem is not None:
            facts.error, facts.error_hint = problem
            return
        if not fit:
            return
        o = self.options
        choice = choose_host_port(o.host_port, strict=o.host_port_strict, engine_ports=engine_ports(self.engine.client))
        if choice.port is None:
            facts.error, facts.error_hint = choice.error, choice.hint
            return
        port = facts.host_port = choice.port
        facts.host_port_note = choice.note
        prod, dev = builds.prepare(
            self.engine,
            self.sub,
            self.tmp,
            self.project,
            (self.prod_tag, self.dev_tag),
            port,
            self.caps(),
            with_dev=bool(self.scenario.compare_file) and not self._dev_refusal,
        )
        self.other_tags = prod.other_tags
        self._prepared = (prod, dev)
        if dev is not None and dev.error is not None:
            facts.dev_build = BuildFacts(False, 0.0, error=dev.error[0], infrastructure=dev.error[0])
        if prod.files is None:
            facts.error, facts.error_hint = prod.error or ("the grader's Compose files could not be made", "")
            return
        prod_files, dev_files = prod.files, dev.files if dev is not None else None
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="autograde") as pool:
            try:
                self._parallel(pool, prod_files, dev_files, port)
            except BaseException as e:
                self.procs.stop_all()  # before the pool waits for its threads
                if not isinstance(e, KeyboardInterrupt) and engine_gone(e):
                    self.facts.engine_lost = f"{type(e).__name__}: {str(e)[:200]}"
                    return
                raise

    def _parallel(
        self, pool: ThreadPoolExecutor, prod_files: list[str], dev_files: list[str] | None, port: int
    ) -> None:
        facts, o, engine, phases = self.facts, self.options, self.engine, self.phases
        dev: Future[BuildFacts] | None = None

        def built(files: list[str], services: list[str], tag: str, which: str) -> BuildFacts:
            guard = self._guard(which)
            return builds.build(engine, phases, files, services, tag, f"build_{which}", o.build_timeout, guard)

        if dev_files is not None and o.dev_image:
            dev = pool.submit(builds.prebuilt, engine, o.dev_image)
        elif dev_files is not None:
            dev = pool.submit(built, dev_files, [self.scenario.compare_service or ""], self.dev_tag, "dev")
        elif facts.dev_build is None and self.scenario.compare_file:  # set already when the override does not merge
            facts.dev_build = BuildFacts(
                False, 0.0, error=self._dev_refusal or f"{self.scenario.compare_file} is unusable"
            )
        assert self.sub.prod is not None
        prod_model = self.sub.prod

        def pulled_then_first() -> None:  # the stack's registry images, then what of it needs no build (Redis)
            builds.pull_missing(engine, phases, prod_model, prod_files, o.build_timeout)
            if o.early_start:
                self.stack.start_first(prod_files, self.stack.first_services(prod_model), timeout=FIRST_TIMEOUT_S)

        first = pool.submit(pulled_then_first)
        prod = pool.submit(built, prod_files, [], self.prod_tag, "prod")
        facts.prod_build = prod.result()
        first.result()  # before anything else changes the stack (its `up`, its teardown)
        refused = self._grader_refused(facts.prod_build, 0)
        if refused is not None:  # Compose refused the student's file merged with the grader's settings
            facts.error, facts.error_hint = refused
            facts.prod_build.infrastructure = refused[0]
            return
        self.machine.judge_build(facts.prod_build)
        if facts.prod_build.ok:
            self.lab_probe()(self, pool, prod_files, port)  # the lab's own probes of the started stack
        if dev is not None:
            facts.dev_build = dev.result()
            refused = self._grader_refused(facts.dev_build, 1)
            if refused is not None:
                facts.dev_build = BuildFacts(False, 0.0, error=refused[0], infrastructure=refused[0])
            self.machine.judge_build(facts.dev_build)
        for build in (facts.prod_build, facts.dev_build):
            if build is not None and not build.ok and not build.infrastructure and not engine.alive():
                build.infrastructure = "the Docker engine stopped answering during the build"
        if any(
            b is not None and b.infrastructure.startswith("the connection to the Docker engine")
            for b in (facts.prod_build, facts.dev_build)
        ):
            facts.engine_lost = facts.engine_lost or "the engine went away during the build"

    def _grader_refused(self, build: BuildFacts, which: int) -> tuple[str, str] | None:
        """For a build that failed before any step: whether Compose refused the grader's override, not the file."""
        prepared = self._prepared[which]
        if build.ok or build.done_steps or build.timed_out or prepared is None:
            return None
        return prepared.merge_refused(self.engine)

    def lab_probe(self) -> Callable[[Session, ThreadPoolExecutor, list[str], int], None]:
        """The lab pack's probes of the started stack (`Scenario.probe`, `module:function`): called with this
        session, its thread pool, the stack's compose files and the host port; they record into `facts`."""
        module, _, name = self.scenario.probe.partition(":")
        probe: Callable[[Session, ThreadPoolExecutor, list[str], int], None] = getattr(
            importlib.import_module(module), name
        )
        return probe

    # -- compose files -----------------------------------------------------------------------
    def _guard(self, which: str) -> StepGuard:
        o = self.options
        caps = StepCaps(o.build_memory, o.build_pids, o.build_cpus)
        return StepGuard(self.machine.cgroups, caps, f"{self.project}-{which}")

    def probe_limits(self) -> dict[str, Any]:
        return {
            "labels": {PROJECT_LABEL: self.project, SERVICE_LABEL: inspection.PROBE_SERVICE},
            "memory": self.options.memory,
            "pids": self.options.pids,
            "cpus": self.options.cpus,
        }

    def caps(self) -> Caps:
        return Caps(self.options.memory, self.options.pids, self.options.cpus)

    # -- cleanup -----------------------------------------------------------------------------
    def cleanup(self) -> list[str]:
        """Remove every container, network, volume and image of this run. Returns what could not be removed.

        If the engine cannot be reached, the run's lock file stays behind (released): the next grade on
        this machine then knows these remains are abandoned and removes them.
        """
        start = time.monotonic()
        self.phases.phase("cleanup", "start")
        if self.warmup is not None:
            with contextlib.suppress(BaseException):  # its failure was the run's to judge; here only its end matters
                self.warmup.wait()
        if self._background is not None:  # the stack's teardown, begun after the last probe
            self._background.shutdown(wait=True)
        self.procs.stop_all()
        problems: list[str] = []
        if self.engine.client is not None:
            tags = (self.prod_tag, self.dev_tag, *self.other_tags)
            ids = cleanup.container_ids(self.engine.client, self.project)
            problems += cleanup.remove_project(self.engine.client, self.project, tags, not self.options.keep_images)
            problems += cleanup.kill_remains(self.machine.cgroups, ids)
        self._run_lock.release(keep_file=bool(problems))
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.phases.time("cleanup", time.monotonic() - start)
        return problems

    def teardown_stack(self, background: bool = False) -> None:
        """Remove the started stack once probed, while inspection and the compared image's build may still run.

        `background`: start it and return; the report is written meanwhile, and `cleanup` waits for it."""
        if background:
            if self._background is None:
                self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autograde-teardown")
            self._background.submit(self.teardown_stack)
            return
        start = time.monotonic()
        self.phases.phase("teardown", "start")
        cleanup.remove_resources(
            self.engine.client,
            self.project,
            lambda c: c.labels.get(SERVICE_LABEL) not in (None, inspection.PROBE_SERVICE),
        )
        self.phases.time("teardown", time.monotonic() - start)

    def _time(self, key: str, seconds: float) -> None:
        self.phases.time(key, seconds)
