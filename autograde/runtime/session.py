"""One runtime session: build dev and prod at once, start the prod stack, probe it, inspect images.

Everything is started under one unique compose project name and removed by `cleanup`,
which the grade command calls after the report is written, also on errors and signals.
The work itself lives in modules by concern: `engine` (connection, Compose, engine errors),
`builds`, `probes`, `inspection` (the prod image) and `cleanup`; this module orchestrates them.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from autograde.model import Submission
from autograde.model.compose import DEV_FILE, PROD_FILE
from autograde.runtime import builds, cleanup, health, inspection, leftovers
from autograde.runtime.cgroups import EngineCgroups, StepCaps, StepGuard, parse_bytes
from autograde.runtime.engine import MIN_COMPOSE, SERVICE_LABEL, Engine, Phases, compose_version, engine_gone
from autograde.runtime.facts import BuildFacts, Facts
from autograde.runtime.override import Caps, dev_override, prod_override
from autograde.runtime.policy import refusals
from autograde.runtime.probes import Stack
from autograde.util import Processes

__all__ = ["MIN_COMPOSE", "Session", "SessionOptions", "compose_version"]

MACHINE_HINT = (
    "Nothing to fix in your files: the grading machine must be repaired (free disk space on its Docker "
    "engine, or restart the engine) and the grade run again; tell your instructor."
)
# what the engine says when the machine, not the student's file, is short of something
_MACHINE_TROUBLE = ("no space left on device", "resource temporarily unavailable", "cannot allocate memory")


def _machine_said(text: str) -> str:
    lowered = text.lower()
    return next((needle for needle in _MACHINE_TROUBLE if needle in lowered), "")


@dataclass
class SessionOptions:
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
    build_memory: str = "2g"  # caps on each RUN step of the builds (where the grader sees the engine's cgroups)
    build_pids: int = 512
    build_cpus: float = 2.0
    min_free_disk: str = health.DEFAULT_FLOOR  # free disk the engine needs before a grade


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
        self.engine = Engine(self.project, self.root, self.procs)
        self.phases = Phases(self.timings, self._progress)
        self.facts = Facts()
        self._dev_refusal: str | None = None  # why the dev image cannot be built, if it cannot
        self._run_lock = leftovers.RunLock(self.project)
        self._cgroups: EngineCgroups | None = None  # the engine's cgroups, when this machine sees them
        # the stack's Redis: redis_prod, or the redis service web_prod names (its name is compose.services' business)
        self.redis = (self.sub.prod.redis_service() if self.sub.prod is not None else None) or "redis_prod"
        o = self.options
        self.stack = Stack(self.engine, self.phases, self.redis, o.ready_timeout, o.request_timeout, o.stop_timeout)

    def _progress(self, name: str, event: str) -> None:
        if self.progress is not None:
            self.progress(name, event)

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
        problem = self.engine.connect()
        if problem is not None:
            facts.error, facts.error_hint = problem
            return
        try:
            self._run_lock.acquire()
        except OSError:  # no writable lock dir: grade anyway; only the sweep of abandoned runs needs locks
            pass
        else:
            facts.removed_leftovers += cleanup.sweep_abandoned(self.engine.client, self.project)
        if not self._healthy():
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
        if dev_files is not None and o.dev_image:
            dev = pool.submit(builds.prebuilt, engine, o.dev_image)
        elif dev_files is not None:
            dev = pool.submit(
                builds.build,
                engine,
                phases,
                dev_files,
                ["web_dev"],
                self.dev_tag,
                "build_dev",
                o.build_timeout,
                self._guard("dev"),
            )
        else:
            facts.dev_build = BuildFacts(False, 0.0, error=self._dev_refusal or "docker-compose.yml is unusable")
        assert self.sub.prod is not None
        pool.submit(builds.pull_missing, engine, phases, self.sub.prod, prod_files, o.build_timeout)
        prod = pool.submit(
            builds.build,
            engine,
            phases,
            prod_files,
            [],
            self.prod_tag,
            "build_prod",
            o.build_timeout,
            self._guard("prod"),
        )
        facts.prod_build = prod.result()
        self._machine_trouble(facts.prod_build)
        if facts.prod_build.ok:
            # the image is inspected with the running app's interpreter, once probing is over: a probe
            # container started while web_prod restarts was seen killed (exit 137) under parallel grades
            probed = self.stack.up_and_probe(prod_files, port)
            facts.up, facts.counter = probed.up, probed.counter
            if not probed.up.ok and not probed.up.infrastructure and _machine_said(probed.up.output_tail):
                probed.up.infrastructure = self._unfit(_machine_said(probed.up.output_tail))
            lean = pool.submit(inspection.lean, engine, phases, self.prod_tag, probed.interpreter, self._caps())
            teardown = pool.submit(self._teardown_stack)
            facts.lean, lost = lean.result()
            facts.engine_lost = facts.engine_lost or lost
            if _machine_said(facts.lean.error):
                self._unfit(_machine_said(facts.lean.error))
            teardown.result()
        if dev is not None:
            facts.dev_build = dev.result()
            self._machine_trouble(facts.dev_build)
        for build in (facts.prod_build, facts.dev_build):
            if build is not None and not build.ok and not build.infrastructure and not engine.alive():
                build.infrastructure = "the Docker engine stopped answering during the build"
        if any(
            b is not None and b.infrastructure.startswith("the connection to the Docker engine")
            for b in (facts.prod_build, facts.dev_build)
        ):
            facts.engine_lost = facts.engine_lost or "the engine went away during the build"

    # -- the machine's health ----------------------------------------------------------------
    def _healthy(self) -> bool:
        """Check the machine before grading; an unfit machine is an error, never the student's fail."""
        found = health.check(self.engine, parse_bytes(self.options.min_free_disk), self._probe_images())
        self.facts.machine_notes += found.notes
        self.facts.free_disk_bytes = found.free_bytes
        self._cgroups = found.cgroups
        if found.fit:
            return True
        self.facts.machine_unfit = self.facts.error = found.problem
        self.facts.error_hint = MACHINE_HINT
        return False

    def _probe_images(self) -> list[str]:
        """Images the health check may start a container from: ones the grade uses anyway."""
        refs = [st.base for st in (self.sub.dockerfile.stages if self.sub.dockerfile else [])]
        if self.sub.prod is not None:
            refs += [i for s in self.sub.prod.services.values() if (i := self.sub.prod.image(s))]
        return [r for r in dict.fromkeys(refs) if r and "$" not in r] + ["python:3.13-slim", "redis:alpine"]

    def _guard(self, which: str) -> StepGuard:
        o = self.options
        return StepGuard(self._cgroups, StepCaps(o.build_memory, o.build_pids, o.build_cpus), f"{self.project}-{which}")

    def _machine_trouble(self, build: BuildFacts) -> None:
        """A failed build whose output names the machine's trouble (disk full, cannot fork) is not the student's
        fail when the machine is unfit afterwards; a step that filled the disk itself, on a machine that is
        fine again once its layer is gone, is the student's (its verdict says No space left on device)."""
        said = _machine_said(build.error + "\n" + build.output_tail)
        if build.ok or build.infrastructure or not said:
            return
        again = health.check(self.engine, parse_bytes(self.options.min_free_disk), self._probe_images())
        if not again.fit:
            build.infrastructure = self._unfit(again.problem)
        elif said != "no space left on device" or self._shared_machine():
            build.infrastructure = f"the grading machine was short of resources during the build ({said})"

    def _shared_machine(self) -> bool:
        from autograde.runtime.cgroups import builds_running

        return builds_running() > 0

    def _unfit(self, why: str) -> str:
        self.facts.machine_unfit = self.facts.machine_unfit or why
        self.facts.engine_lost = self.facts.engine_lost or why
        return why

    # -- guards ------------------------------------------------------------------------------
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
                self.facts.error = (
                    f"host port {port} is already in use on this machine by another program; "
                    "this is not a problem with your files"
                )
                self.facts.error_hint = (
                    f"Stop whatever listens on {port} (`docker ps`, an earlier lab stack?), or "
                    "grade with `--host-port auto`."
                )
                return None

    # -- compose files -----------------------------------------------------------------------
    def _caps(self) -> Caps:
        return Caps(self.options.memory, self.options.pids, self.options.cpus)

    def _write_prod_override(self, port: int) -> list[str]:
        assert self.sub.prod is not None
        text, self.other_tags = prod_override(
            self.sub.prod,
            self.sub.build,
            self.root,
            prod_tag=self.prod_tag,
            other_tag=f"{self.project}-svc{{index}}:graded",
            port=port,
            caps=self._caps(),
        )
        path = self.tmp / "prod-override.yml"
        path.write_text(text)
        return [str(self.root / PROD_FILE), str(path)]

    def _dev_files(self) -> list[str] | None:
        if self._dev_refusal:
            return None
        path = self.tmp / "dev-override.yml"
        path.write_text(dev_override(dev_tag=self.dev_tag, caps=self._caps()))
        return [str(self.root / DEV_FILE), str(path)]

    # -- cleanup -----------------------------------------------------------------------------
    def cleanup(self) -> list[str]:
        """Remove every container, network, volume and image of this run. Returns what could not be removed.

        If the engine cannot be reached, the run's lock file stays behind (released): the next grade on
        this machine then knows these remains are abandoned and removes them.
        """
        start = time.monotonic()
        self.phases.phase("cleanup", "start")
        self.procs.stop_all()
        problems: list[str] = []
        if self.engine.client is not None:
            tags = (self.prod_tag, self.dev_tag, *self.other_tags)
            problems += cleanup.remove_project(self.engine.client, self.project, tags, not self.options.keep_images)
        self._run_lock.release(keep_file=bool(problems))
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.phases.time("cleanup", time.monotonic() - start)
        return problems

    def _teardown_stack(self) -> None:
        """Remove the prod stack once probed, while inspection and the dev build may still run."""
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
