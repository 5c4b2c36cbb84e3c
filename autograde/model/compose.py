"""A compose file as a model: services with their settings normalized, and line numbers.

Loaded with PyYAML's safe loader. Line numbers come from the composed node tree, walked
with a budget so that an alias bomb is refused instead of expanded.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograde.model.files import FileProblem, Problem, read_text

PROD_FILE = "docker-compose.prod.yml"
DEV_FILE = "docker-compose.yml"
NODE_BUDGET = 50_000
_INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")

NodePath = tuple[Any, ...]


@dataclass(frozen=True)
class Port:
    host_ip: str
    published: str | None
    target: str | None
    protocol: str
    line: int | None


@dataclass(frozen=True)
class Build:
    context: str
    dockerfile: str
    line: int | None
    args: dict[str, str] = field(default_factory=dict)  # `build.args`, interpolated (a bare name: from the environment)


@dataclass
class Service:
    name: str
    data: dict[str, Any]
    line: int | None

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


@dataclass
class ComposeFile:
    name: str
    data: dict[str, Any]
    services: dict[str, Service]
    lines: dict[NodePath, int]

    def line(self, *path: Any) -> int | None:
        """Line of the deepest known node on `path` (1-based)."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def ports(self, service: Service) -> list[Port]:
        out: list[Port] = []
        raw = service.get("ports") or []
        if not isinstance(raw, list):
            return out
        for i, entry in enumerate(raw):
            line = self.line("services", service.name, "ports", i)
            if isinstance(entry, dict):
                out.append(
                    Port(
                        str(entry.get("host_ip") or ""),
                        _str(entry.get("published")),
                        _str(entry.get("target")),
                        str(entry.get("protocol") or "tcp"),
                        line,
                    )
                )
            elif isinstance(entry, (str, int)):
                out.append(_short_port(interpolate(str(entry)), line))
        return out

    def environment(self, service: Service) -> dict[str, str | None]:
        raw = service.get("environment")
        env: dict[str, str | None] = {}
        if isinstance(raw, dict):
            for k, v in raw.items():
                env[str(k)] = None if v is None else interpolate(_str(v) or "")
        elif isinstance(raw, list):
            for item in raw:
                key, eq, value = str(item).partition("=")
                env[key.strip()] = interpolate(value) if eq else None
        return env

    def depends_on(self, service: Service) -> list[str]:
        raw = service.get("depends_on")
        if isinstance(raw, dict):
            return [str(k) for k in raw]
        if isinstance(raw, list):
            return [str(k) for k in raw]
        if isinstance(raw, str):
            return [raw]
        return []

    def build(self, service: Service) -> Build | None:
        raw = service.get("build")
        line = self.line("services", service.name, "build")
        if isinstance(raw, str):
            return Build(_norm(interpolate(raw)), "Dockerfile", line)
        if isinstance(raw, dict):
            context = interpolate(_str(raw.get("context")) or ".")
            dockerfile = interpolate(_str(raw.get("dockerfile")) or "Dockerfile")
            return Build(_norm(context), _norm(dockerfile), line, _build_args(raw.get("args")))
        return None

    def redis_service(self) -> str | None:
        """The service the stack's Redis runs as: `redis_prod` if there is one; else the service web_prod's
        REDIS_HOST names, if it runs a redis image; else the only service that runs a redis image."""
        if "redis_prod" in self.services:
            return "redis_prod"
        redis = [s.name for s in self.services.values() if split_image(self.image(s) or "")[0] == "redis"]
        web = self.services.get("web_prod")
        named = self.environment(web).get("REDIS_HOST") if web is not None else None
        if named in redis:
            return named
        return redis[0] if len(redis) == 1 else None

    def image(self, service: Service) -> str | None:
        raw = service.get("image")
        return interpolate(str(raw)).strip() or None if isinstance(raw, (str, int, float)) else None


def split_image(ref: str) -> tuple[str, str]:
    """(repository, tag) of an image reference, without registry prefixes and digests."""
    ref = ref.split("@", 1)[0].strip()
    name, tag = ref, ""
    if ":" in ref.rsplit("/", 1)[-1]:
        name, tag = ref.rsplit(":", 1)
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    if name.startswith("library/"):
        name = name[len("library/") :]
    return name.lower(), tag


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _norm(path: str) -> str:
    return posixpath.normpath(path.strip()) if path.strip() else "."


