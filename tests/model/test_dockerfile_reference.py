"""The Dockerfile model against the Dockerfile reference, one row per instruction form.

Each row is a Dockerfile and what Docker does with it, as the reference
(https://docs.docker.com/reference/dockerfile/) defines it: which base a FROM names, where the
lab's files are, which venv pip installs into, whether pytest runs and whether its failure stops
the build. The model must say the same.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograde.model.dockerfile import Dockerfile, parse, run_script

BUILDER = "FROM python:3.13 AS builder\n"


@dataclass(frozen=True)
class Row:
    form: str
    text: str
    holds: Callable[[Dockerfile], object]  # truthy when the model agrees with the reference


def stage(df: Dockerfile, ref: str = "builder"):
    s = df.stage(ref)
    assert s is not None
    return s


def installs(df: Dockerfile, ref: str = "builder") -> list[tuple[str | None, tuple[str | None, ...]]]:
    """(venv, build-context origins of the requirement files) of every pip install of a stage."""
    return [(p.venv, p.requirement_origins) for p in stage(df, ref).state.pip_installs]


def pytest_runs_of(df: Dockerfile, ref: str = "builder") -> list[tuple[bool, bool]]:
    """(runs the app's tests, a failure stops the build) of every pytest run of a stage."""
    return [(r.runs_app_tests, r.fails_build) for r in stage(df, ref).pytest_runs]


REQS = ("app/requirements.txt",)

ROWS = [
    # -- ARG scope ------------------------------------------------------------------------------
    Row(
        "ARG before the first FROM is global: FROM lines see it",
        "ARG PYTHON_VERSION=3.13\nFROM python:${PYTHON_VERSION} AS builder\nFROM python:${PYTHON_VERSION}-slim\n",
        lambda df: [s.base for s in df.stages] == ["python:3.13", "python:3.13-slim"],
    ),
    Row(
        "ARG after the first FROM belongs to its stage: a later FROM expands it to nothing",
        BUILDER + "ARG PYTHON_VERSION=3.13\nFROM python:${PYTHON_VERSION}-slim\n",
        lambda df: df.stages[1].base == "python:-slim" and df.stages[1].from_undefined == ("PYTHON_VERSION",),
    ),
    Row(
        "a default in the FROM line itself applies when the ARG is not global",
        BUILDER + "FROM python:${PYTHON_VERSION:-3.13}-slim\n",
        lambda df: df.stages[1].base == "python:3.13-slim" and not df.stages[1].from_undefined,
    ),
    Row(
        "a global ARG is not in scope inside a stage until the stage declares it",
        "ARG V=/opt/venv\n" + BUILDER + "WORKDIR /w${V}\nARG V\nRUN python -m venv ${V}\n",
        lambda df: stage(df).state.workdir == "/w" and [v.path for v in stage(df).state.venvs] == ["/opt/venv"],
    ),
    Row(
        "a stage's ARG is in scope from its declaration on",
        BUILDER + "RUN python -m venv /x${VENV}\nARG VENV=/opt/venv\nRUN python -m venv ${VENV}\n",
        lambda df: [v.path for v in stage(df).state.venvs] == ["/x", "/opt/venv"],
    ),
    Row(
        "ENV wins over an ARG of the same name",
        BUILDER + "ARG VENV=/a\nENV VENV=/b\nRUN python -m venv $VENV\n",
        lambda df: [v.path for v in stage(df).state.venvs] == ["/b"],
    ),
    Row(
        "a stage built FROM another keeps its ENV but not its ARGs",
        BUILDER + "ARG A=/arg\nENV E=/env\nFROM builder AS child\nRUN python -m venv ${E}${A}\n",
        lambda df: [v.path for v in stage(df, "child").state.venvs] == ["/env"],
    ),
    Row(
        "the platform ARGs are defined for FROM without a declaration",
        "FROM --platform=$BUILDPLATFORM python:3.13 AS builder\nFROM python:3.13-slim-${TARGETOS}\n",
        lambda df: df.stages[1].base == "python:3.13-slim-linux" and not df.stages[1].from_undefined,
    ),
    # -- here-documents -------------------------------------------------------------------------
    Row(
        "RUN <<EOF runs the document with the shell, line by line",
        BUILDER + "WORKDIR /app\nCOPY app/ .\nRUN <<EOF\npython -m venv /opt/venv\n"
        "/opt/venv/bin/pip install -r requirements.txt\nEOF\n",
        lambda df: installs(df) == [("/opt/venv", REQS)],
    ),
    Row(
        "without set -e a failing line of a here-document does not stop the script",
        BUILDER + "WORKDIR /app\nCOPY app/ .\nRUN <<EOF\npip install -r requirements-dev.txt\n"
        "python -m pytest tests/\necho done\nEOF\n",
        lambda df: pytest_runs_of(df) == [(True, False)],
    ),
    Row(
        "with set -e (or `bash -e`) it does; the last line's status is the script's",
        BUILDER + "WORKDIR /app\nCOPY app/ .\nRUN <<EOF bash -e\npip install -r requirements-dev.txt\n"
        "python -m pytest tests/\necho done\nEOF\nRUN <<EOT\n# comment\npython -m pytest \\\n  tests/\nEOT\n",
        lambda df: pytest_runs_of(df) == [(True, True), (True, True)],
    ),
    Row(
        "a document fed to another program is not shell",
        BUILDER + "RUN python3 <<EOF\nimport os\nos.system('pip install flask')\nEOF\n",
        lambda df: installs(df) == [] and run_script(stage(df).instructions[0]) == "python3",
    ),
    Row(
        "a document whose #! names another interpreter is not shell",
        BUILDER + "RUN <<EOF\n#!/usr/bin/env python3\nprint('pip install flask')\nEOF\n",
        lambda df: installs(df) == [],
    ),
    Row(
        "COPY <<EOF writes an inline file; no build-context file moves",
        BUILDER + "COPY <<EOF /app/requirements.txt\nflask\nEOF\n",
        lambda df: stage(df).state.placements["app/requirements.txt"] == [],
    ),
    # -- RUN --mount ----------------------------------------------------------------------------
    Row(
        "a bind mount's source is read from the build context",
        BUILDER + "RUN python -m venv /opt/venv\nRUN --mount=type=bind,source=app/requirements.txt,"
        "target=/tmp/requirements.txt /opt/venv/bin/pip install -r /tmp/requirements.txt\n",
        lambda df: installs(df) == [("/opt/venv", REQS)],
    ),
    Row(
        "bind mount keys may be spelled src/dst, and `type=bind` is the default",
        BUILDER + "RUN python -m venv /v\nRUN --mount=src=app,dst=/src /v/bin/pip install -r /src/requirements.txt\n",
        lambda df: installs(df) == [("/v", REQS)],
    ),
    Row(
        "a bind mount without a source is the whole build context",
        BUILDER + "RUN python -m venv /v\nRUN --mount=target=/ctx /v/bin/pip install -r /ctx/app/requirements.txt\n",
        lambda df: installs(df) == [("/v", REQS)],
    ),
    Row(
        "a bind mount is there during its RUN only",
        BUILDER + "RUN --mount=type=bind,source=app,target=/src true\nRUN python -m venv /v && "
        "/v/bin/pip install -r /src/requirements.txt\n",
        lambda df: installs(df) == [("/v", (None,))] and stage(df).state.placements["app/main.py"] == [],
    ),
    Row(
        "a bind mount from another stage reads that stage's files",
        "FROM python:3.13 AS src\nCOPY app/ /code/\n"
        + BUILDER
        + "RUN python -m venv /v\nRUN --mount=from=src,source=/code,target=/m /v/bin/pip install -r /m/requirements.txt\n",
        lambda df: installs(df) == [("/v", REQS)],
    ),
    Row(
        "cache, tmpfs and secret mounts bring no build-context file",
        BUILDER + "COPY app/requirements.txt /r.txt\nRUN python -m venv /v\n"
        "RUN --mount=type=cache,target=/root/.cache/pip --mount=type=tmpfs,target=/tmp "
        "--mount=type=secret,id=pip,target=/root/.netrc /v/bin/pip install -r /r.txt\n",
        lambda df: installs(df) == [("/v", REQS)] and len(stage(df).instructions[-1].mounts) == 3,
    ),
    # -- COPY and ADD flags ---------------------------------------------------------------------
    Row(
        "COPY --link, --chown and --chmod copy the same files",
        BUILDER + "COPY --link --chown=app:app --chmod=644 app/requirements.txt /w/\n",
        lambda df: stage(df).state.placements["app/requirements.txt"] == ["/w/requirements.txt"],
    ),
    Row(
        "COPY --parents keeps the source's path under the destination",
        BUILDER + "COPY --parents app/requirements.txt app/main.py /src/\n",
        lambda df: stage(df).state.placements["app/main.py"] == ["/src/app/main.py"],
    ),
    Row(
        "COPY --parents with a /./ pivot keeps the path below the pivot",
        BUILDER + "COPY --parents ./app/./tests /src/\n",
        lambda df: stage(df).state.placements["app/tests"] == ["/src/tests"],
    ),
    Row(
        "COPY --exclude leaves matching paths out",
        BUILDER + "COPY --exclude=tests --exclude=*-dev.txt app/ /w/\n",
        lambda df: (
            stage(df).state.placements["app/tests"] == []
            and stage(df).state.placements["app/requirements-dev.txt"] == []
            and stage(df).state.placements["app/main.py"] == ["/w/main.py"]
        ),
    ),
    Row(
        "ADD of a URL or a git repository reads nothing from the build context",
        BUILDER + "ADD https://example.com/app/requirements.txt /w/\n"
        "ADD git@github.com:org/app.git /src\nADD https://github.com/org/app.git#main /src2\n",
        lambda df: all(not v for v in stage(df).state.placements.values()),
    ),
    Row(
        "ADD of a local path copies like COPY",
        BUILDER + "ADD app/requirements.txt /w/\n",
        lambda df: stage(df).state.placements["app/requirements.txt"] == ["/w/requirements.txt"],
    ),
    # -- ONBUILD, parser directives, continuations -----------------------------------------------
    Row(
        "ONBUILD does nothing in its own stage and runs first in a stage built FROM it",
        BUILDER + "ONBUILD COPY app/main.py /ob/\nFROM builder AS child\n",
        lambda df: (
            stage(df).state.placements["app/main.py"] == []
            and stage(df, "child").state.placements["app/main.py"] == ["/ob/main.py"]
        ),
    ),
    Row(
        "the escape directive makes ` the line continuation",
        "# escape=`\n" + BUILDER + "RUN python -m venv /v && `\n    /v/bin/pip install flask\n",
        lambda df: [p.packages for p in stage(df).state.pip_installs] == [("flask",)],
    ),
    Row(
        "comment lines inside a continued instruction are dropped",
        BUILDER + "RUN python -m venv /v \\\n# the runtime packages\n && /v/bin/pip install flask\n",
        lambda df: [p.venv for p in stage(df).state.pip_installs] == ["/v"],
    ),
    Row(
        "RUN in exec form runs no shell",
        BUILDER + 'RUN ["python", "-m", "venv", "/v"]\nRUN ["/v/bin/pip", "install", "flask"]\n',
        lambda df: [p.venv for p in stage(df).state.pip_installs] == ["/v"],
    ),
    # -- tools that make and fill venvs ----------------------------------------------------------
    Row(
        "uv venv, then uv pip install --python <venv>/bin/python",
        BUILDER + "COPY app/requirements.txt .\nRUN uv venv /opt/venv && "
        "uv pip install --python /opt/venv/bin/python -r requirements.txt\n",
        lambda df: installs(df) == [("/opt/venv", REQS)],
    ),
    Row(
        "uv pip install uses $VIRTUAL_ENV, else a .venv in the working directory",
        BUILDER + "WORKDIR /app\nCOPY app/requirements.txt .\nRUN uv venv && uv pip install -r requirements.txt\n"
        "ENV VIRTUAL_ENV=/opt/venv\nRUN uv venv /opt/venv && uv pip sync requirements.txt\n",
        lambda df: installs(df) == [("/app/.venv", REQS), ("/opt/venv", REQS)],
    ),
    Row(
        "uv pip install --system installs into the image's Python",
        BUILDER + "COPY app/requirements.txt .\nRUN uv venv /v && uv pip install --system -r requirements.txt\n",
        lambda df: installs(df) == [(None, REQS)],
    ),
    Row(
        "virtualenv makes a venv; pip --python installs into it",
        BUILDER + "COPY app/requirements.txt .\nRUN pip install virtualenv && virtualenv /v && "
        "pip --python /v/bin/python install -r requirements.txt\n",
        lambda df: installs(df)[-1] == ("/v", REQS),
    ),
    Row(
        "the venv's pip through PATH",
        BUILDER + 'COPY app/requirements.txt .\nRUN python -m venv /v\nENV PATH="/v/bin:$PATH"\n'
        "RUN pip install -r requirements.txt\n",
        lambda df: installs(df) == [("/v", REQS)],
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.form for r in ROWS])
def test_the_model_follows_the_dockerfile_reference(row: Row) -> None:
    df = parse(row.text)
    assert row.holds(df), row.form


def test_a_build_step_with_a_here_document_is_found_by_the_name_buildkit_gives_it() -> None:
    df = parse(BUILDER + "RUN <<EOF\nset -e\npython -m pytest tests/\nEOF\n")
    ins = df.instruction_for("RUN <<EOF (set -e...)")
    assert ins is not None and ins.line == 2


def buildkit(call: str, text: str, tmp_path: Path) -> tuple[int, str, str]:
    """Ask the engine's BuildKit about a Dockerfile without building it (`docker buildx build --call=...`)."""
    (tmp_path / "Dockerfile").write_text(text, encoding="utf-8")
    ran = subprocess.run(
        ["docker", "buildx", "build", f"--call={call},format=json", "-f", str(tmp_path / "Dockerfile"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return ran.returncode, ran.stdout, ran.stderr


def buildkit_answers() -> bool:
    """Whether this buildx has `--call` (0.15 and newer; 0.13 had an experimental `--print`)."""
    try:
        ran = subprocess.run(["docker", "buildx", "build", "--help"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--call" in ran.stdout


@pytest.mark.docker
@pytest.mark.parametrize(
    "row",
    [r for r in ROWS if "--parents" not in r.text and "--exclude" not in r.text],
    ids=lambda r: r.form,
)
def test_buildkit_sees_the_same_stages(row: Row, tmp_path: Path) -> None:
    """BuildKit's own answer (`--call=targets`) names the same stages on the same lines as the model."""
    if not buildkit_answers():
        pytest.skip("this buildx has no --call (it needs 0.15 or newer)")
    code, out, err = buildkit("targets", row.text, tmp_path)
    assert code == 0, err
    targets = json.loads(out)["targets"]
    df = parse(row.text)
    assert [t["location"]["ranges"][0]["start"]["line"] for t in targets] == [s.line for s in df.stages]
    assert [t.get("name") for t in targets] == [s.alias for s in df.stages]
    assert [t["base"] for t in targets] == [s.base_written for s in df.stages]


@pytest.mark.docker
def test_buildkit_refuses_a_from_variable_that_is_not_a_global_arg_as_the_model_expands_it(tmp_path: Path) -> None:
    if not buildkit_answers():
        pytest.skip("this buildx has no --call (it needs 0.15 or newer)")
    text = BUILDER + "ARG PYTHON_VERSION=3.13\nFROM python:${PYTHON_VERSION}-slim\n"
    code, _, err = buildkit("outline", text, tmp_path)
    assert code != 0
    assert f'failed to parse stage name "{parse(text).stages[1].base}"' in err


@pytest.mark.docker
def test_the_engine_refuses_copy_parents_and_exclude_without_the_labs_syntax(tmp_path: Path) -> None:
    """The model follows the reference for COPY --parents/--exclude, but Docker 26's built-in Dockerfile
    frontend (and GitHub's runners') parses them only with `# syntax=docker/dockerfile:1-labs`."""
    if not buildkit_answers():
        pytest.skip("this buildx has no --call (it needs 0.15 or newer)")
    code, _, err = buildkit("outline", BUILDER + "COPY --parents app/main.py /src/\n", tmp_path)
    if code == 0:
        pytest.skip("this engine's frontend accepts COPY --parents (a newer Dockerfile syntax)")
    assert "unknown flag: parents" in err


def test_build_args_set_declared_args_only() -> None:
    """`build.args` of the compose file set an ARG where it is declared (global or in a stage), never
    an undeclared one: a FROM still sees only the global ARGs."""
    text = "ARG PYTHON_VERSION\nFROM python:${PYTHON_VERSION} AS builder\nARG VENV=/a\nRUN python -m venv $VENV\n"
    text += "FROM python:${PYTHON_VERSION}-slim${SUFFIX}\n"
    df = parse(text, build_args={"PYTHON_VERSION": "3.13", "VENV": "/opt/venv", "SUFFIX": "-x"})
    assert [s.base for s in df.stages] == ["python:3.13", "python:3.13-slim"]
    assert df.stages[1].from_undefined == ("SUFFIX",)
    assert [v.path for v in stage(df).state.venvs] == ["/opt/venv"]
    assert parse(text).stages[0].from_undefined == ("PYTHON_VERSION",)


def test_compose_build_args_reach_the_model(tmp_path: Path) -> None:
    from autograde.model import load_submission
    from support import make_checkout, solution_files

    compose = solution_files()["docker-compose.prod.yml"].replace(
        "dockerfile: Dockerfile.prod", "dockerfile: Dockerfile.prod\n      args:\n        - PYTHON_VERSION=3.13"
    )
    dockerfile = "ARG PYTHON_VERSION\n" + solution_files()["Dockerfile.prod"].replace(
        "FROM python:3.13-slim", "FROM python:${PYTHON_VERSION}-slim"
    )
    assert "args:" in compose and "${PYTHON_VERSION}" in dockerfile
    root = make_checkout(tmp_path / "c", files={"docker-compose.prod.yml": compose, "Dockerfile.prod": dockerfile})
    sub = load_submission(root)
    assert sub.dockerfile is not None and sub.dockerfile.stages[-1].base == "python:3.13-slim"


def test_two_here_document_steps_are_told_apart_by_their_first_line() -> None:
    df = parse(BUILDER + "RUN <<EOF\necho one\nEOF\nRUN <<EOF\npython -m pytest tests/\nEOF\n")
    second = df.instruction_for("RUN <<EOF (python -m pytest tests/...)")
    assert second is not None and second.line == 5
    first = df.instruction_for("RUN <<EOF (echo one...)")
    assert first is not None and first.line == 2
