"""Build steps' processes, capped and stopped through the engine's cgroups.

The engine's embedded BuildKit runs each `RUN` step in a cgroup of its own,
`<cgroup parent>/buildkit/<id>`, beside the containers (`<cgroup parent>/<container id>`); the
cgroup parent is `/docker` unless the engine is configured otherwise. When the grader runs on the
engine's machine with cgroup v1 and the cgroupfs driver (a Linux grading machine), it sees those
cgroups under /sys/fs/cgroup and so can:

- cap each step (memory, processes, CPU) as soon as it appears, and cap the steps of the builds
  running on this machine together, before any step starts (a fork bomb cannot starve the engine);
- see that a step was killed by the out-of-memory killer of its own cap;
- after a build ended (done, failed, timed out, interrupted), make sure none of its steps still
  runs: freeze the step's cgroup, kill every process in it, check that it is empty.

Elsewhere (Docker Desktop, cgroup v2 with systemd) `locate` finds nothing and builds run uncapped,
as before; the engine's own cancellation of a stopped build is then all there is.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from autograde.runtime import leftovers

ROOT = Path(os.environ.get("AUTOGRADE_CGROUP_ROOT", "/sys/fs/cgroup"))
POLL_S = 0.1  # how often a build's new steps are looked for (and capped)
SETTLE_S = 5.0  # how long the engine gets to end a stopped build's steps itself
# a build's step cgroup is made this soon around the line that announces the step (the line comes
# through Compose a little after the step started, or the step waits for its mounts)
ANNOUNCED_BEFORE_S = 2.0
STARTED_WITHIN_S = 15.0
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_bytes(text: str) -> int:
    """`2g`, `512m`, `1.5G`, `1024` (bytes) -> bytes, like Docker's --memory."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?\s*", text.lower())
    if not m:
        raise ValueError(f"not a size: {text!r} (e.g. 2g, 512m)")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def human(n: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) or value >= 10 else f"{value:.1f} {unit}"
    return f"{n} bytes"


@dataclass(frozen=True)
class StepCaps:
    memory: str = "2g"
    pids: int = 512
    cpus: float = 2.0

    @property
    def memory_bytes(self) -> int:
        return parse_bytes(self.memory)


@dataclass(frozen=True)
class EngineCgroups:
    """The engine's cgroup parent as this machine sees it (cgroup v1)."""

    parent: str  # e.g. "/docker"

    def dir(self, controller: str, *parts: str) -> Path:
        return ROOT.joinpath(controller, self.parent.strip("/"), *parts)

    def steps(self) -> list[str]:
        try:
            return sorted(p.name for p in self.dir("pids", "buildkit").iterdir() if p.is_dir())
        except OSError:
            return []

    def processes(self, step: str, *, container: bool = False) -> list[int]:
        """The processes in a build step's cgroup (or, with `container`, in a container's)."""
        try:
            text = (self.dir("pids", *self._where(step, container)) / "cgroup.procs").read_text()
        except OSError:
            return []
        return [int(x) for x in text.split()]

    @staticmethod
    def _where(name: str, container: bool) -> tuple[str, ...]:
        return (name,) if container else ("buildkit", name)

    def cap(self, step: str, caps: StepCaps) -> None:
        """Cap one step (best effort: the step may end meanwhile)."""
        memory = str(caps.memory_bytes)
        for controller, name, value in (
            ("pids", "pids.max", str(caps.pids)),
            ("memory", "memory.limit_in_bytes", memory),
            ("memory", "memory.memsw.limit_in_bytes", memory),
            ("cpu", "cpu.cfs_period_us", "100000"),
            ("cpu", "cpu.cfs_quota_us", str(int(caps.cpus * 100000))),
        ):
            _write(self.dir(controller, "buildkit", step) / name, value)

    def cap_all_steps(self, builds: int, caps: StepCaps) -> None:
        """Cap the steps of `builds` builds together (the parent of every step cgroup), or lift the cap (0)."""
        _write(self.dir("pids", "buildkit") / "pids.max", str(caps.pids * builds) if builds else "max")

    def hit_pids_cap(self, step: str) -> bool:
        """Whether the step was refused a new process by its pids cap (`pids.events`: max N)."""
        try:
            text = (self.dir("pids", "buildkit", step) / "pids.events").read_text()
        except OSError:
            return False
        m = re.search(r"^max (\d+)$", text, re.M)
        return bool(m and int(m.group(1)) > 0)

    def oom_killed(self, step: str) -> bool:
        try:
            text = (self.dir("memory", "buildkit", step) / "memory.oom_control").read_text()
        except OSError:
            return False
        m = re.search(r"^oom_kill (\d+)$", text, re.M)
        return bool(m and int(m.group(1)) > 0)

    def kill(self, step: str, *, container: bool = False) -> int:
        """Freeze the step's (or container's) cgroup, kill every process in it, thaw; returns how many
        processes it had. Frozen processes cannot fork while they are killed one by one.
        """
        where = self._where(step, container)
        freezer = self.dir("freezer", *where) / "freezer.state"
        seen: set[int] = set()
        for _ in range(20):
            pids = self.processes(step, container=container)
            if not pids:
                break
            _write(freezer, "FROZEN")
            for _ in range(50):
                with contextlib.suppress(OSError):
                    if freezer.read_text().strip() != "FREEZING":
                        break
                time.sleep(0.02)
            try:
                tasks = [int(x) for x in (self.dir("pids", *where) / "tasks").read_text().split()]
            except OSError:
                tasks = pids
            for pid in tasks:
                seen.add(pid)
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            _write(freezer, "THAWED")  # SIGKILL is delivered once thawed
            time.sleep(0.1)
        return len(seen)