def _short_port(spec: str, line: int | None) -> Port:
    spec, _, protocol = spec.partition("/")
    parts = spec.rsplit(":", 2) if not spec.startswith("[") else re.split(r"(?<=\]):", spec)
    if len(parts) == 1:
        return Port("", None, parts[0], protocol or "tcp", line)
    if len(parts) == 2:
        return Port("", parts[0], parts[1], protocol or "tcp", line)
    return Port(parts[0].strip("[]"), parts[1], parts[2], protocol or "tcp", line)


def interpolate(text: str) -> str:
    """Compose variable syntax, using the defaults written in the file (the grader sets no variables)."""

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        op, word = m.group(2), m.group(3)
        if op in (":-", "-"):
            return word or ""
        return ""

    return _INTERPOLATION.sub(sub, text)


def load(root: Path, name: str) -> ComposeFile:
    text = read_text(root, name, what="the Compose file")
    return parse(text, name)


def parse(text: str, name: str) -> ComposeFile:
    import yaml

    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise FileProblem(Problem(name, f"{name} has no content", "Define `services:` with your services."))
            lines: dict[NodePath, int] = {}
            _walk(node, (), lines, [0], name)
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        context = getattr(e, "context_mark", None)
        if mark is not None and context is not None and mark.line >= len(text.rstrip("\n").splitlines()):
            mark = context  # a problem found only at the end of the file started where the context did
        line = mark.line + 1 if mark else None
        where = f":{line}" if line else ""
        problem = getattr(e, "problem", None) or str(e)
        raise FileProblem(
            Problem(
                name,
                f"{name}{where}: invalid YAML: {problem}",
                "Check indentation (spaces, not tabs) and that every `key:` is followed by a value "
                "or an indented block.",
                line,
            )
        ) from None
    except RecursionError:
        raise FileProblem(Problem(name, f"{name} nests too deeply to be a Compose file", "")) from None
    if not isinstance(data, dict):
        raise FileProblem(
            Problem(
                name,
                f"{name} must be a mapping with a `services:` key, found a {type(data).__name__}",
                "Start the file with `services:`.",
                1,
            )
        )
    services_raw = data.get("services")
    services: dict[str, Service] = {}
    if isinstance(services_raw, dict):
        for key, value in services_raw.items():
            services[str(key)] = Service(
                str(key), value if isinstance(value, dict) else {}, lines.get(("services", key))
            )
    elif services_raw is not None:
        raise FileProblem(
            Problem(
                name,
                f"{name}:{lines.get(('services',), 1)}: `services` must be a mapping of service names to settings",
                "Indent each service under `services:`.",
                lines.get(("services",)),
            )
        )
    return ComposeFile(name, data, services, lines)


def _walk(node: Any, path: NodePath, lines: dict[NodePath, int], budget: list[int], name: str) -> None:
    import yaml

    budget[0] += 1
    if budget[0] > NODE_BUDGET:
        raise FileProblem(
            Problem(
                name,
                f"{name} expands to more than {NODE_BUDGET} YAML nodes (an alias bomb?)",
                "A Compose file for this lab needs a few dozen lines; remove the repeated aliases.",
            )
        )
    if len(path) > 64:
        raise FileProblem(Problem(name, f"{name} nests deeper than 64 levels", ""))
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key == "<<":
                continue
            _walk(value_node, (*path, key), lines, budget, name)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines, budget, name)


def _build_args(raw: object) -> dict[str, str]:
    """`build.args` as a mapping or a list of `KEY=value`; a key without a value is left out (unset)."""
    items: list[tuple[str, object]] = []
    if isinstance(raw, dict):
        items = [(str(k), v) for k, v in raw.items()]
    elif isinstance(raw, list):
        for item in raw:
            key, eq, value = str(item).partition("=")
            items.append((key.strip(), value if eq else None))
    return {k: interpolate(str(v)) for k, v in items if v is not None and k}
