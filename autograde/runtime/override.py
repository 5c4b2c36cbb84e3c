"""The grader's Compose override files: pure policy, written with the YAML library, no Docker.

What the grader owns, and so overrides: image tags (its own, never the student's names),
published ports (the lab's web service on the grader's port, nothing else published), resource caps and
container names. Everything else, the build section included, is the student's.

The caps never break a valid file: they merge with the limits the student set (read from
`docker compose config`, so interpolation, anchors and `extends` are Compose's own). For each
resource the stricter of the two applies, written in every place the student set it and in the
short form beside it, with the same value: Compose refuses *distinct* values on `cpus` and
`deploy.resources.limits.cpus`, `mem_limit` and `deploy.resources.limits.memory`, `pids_limit`
and `deploy.resources.limits.pids`, `mem_reservation` and `deploy.resources.reservations.memory`,
never equal ones; an unset limit inside a `deploy.resources.limits` the student wrote counts as a
distinct 0, so with such a mapping every cap is written into it too. The engine refuses a memory reservation above the memory limit, a swap limit
below it, and `cpus` beside `cpu_quota`/`cpu_period`: so reservations are lowered to the limit,
and a student who set a CFS quota keeps that form (capped), with no `cpus`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from autograde import labs
from autograde.model.build import ProdBuild
from autograde.model.compose import ComposeFile


@dataclass(frozen=True)
class Caps:
    memory: str = "512m"
    pids: int = 256
    cpus: float = 1.0


class _Override(dict[str, Any]):
    """A mapping or value Compose takes instead of the student's (`!override`)."""


class _OverrideList(list[Any]):
    pass


class _Reset:
    """Removes the student's value (`!reset`)."""

    def __init__(self, empty: Any) -> None:
        self.empty = empty


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Override, lambda d, v: d.represent_mapping("!override", dict(v)))
_Dumper.add_representer(_OverrideList, lambda d, v: d.represent_sequence("!override", list(v)))
_Dumper.add_representer(
    _Reset,
    lambda d, v: (
        d.represent_sequence("!reset", []) if isinstance(v.empty, list) else d.represent_scalar("!reset", "null")
    ),
)


# docker/go-units RAMInBytes, which Compose uses for memory sizes: "512m", "1.5g", "256 MiB", "1048576"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)*)\s*([kmgtp])?i?b?\s*$", re.I)
_UNIT = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
CFS_PERIOD = 100_000  # the engine's default CPU period (microseconds) when only a quota is set


def size_bytes(value: Any) -> int | None:
    """A memory size as Compose reads it, in bytes; None when unset, unlimited (0, -1) or unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return int(value) if value > 0 else None
    m = _SIZE.match(str(value))
    if not m:
        return None
    try:
        n = int(float(m.group(1)) * _UNIT[(m.group(2) or "").lower()])
    except ValueError:
        return None
    return n if n > 0 else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        n = float(value)
    except (TypeError, ValueError):
        return None
    return n if n > 0 else None


def _get(data: Mapping[str, Any], *path: str) -> Any:
    node: Any = data
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _capped(caps: Caps, student: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The caps of one service, merged with the limits the student set (its `docker compose config` form).

    memswap_limit = mem_limit: no swap on top of the memory cap.
    """
    s: Mapping[str, Any] = student or {}
    spec: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    reservations: dict[str, Any] = {}

    # memory: the smallest of the grader's cap, mem_limit, deploy's memory limit and a swap limit
    own = size_bytes(caps.memory)
    theirs = [
        b
        for b in (
            size_bytes(s.get("mem_limit")),
            size_bytes(_get(s, "deploy", "resources", "limits", "memory")),
            size_bytes(s.get("memswap_limit")),
        )
        if b is not None
    ]
    memory: Any = caps.memory
    limit = own
    if own is not None and theirs and min(theirs) < own:
        limit = min(theirs)
        memory = str(limit)
    spec["mem_limit"] = memory
    spec["memswap_limit"] = memory
    has_limits = isinstance(_get(s, "deploy", "resources", "limits"), Mapping)
    has_reservations = isinstance(_get(s, "deploy", "resources", "reservations"), Mapping)
    if has_limits:
        limits["memory"] = memory
    # a reservation above the limit is refused by the engine: lowered to it, in both forms
    reserved = [
        b
        for b in (
            size_bytes(s.get("mem_reservation")),
            size_bytes(_get(s, "deploy", "resources", "reservations", "memory")),
        )
        if b is not None
    ]
    if reserved and limit is not None and max(reserved) > limit:
        spec["mem_reservation"] = memory
        if has_reservations:
            reservations["memory"] = memory

    # processes
    pids = min(
        [
            caps.pids,
            *(
                int(n)
                for n in (_number(s.get("pids_limit")), _number(_get(s, "deploy", "resources", "limits", "pids")))
                if n
            ),
        ]
    )
    spec["pids_limit"] = pids
    if has_limits:
        limits["pids"] = pids

    # CPU: `cpus` (NanoCPUs), unless the student set a CFS quota or period, which the engine refuses beside it
    if _number(s.get("cpu_quota")) or _number(s.get("cpu_period")):
        period = int(_number(s.get("cpu_period")) or CFS_PERIOD)
        quota = int(caps.cpus * period)
        theirs_quota = _number(s.get("cpu_quota"))
        if theirs_quota:
            quota = min(quota, int(theirs_quota))
        spec["cpu_quota"] = max(quota, 1000)  # the engine's minimum quota is 1 ms
    else:
        cpus = min(
            [
                caps.cpus,
                *(n for n in (_number(s.get("cpus")), _number(_get(s, "deploy", "resources", "limits", "cpus"))) if n),
            ]
        )
        spec["cpus"] = cpus
        if has_limits:
            limits["cpus"] = cpus

    resources: dict[str, Any] = {}
    if limits:
        resources["limits"] = limits
    if reservations:
        resources["reservations"] = reservations
    if resources:
        spec["deploy"] = {"resources": resources}
    spec["container_name"] = _Reset(None)
    return spec


