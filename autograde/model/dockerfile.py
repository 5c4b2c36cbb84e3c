"""Dockerfile.prod as a model: stages, and what each stage's instructions do to the image.

Parsing is BuildKit's own parser (the `dockerfile` package). On top of it a small
simulation follows, per stage, the working directory, ENV, where the lab's files land,
which virtual environments exist, what pip installs into which interpreter and where
pytest runs. Checks then ask questions of that model instead of matching text.
"""

from __future__ import annotations

import difflib
import fnmatch
import posixpath
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from autograde import labs
from autograde.model.files import FileProblem, Problem, inside, read_text
from autograde.model.shell import (
    SHELLS,
    app_command,
    command_chain,
    expand,
    failure_stops_script,
    is_under,
    resolve,
    simple_commands,
    undefined,
    unquote,
)

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SYSTEM_BIN = frozenset(DEFAULT_PATH.split(":"))
KNOWN = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)
# Files of the build context whose journey through the stages the checks follow.
TRACKED = ("app/requirements.txt", "app/requirements-dev.txt", "app/main.py", "app/tests")
TRACKED_DIRS = frozenset({"app/tests"})
_PYTHON = re.compile(r"^python[0-9.]*$")
_PIP = re.compile(r"^pip[0-9.]*$")
PYTEST_RUNS_NOTHING = frozenset(
    {"--collect-only", "--co", "--help", "-h", "--version", "-V", "--fixtures", "--markers"}
)
_PYTEST_VALUE_OPTS = frozenset(
    {
        "-k",
        "-m",
        "-p",
        "-c",
        "-o",
        "--rootdir",
        "--confcutdir",
        "--basetemp",
        "-W",
        "--junitxml",
        "--junit-xml",
        "--ignore",
        "--deselect",
        "--log-level",
        "--tb",
        "--maxfail",
        "-n",
        "--import-mode",
        "--cov",
    }
)


@dataclass(frozen=True)
class Mount:
    """One `RUN --mount=...` option, as the Dockerfile reference defines its keys."""

    type: str  # bind (the default), cache, tmpfs, secret, ssh
    target: str  # where it is mounted during the RUN (`target`, `dst`, `destination`)
    source: str  # bind: the path in the build context or in `from`; "" when not given
    from_: str | None  # bind/cache: the stage or image the source is read from; None: the build context


@dataclass(frozen=True)
class Instruction:
    cmd: str
    args: tuple[str, ...]
    flags: dict[str, str]  # the last value of each flag, by lower-case name without dashes
    json: bool
    original: str
    line: int
    mounts: tuple[Mount, ...] = ()  # every `--mount` of a RUN, in order
    heredocs: tuple[tuple[str, str], ...] = ()  # (name, content) of each here-document, in order
    sub_cmd: str | None = None  # ONBUILD's instruction
    excludes: tuple[str, ...] = ()  # every `--exclude` of a COPY/ADD


@dataclass(frozen=True)
class Venv:
    path: str
    line: int


@dataclass(frozen=True)
class PipInstall:
    line: int
    venv: str | None  # None: the image's own interpreter
    requirement_files: tuple[str, ...]  # absolute paths in the image
    requirement_origins: tuple[str | None, ...]  # build-context file each came from
    packages: tuple[str, ...]
    requirements_at: tuple[str, ...] = ()  # where app/requirements.txt was in the image at that point
    path_line: int | None = None  # the venv was chosen through PATH, as set on this line (ENV, or activate in RUN)
    tool: str = "pip"  # the command word as written


@dataclass(frozen=True)
class PytestRun:
    line: int
    venv: str | None
    cwd: str
    runs_app_tests: bool
    pytest_installed: bool
    original: str
    fails_build: bool = True  # a failing test stops the build (not hidden by `|| true`, `; cmd`, a pipe)
    path_line: int | None = None  # the venv was chosen through PATH, as set on this line
    requirements_dev_at: tuple[str, ...] = ()  # where app/requirements-dev.txt was at that point


@dataclass(frozen=True)
class CopyFrom:
    line: int
    ref: str
    stage: int | None  # index of the source stage; None when --from names an image
    sources: tuple[str, ...]
    dest: str


