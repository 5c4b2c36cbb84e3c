"""Docker Compose's own reading of a compose file: `docker compose config --format json`.

What a compose file means is what Compose says: `include`, `extends`, profiles, `env_file`, `.env`,
interpolation with defaults, anchors and merge keys, long and short syntax. `config` needs the Compose
command line but no engine, so the model uses it in `--static-only` mode too. Without a Compose CLI
(or with one too old for the grader) the caller falls back to its own YAML reading and says so.

The environment Compose sees is a minimal one: the student's file (and its `.env`) decide, not the
variables of whoever runs the grader.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLI_VAR = "AUTOGRADE_COMPOSE"
"""`none`: never ask Compose (the grader's YAML reading decides); a path: that `docker-compose` binary."""
MIN_VERSION = (2, 24)  # include (2.20), `!reset`/`!override` (2.24): the oldest Compose the grader supports
TIMEOUT_S = 30.0
MAX_OUTPUT = 8 * 1024 * 1024

# The variables Compose may see: where the engine and the CLI's configuration are, the locale, proxies.
_KEEP = re.compile(r"^(PATH|HOME|USER|LOGNAME|LANG|LC_[A-Z]+|TMPDIR|TZ|DOCKER_[A-Z_]+|(?i:https?_proxy|no_proxy))$")


@dataclass(frozen=True)
class ComposeCli:
    argv: tuple[str, ...]  # `docker compose` or a standalone `docker-compose`
    version: str  # e.g. "2.40.3"

    @property
    def label(self) -> str:
        return f"docker compose config (Docker Compose {self.version})"


@dataclass(frozen=True)
class Resolved:
    """Compose's answer for one file: the resolved project, or its refusal."""

    data: dict[str, Any] | None  # `config --format json`, None when Compose refused the file
    refused: str = ""  # what Compose said when it refused (its last lines)


def environment() -> dict[str, str]:
    """The environment the grader gives Compose: no variable of the grader's own shell reaches a file."""
    env = {k: v for k, v in os.environ.items() if _KEEP.match(k)}
    env["DOCKER_CLI_HINTS"] = "false"
    return env


_cli: ComposeCli | None = None
_looked = False
_cli_lock = threading.Lock()


def find_cli() -> ComposeCli | None:
    """The Compose CLI to ask, looked for once: `docker compose`, else a `docker-compose` of v2.

    None when there is none new enough (or AUTOGRADE_COMPOSE=none).
    """
    global _cli, _looked
    with _cli_lock:
        if not _looked:
            _cli, _looked = _look_for_cli(), True
        return _cli


def reset() -> None:
    """Look for the CLI again on next use (tests change AUTOGRADE_COMPOSE)."""
    global _cli, _looked
    with _cli_lock:
        _cli, _looked = None, False
    _memo.clear()


def _look_for_cli() -> ComposeCli | None:
    wanted = os.environ.get(CLI_VAR, "").strip()
    if wanted.lower() == "none":
        return None
    candidates: list[tuple[str, ...]] = []
    if wanted:
        candidates.append((wanted,))
    else:
        if shutil.which("docker"):
            candidates.append(("docker", "compose"))
        if shutil.which("docker-compose"):
            candidates.append(("docker-compose",))
    for argv in candidates:
        try:
            ran = subprocess.run(
                [*argv, "version", "--short"],
                capture_output=True,
                text=True,
                timeout=20,
                env=environment(),
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", ran.stdout)
        if ran.returncode != 0 or m is None:
            continue
        if (int(m.group(1)), int(m.group(2))) < MIN_VERSION:
            continue
        return ComposeCli(argv, m.group(0))
    return None


# Answers by (CLI, file name, the project folder's name, the bytes of every file Compose reads): the same
# files give the same answer, in whatever folder (absolute paths in it are moved to the new folder).
_memo: dict[tuple[Any, ...], tuple[str, Resolved]] = {}
_memo_lock = threading.Lock()


def resolve(cli: ComposeCli, root: Path, name: str, inputs: list[bytes] | None) -> Resolved:
    """`config --format json` of root/name, with root as the project folder.

    `inputs`: the bytes of every file Compose will read (the file, its `.env`, included and extended
    files, env files), to reuse an earlier answer for the same files; None when they are not all known.
    """
    root = root.resolve()
    key = (cli, name, tuple(inputs)) if inputs is not None else None
    if key is not None:
        with _memo_lock:
            hit = _memo.get(key)
        if hit is not None:
            old_root, answer = hit
            return answer if old_root == str(root) else _moved(answer, old_root, str(root))
    answer = _run(cli, root, name)
    if key is not None:
        with _memo_lock:
            _memo[key] = (str(root), answer)
    return answer


def _run(cli: ComposeCli, root: Path, name: str) -> Resolved:
    with tempfile.TemporaryDirectory(prefix="autograde-config-") as tmp:
        out = Path(tmp) / "config.json"
        argv = [*cli.argv, "-f", str(root / name), "--project-directory", str(root)]
        argv += ["config", "--format", "json", "--output", str(out)]
        try:
            ran = subprocess.run(
                argv,
                cwd=str(root),
                capture_output=True,
                timeout=TIMEOUT_S,
                env=environment(),
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            return Resolved(None, f"Docker Compose did not finish reading the file within {TIMEOUT_S:g} s")
        except OSError as e:
            return Resolved(None, f"Docker Compose could not be run ({e.strerror or e})")
        said = (ran.stderr or b"").decode("utf-8", "replace")
        if ran.returncode != 0:
            lines = [ln.strip() for ln in said.strip().splitlines() if ln.strip()]
            return Resolved(None, " ".join(lines[-3:])[-600:] or f"exit status {ran.returncode}")
        try:
            if out.stat().st_size > MAX_OUTPUT:
                return Resolved(None, "the resolved file is larger than the grader reads")
            data = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            return Resolved(None, f"Docker Compose's answer could not be read ({type(e).__name__})")
    if not isinstance(data, dict):
        return Resolved(None, "Docker Compose's answer is not a mapping")
    return Resolved(data)


def _moved(answer: Resolved, old: str, new: str) -> Resolved:
    def move(value: Any) -> Any:
        if isinstance(value, str):
            if value == old:
                return new
            return new + value[len(old) :] if value.startswith(old + "/") else value
        if isinstance(value, dict):
            return {k: move(v) for k, v in value.items()}
        if isinstance(value, list):
            return [move(v) for v in value]
        return value

    data = move(answer.data) if answer.data is not None else None
    if data is not None and data.get("name") == project_name(Path(old).name):  # named after its folder
        data["name"] = project_name(Path(new).name)
    return Resolved(data, answer.refused.replace(old, new))


def project_name(folder: str) -> str:
    """The project name Compose gives a folder's files without `name:` (lower case, [a-z0-9_-], from a letter
    or digit on)."""
    return re.sub(r"^[^a-z0-9]+", "", re.sub(r"[^a-z0-9_-]", "", folder.lower()))


# Compose keys newer than the oldest Compose the grader runs with (2.24), each accepted by Compose 2.40, the
# version the project is tested with (tests/runtime/test_engine_age.py checks that): an older Compose
# refuses them as "Additional property <key> is not allowed".
TESTED_VERSION = (2, 40)  # the Compose the grader is tested with
NEWER_KEYS = frozenset(
    {"include", "develop", "post_start", "pre_stop", "use_api_socket", "gw_priority", "models", "provider"}
)
_REFUSED_KEY = re.compile(r"Additional property (?P<key>[\w-]+) is not allowed")


def version_tuple(text: str | None) -> tuple[int, int] | None:
    m = re.search(r"(\d+)\.(\d+)", text or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def compose_too_old(output: str, version: tuple[int, int] | None, name: str) -> str:
    """ "this engine is too old for <key> ..." when a Compose older than the tested one refuses a key of
    `name` that the tested Compose accepts; "" otherwise (an unknown key is the file's mistake)."""
    if version is None or version >= TESTED_VERSION:
        return ""
    for m in _REFUSED_KEY.finditer(output):
        if m.group("key") in NEWER_KEYS:
            have = ".".join(map(str, version))
            tested = ".".join(map(str, TESTED_VERSION))
            return (
                f"this engine is too old for `{m.group('key')}` in {name}: its Docker Compose {have} does not know "
                f"the key, which Compose {tested} accepts"
            )
    return ""


def too_old(output: str, cli: ComposeCli, name: str) -> str:
    return compose_too_old(output, version_tuple(cli.version), name)
