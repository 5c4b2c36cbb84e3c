"""Is the grading machine fit to grade? Checked before each grade (so between the grades of a batch too).

- The engine's data root has free disk: read without a container where the machine shows it (`disk`),
  else from a container's `df /` (its overlay sits on the data root).
- A container can be started (a tiny one, from an image already on the engine, without network).
- No build step of an earlier grade still runs (see `cgroups.stray_steps`).
The machine heals before it probes: when the disk is under the free-disk floor, or a container cannot
even be created for lack of space, what grading left is reclaimed first (`disk.reclaim`: the build cache
of the grader's builds, its dangling images, then images finished grades kept), and only then is a
container started. A machine still unfit is the machine's problem, never the student's: the grade is an
`error` (exit 2) and `grade-all` stops starting grades. The check after a failed build (whose fault it
was) measures without reclaiming: the next grade's check reclaims, before anything of it starts.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograde.model import Submission
from autograde.runtime import cgroups, disk
from autograde.runtime.cgroups import EngineCgroups, human
from autograde.runtime.engine import PROJECT_LABEL, SERVICE_LABEL, Engine
from autograde.runtime.facts import BuildFacts, Facts

HEALTH_SERVICE = "autograde-health"
DEFAULT_FLOOR = "1g"


MACHINE_HINT = (
    "Nothing to fix in your files: the grading machine must be repaired (free disk space on its Docker "
    "engine, or restart the engine) and the grade run again; tell your instructor."
)
# what the engine says when the machine, not the student's file, is short of something
NO_SPACE = "no space left on device"
MACHINE_TROUBLE = (NO_SPACE, "resource temporarily unavailable", "cannot allocate memory")


# With no disk left the kernel mounts a new layer without its overlay work folder (it cannot create `work/work`),
# and the engine then fails to chown that folder: a full disk, said as a missing file.
OVERLAY_WORKDIR = re.compile(r"chown \S*/overlay2/\S+/work/work: no such file or directory")


def machine_said(text: str) -> str:
    """The machine's trouble `text` names (disk full, cannot fork, out of memory), or ""."""
    lowered = text.lower()
    said = next((needle for needle in MACHINE_TROUBLE if needle in lowered), "")
    return said or (NO_SPACE if OVERLAY_WORKDIR.search(lowered) else "")


def probe_images(sub: Submission | None) -> list[str]:
    """Images a health check may start a container from: ones the grade uses anyway (the lab's own first; the
    submission's, when it is known)."""
    if sub is None:
        return ["redis:alpine", "python:3.13-slim"]
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

    def fit_to_grade(self, known: str | None = None) -> bool:
        """Check the machine before grading; an unfit machine is an error, never the student's fail.

        `known`: the engine's cgroup parent ("" when this machine does not see it), as the previous grade of
        this grade's slot in a class batch found it, with nothing suspect: then only the disk is read (no
        container is started), and the full check runs when it is under the floor or cannot be read.
        """
        if known is not None:
            free = disk.free_bytes(disk.data_root(self.engine.client))
            if free is not None and free >= self.floor:
                self.facts.free_disk_bytes = free
                self.cgroups = EngineCgroups(known) if known else None
                return True
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
        again = check(self.engine, self.floor, self.images, heal=False)
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


def check(engine: Engine, floor: int, images: list[str], heal: bool = True) -> MachineHealth:
    """The machine's health; with `heal`, what grading left is reclaimed first when the disk is under `floor`
    or a container cannot be created for lack of space (and nothing is started before that)."""
    health = MachineHealth()
    root = disk.data_root(engine.client)
    before = disk.free_bytes(root)
    left: disk.Reclaimed | None = None  # what reclaiming found that is not the grader's
    healed = False

    def reclaim(why: str) -> None:
        nonlocal healed, left
        healed = True
        done = disk.reclaim(
            engine.client, floor, lambda: _free_now(engine, root, images), engine.project, cheap=root is not None
        )
        left = done
        after = f"; {human(done.free)} free now" if done.free is not None else ""
        health.notes.append(f"{why}: removed what earlier grades left: {done.summary()}{after}")

    if before is not None and before < floor:
        if not heal:
            return _out_of_disk(health, before, floor, left)
        reclaim(f"the engine had {human(before)} free, under the {human(floor)} floor")
    probed = _probe(engine, images)
    if heal and not healed and isinstance(probed, str) and machine_said(probed) == NO_SPACE:
        reclaim("a container could not be created for lack of disk space")
        probed = _probe(engine, images)
    if isinstance(probed, str):
        free = disk.free_bytes(root)
        if free is not None and free < floor:  # the figure says more than the engine's message
            return _out_of_disk(health, free, floor, left)
        health.fit = False
        health.free_bytes = free
        if machine_said(probed) == NO_SPACE:
            health.problem = f"the grading machine is out of disk: a container cannot be created ({probed})"
            health.problem += _others(left)
        else:
            health.problem = f"the grading machine cannot start containers ({probed})"
        return health
    if probed is not None:
        health.cgroups = probed[1]
        if health.cgroups is not None:
            health.notes += cgroups.stray_steps(health.cgroups)
    free = disk.free_bytes(root) if root is not None else probed[0] if probed is not None else None
    if heal and not healed and free is not None and free < floor:
        reclaim(f"the engine had {human(free)} free, under the {human(floor)} floor")
        free = _free_now(engine, root, images)
    health.free_bytes = free
    if free is not None and free < floor:
        return _out_of_disk(health, free, floor, left)
    return health


def _out_of_disk(health: MachineHealth, free: int, floor: int, left: disk.Reclaimed | None) -> MachineHealth:
    health.fit = False
    health.free_bytes = free
    health.problem = (
        f"the grading machine is out of disk: the Docker engine has {human(free)} free, "
        f"less than the {human(floor)} a grade needs{_others(left)}"
    )
    return health


def _others(left: disk.Reclaimed | None) -> str:
    """What on the engine is not the grader's to remove, and how its owner removes it."""
    if left is None:
        return ""
    said, what = "", []
    if left.unlisted:
        said = (
            "; the engine could not even list its build cache for lack of space, so none of it was removed "
            "(`docker builder prune` removes it)"
        )
    if left.others_cache:
        what.append(f"{human(left.others_cache)} of build cache (`docker builder prune` removes it)")
    if left.others_dangling:
        n = left.others_dangling
        what.append(
            f"{n} untagged image{'s' if n != 1 else ''} (`docker image prune` removes {'them' if n != 1 else 'it'})"
        )
    if what:
        said += f"; left alone, since no grade of this machine made {'them' if len(what) > 1 else 'it'}: "
        said += " and ".join(what)
    return said


def _free_now(engine: Engine, root: Path | None, images: list[str]) -> int | None:
    """Free bytes now: read without a container where the machine shows them, else a container's `df`."""
    if root is not None:
        return disk.free_bytes(root)
    probed = _probe(engine, images)
    return probed[0] if isinstance(probed, tuple) else None


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
    disk.record_build(started, ended)
