"""Refuse compose settings that would let a submission reach past its containers.

Runs over the model before anything starts: the file as Compose resolves it, so what an included or
extended file sets is seen too (the model refuses files from outside the repository before Compose
reads them). A refusal skips the runtime checks with the offending key, file and line; it is a guard
for shared CI runners, not a sandbox.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograde.model.compose import ComposeFile, interpolate
from autograde.model.files import inside

HOST_NAMESPACES = ("network_mode", "pid", "ipc", "userns_mode", "uts", "cgroup")
FORBIDDEN_KEYS = (
    "privileged",
    "cap_add",
    "devices",
    "device_cgroup_rules",
    "cgroup_parent",
    "runtime",
    "volumes_from",
    "gpus",
    "oom_kill_disable",
    "sysctls",
    # Compose >= 2.37: `use_api_socket` mounts the engine's socket; `provider` runs a host plugin
    "use_api_socket",
    "provider",
)
UNCONFINED = ("unconfined", "label=disable", "label:disable", "no-new-privileges=false", "systempaths=unconfined")


@dataclass(frozen=True)
class Refusal:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


def scan(cf: ComposeFile, root: Path) -> list[Refusal]:
    out: list[Refusal] = []

    def refuse(path: tuple[Any, ...], message: str) -> None:
        out.append(Refusal(*cf.where(*path), message))

    def local(path_text: str) -> bool:
        text = interpolate(str(path_text))
        if text.startswith("~") or ("$" in str(path_text) and text == ""):
            return False
        return inside(root, root / text) if not posixpath.isabs(text) else inside(root, Path(text))

    for problem in cf.outside:  # included or extended files outside the repository (env files: below)
        if not problem.message.startswith("an env file"):
            out.append(Refusal(problem.file, problem.line, problem.message))
    for key in ("secrets", "configs"):
        if isinstance(cf.data.get(key), dict):
            for name, spec in cf.data[key].items():
                if isinstance(spec, dict) and "file" in spec and not local(spec["file"]):
                    refuse((key, name, "file"), f"{key}.{name} reads a file outside the repository")
                if isinstance(spec, dict) and spec.get("external"):
                    refuse((key, name), f"{key}.{name} is external")
    for key in ("volumes", "networks"):
        section = cf.data.get(key)
        if isinstance(section, dict):
            for name, spec in section.items():
                if not isinstance(spec, dict):
                    continue
                if spec.get("external"):
                    refuse((key, name), f"{key}.{name} is external (shared with the host's other containers)")
                opts = spec.get("driver_opts") or {}
                if isinstance(opts, dict) and ("device" in opts or str(opts.get("o", "")).find("bind") >= 0):
                    refuse((key, name, "driver_opts"), f"{key}.{name} binds a host path through driver_opts")
                if key == "networks" and spec.get("driver") in ("host", "macvlan", "ipvlan"):
                    refuse((key, name, "driver"), f"networks.{name} uses the {spec['driver']} driver")

    for name, service in cf.services.items():
        data = service.data
        base = ("services", name)
        for key in FORBIDDEN_KEYS:
            value = data.get(key)
            if value not in (None, False, [], {}, ""):
                refuse((*base, key), f"service {name} sets `{key}`, which the grader does not allow")
        for key in HOST_NAMESPACES:
            value = interpolate(str(data.get(key) or "")).strip().lower()  # Compose interpolates first
            if value == "host" or value.startswith("container:"):
                refuse((*base, key), f"service {name} sets `{key}: {value}` (shares the host's namespace)")
        opts = data.get("security_opt")
        for i, opt in enumerate(opts if isinstance(opts, list) else [opts] if isinstance(opts, str) else []):
            if any(u in interpolate(str(opt)).replace(" ", "").lower() for u in UNCONFINED):
                refuse(
                    (*base, "security_opt", i), f"service {name} sets `security_opt: {opt}`, which disables confinement"
                )
        volumes = data.get("volumes") or []
        written = service.written("volumes")  # as the student wrote them (Compose's answer makes them absolute)
        for i, vol in enumerate(volumes if isinstance(volumes, list) else []):
            source, kind = _volume_source(vol)
            if kind == "bind" and source is not None:
                if "docker.sock" in source or not local(source):
                    said = source
                    if isinstance(written, list) and len(written) == len(volumes):
                        said = _volume_source(written[i])[0] or source
                    refuse(
                        (*base, "volumes", i),
                        f"service {name} mounts the host path {said!r}; only paths "
                        "inside the repository may be mounted",
                    )
            elif kind not in ("volume", "tmpfs", "bind"):
                refuse((*base, "volumes", i), f"service {name} mounts a volume of type {kind!r}")
        for key in ("env_file", "label_file"):
            files = data.get(key)
            for ef in [files] if isinstance(files, str) else files if isinstance(files, list) else []:
                path = ef.get("path") if isinstance(ef, dict) else ef
                if isinstance(path, str) and not local(path):
                    refuse((*base, key), f"service {name} reads {key} {path!r} outside the repository")
        build = data.get("build")
        if isinstance(build, (str, dict)):
            context = build if isinstance(build, str) else str(build.get("context") or ".")
            if "://" in context or context.startswith("git@") or not local(context):
                refuse((*base, "build"), f"service {name} builds from {context!r}, outside the repository")
            if isinstance(build, dict):
                if interpolate(str(build.get("network") or "")).strip().lower() == "host":
                    refuse((*base, "build", "network"), f"service {name} builds on the host network")
                if build.get("privileged"):
                    refuse((*base, "build", "privileged"), f"service {name} asks for a privileged build")
                if build.get("entitlements"):
                    refuse((*base, "build", "entitlements"), f"service {name} asks for build entitlements")
                dockerfile = build.get("dockerfile")
                if isinstance(dockerfile, str) and not local(posixpath.join(context, dockerfile)):
                    refuse((*base, "build", "dockerfile"), f"service {name} uses a Dockerfile outside the repository")
                extra = build.get("additional_contexts") or {}
                for ctx_name, ctx_path in extra.items() if isinstance(extra, dict) else []:
                    if not local(str(ctx_path)):
                        refuse(
                            (*base, "build", "additional_contexts"),
                            f"service {name} adds build context {ctx_name} from outside the repository",
                        )
                for key in ("secrets", "ssh"):
                    if build.get(key):
                        refuse((*base, "build", key), f"service {name} passes build {key}")
                if build.get("tags"):  # extra tags could overwrite images other people on this engine use
                    refuse((*base, "build", "tags"), f"service {name} gives its image extra `build.tags`")
                for key in ("cache_to", "cache_from"):  # type=local reads or writes a host directory
                    entries = build.get(key)
                    for entry in (
                        [entries] if isinstance(entries, str) else entries if isinstance(entries, list) else []
                    ):
                        if "type=local" in interpolate(str(entry)).replace(" ", ""):
                            refuse((*base, "build", key), f"service {name} uses a local build cache ({key})")
    return out


def _volume_source(vol: Any) -> tuple[str | None, str]:
    if isinstance(vol, dict):
        kind = str(vol.get("type") or "volume")
        return (str(vol.get("source")) if vol.get("source") is not None else None), kind
    text = str(vol)
    parts = text.split(":")
    if len(parts) == 1:
        return None, "volume"  # anonymous volume
    source = parts[0]
    if source.startswith((".", "/", "~", "$")):
        return source, "bind"
    return source, "volume"  # named volume
