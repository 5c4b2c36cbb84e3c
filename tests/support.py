"""Helpers shared by the project's tests: checkouts of the lab, Compose runs, HTTP polling.

Every Compose run gets its own project name (other people use the same Docker engine), and
`down` removes everything a run created, including the images it built.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO: Path = Path(__file__).resolve().parent.parent

# What a student's repository contains that the lab is about (copied into checkouts).
LAB_FILES = ["app", "Dockerfile.prod", "docker-compose.yml", "docker-compose.prod.yml", "solutions.md", ".dockerignore"]

# The files solutions.md must give, each in exactly one block.
SOLUTION_FILES = ("Dockerfile.prod", "docker-compose.prod.yml")

PROJECT_LABEL = "com.docker.compose.project"
# the base images the lab's files name (scripts/standin-images.sh provides them offline): never pulled or removed
BASE_IMAGES = ("python:3.13", "python:3.13-slim", "redis:alpine")

# An opening fence with an info string "<language> <filename>", e.g. ```yaml docker-compose.prod.yml
_FENCE_OPEN = re.compile(r"^(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+.-]+)[ \t]+(?P<name>\S+)[ \t]*$")


def solution_files() -> dict[str, str]:
    """The files given in solutions.md: {filename: content}, from blocks fenced as ```lang name.

    Raises ValueError if a block is never closed or a filename appears in two blocks, and
    LookupError if one of SOLUTION_FILES has no block.
    """
    found = fenced_files((REPO / "solutions.md").read_text(encoding="utf-8"))
    missing = [name for name in SOLUTION_FILES if name not in found]
    if missing:
        raise LookupError(f"solutions.md: no block fenced as ```<language> <filename> for {', '.join(missing)}")
    return found


def fenced_files(text: str) -> dict[str, str]:
    """The files a solutions.md gives (any lab's): {path: content}, from blocks fenced as ```lang path.

    Other fenced blocks are skipped whole (their content is never taken for an opening). Raises
    ValueError if a block is never closed or a path appears in two blocks.
    """
    found: dict[str, str] = {}
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i].rstrip("\n"))
        if not m:
            # skip over any other fenced block, so its content is never taken for an opening
            plain = re.match(r"^(`{3,}|~{3,})", lines[i])
            if plain:
                i += 1
                while i < len(lines) and not lines[i].startswith(plain.group(1)):
                    i += 1
            i += 1
            continue
        fence, name = m.group("fence"), m.group("name")
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].rstrip() != fence:
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise ValueError(f"solutions.md: the block for {name} is never closed")
        if name in found:
            raise ValueError(f"solutions.md: {name} appears in two blocks")
        found[name] = "".join(body)
        i += 1
    return found


def make_checkout(dest: Path, *, solution: bool = True, files: dict[str, str | None] | None = None) -> Path:
    """Copy the lab into dest (as a student's clone would look), optionally solved and edited.

    solution: write the files from solutions.md over the starters.
    files: relative path -> new text, or None to delete that path; applied last.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", ".pytest_cache")
    for name in LAB_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore, dirs_exist_ok=True)
        elif src.exists():
            shutil.copy2(src, dest / name)
    if solution:
        for name, text in solution_files().items():
            (dest / name).write_text(text, encoding="utf-8")
    for rel, text in (files or {}).items():
        target = dest / rel
        if text is None:
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return dest


def template_copy(dest: Path, files: dict[str, str | None] | None = None) -> Path:
    """The whole template repository as a student receives it (every file git knows, as in the
    working tree, without .git), then `files` applied like make_checkout's."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        src = REPO / rel
        if src.is_file() and "__pycache__" not in src.parts:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel, follow_symlinks=False)
    for rel, text in (files or {}).items():
        target = dest / rel
        if text is None:
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return dest


# What a child may inherit from whoever started pytest: a scheduler, `nohup` or a background job of a
# non-interactive shell starts it with SIGINT (and SIGQUIT) ignored, and every child keeps that.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGPIPE)


def default_signals(ignored: tuple[signal.Signals, ...] = ()) -> Callable[[], None]:
    """A `preexec_fn` that starts a child with the stop signals at their defaults and unblocked, whatever the
    caller's shell set, except those in `ignored`, which it ignores (as `nohup` or `cmd &` would)."""

    def reset() -> None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN if sig in ignored else signal.SIG_DFL)

    return reset


