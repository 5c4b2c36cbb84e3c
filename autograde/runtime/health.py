"""Is the grading machine fit to grade? Checked before each grade (so between the grades of a batch too).

- A container can be started (a tiny one, from an image already on the engine, without network).
- The engine's data root has free disk: that container's `df /` (its overlay sits on the data root).
- No build step of an earlier grade still runs (see `cgroups.stray_steps`).
Below the free-disk floor, what the grader made is pruned (the build cache its builds filled) and
the disk checked again. A machine still unfit is the machine's problem, never the student's: the
grade is an `error` (exit 2) and `grade-all` stops starting grades.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import time
from dataclasses import dataclass, field

from autograde.model import Submission
from autograde.runtime import cgroups, leftovers
from autograde.runtime.cgroups import EngineCgroups, human
from autograde.runtime.engine import PROJECT_LABEL, SERVICE_LABEL, Engine
from autograde.runtime.facts import BuildFacts, Facts

HEALTH_SERVICE = "autograde-health"
DEFAULT_FLOOR = "1g"
_WINDOWS = "build-windows.log"  # when this machine's grader builds ran: their cache is the grader's to prune


MACHINE_HINT = (
    "Nothing to fix in your files: the grading machine must be repaired (free disk space on its Docker "
    "engine, or restart the engine) and the grade run again; tell your instructor."
)
# what the engine says when the machine, not the student's file, is short of something
MACHINE_TROUBLE = ("no space left on device", "resource temporarily unavailable", "cannot allocate memory")


def machine_said(text: str) -> str:
    """The machine's trouble `text` names (disk full, cannot fork, out of memory), or ""."""
    lowered = text.lower()
    return next((needle for needle in MACHINE_TROUBLE if needle in lowered), "")


def probe_images(sub: Submission) -> list[str]:
    """Images a health check may start a container from: ones the grade uses anyway."""
    refs = [st.base for st in (sub.dockerfile.stages if sub.dockerfile else [])]
    if sub.prod is not None:
        refs += [i for s in sub.prod.services.values() if (i := sub.prod.image(s))]
    # the lab's own images first: a student's base image need not have `sh` and `df`
    return list(dict.fromkeys(["redis:alpine", "python:3.13-slim", *(r for r in refs if r and "$" not in r)]))


class Machine:
    """The grading machine of one session: checked before the grade, and again when the engine said
    the machine was short of something. Its findings go into the session's facts."""

    def __init__(self, engine: Engine, facts: Facts, floor: int, images: list[str]) -> None:
        self.engine = engine
        self.facts = facts
        self.floor = floor
        self.images = images
        self.cgroups: EngineCgroups | None = None  # the engine's cgroups, when this machine sees them

    def fit_to_grade(self) -> bool:
        """Check the machine before grading; an unfit machine is an error, never the student's fail."""
        found = check(self.engine, self.floor, self.images)
        self.facts.machine_notes += found.notes
        self.facts.free_disk_bytes = found.free_bytes
        self.cgroups = found.cgroups
        if found.fit:
            return True
        self.facts.machine_unfit = self.facts.error = found.problem
        self.facts.error_hint = MACHINE_HINT
        return False

    def judge_build(self, build: BuildFacts) -> None:
        """A failed build is the machine's trouble (an error, graded again) when the machine is unfit after
        it, when the builder's own error line names a shortage, or when its step ran out of disk while other
        grader builds shared the machine. A step that filled the disk by itself stays the student's
        (its verdict says No space left on device); what a step prints never makes a failure an error
        on a machine that is fine and not shared."""
        if build.ok or build.infrastructure or build.timed_out:
            return
        own = machine_said(build.error)  # the builder's line, not the step's output
        step_disk = "no space left on device" in (build.step_log or build.output_tail).lower()
        if not own and not step_disk:
            return
        again = check(self.engine, self.floor, self.images)
        if not again.fit:
            build.infrastructure = self._unfit(again.problem)
        elif own or cgroups.builds_running() > 0:
            build.infrastructure = f"the grading machine was short of resources during the build ({own or 'disk'})"

    def judge_message(self, text: str) -> str:
        """For a container the engine could not run: the machine's trouble it names (the grade cannot
        finish: unfinished checks are errors), or ""."""
        said = machine_said(text)
        return self._unfit(f"the grading machine is short of resources ({said})") if said else ""

    def _unfit(self, why: str) -> str:
        self.facts.machine_unfit = self.facts.machine_unfit or why
        self.facts.engine_lost = self.facts.engine_lost or why
        return why


@dataclass
class MachineHealth:
    fit: bool = True
    problem: str = ""  # why not fit, said to the student as the machine's trouble
    free_bytes: int | None = None  # free disk of the engine's data root
    cgroups: EngineCgroups | None = None
    notes: list[str] = field(default_factory=list)  # what was done to make it fit


