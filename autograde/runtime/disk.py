"""The engine's disk: its free space, read without a container, and what grading left on it, reclaimed.

A full disk can keep the engine from creating even a tiny container, so the free space is read from
the machine: the data root the engine names (`docker info`'s DockerRootDir), seen through the engine
process's own root (`/proc/<pid>/root/...`, since the engine may run in a mount namespace of its
own), and known to be this engine's by the ID the engine keeps there (`engine-id`, the `ID` of
`docker info`). Where that cannot be seen (a remote engine, Docker Desktop, a grader that is not
root, an engine older than 23) `data_root` is None and the health check reads a container's `df`.

What grading left, reclaimed while the disk is under the floor (`reclaim`), in this order:

1. dangling images made while a grader build of this machine ran (`build-windows.log`), or labelled
   with a grader run of this machine that has ended (a build that failed while exporting its image
   can leave one that holds the same layer as its cache record);
2. build cache records created while a grader build of this machine ran and not in use, biggest
   first and, where the disk can be read without a container, only until the floor is reached (the
   layers later grades reuse stay warm); then what abandoned runs left, when the sweep before the
   check could not remove it for lack of space (removing a tag needs a little disk);
3. only if the disk is still under the floor: the images that runs of this machine kept when they
   finished (`--keep-images`; `leftovers.finished`).

Never removed: a cache record in use, an image a container uses (images are removed without force),
an image of a live run, an image with any tag that is not the grader's own (the base images
`python:3.13`, `python:3.13-slim`, `redis:alpine` among them), anything of another machine's runs.
Build cache the grader cannot attribute stays even when the disk has 0 bytes free: the grader
cannot tell it from a colleague's on a shared engine, and removing it is the machine owner's call;
the machine's error then says how much there is and how to remove it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import socket
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tenacity import Retrying, stop_after_attempt, wait_fixed

from autograde.runtime import cleanup, leftovers
from autograde.runtime.cgroups import human

PROJECT_LABEL = "com.docker.compose.project"
LIST_RETRY_S = 0.5  # between attempts to list the build cache on a full disk
# after removals, how long the free space may take to show them (the engine deletes a layer's files after it
# answers; a busy machine takes seconds to free a layer of gigabytes): read every SETTLE_EVERY_S, at most SETTLE_READS
SETTLE_EVERY_S = 0.25
SETTLE_READS = 40
_WINDOWS = "build-windows.log"  # when this machine's grader builds ran: their cache is the grader's to reclaim


# -- free space, without a container ------------------------------------------------------------
def data_root(client: Any) -> Path | None:
    """The engine's data root as this process can read it, checked to be this engine's; or None."""
    try:
        info = client.info()
    except Exception:
        return None
    root, engine_id = str(info.get("DockerRootDir") or ""), str(info.get("ID") or "")
    if not root.startswith("/") or not engine_id:
        return None
    for base in _roots(client):
        path = Path(f"{base}{root}")
        with contextlib.suppress(OSError):
            if (path / "engine-id").read_text().strip() == engine_id:
                os.statvfs(path)
                return path
    return None


def free_bytes(path: Path | None) -> int | None:
    """Free bytes of the file system at `path`, as `df` says Available (what a non-root writer gets)."""
    if path is None:
        return None
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def _roots(client: Any) -> Iterator[str]:
    """Where the engine's file system may be seen from here: through the root of the process serving its
    socket, this process's own, then through the root of any process named dockerd."""
    pid = _peer_pid(_socket_path(client))
    if pid:
        yield f"/proc/{pid}/root"
    yield ""
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and int(entry.name) != pid:
                with contextlib.suppress(OSError):
                    if Path(entry.path, "comm").read_text().strip() == "dockerd":
                        yield f"{entry.path}/root"


def _socket_path(client: Any) -> str | None:
    adapter = getattr(getattr(client, "api", None), "_custom_adapter", None)
    path = getattr(adapter, "socket_path", None)
    if isinstance(path, str) and path:
        return path
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    return host.removeprefix("unix://") if host.startswith("unix://") else None


def _peer_pid(path: str | None) -> int | None:
    """The process that listens on the unix socket at `path` (its peer credentials), or None."""
    if not path or not hasattr(socket, "SO_PEERCRED"):
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(path)
            raw = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return None
    pid = int(struct.unpack("3i", raw)[0])
    return pid if pid > 0 else None


# -- when the grader's builds ran ---------------------------------------------------------------
def record_build(started: float, ended: float) -> None:
    """Note when a grader build ran (wall-clock), so the cache it filled can be told from others'."""
    with contextlib.suppress(OSError):
        path = leftovers.lock_dir() / _WINDOWS
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as f:
            f.write(f"{started:.0f} {ended + 1:.0f}\n")


