"""A compose file as a model: its services as Docker Compose resolves them, and line numbers.

What the file means is Compose's answer (`docker compose config`, see compose_cli.py): include,
extends, profiles, env files, `.env`, interpolation, anchors and merge keys. The YAML text is also
read, with PyYAML's safe loader, for what Compose does not keep: line numbers (of the file and of
the files it includes or extends), the student's own spelling of a setting (for hints), and a
first look that refuses alias bombs and files outside the repository before Compose reads them.
Without a Compose CLI the YAML reading is the model, and the model says so (`decided_by`).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograde import labs
from autograde.model import compose_cli
from autograde.model.files import FileProblem, Problem, inside, read_text

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
    context: str  # relative to the repository when inside it, else as Compose has it (absolute, or a URL)
    dockerfile: str
    line: int | None
    args: dict[str, str] = field(default_factory=dict)  # `build.args`, interpolated (a bare name: from the environment)
    target: str | None = None  # `build.target`: the stage built (None: the last one)


YAML_MODEL = "the grader's YAML reading"


@dataclass
class Service:
    name: str
    data: dict[str, Any]  # its settings as Compose resolves them (the YAML's own, without a Compose CLI)
    line: int | None  # where it is defined, in `file`
    raw: dict[str, Any] | None = None  # its settings as the student wrote them where it is defined, for hints
    file: str = ""  # the file it is defined in (relative to the repository), "" for the file itself

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def written(self, key: str, default: Any = None) -> Any:
        """A setting as written in the student's file (the resolved one when it was not written there)."""
        if self.raw is not None and key in self.raw:
            return self.raw[key]
        return self.data.get(key, default)


@dataclass
class ComposeFile:
    name: str
    data: dict[str, Any]
    services: dict[str, Service]
    lines: dict[NodePath, int]
    root: Path | None = None  # the repository (relative paths of the resolved file are made from it)
    decided_by: str = YAML_MODEL  # who resolved the file: Compose (`docker compose config`) or the grader
    others: dict[str, ComposeFile] = field(default_factory=dict)  # files it includes or extends, by path
    written: dict[str, Any] | None = None  # the file as written (its YAML), when `data` is Compose's answer
    inactive: dict[str, list[str]] = field(default_factory=dict)  # services only in profiles: their profiles
    refused: Problem | None = None  # Compose refuses the file (its message, where): it cannot be run
    outside: list[Problem] = field(default_factory=list)  # files it names outside the repository: never read

    @property
    def by_compose(self) -> bool:
        return self.decided_by != YAML_MODEL and not self.decided_by.startswith(YAML_MODEL)

    def line(self, *path: Any) -> int | None:
        """Line of the deepest known node on `path` (1-based), in the file that defines it."""
        return self.where(*path)[1]

    def own_line(self, *path: Any) -> int | None:
        """Line of the deepest known node on `path` in this file's own text."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def where(self, *path: Any) -> tuple[str, int | None]:
        """(file, line) of the deepest known node on `path`: a service's settings are found where they are
        written, in this file, in a file it includes, or in the service it extends."""
        if len(path) >= 2 and path[0] == "services":
            service = self.services.get(str(path[1]))
            if service is not None and service.file:
                other = self.others.get(service.file)
                if other is not None:
                    return service.file, other.own_line(*path)
            found = self._extended(str(path[1]), path[2:])
            if found is not None:
                return found
        return self.name, self.own_line(*path)

    def _extended(self, name: str, rest: tuple[Any, ...]) -> tuple[str, int | None] | None:
        """Where a setting of service `name` is written, following `extends` when this file does not set it."""
        file, here, seen = self.name, self, set()
        while (file, name) not in seen:
            seen.add((file, name))
            doc = here.written if here.written is not None else here.data
            services = doc.get("services")
            raw = services.get(name) if isinstance(services, dict) else None
            if not isinstance(raw, dict):
                return None
            if not rest or rest[0] in raw:
                return file, here.own_line("services", name, *rest)
            extends = raw.get("extends")
            if isinstance(extends, str):
                name = extends
            elif isinstance(extends, dict) and isinstance(extends.get("service"), str):
                name = str(extends["service"])
                if isinstance(extends.get("file"), str):
                    file = _rel_path(posixpath.dirname(file), extends["file"])
                    nxt = self.others.get(file)
                    if nxt is None:
                        return None
                    here = nxt
            else:
                return None
        return None

    def ports(self, service: Service, written: bool = False) -> list[Port]:
        """The service's published ports (`written`: as the student wrote them, for hints that quote them)."""
        out: list[Port] = []
        raw = (service.written("ports") if written else service.get("ports")) or []
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
            if self.root is not None and posixpath.isabs(context):  # Compose's answer: absolute paths
                root = str(self.root.resolve())
                if context == root or context.startswith(root + "/"):
                    context = posixpath.relpath(context, root)
            dockerfile = interpolate(_str(raw.get("dockerfile")) or "Dockerfile")
            target = interpolate(_str(raw.get("target")) or "").strip() or None
            return Build(_norm(context), _norm(dockerfile), line, _build_args(raw.get("args")), target)
        return None

    def redis_service(self, web: str | None = None, redis: str | None = None) -> str | None:
        """The service the stack's Redis runs as: the name the lab asks for (`redis`, LAB04's redis_prod) if there
        is one; else the service the web service's REDIS_HOST names, if it runs a redis image; else the only
        service that runs a redis image. The names default to the lab pack's."""
        scenario = labs.current().scenario
        web, redis = web or scenario.web, redis or scenario.redis
        if redis in self.services:
            return redis
        found = [s.name for s in self.services.values() if split_image(self.image(s) or "")[0] == "redis"]
        service = self.services.get(web)
        named = self.environment(service).get("REDIS_HOST") if service is not None else None
        if named in found:
            return named
        return found[0] if len(found) == 1 else None

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