def check(engine: Engine, floor: int, images: list[str]) -> MachineHealth:
    health = MachineHealth()
    probed = _probe(engine, images)
    if isinstance(probed, str):
        health.fit = False
        if "no space left" in probed.lower():
            health.problem = f"the grading machine is out of disk: a container cannot be created ({probed})"
        else:
            health.problem = f"the grading machine cannot start containers ({probed})"
        return health
    if probed is None:
        return health  # no image to probe with: nothing known, grade as before
    health.free_bytes, health.cgroups = probed
    if health.cgroups is not None:
        health.notes += cgroups.stray_steps(health.cgroups)
    if health.free_bytes is not None and health.free_bytes < floor:
        freed = prune_grader_cache(engine)
        if freed:
            health.notes.append(f"the engine had {human(health.free_bytes)} free: {freed}")
        again = _probe(engine, images)
        health.free_bytes = again[0] if isinstance(again, tuple) else health.free_bytes
        if health.free_bytes is not None and health.free_bytes < floor:
            health.fit = False
            health.problem = (
                f"the grading machine is out of disk: the Docker engine has {human(health.free_bytes)} free, "
                f"less than the {human(floor)} a grade needs"
            )
    return health


def _probe(engine: Engine, images: list[str]) -> tuple[int | None, EngineCgroups | None] | str | None:
    """Start a tiny container: (free bytes of /, the engine's cgroups), or the machine's trouble, or None.

    The images are tried in order; one that lacks `sh`/`df` (a student's odd base image) or that
    exits non-zero tells nothing about the machine and the next is tried. Only the engine failing to
    create or start a container, or saying it is short of something, counts against the machine.
    """
    client = engine.client
    for ref in images:
        try:
            client.images.get(ref)
        except Exception:
            continue
        try:
            container = client.containers.create(
                ref,
                entrypoint=["sh", "-c"],
                command=["cat /proc/self/cgroup; echo; df -Pk / | tail -n 1"],
                network_disabled=True,
                mem_limit="64m",
                pids_limit=32,
                labels={PROJECT_LABEL: engine.project, SERVICE_LABEL: HEALTH_SERVICE},
                working_dir="/",
            )
        except Exception as e:
            return f"{type(e).__name__}: {str(e)[:200]}"
        try:
            container.start()
            result = container.wait(timeout=60)
            out = container.logs().decode("utf-8", "replace")
        except Exception as e:
            said = f"{type(e).__name__}: {str(e)[:200]}"
            if machine_said(said) or "executable file not found" not in said:
                return said
            continue
        finally:
            with contextlib.suppress(Exception):
                container.remove(force=True, v=True)
        if result.get("StatusCode") != 0:
            if machine_said(out):
                return f"a test container exited {result.get('StatusCode')}: {out.strip()[-200:]}"
            continue
        last = out.strip().splitlines()[-1].split() if out.strip() else []
        free = int(last[3]) * 1024 if len(last) >= 4 and last[3].isdigit() else None
        return free, cgroups.locate(out, container.id)
    return None


def record_build(started: float, ended: float) -> None:
    """Note when a grader build ran (wall-clock), so the cache it filled can be told from others'."""
    with contextlib.suppress(OSError):
        path = leftovers.lock_dir() / _WINDOWS
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as f:
            f.write(f"{started:.0f} {ended + 1:.0f}\n")


def _windows() -> list[tuple[float, float]]:
    out = []
    with contextlib.suppress(OSError):
        for line in (leftovers.lock_dir() / _WINDOWS).read_text().splitlines():
            parts = line.split()
            if len(parts) == 2:
                with contextlib.suppress(ValueError):
                    out.append((float(parts[0]), float(parts[1])))
    return out


def prune_grader_cache(engine: Engine) -> str:
    """Remove the build cache records this machine's grader builds created (not in use); says what."""
    windows = _windows()
    if not windows:
        return ""
    try:
        records = engine.client.api.df().get("BuildCache") or []
    except Exception:
        return ""
    ids, size = [], 0
    for r in records:
        if r.get("InUse"):
            continue
        created = _epoch(str(r.get("CreatedAt") or ""))
        if created is not None and any(a <= created <= b for a, b in windows):
            ids.append(str(r.get("ID")))
            size += int(r.get("Size") or 0)
    removed = 0
    for record in ids:
        with contextlib.suppress(Exception):
            engine.client.api.prune_builds(filters={"id": [record]})
            removed += 1
    time.sleep(0.2)
    return (
        f"removed {removed} build cache record{'s' if removed != 1 else ''} of earlier grades ({human(size)})"
        if removed
        else ""
    )


def _epoch(text: str) -> float | None:
    """Docker's RFC 3339 time (nanoseconds, `Z`) -> epoch seconds."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text.strip())
    if not m:
        return None
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    return dt.datetime.fromisoformat(m.group(1) + zone).timestamp() + float("0." + (m.group(2) or "0"))
