"""Helpers for the tests of the base images the lab names (python:3.13, python:3.13-slim,
redis:alpine) as this engine holds them: on machines without a registry these are the stand-ins
scripts/standin-images.sh builds, and they must behave as the official images do.

The fixtures live here, not in a conftest.py (a second `conftest` module on the path would
shadow the one other test packages import from); the test modules import them.

The images under test are the real tags. STANDIN_REPO_PREFIX (the script's own knob, e.g.
"wip/") points the tests at stand-ins built under other names, to try a new recipe before it
replaces the tags other people grade against.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import down, leftovers, unique_project

PREFIX = os.environ.get("STANDIN_REPO_PREFIX", "")
FULL = f"{PREFIX}python:3.13"
SLIM = f"{PREFIX}python:3.13-slim"
REDIS = f"{PREFIX}redis:alpine"
RUN_LABEL = "org.autograde.test-run"


@dataclass
class Built:
    tag: str
    output: str


def docker_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def base_images(docker_engine):
    """The three images exist on this engine (a test of them cannot run otherwise)."""
    missing = [t for t in (FULL, SLIM, REDIS) if docker_cli("image", "inspect", t).returncode != 0]
    if missing:
        pytest.fail(f"base images missing: {missing}; run scripts/standin-images.sh", pytrace=False)
    return docker_engine


@pytest.fixture
def run(base_images):
    """run(image, *cmd) -> CompletedProcess of `docker run --rm image cmd...` (labelled)."""

    def _run(image: str, *cmd: str, entrypoint: str | None = None) -> subprocess.CompletedProcess:
        args = ["run", "--rm", "--label", RUN_LABEL]
        if entrypoint is not None:
            args += ["--entrypoint", entrypoint]
        return docker_cli(*args, image, *cmd)

    return _run


@pytest.fixture
def build(base_images, tmp_path: Path):
    """build(dockerfile, files) -> Built: the Dockerfile built by Compose (BuildKit, as the grader
    builds), FROM lines written as {FULL}/{SLIM}. Everything built is removed afterwards."""
    projects: list[tuple[str, Path]] = []

    def _build(dockerfile: str, files: dict[str, str] | None = None) -> Built:
        project = unique_project("standin")
        ctx = tmp_path / project
        ctx.mkdir()
        (ctx / "Dockerfile").write_text(textwrap.dedent(dockerfile).format(FULL=FULL, SLIM=SLIM))
        for name, text in (files or {}).items():
            (ctx / name).write_text(textwrap.dedent(text))
        tag = f"{project}:idiom"
        (ctx / "compose.yml").write_text(f"services:\n  idiom:\n    build: .\n    image: {tag}\n")
        projects.append((project, ctx))
        done = subprocess.run(
            ["docker", "compose", "-p", project, "-f", "compose.yml", "--progress", "plain", "build"],
            cwd=ctx,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, f"build failed:\n{done.stdout[-4000:]}{done.stderr[-4000:]}"
        return Built(tag, done.stdout + done.stderr)

    yield _build
    for project, ctx in projects:
        docker_cli("image", "rm", "-f", f"{project}:idiom")
        down(project, ctx, "compose.yml")
        assert leftovers(project) == []
        assert docker_cli("image", "inspect", f"{project}:idiom").returncode != 0
