"""Runs that were cut off (SIGKILL, a lost engine, a lost machine) and what they left on the engine.

Every run holds an exclusive lock on `<lock dir>/<project>.lock` for as long as its process lives.
A later run on the same machine removes the containers, networks, volumes and images of a
project whose lock file exists but is no longer held: its grader is provably gone. A project
without a lock file on this machine (another machine's run, or a run of an older grader) is
never touched.

A run that ends cleanly adds its project to `<lock dir>/finished.log`: what such a run left on purpose
(its images, with `--keep-images`) is known as this machine's grading, and a later grade that finds
the disk under its floor may remove it (see `disk`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

PROJECT_LABEL = "com.docker.compose.project"
PROJECT = re.compile(r"^autograde-[0-9a-f]{12}$")  # the grader's own project names, and nothing else
_TAG = re.compile(r"^(autograde-[0-9a-f]{12})-[a-z0-9-]+:graded$")
_FINISHED = "finished.log"
_FINISHED_MAX = 64 * 1024  # bytes; past it the older half is forgotten (about 1,400 runs are kept)


def lock_dir() -> Path:
    return Path(os.environ.get("AUTOGRADE_LOCK_DIR") or Path(tempfile.gettempdir()) / "autograde-runs")


class RunLock:
    """Held while a run lives; the kernel releases it when the process dies, however it dies."""

    def __init__(self, project: str) -> None:
        self.path = lock_dir() / f"{project}.lock"
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "w")  # noqa: SIM115 - held for the life of the run
        fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._file.write(f"{os.getpid()}\n")
        self._file.flush()

    def release(self, keep_file: bool = False) -> None:
        """Release the lock; `keep_file` leaves it as the mark of a run whose remains are still on the engine."""
        if self._file is not None:
            if not keep_file:
                record_finished(self.path.stem)
                self.path.unlink(missing_ok=True)
            self._file.close()
            self._file = None


def abandoned(project: str) -> bool:
    """Whether `project`'s run had a lock here that no live process holds."""
    return PROJECT.match(project) is not None and _held(project) is False


def _held(project: str) -> bool | None:
    """Whether a live process holds `project`'s lock here; None when it has no lock file here."""
    path = lock_dir() / f"{project}.lock"
    if not path.is_file():
        return None
    try:
        with open(path) as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(f, fcntl.LOCK_UN)
    except OSError:
        return True
    return False


def live(project: str) -> bool:
    """Whether `project`'s run is alive on this machine (a process holds its lock)."""
    return PROJECT.match(project) is not None and _held(project) is True


def graders_project(tag: str) -> str:
    """The project of a grader's own tag (`<project>-<service>:graded`), or ""."""
    m = _TAG.match(tag)
    return m.group(1) if m else ""


def record_finished(project: str) -> None:
    """Note that `project`'s run ended here and removed what it had to (what it kept stays the grader's)."""
    if not PROJECT.match(project):
        return
    path = lock_dir() / _FINISHED
    with contextlib.suppress(OSError):
        with open(path, "a") as f:
            f.write(project + "\n")
        if path.stat().st_size > _FINISHED_MAX:
            lines = path.read_text().splitlines()
            _rewrite(path, lines[len(lines) // 2 :])


def finished() -> list[str]:
    """The projects of runs that ended on this machine (oldest first)."""
    try:
        lines = (lock_dir() / _FINISHED).read_text().split()
    except OSError:
        return []
    return list(dict.fromkeys(p for p in lines if PROJECT.match(p)))


def forget_finished(projects: set[str]) -> None:
    path = lock_dir() / _FINISHED
    with contextlib.suppress(OSError):
        _rewrite(path, [p for p in path.read_text().split() if p not in projects])


def _rewrite(path: Path, lines: list[str]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text("".join(line + "\n" for line in lines))
    tmp.replace(path)


def projects_on_engine(client: Any) -> set[str]:
    """Compose projects of grader runs that still own something on the engine (one listing call per kind: the
    SDK's own listings would inspect every container and image on the engine too)."""
    found: set[str] = set()
    label = {"label": PROJECT_LABEL}
    api = client.api
    listings: tuple[Callable[[], list[dict[str, Any]]], ...] = (
        lambda: api.containers(all=True, filters=label),
        lambda: api.networks(filters=label),
        lambda: api.volumes(filters=label).get("Volumes") or [],
        lambda: api.images(filters=label),
    )
    for listing in listings:
        for item in listing():
            project = (item.get("Labels") or {}).get(PROJECT_LABEL, "")
            if PROJECT.match(project):
                found.add(project)
    for image in api.images():  # the grader's own tags, for images Compose did not label
        for tag in image.get("RepoTags") or []:
            m = _TAG.match(tag)
            if m:
                found.add(m.group(1))
    return found


def forget(project: str) -> None:
    (lock_dir() / f"{project}.lock").unlink(missing_ok=True)
