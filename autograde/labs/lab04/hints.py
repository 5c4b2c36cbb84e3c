"""Hints that propose commands, made to work in the student's own file.

A command suggested for a stage is built from that stage's simulated state at that line: its
WORKDIR (paths relative to it), whether PATH already puts a venv first (then a bare `pip` or
`python` is the venv's) and which base image gives the system interpreter.
"""

from __future__ import annotations

import posixpath
from typing import Any

from autograde.model.compose import ComposeFile, Service, split_image
from autograde.model.dockerfile import Dockerfile, PipInstall, PytestRun, Stage
from autograde.model.shell import resolve, unquote

__all__ = ["split_image"]  # re-exported for the checks


def system_python(df: Dockerfile, stage: Stage) -> str:
    """The base image's own interpreter by full path (official python images build it into /usr/local)."""
    base = stage
    while base.parent is not None:
        base = df.stages[base.parent]
    repo, _ = split_image(base.base)
    return "/usr/local/bin/python" if repo == "python" else "/usr/bin/python3"


def _rel(path: str, cwd: str) -> str:
    rel = posixpath.relpath(path, cwd)
    return rel if not rel.startswith("..") else path


def test_step(df: Dockerfile, stage: Stage, run: PytestRun) -> str:
    """A RUN line that installs the dev requirements outside the venv and runs the app's tests, at this point."""
    dev = _rel(run.requirements_dev_at[0], run.cwd) if run.requirements_dev_at else "requirements-dev.txt"
    tests = stage.state.placements["app/tests"]
    target = _rel(tests[0], run.cwd) + "/" if tests else "tests/"
    if run.path_line is not None:  # `pip`/`python` are the venv's here: name the system interpreter
        py = system_python(df, stage)
        return f"RUN {py} -m pip install --no-cache-dir -r {dev} && {py} -m pytest {target}"
    return f"RUN pip install --no-cache-dir -r {dev} && python -m pytest {target}"


def path_note(run: PytestRun | PipInstall, venv: str | None) -> str:
    """Why a bare `pip`/`python` is the venv's in this line, or ""."""
    if run.path_line is None or venv is None:
        return ""
    return (
        f"line {run.path_line} puts {venv}/bin first on PATH, so from there on a bare `pip` or `python` in "
        "that stage is the venv's"
    )


def pytest_hint(df: Dockerfile, stage: Stage, run: PytestRun) -> str:
    """What to do when a stage runs pytest where nothing installs it."""
    step = test_step(df, stage, run)
    first = (
        ""
        if run.requirements_dev_at
        else f"Copy the dev requirements in first (`COPY {df.in_context('app/requirements-dev.txt')} .`). "
    )
    note = path_note(run, run.venv)
    if note:
        return (
            f"{first}Install pytest outside the venv: {note}, and installing the dev requirements with it "
            f"would put pytest into the venv the final stage copies. Use the image's own Python by its full "
            f"path: `{step}` (or set PATH only in the final stage)."
        )
    return (
        f"{first}Install the dev requirements with the image's own pip and run the tests with its Python: "
        f"`{step}` (this keeps pytest out of the venv that the final stage copies)."
    )


def copied_venvs(df: Dockerfile) -> set[str]:
    """Paths (in their own stages) of the venvs the final stage copies."""
    final = df.final
    out: set[str] = set()
    if final is None:
        return out
    for c in df.copies_into(final):
        if c.stage is None:
            continue
        for v in df.stages[c.stage].state.venvs:
            if any(v.path == src or v.path.startswith(src.rstrip("/") + "/") for src in c.sources):
                out.add(v.path)
    return out


def pytest_into_venv(df: Dockerfile, venvs: set[str]) -> tuple[PipInstall, Stage] | None:
    """The pip install that put pytest (or the dev requirements) into a venv the final stage copies."""
    for stage in df.stages:
        for p in stage.state.pip_installs:
            if p.venv in venvs and (
                "app/requirements-dev.txt" in p.requirement_origins
                or any(pkg.lower().startswith("pytest") for pkg in p.packages)
            ):
                return p, stage
    return None


def workdir_at(df: Dockerfile, stage: Stage, line: int) -> str:
    """The stage's WORKDIR in effect on `line` (variables left unexpanded)."""
    cwd = "/"
    chain = [stage]
    while chain[-1].parent is not None:
        chain.append(df.stages[chain[-1].parent])
    for st in reversed(chain):
        for ins in st.instructions:
            if st is stage and ins.line >= line:
                break
            if ins.cmd == "WORKDIR" and ins.args:
                cwd = resolve(unquote(ins.args[0]), cwd)
    return cwd


def requirements_hint(df: Dockerfile, stage: Stage, origin: str, line: int, at: tuple[str, ...]) -> str:
    """What to do about a pip install on `line` whose requirements file is not where pip looks.

    `at`: where the stage holds `origin` (a file of the build context) at that point. A COPY is asked
    for only when the stage holds none; otherwise the hint names the path the student's own COPY gave the
    file, relative to the WORKDIR of that line when it is under it.
    """
    if not at:
        return (
            f"COPY {df.in_context(origin)} into the stage before line {line} (COPY sources are relative to the "
            f"build context, {df.context_words}), and give pip the path it lands at (relative paths are relative "
            "to WORKDIR)."
        )
    cwd = workdir_at(df, stage, line)
    rel = posixpath.relpath(at[0], cwd)
    path = rel if not rel.startswith("..") else at[0]
    return (
        f"{origin} is already in the stage, at {at[0]}. Give pip that path: "
        f"`-r {path}`" + (f" (relative to WORKDIR {cwd})" if path == rel else "") + "."
    )