@dataclass
class StageState:
    workdir: str = "/"
    env: dict[str, str] = field(default_factory=lambda: {"PATH": DEFAULT_PATH})
    placements: dict[str, list[str]] = field(default_factory=lambda: {t: [] for t in TRACKED})
    dirs: set[str] = field(default_factory=lambda: {"/"})
    venvs: list[Venv] = field(default_factory=list)
    pip_installs: list[PipInstall] = field(default_factory=list)
    cmd: Instruction | None = None
    entrypoint: Instruction | None = None
    exposes: list[tuple[str, int]] = field(default_factory=list)
    path_line: int | None = None  # the ENV instruction that last set PATH
    from_context: dict[str, int] = field(default_factory=dict)  # placements copied from the build context: line
    scripts: dict[str, tuple[str, int]] = field(default_factory=dict)  # small text files put in: path -> (text, line)

    def copy(self) -> StageState:
        return StageState(
            self.workdir,
            dict(self.env),
            {k: list(v) for k, v in self.placements.items()},
            set(self.dirs),
            list(self.venvs),
            list(self.pip_installs),
            self.cmd,
            self.entrypoint,
            list(self.exposes),
            self.path_line,
            dict(self.from_context),
            dict(self.scripts),
        )

    def script(self, argv0: str) -> tuple[str, str, int] | None:
        """(path, text, line) of the script `argv0` runs, when the stage wrote it (a here-document) or copied
        it from the build context: by path, or found on PATH."""
        if "/" in argv0:
            path = resolve(argv0, self.workdir)
            found = self.scripts.get(path)
            return (path, *found) if found else None
        for d in self.env.get("PATH", DEFAULT_PATH).split(":"):
            path = posixpath.join(d or ".", argv0)
            if path in self.scripts:
                return (path, *self.scripts[path])
        return None

    def venv_of_bin(self, bindir: str) -> str | None:
        bindir = posixpath.normpath(bindir)
        for v in self.venvs:
            if bindir == posixpath.join(v.path, "bin"):
                return v.path
        return None

    def interpreter_env(self, argv0: str, cwd: str, path: str) -> str | None:
        """The venv an executable runs in (by path, or found on PATH), or None for the system."""
        if "/" in argv0:
            return self.venv_of_bin(posixpath.dirname(resolve(argv0, cwd)))
        for d in path.split(":"):
            if not d:
                continue
            venv = self.venv_of_bin(d)
            if venv is not None:
                return venv
            if posixpath.normpath(d) in SYSTEM_BIN:
                return None
        return None


@dataclass
class Stage:
    index: int
    alias: str | None
    base: str  # after ARG expansion
    line: int
    parent: int | None  # index of the stage this one is built FROM, if any
    instructions: list[Instruction] = field(default_factory=list)
    state: StageState = field(default_factory=StageState)
    pytest_runs: list[PytestRun] = field(default_factory=list)
    copies_from: list[CopyFrom] = field(default_factory=list)

    args: dict[str, str] = field(default_factory=dict)  # ARGs in scope, from their declaration on
    onbuild: list[Instruction] = field(default_factory=list)  # ONBUILD triggers, run by stages built FROM this one
    base_written: str = ""  # the base as written, before ARG expansion
    from_undefined: tuple[str, ...] = ()  # variables of the FROM line that are not global ARGs: they expand to ""

    @property
    def label(self) -> str:
        return f"stage {self.alias!r}" if self.alias else f"stage {self.index} ({self.base})"


@dataclass
class Dockerfile:
    stages: list[Stage]
    unknown: list[Instruction]
    instructions: list[Instruction]
    context: str = "."  # the build context, relative to the repository root
    build_args: dict[str, str] = field(default_factory=dict)  # given with the build: a declared ARG takes them
    target: str | None = None  # the stage built (`build.target`, as the grader builds it); None: the last one

    def in_context(self, repo_path: str) -> str:
        """How a COPY source names `repo_path` (relative to the repository root) in this build context."""
        return repo_path if self.context == "." else posixpath.relpath(repo_path, self.context)

    @property
    def context_words(self) -> str:
        return "the repository root" if self.context == "." else f"{self.context}/"

    def stage(self, ref: str) -> Stage | None:
        """A stage by alias (case-insensitive, as Docker treats them) or by index."""
        ref = ref.lower()
        for s in self.stages:
            if s.alias == ref:
                return s
        if ref.isdigit() and int(ref) < len(self.stages):
            return self.stages[int(ref)]
        return None

    @property
    def final(self) -> Stage | None:
        """The stage that is built, and so judged: the target, else the last stage (as Docker builds)."""
        if not self.stages:
            return None
        if self.target is not None:
            targeted = self.stage(self.target)
            if targeted is not None:
                return targeted
        return self.stages[-1]

    def lineage(self, stage: Stage) -> list[Stage]:
        """The stage and the stages it is built FROM, nearest first (`FROM final AS debug` inherits final's
        files, ENV, WORKDIR, CMD/ENTRYPOINT and EXPOSE)."""
        chain = [stage]
        while chain[-1].parent is not None and chain[-1].parent not in {s.index for s in chain}:
            chain.append(self.stages[chain[-1].parent])
        return chain

    def copies_into(self, stage: Stage) -> list[CopyFrom]:
        """Every `COPY --from` that put files into the stage's image: its own and its ancestors'."""
        return [c for s in reversed(self.lineage(stage)) for c in s.copies_from]

    def instructions_of(self, stage: Stage) -> list[Instruction]:
        """The instructions that made the stage's image, its ancestors' first."""
        return [i for s in reversed(self.lineage(stage)) for i in s.instructions]

    def copied_from_by_others(self, stage: Stage) -> list[Stage]:
        """Stages that take files from `stage` (`COPY --from`, `RUN --mount=from=`): a build stage."""
        out = []
        for s in self.stages:
            if s is stage:
                continue
            refs = {c.stage for c in s.copies_from}
            for ins in s.instructions:
                for m in ins.mounts:
                    if m.from_ is not None:
                        other = self.stage(m.from_)
                        refs.add(other.index if other is not None else None)
            if stage.index in refs:
                out.append(s)
        return out

    @property
    def builder(self) -> Stage | None:
        """The stage named `builder`; failing that, where the final stage gets its venv; else the first."""
        named = self.stage("builder")
        if named is not None and named is not self.final:
            return named
        final = self.final
        if final is not None:
            for c in self.copies_into(final):
                if c.stage is not None and c.stage != final.index and self.stages[c.stage].state.venvs:
                    return self.stages[c.stage]
        return self.stages[0] if len(self.stages) > 1 else None

    def arg_declarations(self, name: str) -> list[Instruction]:
        """The ARG instructions that declare `name`, in order."""
        return [i for i in self.instructions if i.cmd == "ARG" and any(a.partition("=")[0] == name for a in i.args)]

    def dependencies(self, stage: Stage) -> set[int]:
        """Indexes of the stages a stage needs, so that BuildKit really builds them."""
        seen: set[int] = set()
        todo = [stage.index]
        while todo:
            s = self.stages[todo.pop()]
            for dep in [s.parent, *(c.stage for c in s.copies_from)]:
                if dep is not None and dep not in seen and dep != s.index:
                    seen.add(dep)
                    todo.append(dep)
        return seen

    def instruction_for(self, text: str) -> Instruction | None:
        """The instruction whose text a build log quotes (whitespace-insensitive)."""
        want = " ".join(text.split())
        for ins in self.instructions:
            if " ".join(ins.original.split()) == want:
                return ins
        for ins in self.instructions:
            have = " ".join(ins.original.split())
            if want and (have.startswith(want) or want.startswith(have)):
                return ins
        # BuildKit names a step with a here-document by its first line and the document's start:
        # `RUN <<EOF (set -e...)`
        named = re.match(
            r"^(?P<line>.*?)\s*\((?P<doc>.*?)(?:\.\.\.)?\)$", text.strip().splitlines()[0] if text.strip() else ""
        )
        first = " ".join((named.group("line") if named else text.strip()).split())
        candidates = [
            ins
            for ins in self.instructions
            if ins.heredocs and first and " ".join(ins.original.splitlines()[0].split()) == first
        ]
        if named and len(candidates) > 1:  # tell them apart by the document's first line
            doc = named.group("doc").strip()
            candidates = [i for i in candidates if i.heredocs[0][1].strip().startswith(doc)] or candidates
        return candidates[0] if candidates else None


