"""Lab packs: a lab is a thing the grader is given, not a thing it is.

A pack declares one lab of the course: its id and title, the files a student edits and the ones that
come complete, its checks (modules that declare them with `@check`, registered when the pack is
selected) and its rubric's thresholds, its runtime scenario (which compose file, which services, the
port to probe, the probes), its template files and their fingerprints, and its hint texts.

The grader's core (the engine, builds, the runtime session, the reports, the GitHub code, `collect`,
`export`, `grade-all` and the class workflow) asks `current()` for the pack in effect and knows no lab.

This module is the registry, a leaf: it imports no pack and nothing of the grader. Packs are found
by name (`BUILTIN`, then the entry point group `autograde.labs` of installed packages, the same
mechanism as instructors' checks) and imported on first use.

Which pack grades a checkout: `--lab`, else the checkout's own declaration (`.autograde/lab.yml`,
`lab: lab06`, written by `autograde lab init`), else $AUTOGRADE_LAB, else `lab04` (this repository's
root is the LAB04 template).
"""

from __future__ import annotations

import importlib
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENTRY_POINTS = "autograde.labs"
BUILTIN: dict[str, str] = {"lab04": "autograde.labs.lab04:PACK", "lab06": "autograde.labs.lab06:PACK"}
DEFAULT = "lab04"
ENV_VAR = "AUTOGRADE_LAB"
DECLARATION = ".autograde/lab.yml"  # a checkout's own pack: `lab: lab06`


class LabError(Exception):
    """A pack that does not exist or cannot be loaded; the message says which and what is known."""


@dataclass(frozen=True)
class Scenario:
    """What the runtime does for a lab: the stack it builds and starts, and the probes it runs on it."""

    stack_file: str
    """The compose file the runtime runs (`docker-compose.prod.yml`)."""
    web: str
    """The service built from the student's Dockerfile that serves the app (`web_prod`)."""
    redis: str
    """The Redis service's name as the lab asks for it (`redis_prod`); the runtime takes the name Compose has."""
    dockerfile: str
    """The Dockerfile `web` builds, from the repository root (`Dockerfile.prod`, `app/Dockerfile`)."""
    context: str
    """Its build context as the lab documents it (`.`, `app`)."""
    container_port: int
    """The port the app listens on in its container."""
    host_port: int
    """The host port the lab publishes the app on (the grader prefers it for its own mapping)."""
    probe: str
    """`module:function` run on the started stack (the runtime layer): it records the lab's facts."""
    compare_file: str | None = None
    """A second compose file whose image the checks compare with the stack's (LAB04's dev image), or None."""
    compare_service: str | None = None
    """The service of `compare_file` that builds that image."""
    compare_context: str | None = None
    """That service's build context (a class batch builds it once for byte-identical copies of it)."""
    stop_services: tuple[str, ...] = ()
    """Services the probes may stop on purpose (LAB06 stops Redis): their exits are not failures."""


@dataclass(frozen=True)
class LabPack:
    """One lab of the course, as the grader is given it."""

    id: str
    """Short id (`lab04`): `--lab`, the declaration file, `autograde lab init ID`."""
    title: str
    """The lab's title, as reports show it."""
    student_files: tuple[str, ...]
    """The files a student writes or completes (what `collect` and the gradebook call the submission)."""
    protected: tuple[str, ...]
    """The files that come complete (folders end in `/`): a change there is reported, never graded."""
    check_modules: tuple[str, ...]
    """The modules that declare the lab's checks with `@check`, in rubric order."""
    scenario: Scenario
    """What the runtime builds, starts and probes."""
    thresholds: Mapping[str, float] = field(default_factory=dict)
    """The rubric's thresholds and their defaults (an instructor's rubric may change them)."""
    template: str = ""
    """The package folder of the template repository's files (`autograde.labs.lab06/template`); "" for a pack
    whose template is the grader's own repository (LAB04)."""
    fingerprints: str = ""
    """The package file of the template's fingerprints (every version of its given files)."""
    workflow: str = ".github/workflows/classroom.yml"
    """The template's Classroom workflow file."""
    hints: Mapping[str, str] = field(default_factory=dict)
    """Texts the checks use to tell students what to write, by name (the lab's own words)."""
    docs: str = ""
    """The lab's text for students (in the template: README.md)."""

    @property
    def label(self) -> str:
        """How reports name the lab (`LAB04`)."""
        return self.id.upper()

    def hint(self, name: str, default: str = "") -> str:
        return self.hints.get(name, default)

    def resource(self, spec: str, must_exist: bool = True) -> Path | None:
        """A package folder or file named `package/relative/path` (`autograde.labs.lab06/template`), as a path;
        None if it is absent (and `must_exist`) or the package cannot be imported."""
        if not spec:
            return None
        package, _, rel = spec.partition("/")
        try:
            module = importlib.import_module(package)
        except ImportError:
            return None
        base = Path(getattr(module, "__file__", "") or "").parent
        path = base / rel if rel else base
        return path if path.exists() or not must_exist else None