def unopened_requirements_hint(df: Dockerfile, line: int, named: str) -> str:
    """Hint for a pip install on `line` that could not open the requirements file `named` (as written)."""
    stage = next((s for s in df.stages if any(i.line == line for i in s.instructions)), None)
    if stage is None:
        return "COPY the requirements file into the stage before this line, and give pip the path relative to WORKDIR."
    dev = posixpath.basename(named) == "requirements-dev.txt"
    origin = "app/requirements-dev.txt" if dev else "app/requirements.txt"
    at: tuple[str, ...] = ()
    if dev:
        later = [r for r in stage.pytest_runs if r.line >= line]
        at = later[0].requirements_dev_at if later else ()
    else:
        at = next((p.requirements_at for p in stage.state.pip_installs if p.line == line), ())
    if not at:  # where the stage holds it by then, as far as the last COPY of each path tells
        at = tuple(p for p in stage.state.placements[origin] if stage.state.from_context.get(p, line) < line)
    return requirements_hint(df, stage, origin, line, at)


def misnamed_dev_install(stage: Stage, run: PytestRun) -> PipInstall | None:
    """The pip install before `run`, in the interpreter pytest runs with, that names a requirements-dev.txt
    which is not the one copied from the build context (a path pip will not find)."""
    for p in stage.state.pip_installs:
        if p.line <= run.line and p.venv == run.venv:
            for f, origin in zip(p.requirement_files, p.requirement_origins, strict=False):
                if origin is None and posixpath.basename(f) == "requirements-dev.txt":
                    return p
    return None


def _short_port(host: str) -> str:
    return f"{host}:5005:5000" if host else "5005:5000"


def ports_hint(cf: ComposeFile, service: Service) -> str:
    """How to make web_prod publish host 5005 -> container 5000, said against the student's own `ports:`."""
    raw: Any = service.written("ports")
    if not isinstance(raw, list) or not raw:
        return 'Add `ports: ["5005:5000"]` to web_prod.'
    ports = cf.ports(service, written=True)
    for entry, port in zip(raw, ports, strict=False):
        if isinstance(entry, dict):
            wrong = []
            if str(port.target) != "5000":
                wrong.append(f"`target: {entry.get('target')}` to `target: 5000`")
            if port.published not in ("5005", "5005-5005"):
                had = entry.get("published")
                wrong.append(f"`published: {had}` to `published: 5005`" if had is not None else "add `published: 5005`")
            if port.protocol != "tcp":
                wrong.append(f"`protocol: {entry.get('protocol')}` to `protocol: tcp`")
            if wrong and (str(port.target) in ("5000", "5005") or len(raw) == 1):
                return "In web_prod's `ports:`, change " + " and ".join(wrong) + " (the host port is `published`)."
            continue
        text = str(entry)
        want = _short_port(port.host_ip)
        if port.target == "5005" and port.published == "5000":
            return (
                f"Change `{text}` to `{want}` in web_prod's `ports:`: the host port comes first, then the "
                "container's (the app listens on 5000 inside the container)."
            )
        if port.target == "5000" and port.published is None:
            return (
                f"Change `{text}` to `{want}` in web_prod's `ports:`: a container port alone is published on a "
                "random host port."
            )
        if port.target == "5000" or len(raw) == 1:
            return f"Change `{text}` to `{want}` in web_prod's `ports:` (host port 5005, container port 5000)."
    return 'Add `- "5005:5000"` to web_prod\'s `ports:` list.'


def environment_hint(cf: ComposeFile, service: Service, redis: str) -> str:
    """How to set REDIS_HOST to the Redis service, said against the student's own `environment:`."""
    raw: Any = service.written("environment")
    if isinstance(raw, dict):
        if "REDIS_HOST" in raw:
            return f"Change `REDIS_HOST: {raw['REDIS_HOST']}` to `REDIS_HOST: {redis}` in web_prod's `environment:`."
        return f"Add `REDIS_HOST: {redis}` to web_prod's `environment:`."
    if isinstance(raw, list) and raw:
        for item in raw:
            key = str(item).partition("=")[0]
            if key.strip() == "REDIS_HOST":
                return f"Change `{item}` to `REDIS_HOST={redis}` in web_prod's `environment:`."
        return f"Add `- REDIS_HOST={redis}` to web_prod's `environment:` list."
    if service.written("env_file") is not None:
        return f"Set `REDIS_HOST={redis}` (in the env file web_prod reads, or in an `environment:` of web_prod)."
    return f"Add `environment: [REDIS_HOST={redis}]` to web_prod."


def depends_on_hint(service: Service, redis: str) -> str:
    """How to make web_prod depend on the Redis service, said against the student's own `depends_on:`."""
    raw: Any = service.written("depends_on")
    if isinstance(raw, dict) and raw:
        return f"Add `{redis}:` to web_prod's `depends_on:`."
    if isinstance(raw, list) and raw:
        return f"Add `- {redis}` to web_prod's `depends_on:` list (it names {', '.join(map(str, raw))})."
    return f"Add `depends_on: [{redis}]` to web_prod."