def parse_flags(flags: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for f in flags:
        key, _, value = f.lstrip("-").partition("=")
        out[key.lower()] = value
    return out


def _flag_values(flags: tuple[str, ...], name: str) -> list[str]:
    return [f.partition("=")[2] for f in flags if f.lstrip("-").partition("=")[0].lower() == name]


def parse_mount(spec: str) -> Mount:
    """`type=bind,source=app/requirements.txt,target=/tmp/r.txt` as a Mount (keys as the reference spells them)."""
    keys: dict[str, str] = {}
    for part in spec.split(","):
        key, _, value = part.partition("=")
        keys[key.strip().lower()] = unquote(value.strip())
    target = keys.get("target") or keys.get("dst") or keys.get("destination") or ""
    return Mount(
        type=keys.get("type", "bind") or "bind",
        target=target,
        source=keys.get("source") or keys.get("src") or "",
        from_=keys.get("from") or None,
    )


# Arguments BuildKit defines for FROM lines without a declaration (the platform of this machine).
PLATFORM_ARGS = {
    "BUILDPLATFORM": "linux/amd64",
    "BUILDOS": "linux",
    "BUILDARCH": "amd64",
    "BUILDVARIANT": "",
    "TARGETPLATFORM": "linux/amd64",
    "TARGETOS": "linux",
    "TARGETARCH": "amd64",
    "TARGETVARIANT": "",
}


def load(
    root: Path, context: str = ".", build_args: dict[str, str] | None = None, name: str | None = None
) -> Dockerfile:
    """Parse the lab's Dockerfile (`name`, from the repository root; by default the one the lab pack's
    scenario builds), or raise FileProblem with file, line and what to do.

    `context`: the build context it is built with, relative to root (COPY sources are resolved in it).
    `build_args`: the compose file's `build.args`; each sets the ARG of that name where it is declared.
    """
    name = name or labs.current().scenario.dockerfile
    text = read_text(root, name, what=labs.current().hints.get("dockerfile_what", "the lab's Dockerfile"))
    return parse(text, root, context, build_args, name)


def parse(
    text: str,
    root: Path | None = None,
    context: str = ".",
    build_args: dict[str, str] | None = None,
    name: str | None = None,
) -> Dockerfile:
    import dockerfile as buildkit

    file = name or labs.current().scenario.dockerfile  # the file's name, in messages

    try:
        commands = buildkit.parse_string(text)
    except buildkit.GoParseError as e:
        if "no instructions" in str(e):
            raise FileProblem(
                Problem(
                    file,
                    f"{file} has no instructions yet, only comments (the starter?)",
                    "Replace the TODO comments with instructions: a builder stage, then a final stage.",
                    1,
                )
            ) from None
        raise FileProblem(
            Problem(
                file,
                f"{file} cannot be parsed: {e}",
                "Fix the syntax; every instruction is `INSTRUCTION arguments`.",
            )
        ) from None
    except UnicodeDecodeError:  # the Go parser can split a character it does not expect (control characters)
        raise FileProblem(
            Problem(
                file,
                f"{file} cannot be parsed: it holds characters the Dockerfile parser does not accept",
                "Keep Dockerfile.prod to plain text without control characters.",
            )
        ) from None
    instructions = [
        Instruction(
            c.cmd.upper(),
            tuple(c.value),
            parse_flags(c.flags),
            c.json,
            c.original,
            c.start_line,
            tuple(parse_mount(m) for m in _flag_values(c.flags, "mount")),
            tuple((h.name, h.content) for h in getattr(c, "heredocs", ()) or ()),
            c.sub_cmd.upper() if c.sub_cmd else None,
            tuple(_flag_values(c.flags, "exclude")),
        )
        for c in commands
        if c.cmd
    ]  # a lone trailing `\` yields a command without cmd or text
    unknown = [i for i in instructions if i.cmd not in KNOWN]
    df = Dockerfile(
        stages=[],
        unknown=unknown,
        instructions=instructions,
        context=posixpath.normpath(context or "."),
        build_args=dict(build_args or {}),
    )
    # ARGs declared before the first FROM: usable in FROM lines, and in a stage only once it declares them again
    global_args: dict[str, str] = dict(PLATFORM_ARGS)
    stage: Stage | None = None
    for ins in instructions:
        if ins.cmd == "FROM":
            stage = _new_stage(df, ins, global_args)
            df.stages.append(stage)
            for trigger in stage.onbuild:  # the base stage's ONBUILD triggers run first
                _apply(df, stage, trigger, global_args, root)
            stage.onbuild = []
        elif stage is None:
            if ins.cmd == "ARG":
                for a in ins.args:
                    name, eq, default = a.partition("=")
                    if name in df.build_args:
                        global_args[name] = df.build_args[name]
                    elif eq:
                        global_args[name] = expand(unquote(default), global_args)
                    else:  # declared without a default: unset, so it expands to nothing
                        global_args.setdefault(name, "")
            elif ins.cmd in KNOWN:
                raise FileProblem(
                    Problem(
                        file,
                        f"{file}:{ins.line}: {ins.cmd} comes before the first FROM",
                        "Start each stage with FROM; only ARG may come before it.",
                        ins.line,
                    )
                )
        else:
            stage.instructions.append(ins)
            _apply(df, stage, ins, global_args, root)
    return df


def _new_stage(df: Dockerfile, ins: Instruction, global_args: dict[str, str]) -> Stage:
    args = ins.args
    # FROM sees only the ARGs declared before the first FROM (and the platform's): an ARG declared
    # inside a stage is not in scope there, so `${PYTHON_VERSION}` expands to nothing
    base = expand(args[0], global_args) if args else ""
    alias = args[2].lower() if len(args) >= 3 and args[1].lower() == "as" else None
    parent = df.stage(base) if base and not base.isdigit() else None
    stage = Stage(
        index=len(df.stages),
        alias=alias,
        base=base,
        line=ins.line,
        parent=parent.index if parent else None,
        base_written=args[0] if args else "",
        from_undefined=tuple(undefined(args[0], global_args)) if args else (),
    )
    if parent is not None:
        stage.state = parent.state.copy()  # ENV, files and venvs carry over; ARGs do not
        stage.onbuild = list(parent.onbuild)
    return stage


def _apply(df: Dockerfile, stage: Stage, ins: Instruction, global_args: dict[str, str], root: Path | None) -> None:
    st = stage.state
    env = {**stage.args, **st.env}  # ENV wins over an ARG of the same name
    if ins.cmd == "WORKDIR" and ins.args:
        st.workdir = resolve(expand(unquote(ins.args[0]), env), st.workdir)
        st.dirs.add(st.workdir)
    elif ins.cmd == "ENV":
        pairs = list(ins.args)
        for key, value in zip(pairs[0::2], pairs[1::2], strict=False):  # an odd one out is not set
            st.env[key] = expand(unquote(value), {**stage.args, **st.env})
            if key == "PATH":
                st.path_line = ins.line
    elif ins.cmd == "ARG":
        # in scope from here to the end of this stage; without a default it takes the global one, if any
        for a in ins.args:
            name, eq, default = a.partition("=")
            if name in df.build_args:
                stage.args[name] = df.build_args[name]
            elif eq:
                stage.args[name] = expand(unquote(default), env)
            elif name in global_args:
                stage.args[name] = global_args[name]
            else:
                stage.args.setdefault(name, "")
    elif ins.cmd == "ONBUILD":
        if ins.sub_cmd and ins.args:
            stage.onbuild.append(replace(ins, cmd=ins.sub_cmd, sub_cmd=None, original=ins.original.split(None, 1)[-1]))
    elif ins.cmd == "EXPOSE":
        for a in ins.args:
            st.exposes.append((expand(unquote(a), env), ins.line))
    elif ins.cmd == "CMD":
        st.cmd = ins
    elif ins.cmd == "ENTRYPOINT":
        st.entrypoint = ins
    elif ins.cmd in ("COPY", "ADD"):
        _apply_copy(df, stage, ins, env, root)
    elif ins.cmd == "RUN":
        bound = _bind_mounts(df, stage, ins, env, root)
        try:
            _apply_run(stage, ins, env)
        finally:  # a mount is there during its RUN only
            for tracked, target in bound:
                if target in st.placements[tracked]:
                    st.placements[tracked].remove(target)
                st.from_context.pop(target, None)


def _bind_mounts(
    df: Dockerfile, stage: Stage, ins: Instruction, env: dict[str, str], root: Path | None
) -> list[tuple[str, str]]:
    """Put the lab's files where `RUN --mount=type=bind` shows them during the RUN; returns what was added."""
    st = stage.state
    before = {t: list(locs) for t, locs in st.placements.items()}
    for m in ins.mounts:
        if m.type != "bind" or not m.target:
            continue
        target = resolve(expand(m.target, env), st.workdir)
        source = expand(m.source, env) or "."
        if m.from_ is None:
            rel = posixpath.normpath(posixpath.join("/", df.context, posixpath.normpath("/" + source).lstrip("/")))
            saved = dict(st.from_context)
            _place_from_context(st, rel.lstrip("/") or ".", target, False, root, ins.line)
            st.from_context = saved
        else:
            other = df.stage(expand(m.from_, env))
            if other is None or other.index >= stage.index:
                continue
            src_abs = resolve(source, "/")
            for tracked, locations in other.state.placements.items():
                for loc in locations:
                    if is_under(loc, src_abs):
                        rel_loc = posixpath.relpath(loc, src_abs)
                        _add(st.placements[tracked], posixpath.normpath(posixpath.join(target, rel_loc)))
    return [(t, loc) for t, locs in st.placements.items() for loc in locs if loc not in before[t]]


def _dest(dest: str, single_file: bool, name: str, st: StageState) -> str:
    if dest.endswith("/") or not single_file or posixpath.normpath(dest) in st.dirs:
        return posixpath.join(posixpath.normpath(dest), name)
    return posixpath.normpath(dest)


def _apply_copy(df: Dockerfile, stage: Stage, ins: Instruction, env: dict[str, str], root: Path | None) -> None:
    st = stage.state
    words = [expand(w, env) for w in ins.args]
    if len(words) < 2:
        return
    *sources, raw_dest = words
    dest = resolve(raw_dest, st.workdir) + ("/" if raw_dest.endswith("/") else "")
    many = len(sources) > 1
    _keep_scripts(df, st, ins, sources, dest, root)
    # here-documents (`COPY <<EOF /etc/app.conf`) write inline text; ADD of a URL or a git
    # repository reads nothing from the build context
    sources = [s for s in sources if not s.startswith("<<") and not (ins.cmd == "ADD" and is_remote_source(s))]
    if not sources:
        return
    ref = ins.flags.get("from")
    parents = "parents" in ins.flags and ins.flags["parents"].lower() not in ("false", "0")
    if ref is None:
        for src in sources:
            # a source is a path inside the build context; `..` cannot leave it (BuildKit clamps at its root)
            rel = posixpath.normpath(posixpath.join("/", df.context, posixpath.normpath("/" + src).lstrip("/")))
            # --parents keeps the source's path (from the context's root, or from a `/./` pivot) under dest
            pivot = ""
            if parents:
                pivot = df.context if df.context != "." else ""
                written = re.sub(r"^(?:\./)+", "", src)
                if "/./" in written:
                    before = written.split("/./", 1)[0].strip("/")
                    pivot = posixpath.normpath(posixpath.join(pivot, before)) if before else pivot
            _place_from_context(
                st, rel.lstrip("/") or ".", dest, many, root, ins.line, ins.excludes, pivot if parents else None
            )
    else:
        source_stage = df.stage(expand(ref, env))
        src_index = source_stage.index if source_stage is not None and source_stage.index < stage.index else None
        stage.copies_from.append(CopyFrom(ins.line, ref, src_index, tuple(resolve(s, "/") for s in sources), dest))
        if src_index is None:
            return
        other = df.stages[src_index].state
        for src in sources:
            src_abs = resolve(src, "/")
            for tracked, locations in other.placements.items():
                for loc in locations:
                    if loc == src_abs:
                        target = (
                            posixpath.normpath(dest)
                            if tracked in TRACKED_DIRS
                            else _dest(dest, not many, posixpath.basename(loc), st)
                        )
                    elif is_under(loc, src_abs):
                        target = posixpath.join(posixpath.normpath(dest), posixpath.relpath(loc, src_abs))
                    else:
                        continue
                    _add(st.placements[tracked], target)
            for v in other.venvs:
                if is_under(v.path, src_abs):
                    st.venvs.append(
                        Venv(
                            posixpath.join(posixpath.normpath(dest), posixpath.relpath(v.path, src_abs)).rstrip("/.")
                            or "/",
                            ins.line,
                        )
                    )
    if dest.endswith("/") or many:
        st.dirs.add(posixpath.normpath(dest))


SCRIPT_BYTES = 64 * 1024


def _keep_scripts(
    df: Dockerfile, st: StageState, ins: Instruction, sources: list[str], dest: str, root: Path | None
) -> None:
    """Remember the text of small files a COPY writes (a here-document, or a file of the build context), so
    that an ENTRYPOINT script can be followed to the command it runs."""
    if ins.cmd != "COPY" or "from" in ins.flags:
        return
    docs = dict(ins.heredocs)
    for src in sources:
        if src.startswith("<<"):
            name = re.sub(r"^<<-?\s*[\"']?([A-Za-z0-9_.-]+)[\"']?$", r"\1", src)
            text = docs.get(name)
            target = posixpath.join(dest, name) if dest.endswith("/") else posixpath.normpath(dest)
        elif root is not None and len(sources) == 1 and not any(ch in src for ch in "*?[$"):
            rel = posixpath.normpath(posixpath.join(df.context, posixpath.normpath("/" + src).lstrip("/")))
            path = root / rel
            try:
                if not (inside(root, path) and path.is_file() and path.stat().st_size <= SCRIPT_BYTES):
                    continue
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError, ValueError):
                continue
            target = (
                posixpath.join(dest, posixpath.basename(rel))
                if dest.endswith("/") or posixpath.normpath(dest) in st.dirs
                else posixpath.normpath(dest)
            )
        else:
            continue
        if text is not None:
            st.scripts[target] = (text, ins.line)


