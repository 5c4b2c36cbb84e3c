"""The grader's Compose override files: pure policy, written with the YAML library, no Docker.

What the grader owns, and so overrides: image tags (its own, never the student's names),
published ports (web_prod on the grader's port, nothing else published), resource caps and
container names. Everything else, the build section included, is the student's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

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


def _capped(caps: Caps) -> dict[str, Any]:
    # memswap_limit = mem_limit: no swap on top of the memory cap
    return {
        "mem_limit": caps.memory,
        "memswap_limit": caps.memory,
        "pids_limit": caps.pids,
        "cpus": caps.cpus,
        "container_name": _Reset(None),
    }


def prod_override(
    prod: ComposeFile, build: ProdBuild, root: Path, *, prod_tag: str, other_tag: str, port: int, caps: Caps
) -> tuple[str, list[str]]:
    """The override for docker-compose.prod.yml, and the tags of the student's other buildable services.

    `other_tag` is a format string with `{index}` for those services' tags.
    """
    services: dict[str, Any] = {}
    others: list[str] = []
    for name, service in prod.services.items():
        spec = _capped(caps)
        if name == "web_prod":
            spec["image"] = prod_tag
            spec["ports"] = _OverrideList([f"127.0.0.1:{port}:5000"])
            if not build.students:  # their build section cannot build Dockerfile.prod: build it as the lab says
                spec["build"] = _Override({"context": str(root), "dockerfile": build.dockerfile})
        else:
            spec["ports"] = _Reset([])
            if service.get("build") is not None:
                # never the student's `image:` name: building would overwrite that tag on a shared engine
                tag = other_tag.format(index=len(others))
                others.append(tag)
                spec["image"] = tag
        services[name] = spec
    return dump({"services": services}), others


def dev_override(*, dev_tag: str, caps: Caps) -> str:
    return dump({"services": {"web_dev": {"image": dev_tag, **_capped(caps)}}})


def dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False)