MAX_FILES = 16  # files a compose file may pull in (include, extends), all told


def load(root: Path, name: str) -> ComposeFile:
    """The compose file `name` of the repository `root`, as Docker Compose resolves it.

    Raises FileProblem with file, line and what to do when the file cannot be used: unreadable, not
    YAML, refused by Compose, or pulling in files from outside the repository (which the grader does
    not read). Without a Compose CLI, the grader's own YAML reading is the model (`decided_by` says so).
    """
    text = read_text(root, name, what="the Compose file")
    own = parse(text, name)
    own.root = root
    _apply_profiles(own, root)
    inputs: list[bytes] | None = [text.encode("utf-8"), _bytes_or_none(root / ".env")]
    others, inputs = _referenced(root, own, inputs)
    own.others = others
    if own.outside:  # Compose would read them: the YAML as written is graded, and the runtime refuses the file
        own.decided_by = f"{YAML_MODEL} (the file names files outside the repository, which Compose would read)"
        return own
    cli = compose_cli.find_cli()
    if cli is None:
        own.decided_by = (
            f"{YAML_MODEL} (no Docker Compose {'.'.join(map(str, compose_cli.MIN_VERSION))} or newer was found, "
            "so include, extends and profiles were not followed)"
        )
        return own
    answer = compose_cli.resolve(cli, root, name, inputs)
    if answer.data is None:
        too_old = compose_cli.too_old(answer.refused, cli, name)
        if too_old:
            own.decided_by = f"{YAML_MODEL} ({too_old})"
            return own
        # Compose will not run the file: `docker compose up` fails (the runtime says so); the rows about
        # its settings are graded from the YAML as written, so each mistake in it costs its own row
        own.refused = _refused(own, answer.refused, root)
        own.decided_by = f"{YAML_MODEL} (Docker Compose refused the file)"
        return own
    return _resolved(own, answer.data, cli.label, root)


def _apply_profiles(cf: ComposeFile, root: Path) -> None:
    """Profiles as Compose applies them, for the YAML reading: a service with `profiles:` starts only when one of
    them is enabled (COMPOSE_PROFILES in the project's `.env`; the grader enables none itself)."""
    enabled = {p.strip() for p in _dotenv(root).get("COMPOSE_PROFILES", "").split(",") if p.strip()}
    for name, service in list(cf.services.items()):
        profiles = service.data.get("profiles")
        if isinstance(profiles, list) and profiles:
            names = [str(p) for p in profiles]
            if "*" not in enabled and not enabled & set(names):
                cf.inactive[name] = names
                del cf.services[name]


def _bytes_or_none(path: Path) -> bytes:
    try:
        return path.read_bytes()[: 1 << 20] if path.is_file() else b"\0none"
    except OSError:
        return b"\0unreadable"