def windows() -> list[tuple[float, float]]:
    out = []
    with contextlib.suppress(OSError):
        for line in (leftovers.lock_dir() / _WINDOWS).read_text().splitlines():
            parts = line.split()
            if len(parts) == 2:
                with contextlib.suppress(ValueError):
                    out.append((float(parts[0]), float(parts[1])))
    return out


def epoch(text: str) -> float | None:
    """Docker's RFC 3339 time (nanoseconds, `Z`) -> epoch seconds."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text.strip())
    if not m:
        return None
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    return dt.datetime.fromisoformat(m.group(1) + zone).timestamp() + float("0." + (m.group(2) or "0"))


def _during(when: float | None, spans: list[tuple[float, float]]) -> bool:
    return when is not None and any(a <= when <= b for a, b in spans)


# -- what is the grader's to reclaim (decided from the engine's listings; no engine needed) -------
def graders_cache(records: list[dict[str, Any]], spans: list[tuple[float, float]]) -> list[dict[str, Any]]:
    """Build cache records (`docker system df`'s BuildCache) a grader build of this machine created and no
    build uses, biggest first (a disk fill's layer before the small ones later grades reuse), then newest
    first (a layer before the one it was built on)."""
    mine = [r for r in records if not r.get("InUse") and _during(epoch(str(r.get("CreatedAt") or "")), spans)]
    return sorted(mine, key=lambda r: (int(r.get("Size") or 0), epoch(str(r.get("CreatedAt"))) or 0.0), reverse=True)


def others_cache(records: list[dict[str, Any]], spans: list[tuple[float, float]]) -> int:
    """Bytes of build cache no build uses that the grader did not make (it stays)."""
    mine = {r.get("ID") for r in graders_cache(records, spans)}
    return sum(int(r.get("Size") or 0) for r in records if not r.get("InUse") and r.get("ID") not in mine)


def _project(image: dict[str, Any]) -> str:
    return str((image.get("Labels") or {}).get(PROJECT_LABEL) or "")


def _tags(image: dict[str, Any]) -> list[str]:
    return [t for t in image.get("RepoTags") or [] if t and t != "<none>:<none>"]


def graders_dangling(
    images: list[dict[str, Any]], spans: list[tuple[float, float]], ours: Callable[[str], bool]
) -> list[dict[str, Any]]:
    """Untagged images (`docker image ls`'s entries) of grading: labelled with a grader run of this machine that
    has ended (`ours`), or without a Compose project and made while a grader build of this machine ran."""
    out = []
    for image in images:
        if _tags(image):
            continue
        project = _project(image)
        created = image.get("Created")
        when = float(created) if isinstance(created, int | float) else epoch(str(created or ""))
        if (leftovers.PROJECT.match(project) and ours(project)) if project else _during(when, spans):
            out.append(image)
    return out


def kept_images(
    images: list[dict[str, Any]], finished: list[str], live: Callable[[str], bool]
) -> list[tuple[dict[str, Any], list[str]]]:
    """Images runs of this machine kept when they finished, with the grader's tags to remove from each.

    An image that carries any other tag (a base image, a tag someone gave it) is never among them."""
    done = set(finished)
    out = []
    for image in images:
        tags = _tags(image)
        if not tags:
            continue  # an untagged one is dangling: see graders_dangling
        mine = [t for t in tags if leftovers.graders_project(t) in done]
        project = _project(image)
        owner = {leftovers.graders_project(t) for t in mine} | ({project} if project else set())
        # (a Compose project that is not a grader run's, e.g. a batch's shared dev build, is never in `done`)
        if len(mine) != len(tags) or not owner or not owner <= done or any(live(p) for p in owner):
            continue
        out.append((image, mine))
    return out


# -- reclaiming -------------------------------------------------------------------------------------
@dataclass
class Reclaimed:
    said: list[str] = field(default_factory=list)  # what was removed, one phrase each
    others_cache: int = 0  # bytes of build cache no build uses that is not the grader's (it stays)
    others_dangling: int = 0  # untagged images that are not the grader's (they stay)
    unlisted: bool = False  # the engine could not list its build cache (nothing of it was removed)
    free: int | None = None  # free bytes measured once done (None: unknown)

    def summary(self) -> str:
        return ", ".join(self.said) or "nothing that earlier grades left"


def reclaim(client: Any, floor: int, measure: Callable[[], int | None], own: str, cheap: bool = True) -> Reclaimed:
    """Remove what grading left (see the module's docstring) for the run `own`; `measure` reads the free bytes
    again. Where measuring is `cheap` (no container), the build cache goes biggest first and only until the
    floor is reached, so the layers later grades reuse stay."""
    done = Reclaimed()
    spans = windows()
    finished = set(leftovers.finished())

    def ours(project: str) -> bool:  # a run of this machine that has ended
        return not leftovers.live(project) and (project in finished or leftovers.abandoned(project))

    # dangling images first: a build that failed while exporting can leave one that holds the same layer as
    # its cache record, and pruning that record alone frees nothing
    listed = _images(client)
    dangling = graders_dangling(listed, spans, ours)
    removed = sum(_remove(client, str(i.get("Id"))) for i in dangling)
    if removed:
        done.said.append(f"{removed} dangling image{'s' if removed != 1 else ''}")
    chosen = {str(i.get("Id")) for i in dangling}
    done.others_dangling = sum(1 for i in listed if not _tags(i) and str(i.get("Id")) not in chosen)

    def enough() -> bool:
        free = measure() if cheap else None
        return free is not None and free >= floor

    records = _cache_records(client)
    done.unlisted = records is None
    records = records or []
    count, freed = _prune(client, graders_cache(records, spans), enough)
    if count:
        done.said.append(f"{count} build cache record{'s' if count != 1 else ''} ({human(freed)})")
    done.others_cache = others_cache(records, spans)
    # what abandoned runs left, when the sweep before the check could not remove it for lack of space
    swept = cleanup.sweep_abandoned(client, own)
    if swept:
        done.said.append(f"what abandoned runs left ({'; '.join(swept)})")
    done.free = _settle(measure, floor) if count or removed or swept else measure()
    if done.free is not None and done.free >= floor:
        return done
    names = [tag for _, tags in kept_images(_images(client), list(finished), leftovers.live) for tag in tags]
    names = [tag for tag in names if _remove(client, tag)]
    if names:
        leftovers.forget_finished({leftovers.graders_project(t) for t in names})
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        done.said.append(f"the images finished grades kept ({shown})")
        done.free = _settle(measure, floor)
    return done


def _settle(measure: Callable[[], int | None], floor: int) -> int | None:
    """The free bytes once the engine's removals have reached the file system's counts: read again until they
    reach `floor` or stop growing for a while (at most SETTLE_READS reads, SETTLE_EVERY_S apart)."""
    best: int | None = None
    still = 0
    for _ in range(SETTLE_READS):
        time.sleep(SETTLE_EVERY_S)
        free = measure()
        if free is not None and free >= floor:
            return free
        if free is not None and (best is None or free > best):
            best, still = free, 0
        else:
            still += 1
        if still >= SETTLE_READS // 2:  # half the budget with nothing more freed: it is all there is
            break
    return best


def _prune(client: Any, records: list[dict[str, Any]], enough: Callable[[], bool] = lambda: False) -> tuple[int, int]:
    """Prune these build cache records in order, one per call (the engine takes one id per filter), until
    `enough`; a record another one was built on goes once that one has gone, so those left are tried
    again. Returns (count, bytes)."""
    left = [str(r.get("ID")) for r in records]
    count = freed = 0
    for _ in range(3):
        again = []
        for record in left:
            try:
                pruned = client.api.prune_builds(filters={"id": [record]}) or {}
            except Exception:
                pruned = {}
            if record in (pruned.get("CachesDeleted") or []):
                count += 1
                freed += int(pruned.get("SpaceReclaimed") or 0)
                if enough():
                    return count, freed
            else:
                again.append(record)
        if len(again) == len(left):
            break
        left = again
    return count, freed


def _cache_records(client: Any) -> list[dict[str, Any]] | None:
    """The engine's build cache records, or None when it cannot list them. With no disk left, listing can
    fail while the engine stores a record's size it has just computed; a moment later it may not."""
    try:
        for attempt in Retrying(stop=stop_after_attempt(3), wait=wait_fixed(LIST_RETRY_S), reraise=True):
            with attempt:
                return list(client.api.df().get("BuildCache") or [])
    except Exception:
        pass
    return None


def _images(client: Any) -> list[dict[str, Any]]:
    try:
        return [dict(i) for i in client.api.images(all=False)]
    except Exception:
        return []


def _remove(client: Any, ref: str) -> bool:
    """Remove an image or a tag, never by force (an image a container uses stays)."""
    try:
        client.images.remove(ref, force=False)
    except Exception:
        return False
    return True