def ignored_signals(pid: int) -> set[signal.Signals]:
    """The signals a live process ignores, from /proc/PID/status (SigIgn)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            mask = int(line.split()[1], 16)
            return {s for s in signal.Signals if s < 64 and mask >> (s - 1) & 1}
    return set()


def unique_project(prefix: str = "t") -> str:
    """A Compose project name nobody else on this engine uses: prefix + pid + random hex."""
    name = f"{prefix}{os.getpid()}{secrets.token_hex(4)}".lower()
    return re.sub(r"[^a-z0-9_-]", "", name)


@contextmanager
def built_image(folder: Path, dockerfile: str, prefix: str) -> Iterator[str]:
    """Build `dockerfile` in `folder` under a tag of its own (`<prefix>-<hex>:probe`); yield the tag, then remove
    the image."""
    tag = f"{prefix}-{uuid.uuid4().hex[:8]}:probe"
    (folder / "Dockerfile").write_text(dockerfile, encoding="utf-8")
    subprocess.run(["docker", "build", "-q", "-t", tag, str(folder)], check=True, capture_output=True, timeout=600)
    try:
        yield tag
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)


def _client():
    import docker

    return docker.from_env()


def leftovers(project: str) -> list[str]:
    """Containers (stopped ones too), networks and volumes still labelled with this project."""
    client = _client()
    try:
        flt = {"label": f"{PROJECT_LABEL}={project}"}
        found = [f"container {c.name} ({c.status})" for c in client.containers.list(all=True, filters=flt)]
        found += [f"network {n.name}" for n in client.networks.list(filters=flt)]
        found += [f"volume {v.name}" for v in client.volumes.list(filters=flt)]
        return found
    finally:
        client.close()


def volumes_left_by(project: str, since: float, until: float) -> list[str]:
    """Volumes mounted by this project's containers between `since` and `until` (engine events) that still exist.

    Anonymous volumes (an image's `VOLUME`, e.g. redis:alpine's /data) carry no project label: they are
    found through the containers that mounted them, which do. Other runs' volumes are never counted.
    """
    client = _client()
    try:
        ours: set[str] = set()
        mounted: dict[str, str] = {}
        for e in client.events(since=int(since), until=int(until) + 1, decode=True):
            actor = e.get("Actor") or {}
            attrs = actor.get("Attributes") or {}
            if e.get("Type") == "container" and e.get("Action") == "create" and attrs.get(PROJECT_LABEL) == project:
                ours.add(actor.get("ID", ""))
            elif e.get("Type") == "volume" and e.get("Action") == "mount" and attrs.get("container"):
                mounted[actor.get("ID", "")] = attrs["container"]
        existing = {v.name for v in client.volumes.list()}
        return sorted(v for v, c in mounted.items() if c in ours and v in existing)
    finally:
        client.close()


def compose(
    project: str, checkout: Path, *args: str, file: str = "docker-compose.yml", timeout: float = 600
) -> subprocess.CompletedProcess:
    """Run `docker compose -p project -f file ARGS` in checkout; output is captured as text."""
    return subprocess.run(
        ["docker", "compose", "-p", project, "-f", file, *args],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def down(project: str, checkout: Path, file: str) -> None:
    """Remove the project's containers, networks and volumes, then the images it built.

    Built images are found by the project label Compose puts on them; base images such as
    redis:alpine carry no such label and are never touched.
    """
    compose(project, checkout, "down", "-v", "--remove-orphans", "-t", "1", file=file, timeout=120)
    client = _client()
    try:
        for image in client.images.list(filters={"label": f"{PROJECT_LABEL}={project}"}):
            try:
                client.images.remove(image.id, force=True)
            except Exception:  # already gone, or in use elsewhere: nothing more to do
                pass
    finally:
        client.close()


def http_get(url: str, timeout: float = 5) -> tuple[int, str]:
    """(status, body) of a GET; HTTP error statuses are returned, not raised."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def wait_http(url: str, timeout: float = 60) -> tuple[int, str]:
    """Poll url every 0.1 s until anything answers over HTTP; return that answer.

    Raises TimeoutError (with the last connection error) if nothing answers in time.
    """
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while True:
        try:
            return http_get(url, timeout=max(0.5, min(10.0, deadline - time.monotonic())))
        except (OSError, http.client.HTTPException) as e:  # refused, reset, not yet listening
            last = e
        if time.monotonic() >= deadline:
            raise TimeoutError(f"nothing answered on {url} within {timeout:g} s (last error: {last})")
        time.sleep(0.1)


def first_int(text: str) -> int:
    """The standalone integer in a counter body ("... viewed 3 times." -> 3)."""
    # not part of a word, a decimal number or host:port; a sentence's final period is fine
    m = re.search(r"(?<![\w.:])\d+(?![\w:]|\.\d)", text)
    if not m:
        raise ValueError(f"no number in {text!r}")
    return int(m.group())


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True if something accepts connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def wait_port_free(port: int, timeout: float = 180) -> None:
    """Wait until nothing listens on a host port (another run on this engine may hold it)."""
    deadline = time.monotonic() + timeout
    while port_in_use(port):
        if time.monotonic() >= deadline:
            raise TimeoutError(f"port {port} is still in use after {timeout:g} s (is another lab stack running?)")
        time.sleep(1)


def wait_ok(url: str, timeout: float = 60) -> tuple[int, str]:
    """Like wait_http, but keep polling while the answer is 503 (the app waits for Redis).

    Returns the first non-503 answer, or the last 503 once the time is up.
    """
    deadline = time.monotonic() + timeout
    status, body = wait_http(url, timeout=timeout)
    while status == 503 and time.monotonic() < deadline:
        time.sleep(0.5)
        status, body = http_get(url)
    return status, body