def locate(cgroup_lines: str, container_id: str) -> EngineCgroups | None:
    """The engine's cgroup parent, from a container's /proc/self/cgroup, if this machine sees it."""
    m = re.search(r"^\d+:pids:(?P<path>/\S*)$", cgroup_lines, re.M)
    if not m or not container_id:
        return None
    path = m.group("path").rstrip("/")
    parent, _, leaf = path.rpartition("/")
    if not leaf.startswith(container_id[:12]):
        return None  # a cgroup namespace or the systemd driver: not the layout this module knows
    found = EngineCgroups(parent or "/")
    # the grader must be able to write there (root): else it can neither cap nor freeze, and does not try
    usable = all(found.dir(c).is_dir() and os.access(found.dir(c), os.W_OK) for c in ("pids", "freezer"))
    return found if usable else None


# -- builds on this machine --------------------------------------------------------------------
def _build_dir() -> Path:
    return leftovers.lock_dir() / "builds"


def builds_running(but: Path | None = None) -> int:
    """How many grader builds run on this machine now (their lock files are held)."""
    count = 0
    with contextlib.suppress(OSError):
        for path in _build_dir().glob("*.lock"):
            if path == but:
                continue
            if _held(path):
                count += 1
            elif not path.with_suffix(".steps").exists() and time.time() - path.stat().st_mtime > 60:
                # its grader is gone and left no steps to check (a lock just created may not be held yet)
                path.with_suffix(".announced").unlink(missing_ok=True)
                path.unlink(missing_ok=True)
    return count


@dataclass
class StepReport:
    oom: bool = False  # a step of this build was killed by the out-of-memory killer of its cap
    stray: list[str] = field(default_factory=list)  # what still ran after the build ended, and was killed
    shared: bool = False  # other grader builds ran on this machine meanwhile
    peaks: dict[str, int] = field(default_factory=dict)  # RUN command -> most processes its step was seen running
    capped: set[str] = field(default_factory=set)  # RUN commands whose step was refused a process by its cap