def is_remote_source(src: str) -> bool:
    """An ADD source that is a URL or a git repository, not a path of the build context."""
    return "://" in src or src.startswith("git@") or bool(re.match(r"^[\w.-]+@[\w.-]+:", src))


def _excluded(tracked: str, rel: str, excludes: tuple[str, ...]) -> bool:
    """Whether COPY --exclude patterns (relative to the source directory, or plain names) leave `tracked` out."""
    inner = posixpath.relpath(tracked, rel) if rel not in (".", "") and is_under(tracked, rel) else tracked
    parts = inner.split("/")
    for pattern in excludes:
        pattern = pattern.strip("/")
        for i in range(len(parts)):
            if fnmatch.fnmatchcase("/".join(parts[: i + 1]), pattern) or fnmatch.fnmatchcase(parts[i], pattern):
                return True
    return False


def _place_from_context(
    st: StageState,
    rel: str,
    dest: str,
    many: bool,
    root: Path | None,
    line: int,
    excludes: tuple[str, ...] = (),
    pivot: str | None = None,
) -> None:
    glob = any(ch in rel for ch in "*?[")
    src_is_dir = rel in (".", "app", *TRACKED_DIRS) or (root is not None and _is_dir_inside(root, rel))
    for tracked in TRACKED:
        is_dir = tracked in TRACKED_DIRS
        if excludes and _excluded(tracked, rel, excludes):
            continue
        if pivot is not None and (
            (glob and fnmatch.fnmatchcase(tracked, rel))
            or tracked == rel
            or (src_is_dir and (rel == "." or is_under(tracked, rel)))
        ):
            # COPY --parents: the path below the pivot is kept under dest
            target = posixpath.join(posixpath.normpath(dest), posixpath.relpath(tracked, pivot or "."))
        elif (glob and fnmatch.fnmatchcase(tracked, rel)) or tracked == rel:
            # a directory source copies its contents into dest
            target = (
                posixpath.normpath(dest) if is_dir else _dest(dest, not (many or glob), posixpath.basename(tracked), st)
            )
        elif not glob and src_is_dir and (rel == "." or is_under(tracked, rel)):
            target = posixpath.join(posixpath.normpath(dest), posixpath.relpath(tracked, rel))
        else:
            continue
        _add(st.placements[tracked], target)
        st.from_context[target] = line
        st.dirs.add(target if is_dir else posixpath.dirname(target))


