"""Runs that were cut off (SIGKILL, a lost engine, a lost machine) and what they left on the engine.

Every run holds an exclusive lock on `<lock dir>/<project>.lock` for as long as its process lives.
A later run on the same machine removes the containers, networks, volumes and images of a
project whose lock file exists but is no longer held: its grader is provably gone. A project
without a lock file on this machine (another machine's run, or a run of an older grader) is
never touched.
"""

from __future__ import annotations

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
                self.path.unlink(missing_ok=True)
            self._file.close()
            self._file = None


def abandoned(project: str) -> bool:
    """Whether `project`'s run had a lock here that no live process holds."""
    path = lock_dir() / f"{project}.lock"
    if not PROJECT.match(project) or not path.is_file():
        return False
    try:
        with open(path) as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(f, fcntl.LOCK_UN)
    except OSError:
        return False  # held: that run is alive
    return True


def projects_on_engine(client: Any) -> set[str]:
    """Compose projects of grader runs that still own something on the engine."""
    found: set[str] = set()
    listings: tuple[Callable[[], list[Any]], ...] = (
        lambda: client.containers.list(all=True, filters={"label": PROJECT_LABEL}),
        lambda: client.networks.list(filters={"label": PROJECT_LABEL}),
        lambda: client.volumes.list(filters={"label": PROJECT_LABEL}),
        lambda: client.images.list(filters={"label": PROJECT_LABEL}),
    )
    for listing in listings:
        for item in listing():
            labels = getattr(item, "labels", None) or item.attrs.get("Labels") or {}
            project = labels.get(PROJECT_LABEL, "")
            if PROJECT.match(project):
                found.add(project)
    for image in client.images.list():  # the grader's own tags, for images Compose did not label
        for tag in image.tags:
            m = _TAG.match(tag)
            if m:
                found.add(m.group(1))
    return found


def forget(project: str) -> None:
    (lock_dir() / f"{project}.lock").unlink(missing_ok=True)
