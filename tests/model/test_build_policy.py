"""What the grader builds for web_prod, and how Dockerfile.prod's COPY sources resolve in that context."""

from __future__ import annotations

import pytest

from autograde.model import load_submission
from autograde.model.build import prod_build
from autograde.model.compose import parse
from support import make_checkout, solution_files

SOL = solution_files()


def build_of(web: str):
    return prod_build(
        parse(f"services:\n  web_prod:\n{web}\n  redis_prod:\n    image: redis:alpine\n", "docker-compose.prod.yml")
    )


@pytest.mark.parametrize(
    "web, context, students",
    [
        ("    build:\n      context: .\n      dockerfile: Dockerfile.prod", ".", True),
        ("    build:\n      context: ./\n      dockerfile: ./Dockerfile.prod", ".", True),
        ("    build:\n      context: ./app\n      dockerfile: ../Dockerfile.prod", "app", True),
        ("    build: .", ".", False),  # builds ./Dockerfile, not Dockerfile.prod
        ("    build:\n      context: ./app", ".", False),  # the dev Dockerfile
        ("    build:\n      context: .\n      dockerfile: Dockerfile.prod2", ".", False),
        ("    build:\n      context: https://example.com/x.git\n      dockerfile: Dockerfile.prod", ".", False),
        ("    build:\n      context: ..\n      dockerfile: main/Dockerfile.prod", ".", False),
        ("    image: python:3.13-slim", ".", False),
    ],
)
def test_prod_build_policy(web, context, students):
    b = build_of(web)
    assert (b.context, b.students) == (context, students), b
    assert b.dockerfile == "Dockerfile.prod"
    assert b.students or b.reason


def test_copy_sources_resolve_in_the_build_context(tmp_path):
    df = """FROM python:3.13 AS builder
WORKDIR /opt/b
COPY requirements.txt requirements-dev.txt ./
RUN python -m venv /opt/venv && /opt/venv/bin/pip install -r requirements.txt
COPY . .
RUN pip install -r requirements-dev.txt && python -m pytest tests/
FROM python:3.13-slim
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /opt/b/main.py /srv/
"""
    dc = (
        SOL["docker-compose.prod.yml"]
        .replace("context: .", "context: ./app")
        .replace("dockerfile: Dockerfile.prod", "dockerfile: ../Dockerfile.prod")
    )
    assert "context: ./app" in dc
    sub = load_submission(make_checkout(tmp_path / "c", files={"Dockerfile.prod": df, "docker-compose.prod.yml": dc}))
    assert sub.build.students and sub.build.context == "app"
    builder = sub.dockerfile.stages[0].state
    assert builder.placements["app/requirements.txt"] == ["/opt/b/requirements.txt"]
    assert builder.placements["app/tests"] == ["/opt/b/tests"]
    assert sub.dockerfile.stages[1].state.placements["app/main.py"] == ["/srv/main.py"]
    assert sub.dockerfile.in_context("app/requirements.txt") == "requirements.txt"
    assert builder.pip_installs[0].requirement_origins == ("app/requirements.txt",)
    # the same file read with the root as context: line 3 copies nothing of the app's, `COPY . .` the whole repo
    root = load_submission(make_checkout(tmp_path / "r", files={"Dockerfile.prod": df}))
    state = root.dockerfile.stages[0].state
    assert state.pip_installs[0].requirement_origins == (None,)
    assert state.placements["app/requirements.txt"] == ["/opt/b/app/requirements.txt"]


def test_dotdot_cannot_leave_the_context(tmp_path):
    df = "FROM python:3.13 AS b\nCOPY ../../app/requirements.txt /x/\nFROM python:3.13-slim\n"
    sub = load_submission(make_checkout(tmp_path / "c", files={"Dockerfile.prod": df}))
    assert sub.dockerfile.stages[0].state.placements["app/requirements.txt"] == ["/x/requirements.txt"]