def _is_dir_inside(root: Path, rel: str) -> bool:
    """Whether a COPY source is a directory of the checkout; never looks outside it, never raises."""
    try:
        return inside(root, root / rel) and (root / rel).is_dir()
    except (OSError, ValueError):  # a name too long, a NUL byte ...
        return False


def _add(locations: list[str], path: str) -> None:
    if path not in locations:
        locations.append(path)


def origin_of(st: StageState, path: str) -> str | None:
    path = posixpath.normpath(path)
    for tracked, locations in st.placements.items():
        if path in locations:
            return tracked
    return None


def run_script(ins: Instruction) -> str | None:
    """The shell script a RUN runs, here-documents included; None for the exec form.

    `RUN <<EOF` runs the document with the shell (a `#!` line names another interpreter);
    `RUN <<EOF bash` (or sh, with options such as -e) feeds it to that shell; a document fed to
    another program (`python <<EOF`) is not shell, so only the command line counts.
    """
    if ins.json:
        return None
    line = " ".join(ins.args)
    if not ins.heredocs:
        return line
    markers = re.compile(r"<<-?\s*([\"']?)([A-Za-z0-9_.-]+)\1")
    first = markers.search(line)
    words = markers.sub("", line).split()
    if first is None or (words and posixpath.basename(words[0]) not in SHELLS):
        return markers.sub("", line).strip()
    content = dict(ins.heredocs).get(first.group(2), "")
    if not words and content.startswith("#!"):
        shebang = content.split("\n", 1)[0][2:].split()
        if not shebang or posixpath.basename(shebang[-1] if shebang[0].endswith("env") else shebang[0]) not in SHELLS:
            return ""
    options = " ".join(w for w in words[1:] if w.startswith("-"))
    errexit = "set -e\n" if re.search(r"(^|\s)-[a-zA-Z]*e", options) else ""
    return errexit + content