def _container_name_kept(student: Mapping[str, Any]) -> dict[str, Any]:
    """Network aliases that keep the student's `container_name` resolvable once the grader removed it
    (fixed names collide on a shared engine; other services may reach this one by that name)."""
    name = student.get("container_name")
    networks = student.get("networks")
    if not isinstance(name, str) or not name or student.get("network_mode") or not isinstance(networks, Mapping):
        return {}
    return {"networks": {str(n): {"aliases": [name]} for n in networks}}


def prod_override(
    prod: ComposeFile,
    build: ProdBuild,
    root: Path,
    *,
    prod_tag: str,
    other_tag: str,
    port: int,
    caps: Caps,
    resolved: Mapping[str, Any] | None = None,
) -> tuple[str, list[str]]:
    """The override for docker-compose.prod.yml, and the tags of the student's other buildable services.

    `other_tag` is a format string with `{index}` for those services' tags. `resolved` is the
    student's file as `docker compose config --format json` prints it (None: not known), whose
    limits the caps merge with.
    """
    scenario = labs.current().scenario
    services: dict[str, Any] = {}
    others: list[str] = []
    seen = _get(resolved, "services") if resolved is not None else None
    for name, service in prod.services.items():
        student = seen.get(name) if isinstance(seen, Mapping) else None
        spec = _capped(caps, student if isinstance(student, Mapping) else None)
        if isinstance(student, Mapping):
            spec.update(_container_name_kept(student))
        if name == scenario.web:
            spec["image"] = prod_tag
            spec["ports"] = _OverrideList([f"127.0.0.1:{port}:{scenario.container_port}"])
            if not build.students:  # their build section cannot build Dockerfile.prod: build it as the lab says
                spec["build"] = _Override({"context": str(root), "dockerfile": build.dockerfile})
            elif build.target_problem:  # their target is not the final stage: build the last one, as Docker does
                spec["build"] = {"target": _Reset(None)}
        else:
            spec["ports"] = _Reset([])
            if service.get("build") is not None:
                # never the student's `image:` name: building would overwrite that tag on a shared engine
                tag = other_tag.format(index=len(others))
                others.append(tag)
                spec["image"] = tag
        services[name] = spec
    return dump({"services": services}), others


def dev_override(*, dev_tag: str, caps: Caps, resolved: Mapping[str, Any] | None = None) -> str:
    """The override of the compose file the lab compares with (LAB04's dev file): its service's image tag, caps."""
    service = labs.current().scenario.compare_service or ""
    student = _get(resolved, "services", service) if resolved is not None else None
    capped = _capped(caps, student if isinstance(student, Mapping) else None)
    return dump({"services": {service: {"image": dev_tag, **capped}}})


def dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False)


def merge_refusal(name: str, compose_said: str) -> tuple[str, str]:
    """The grader's error (message, hint) when Compose refuses `name` merged with the grader's override,
    though it accepts `name` alone: the grader's settings are at fault, not the student's file."""
    said = " ".join(line.strip() for line in compose_said.strip().splitlines()[-3:] if line.strip())
    return (
        f"Docker Compose accepts {name} as written, but refused it merged with the grader's own settings "
        f"(tags, ports, resource caps); this is the grader's problem, not your file's. Compose said: {said[:400]}",
        "Nothing to fix in your files. Tell your instructor: the grader's override needs a fix for this file.",
    )