def _rel_path(base_dir: str, path: str) -> str:
    """`path` (as written in a file of folder `base_dir`, both relative to the repository) from the repository."""
    return posixpath.normpath(posixpath.join(base_dir, path))


def _outside(root: Path, rel: str) -> bool:
    return posixpath.isabs(rel) or rel == ".." or rel.startswith("../") or not inside(root, root / rel)


def _remote(text: str) -> bool:
    return "://" in text or text.startswith("git@") or bool(re.match(r"^[\w.-]+@[\w.-]+:", text))


def _dotenv(root: Path) -> dict[str, str]:
    """`.env` of the project folder, read simply (KEY=value lines): only for the paths a file names."""
    out: dict[str, str] = {}
    try:
        text = (root / ".env").read_text(encoding="utf-8") if (root / ".env").is_file() else ""
    except (OSError, UnicodeDecodeError):
        return out
    for line in text.splitlines():
        key, eq, value = line.strip().removeprefix("export ").partition("=")
        if eq and key and not key.startswith("#"):
            out[key.strip()] = value.strip().strip("'\"")
    return out


def _referenced(
    root: Path, cf: ComposeFile, inputs: list[bytes] | None
) -> tuple[dict[str, ComposeFile], list[bytes] | None]:
    """The compose files `cf` includes or extends (read and parsed, by path from the repository), and the
    bytes of every file Compose will read (None when a path depends on variables the grader cannot know).

    Raises FileProblem for a file outside the repository or a remote one: the grader reads only the
    repository's files, and never lets a submission make it fetch anything.
    """
    env = _dotenv(root)
    outside = cf.outside
    others: dict[str, ComposeFile] = {}
    todo: list[ComposeFile] = [cf]
    while todo:
        here = todo.pop(0)
        base = posixpath.dirname(here.name)
        for key_path, written, kind in _references(here.data):
            text = _interpolated(written, env)
            if text is None:
                inputs = None
                continue
            line = here.own_line(*key_path)
            if _remote(text):
                outside.append(
                    Problem(
                        here.name,
                        f"{kind} {written!r} is not a file of the repository; the grader reads only the "
                        "repository's own files",
                        f"Put the file in the repository and name it by a relative path, e.g. `./{posixpath.basename(text) or 'redis.yml'}`.",
                        line,
                    )
                )
                continue
            rel = _rel_path(base, text)
            if _outside(root, rel):
                outside.append(
                    Problem(
                        here.name,
                        f"{kind} {written!r} is outside the repository; the grader reads only the repository's own "
                        "files",
                        "Keep every file the stack needs inside the repository and name it by a relative path.",
                        line,
                    )
                )
                continue
            if kind == "a project directory":
                continue
            if kind == "an env file":
                if inputs is not None:
                    inputs.append(rel.encode() + b"\0" + _bytes_or_none(root / rel))
                continue
            if rel in others or rel == cf.name:
                continue
            if len(others) >= MAX_FILES:
                raise FileProblem(
                    Problem(
                        here.name, f"{here.name}:{line}: more than {MAX_FILES} compose files are pulled in", "", line
                    )
                )
            other = parse(read_text(root, rel, what="a Compose file the stack includes"), rel)
            other.root = root
            others[rel] = other
            todo.append(other)
            if inputs is not None:
                inputs.append(rel.encode() + b"\0" + _bytes_or_none(root / rel))
    return others, inputs


def _interpolated(text: str, env: dict[str, str]) -> str | None:
    """A path as Compose interpolates it (with the `.env` values), or None when the grader cannot tell."""
    if "$" not in text.replace("$$", ""):
        return text.replace("$$", "$")
    names = {m.group(1) or m.group(4) for m in _INTERPOLATION.finditer(text) if m.group(0) != "$$"}
    if not names <= env.keys() and any(
        m.group(2) not in (":-", "-") for m in _INTERPOLATION.finditer(text) if m.group(0) != "$$"
    ):
        return None

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        var = m.group(1) or m.group(4)
        value = env.get(var)
        if m.group(2) in (":-", "-") and (value is None or (m.group(2) == ":-" and value == "")):
            return m.group(3) or ""
        return value or ""

    return _INTERPOLATION.sub(sub, text)