def _apply_run(stage: Stage, ins: Instruction, env: dict[str, str]) -> None:
    st = stage.state
    script = run_script(ins)
    chain: list[tuple[list[str], str | None]] = [(list(ins.args), None)] if script is None else command_chain(script)
    cwd = st.workdir
    path = st.env.get("PATH", DEFAULT_PATH)
    path_line = st.path_line
    local_env = dict(env)
    for index, (words, _) in enumerate(chain):
        argv = list(words)
        cmd_path = path
        while argv and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", argv[0]):
            key, _, value = argv.pop(0).partition("=")
            value = expand(value, {**local_env, "PATH": path})
            if key == "PATH":
                cmd_path = value
        if not argv:
            continue
        argv = [expand(w, {**local_env, "PATH": path}) for w in argv]
        name = posixpath.basename(argv[0])
        if argv[0] == "cd" and len(argv) > 1:
            cwd = resolve(argv[1], cwd)
        elif argv[0] in (".", "source") and len(argv) > 1 and argv[1].endswith("bin/activate"):
            path = posixpath.dirname(resolve(argv[1], cwd)) + ":" + path
            path_line = ins.line
        elif argv[0] == "export":
            for assignment in argv[1:]:
                key, eq, value = assignment.partition("=")
                if eq:
                    local_env[key] = value
                    if key == "PATH":
                        path, path_line = value, ins.line
        elif venv_path := _venv_target(argv, name, cwd):
            st.venvs.append(Venv(venv_path, ins.line))
        elif (tool := _tool(argv, name)) is not None:
            kind, rest = tool
            venv = st.interpreter_env(argv[0], cwd, cmd_path)
            via = (ins.line if cmd_path != path else path_line) if venv is not None and "/" not in argv[0] else None
            if kind == "uv":
                venv, via = _uv_environment(st, rest, cwd, cmd_path, {**local_env, **st.env}), None
                kind, rest = "pip", ["install", *rest[1:]] if rest[:1] == ["sync"] else rest
                if rest[:1] == ["install"] and argv[2:3] == ["sync"]:
                    rest = ["install", *(a if a.startswith("-") else f"--requirement={a}" for a in rest[1:])]
            elif kind == "pip":
                target, rest = _pip_general_options(rest)
                if target is not None:  # `pip --python <venv>/bin/python install ...` installs into that venv
                    venv, via = st.interpreter_env(target, cwd, cmd_path), None
            if kind == "pip" and rest[:1] == ["install"]:
                reqs, pkgs = _pip_args(rest[1:])
                files = tuple(resolve(r, cwd) for r in reqs)
                st.pip_installs.append(
                    PipInstall(
                        ins.line,
                        venv,
                        files,
                        tuple(origin_of(st, f) for f in files),
                        tuple(pkgs),
                        tuple(st.placements["app/requirements.txt"]),
                        via,
                        argv[0],
                    )
                )
            elif kind == "pytest":
                run = _pytest_run(st, ins, venv, cwd, rest, failure_stops_script(chain, index))
                stage.pytest_runs.append(
                    replace(run, path_line=via, requirements_dev_at=tuple(st.placements["app/requirements-dev.txt"]))
                )


