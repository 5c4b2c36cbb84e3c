"""Hints that propose commands, made to work in the student's own file.

A command suggested for a stage is built from that stage's simulated state at that line: its
WORKDIR (paths relative to it), whether PATH already puts a venv first (then a bare `pip` or
`python` is the venv's) and which base image gives the system interpreter.
"""

from __future__ import annotations

import posixpath

from autograde.model.compose import split_image
from autograde.model.dockerfile import Dockerfile, PipInstall, PytestRun, Stage

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
    for c in final.copies_from:
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