def _references(data: dict[str, Any]) -> list[tuple[NodePath, str, str]]:
    """(node path, path as written, what it is) of every file a compose file names for Compose to read."""
    out: list[tuple[NodePath, str, str]] = []
    include = data.get("include")
    for i, entry in enumerate(include if isinstance(include, list) else []):
        if isinstance(entry, str):
            out.append((("include", i), entry, "the included file"))
        elif isinstance(entry, dict):
            paths = entry.get("path")
            for j, p in enumerate(paths if isinstance(paths, list) else [paths]):
                if isinstance(p, str):
                    out.append(
                        (
                            ("include", i, "path", j) if isinstance(paths, list) else ("include", i, "path"),
                            p,
                            "the included file",
                        )
                    )
            envs = entry.get("env_file")
            for p in envs if isinstance(envs, list) else [envs]:
                if isinstance(p, str):
                    out.append((("include", i, "env_file"), p, "an env file"))
            if isinstance(entry.get("project_directory"), str):
                out.append((("include", i, "project_directory"), entry["project_directory"], "a project directory"))
    services = data.get("services")
    for name, spec in services.items() if isinstance(services, dict) else []:
        if not isinstance(spec, dict):
            continue
        extends = spec.get("extends")
        if isinstance(extends, dict) and isinstance(extends.get("file"), str):
            out.append((("services", name, "extends", "file"), extends["file"], "the extended file"))
        for key in ("env_file", "label_file"):
            files = spec.get(key)
            for item in [files] if isinstance(files, str | dict) else files if isinstance(files, list) else []:
                path = item.get("path") if isinstance(item, dict) else item
                if isinstance(path, str):
                    out.append((("services", name, key), path, "an env file"))
    return out


def _refused(cf: ComposeFile, said: str, root: Path) -> Problem:
    """Compose's refusal of the file, told at the line it names (a `services.NAME.KEY` path or a YAML line)."""
    said = said.replace(str(root.resolve()) + "/", "").replace(str(root.resolve()), ".")
    file, line = cf.name, None
    m = re.search(r"\bservices\.([A-Za-z0-9_.-]+?)\.([A-Za-z_]+)", said) or re.search(
        r"service \\?\"?([A-Za-z0-9_.-]+)\\?\"?", said
    )
    if m:
        file, line = cf.where("services", m.group(1), *(m.groups()[1:2] if m.lastindex and m.lastindex > 1 else ()))
    else:
        n = re.search(r"\bline (\d+)\b", said)
        line = int(n.group(1)) if n else None
    where = f"{file}:{line}" if line else file
    return Problem(
        file,
        f"{where}: Docker Compose refuses {cf.name}: {said}",
        f"Run `docker compose -f {cf.name} config` to see the same message, and fix what it names.",
        line,
    )


def _resolved(own: ComposeFile, data: dict[str, Any], label: str, root: Path) -> ComposeFile:
    """The model from Compose's answer; each service keeps where it is written and how (for lines and hints)."""
    written: dict[str, tuple[str, dict[str, Any], int | None]] = {}
    profiles: dict[str, list[str]] = {}
    for file, cf in [("", own), *own.others.items()]:
        declared = cf.data.get("services")
        for name, spec in declared.items() if isinstance(declared, dict) else []:
            key = str(name)
            if key not in written:
                written[key] = (file, spec if isinstance(spec, dict) else {}, cf.own_line("services", name))
            raw_profiles = spec.get("profiles") if isinstance(spec, dict) else None
            if isinstance(raw_profiles, list) and raw_profiles:
                profiles.setdefault(key, [str(p) for p in raw_profiles])
    resolved = data.get("services")
    services: dict[str, Service] = {}
    for name, spec in resolved.items() if isinstance(resolved, dict) else []:
        file, raw, line = written.get(str(name), ("", None, None))
        services[str(name)] = Service(str(name), spec if isinstance(spec, dict) else {}, line, raw, file)
    inactive = {n: p for n, p in profiles.items() if n not in services}
    return ComposeFile(
        own.name, data, services, own.lines, root, label, own.others, written=own.data, inactive=inactive
    )


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


def __getattr__(name: str) -> str:
    """`PROD_FILE`, `DEV_FILE`: the compose file the lab pack in effect runs, and the one it compares with (LAB04:
    docker-compose.prod.yml, docker-compose.yml), read when asked."""
    scenario = labs.current().scenario
    if name == "PROD_FILE":
        return scenario.stack_file
    if name == "DEV_FILE" and scenario.compare_file:
        return scenario.compare_file
    raise AttributeError(name)