class StepGuard:
    """While one build runs: cap its steps; when it ends: make sure none of them still runs.

    A step cgroup is this build's when it appeared while the build ran and one of its processes runs
    (`sh -c COMMAND`) a `RUN` command this build's output announced and did not take from the cache.
    Builds of other grades often run the very same commands (every correct student's `pip install`):
    a step whose command another live grader build also announced is left to the last of those
    builds to end, and to the next grade's health check if its grader died. Another build's steps
    are never killed while that build may still need them.
    """

    _HEADER = re.compile(r"^#(\d+) \[[^\]]*\] RUN (?P<cmd>.+)$")
    _CACHED = re.compile(r"^#(\d+) CACHED\b")

    def __init__(self, cgroups: EngineCgroups | None, caps: StepCaps, name: str) -> None:
        self.cg = cgroups
        self.caps = caps
        self.report = StepReport()
        self._path = _build_dir() / f"{name}.lock"
        self._steps_file = self._path.with_suffix(".steps")
        self._announce_file = self._path.with_suffix(".announced")
        self._file: IO[str] | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._before: set[str] = set()
        self._announced: dict[str, str] = {}  # BuildKit's step number -> the RUN command
        self._announced_at: dict[str, float] = {}  # the RUN command -> when this build last announced it
        self._ours: dict[str, str] = {}  # step cgroup -> the RUN command it runs
        self._capped: set[str] = set()
        self._thread: threading.Thread | None = None

    def feed(self, line: str) -> None:
        """A line of the build's plain progress output."""
        m = self._HEADER.match(line)
        if m:
            with self._lock:
                # BuildKit quotes the command Go-style in its progress output: \" for "
                command = m.group("cmd").removesuffix(" [...]").replace('\\"', '"')
                self._announced[m.group(1)] = " ".join(command.split())
                self._announced_at[self._announced[m.group(1)]] = time.time()
                self._publish()
            return
        m = self._CACHED.match(line)
        if m:
            with self._lock:
                self._announced.pop(m.group(1), None)
                self._publish()

    def _publish(self) -> None:
        """Tell other graders on this machine which commands this build runs (see `_end`)."""
        with contextlib.suppress(OSError):
            self._announce_file.write_text("".join(c + "\n" for c in self._announced.values()))

    @contextlib.contextmanager
    def running(self) -> Iterator[StepReport]:
        self._start()
        try:
            yield self.report
        finally:
            self._end()

    def _start(self) -> None:
        with contextlib.suppress(OSError):
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self._path, "w")  # noqa: SIM115 - held while the build runs
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if self.cg is None:
            return
        self._before = set(self.cg.steps())
        with contextlib.suppress(OSError):
            self.cg.dir("pids", "buildkit").mkdir(exist_ok=True)
        self.cg.cap_all_steps(builds_running(), self.caps)
        self._thread = threading.Thread(target=self._watch, name="autograde-steps", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(POLL_S):
            self._look()

    def _look(self) -> None:
        assert self.cg is not None
        if builds_running(but=self._path):
            self.report.shared = True
        with self._lock:
            announced_at = {c: self._announced_at.get(c, 0.0) for c in self._announced.values()}
        for step in self.cg.steps():
            if step in self._before:
                continue
            if step not in self._capped:
                self._capped.add(step)
                self.cg.cap(step, self.caps)  # any new step: the caps are the same for every grader build
            if step not in self._ours and announced_at:
                # a step of this build starts when the build announces it: one that started at another
                # time runs the same command for another build (every student's `pip install`)
                try:
                    started = self.cg.dir("pids", "buildkit", step).stat().st_mtime
                except OSError:
                    continue
                announced = {
                    c for c, t in announced_at.items() if t - ANNOUNCED_BEFORE_S <= started <= t + STARTED_WITHIN_S
                }
                command = _running_command(self.cg, step, announced)
                if command:
                    self._ours[step] = command
                    with contextlib.suppress(OSError):
                        self._steps_file.write_text("\n".join(self._ours) + "\n")
            if step in self._ours:
                n = len(self.cg.processes(step))
                command = self._ours[step]
                self.report.peaks[command] = max(n, self.report.peaks.get(command, 0))
                if self.cg.hit_pids_cap(step):
                    self.report.capped.add(command)
                if not self.report.oom and self.cg.oom_killed(step):
                    self.report.oom = True

    def _end(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=5)
        if self.cg is not None:
            self._look()
            deadline = time.monotonic() + SETTLE_S
            while time.monotonic() < deadline and any(self.cg.processes(s) for s in self._ours):
                time.sleep(0.2)
            shared = _announced_by_others(self._path)
            for step, command in self._ours.items():
                if self.cg.processes(step) and command not in shared:
                    n = self.cg.kill(step)
                    left = len(self.cg.processes(step))
                    self.report.stray.append(
                        f"`RUN {command[:80]}` was still running ({n} process{'es' if n != 1 else ''}) "
                        f"after the build stopped: " + ("killed" if not left else f"{left} could not be killed")
                    )
        if self._file is not None:
            self._announce_file.unlink(missing_ok=True)
            self._steps_file.unlink(missing_ok=True)
            self._path.unlink(missing_ok=True)
            self._file.close()
            self._file = None
        if self.cg is not None:
            self.cg.cap_all_steps(builds_running(), self.caps)


def _announced_by_others(own: Path) -> set[str]:
    """The RUN commands that other live grader builds on this machine announced."""
    found: set[str] = set()
    with contextlib.suppress(OSError):
        for path in _build_dir().glob("*.announced"):
            lock = path.with_suffix(".lock")
            if lock != own and _held(lock):
                with contextlib.suppress(OSError):
                    found.update(line for line in path.read_text().splitlines() if line)
    return found


def _running_command(cg: EngineCgroups, step: str, announced: set[str]) -> str:
    """The announced RUN command the step runs (a process `sh -c COMMAND`), or ""."""
    for pid in cg.processes(step)[:50]:
        try:
            argv = [a.decode("utf-8", "replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")]
        except OSError:
            continue
        if len(argv) >= 3 and argv[1] == "-c":
            script = " ".join(argv[2].split())
            for command in announced:
                if script == command:
                    return command
    return ""


def stray_steps(cgroups: EngineCgroups) -> list[str]:
    """Kill the steps that builds of graders now gone (killed, lost) left running; says what."""
    said: list[str] = []
    with contextlib.suppress(OSError):
        for steps_file in _build_dir().glob("*.steps"):
            lock = steps_file.with_suffix(".lock")
            if lock.exists() and _held(lock):
                continue
            live = _listed_by_live_builds()
            for step in steps_file.read_text().split():
                if step not in live and cgroups.processes(step):
                    n = cgroups.kill(step)
                    said.append(
                        f"a build step an earlier grade left running ({n} process{'es' if n != 1 else ''}) was stopped"
                    )
            steps_file.unlink(missing_ok=True)
            steps_file.with_suffix(".announced").unlink(missing_ok=True)
            lock.unlink(missing_ok=True)
    return said


def _listed_by_live_builds() -> set[str]:
    found: set[str] = set()
    with contextlib.suppress(OSError):
        for path in _build_dir().glob("*.steps"):
            if _held(path.with_suffix(".lock")):
                with contextlib.suppress(OSError):
                    found.update(path.read_text().split())
    return found


def _held(path: Path) -> bool:
    """Whether a live process holds this lock file (a missing file is held by no one)."""
    try:
        with open(path) as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(f, fcntl.LOCK_UN)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return False


def _write(path: Path, value: str) -> None:
    with contextlib.suppress(OSError):
        path.write_text(value)
