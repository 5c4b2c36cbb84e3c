"""Reads the corpus' expect.yml files (format: tests/corpus/README.md)."""
from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from autograde.checks import default_items

CORPUS = Path(__file__).resolve().parent
CHECK_IDS = tuple(item.id for item in default_items())
STATUSES = ("pass", "fail", "skip", "error")
TOP_KEYS = {"why", "default", "checks", "offline", "static_only"}

# (cases graded, grades at a time, seconds): set by test_corpus.py, printed by conftest.py
WALL_TIME = pytest.StashKey[tuple[int, int, float]]()
STATIC_WALL_TIME = pytest.StashKey[tuple[int, int, float]]()  # the same for the --static-only grades


@dataclass(frozen=True)
class Expected:
    status: str
    why: str
    says: tuple[str, ...] = ()  # words the check's message or hint must contain: what was seen, what to do


def case_files(case: str) -> dict[str, bytes]:
    """The files a case puts over the lab, byte for byte (CRLF line ends and a BOM stay as written):
    Dockerfile.prod, docker-compose.prod.yml, and any other (a .dockerignore, an env file)."""
    folder = CORPUS / case
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != "expect.yml" and "__pycache__" not in path.parts
    }


def write_case(case: str, root: Path) -> Path:
    """Put a case's files over a checkout of the lab at root, with their executable bits (an entrypoint
    script committed with `git update-index --chmod=+x` reaches the student's checkout executable)."""
    for rel, data in case_files(case).items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod((CORPUS / case / rel).stat().st_mode & 0o777)
    return root


def case_names() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if (p / "expect.yml").is_file())


def load(case: str) -> dict:
    """The parsed expect.yml of a case, validated; raises ValueError naming the problem."""
    path = CORPUS / case / "expect.yml"
    where = f"{case}/expect.yml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ValueError(f"{where}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{where}: not a mapping")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    if not isinstance(data.get("why"), str) or not data["why"].strip():
        raise ValueError(f"{where}: `why` (one line) is missing")
    if data.get("default") not in STATUSES:
        raise ValueError(f"{where}: `default` must be one of {STATUSES}")
    for block in ("checks", "offline"):
        entries = data.get(block) or {}
        if not isinstance(entries, dict):
            raise ValueError(f"{where}: `{block}` must be a mapping of check id -> {{status, why}}")
        for cid, entry in entries.items():
            if cid not in CHECK_IDS:
                raise ValueError(f"{where}: {block}: unknown check id {cid!r}")
            if not isinstance(entry, dict) or entry.get("status") not in STATUSES:
                raise ValueError(f"{where}: {block}.{cid}: status must be one of {STATUSES}")
            if not isinstance(entry.get("why"), str) or not entry["why"].strip():
                raise ValueError(f"{where}: {block}.{cid}: `why` is missing")
            says = entry.get("says", [])
            if not isinstance(says, list) or not all(isinstance(w, str) and w for w in says):
                raise ValueError(f"{where}: {block}.{cid}: `says` must be a list of words the message or hint holds")
    entries = data.get("static_only") or {}
    if not isinstance(entries, dict):
        raise ValueError(f"{where}: `static_only` must be a mapping of check id -> {{why, status?}}")
    for cid, entry in entries.items():
        if cid not in CHECK_IDS:
            raise ValueError(f"{where}: static_only: unknown check id {cid!r}")
        if not isinstance(entry, dict) or set(entry) - {"status", "why"}:
            raise ValueError(f"{where}: static_only.{cid}: a mapping with `why` and, optionally, `status`")
        if "status" in entry and entry["status"] not in STATUSES:
            raise ValueError(f"{where}: static_only.{cid}: status must be one of {STATUSES}")
        if not isinstance(entry.get("why"), str) or not entry["why"].strip():
            raise ValueError(f"{where}: static_only.{cid}: `why` is missing (why the files alone cannot decide)")
    for name in ("Dockerfile.prod", "docker-compose.prod.yml"):
        if not (CORPUS / case / name).is_file():
            raise ValueError(f"{case}: {name} is missing")
    return data


def expected(case: str, *, registry: bool) -> dict[str, Expected]:
    """Expected status of every check id; `offline` entries apply when no registry is reachable."""
    data = load(case)
    result = {cid: Expected(data["default"], "default of this case: " + data["why"]) for cid in CHECK_IDS}
    blocks = ["checks"] + ([] if registry else ["offline"])
    for block in blocks:
        for cid, entry in (data.get(block) or {}).items():
            result[cid] = Expected(entry["status"], entry["why"], tuple(entry.get("says") or ()))
    return result


def static_mismatches(case: str, report: dict) -> list[str]:
    """Where `autograde grade --static-only` disagrees with the verdict the case is owed.

    A static-only row is compared with the case's `checks` verdict (the files' verdict: `offline`
    entries are about the machine, which a static grade never meets) unless it is `skip` (the files
    alone do not decide it). A `static_only` entry replaces that: with a `status`, the static-only
    row must have exactly that status (skip included); without one, the row is not compared."""
    data = load(case)
    owed = expected(case, registry=True)
    exceptions = data.get("static_only") or {}
    rows = {c["id"]: c for c in report.get("checks", [])}
    problems = []
    for cid in CHECK_IDS:
        got = rows.get(cid)
        if got is None:
            problems.append(f"{cid}: missing from the static-only report")
            continue
        if cid in exceptions:
            want, why = exceptions[cid].get("status"), exceptions[cid]["why"]
            if want is None:
                continue
        elif got["status"] == "skip":
            continue
        else:
            want, why = owed[cid].status, owed[cid].why
        if got["status"] != want:
            hint = f" | hint: {got['hint']}" if got.get("hint") else ""
            problems.append(f"{cid}: expected {want} ({why}); static-only says {got['status']}: {got['message']}{hint}")
    return problems


def registry_reachable(host: str = "registry-1.docker.io", timeout: float = 3.0) -> bool:
    """Whether Docker Hub answers a TCP connection from here (the engine usually shares the network)."""
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False