_lock = threading.RLock()
_loaded: dict[str, LabPack] = {}
_current: LabPack | None = None


def _sources() -> dict[str, str]:
    """Pack id -> `module:attribute`: the built-in packs, then installed ones (an installed one never
    replaces a built-in)."""
    found = dict(BUILTIN)
    try:
        from importlib.metadata import entry_points

        for ep in sorted(entry_points(group=ENTRY_POINTS), key=lambda e: e.name):
            found.setdefault(ep.name, ep.value)
    except Exception:  # broken metadata of some other package: the built-in packs still work
        pass
    return found


def known() -> list[str]:
    """The ids of every pack that can be selected."""
    return list(_sources())


def get(lab_id: str) -> LabPack:
    """The pack `lab_id`, loaded once. Raises LabError naming the known packs."""
    with _lock:
        if lab_id in _loaded:
            return _loaded[lab_id]
        sources = _sources()
        spec = sources.get(lab_id)
        if spec is None:
            raise LabError(f"no lab pack {lab_id!r} is installed (known: {', '.join(sources)})")
        module_name, _, attribute = spec.partition(":")
        try:
            module = importlib.import_module(module_name.strip())
            pack = getattr(module, attribute.strip() or "PACK")
        except Exception as e:  # an installed pack's own code: anything may go wrong
            raise LabError(f"the lab pack {lab_id!r} ({spec}) failed to load: {type(e).__name__}: {e}") from None
        if not isinstance(pack, LabPack) or pack.id != lab_id:
            raise LabError(f"{spec} is not the LabPack {lab_id!r}")
        _loaded[lab_id] = pack
        return pack


def select(lab_id: str) -> LabPack:
    """Make `lab_id` the pack in effect for this process (the core asks `current()`)."""
    global _current
    pack = get(lab_id)
    with _lock:
        _current = pack
    return pack


def current() -> LabPack:
    """The pack in effect: the one selected, else $AUTOGRADE_LAB, else the default (LAB04)."""
    with _lock:
        if _current is not None:
            return _current
    return select(os.environ.get(ENV_VAR, "").strip() or DEFAULT)


def declared(root: Path) -> str | None:
    """The pack a checkout declares for itself (`.autograde/lab.yml`: `lab: <id>`), or None."""
    path = root / DECLARATION
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 4096:
            return None
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    m = re.search(r"^lab:\s*['\"]?([A-Za-z0-9_.-]+)['\"]?\s*(?:#.*)?$", text, re.M)
    return m.group(1) if m else None


def choose(wanted: str | None = None, root: Path | None = None) -> LabPack:
    """Select the pack in effect: `wanted` (`--lab`), else the declaration of the checkout at `root`, else
    $AUTOGRADE_LAB, else the default. Raises LabError for an unknown pack."""
    from_checkout = declared(root) if root is not None else None
    return select(wanted or from_checkout or os.environ.get(ENV_VAR, "").strip() or DEFAULT)


def of_report(grader: Mapping[str, Any] | None) -> LabPack:
    """The pack a report was graded with (`grader.lab.id`), else the pack in effect (reports written before
    packs existed were all LAB04's, the default)."""
    lab = (grader or {}).get("lab")
    lab_id = lab.get("id") if isinstance(lab, Mapping) else None
    if isinstance(lab_id, str):
        try:
            return get(lab_id)
        except LabError:
            pass
    return current()


def describe(pack: LabPack) -> dict[str, Any]:
    """What `autograde lab list` shows of a pack."""
    return {"id": pack.id, "title": pack.title, "student_files": list(pack.student_files)}