def _venv_target(argv: list[str], name: str, cwd: str) -> str | None:
    args: list[str] | None = None
    if _PYTHON.match(name) and "-m" in argv[:-1] and argv[argv.index("-m") + 1] in ("venv", "virtualenv"):
        args = argv[argv.index("-m") + 2 :]
    elif name == "virtualenv":
        args = argv[1:]
    elif name == "uv" and argv[1:2] == ["venv"]:
        args = argv[2:] or [".venv"]
    if args is None:
        return None
    skip = False
    for a in args:
        if skip:
            skip = False
        elif a in ("--prompt", "-p", "--python"):
            skip = True
        elif not a.startswith("-"):
            return resolve(a, cwd)
    return None


def _tool(argv: list[str], name: str) -> tuple[str, list[str]] | None:
    if _PIP.match(name):
        return "pip", argv[1:]
    if name in ("pytest", "py.test"):
        return "pytest", argv[1:]
    if _PYTHON.match(name) and "-m" in argv[:-1]:
        module = argv[argv.index("-m") + 1]
        rest = argv[argv.index("-m") + 2 :]
        if module == "pip":
            return "pip", rest
        if module == "pytest":
            return "pytest", rest
    if name == "uv" and argv[1:2] == ["pip"] and argv[2:3] in (["install"], ["sync"]):
        return "uv", argv[2:]
    return None


def _uv_environment(st: StageState, args: list[str], cwd: str, path: str, env: dict[str, str]) -> str | None:
    """The venv `uv pip install|sync` installs into: `--python`/`-p` (an interpreter or a venv), else
    $VIRTUAL_ENV, else a `.venv` in the working directory or above it; None: the system (`--system`)."""
    it = iter(args)
    for a in it:
        target = None
        if a in ("--python", "-p"):
            target = next(it, "")
        elif a.startswith("--python="):
            target = a.split("=", 1)[1]
        elif a == "--system":
            return None
        if target:
            as_dir = resolve(target, cwd)
            if any(v.path == as_dir for v in st.venvs):
                return as_dir
            return st.interpreter_env(target, cwd, path)
    active = env.get("VIRTUAL_ENV")
    if active and any(v.path == resolve(active, cwd) for v in st.venvs):
        return resolve(active, cwd)
    here = cwd
    while True:
        candidate = posixpath.join(here, ".venv")
        if any(v.path == candidate for v in st.venvs):
            return candidate
        if here == "/":
            return None
        here = posixpath.dirname(here)


_PIP_VALUE_OPTIONS = frozenset(
    {
        "--python",
        "--cache-dir",
        "--log",
        "--proxy",
        "--cert",
        "--client-cert",
        "--retries",
        "--timeout",
        "--exists-action",
        "--trusted-host",
        "--root-user-action",
    }
)


def _pip_general_options(rest: list[str]) -> tuple[str | None, list[str]]:
    """pip's options before its command (`pip --python X -q install ...`): the --python target, the rest."""
    target = None
    while rest and rest[0].startswith("-"):
        option = rest[0]
        if option.startswith("--python="):
            target = option.split("=", 1)[1]
        elif option in _PIP_VALUE_OPTIONS:
            if option == "--python" and len(rest) > 1:
                target = rest[1]
            rest = rest[1:]
        rest = rest[1:]
    return target, rest


def _pip_args(args: list[str]) -> tuple[list[str], list[str]]:
    reqs, pkgs = [], []
    it = iter(args)
    for a in it:
        if a in ("-r", "--requirement"):
            reqs.append(next(it, ""))
        elif a.startswith("--requirement="):
            reqs.append(a.split("=", 1)[1])
        elif a.startswith("-r") and len(a) > 2:
            reqs.append(a[2:])
        elif a in (
            "-c",
            "--constraint",
            "-i",
            "--index-url",
            "--extra-index-url",
            "-t",
            "--target",
            "--prefix",
            "--root",
            "-f",
            "--find-links",
            "--cache-dir",
            "--python",
            "-p",
            "-e",
            "--editable",
        ):
            next(it, None)
        elif not a.startswith("-"):
            pkgs.append(a)
    return reqs, pkgs


def _pytest_run(
    st: StageState, ins: Instruction, venv: str | None, cwd: str, args: list[str], fails_build: bool
) -> PytestRun:
    targets, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a in _PYTEST_VALUE_OPTS:
            skip = True
        elif not a.startswith("-"):
            targets.append(resolve(a.split("::")[0], cwd))
    test_dirs = st.placements["app/tests"]
    if set(args) & PYTEST_RUNS_NOTHING:
        runs = False
    elif targets:
        runs = any(is_under(t, d) for t in targets for d in test_dirs)
    else:
        runs = any(is_under(d, cwd) for d in test_dirs)
    installed = any(
        p.venv == venv
        and (
            "app/requirements-dev.txt" in p.requirement_origins
            or any(pkg.lower().startswith("pytest") for pkg in p.packages)
        )
        for p in st.pip_installs
    )
    return PytestRun(ins.line, venv, cwd, runs, installed, ins.original, fails_build)


def suggest_instruction(word: str) -> str:
    close = difflib.get_close_matches(word.upper(), sorted(KNOWN), n=1)
    return f"did you mean {close[0]}?" if close else "it is not a Dockerfile instruction"


def app_words(st: StageState) -> tuple[list[str], tuple[str, int] | None]:
    """The command that starts the app (ENTRYPOINT + CMD, through wrappers and `sh -c`), followed into an
    entrypoint script the stage wrote or copied (`exec python main.py`, `exec "$@"` with CMD as its
    arguments), and the (path, line) of that script when one was followed."""
    words = app_command(command_words(st.entrypoint) + command_words(st.cmd))
    found = st.script(words[0]) if words else None
    if found is None:
        return words, None
    path, text, line = found
    inner = app_command(["sh", "-c", text])
    out: list[str] = []
    for w in inner:
        out.extend(words[1:] if w in ("$@", "$*") else [w])
    return (app_command(out) or words), (path, line)


def command_words(ins: Instruction | None) -> list[str]:
    if ins is None:
        return []
    if ins.json:
        return list(ins.args)
    return [w for cmd in simple_commands(" ".join(ins.args)) for w in cmd]


def __getattr__(name: str) -> str:
    """`FILENAME`: the Dockerfile the lab pack in effect builds (LAB04: Dockerfile.prod), read when asked."""
    if name == "FILENAME":
        return labs.current().scenario.dockerfile
    raise AttributeError(name)
