"""The image probe on the real engine: it finds the venvs a built image holds, and leaves nothing behind."""

from __future__ import annotations

import uuid

import pytest

from autograde.runtime.evidence import inspect_image
from support import built_image

DOCKERFILE = """FROM python:3.13-slim
RUN python -m venv /opt/venv && python -m venv /srv/other/.venv
ENV PATH="/opt/venv/bin:$PATH"
"""


@pytest.mark.docker
def test_the_probe_lists_the_image_s_venvs_and_their_packages(docker_engine, tmp_path):
    label = f"autograde-evidence-test-{uuid.uuid4().hex[:8]}"
    with built_image(tmp_path, DOCKERFILE, "autograde-evidence-test") as tag:
        evidence = inspect_image(
            docker_engine, tag, labels={"com.docker.compose.project": label}, memory="256m", pids=64, cpus=1.0
        )
        assert evidence.error == ""
        assert sorted(v.path for v in evidence.venvs) == ["/opt/venv", "/srv/other/.venv"]
        venv = evidence.venv("/opt/venv")
        assert venv is not None and venv.holds("pip") and not venv.holds("flask")
        left = docker_engine.containers.list(all=True, filters={"label": f"com.docker.compose.project={label}"})
        assert left == []


@pytest.mark.docker
def test_an_image_without_python_is_no_evidence(docker_engine):
    evidence = inspect_image(
        docker_engine,
        "redis:alpine",
        labels={"com.docker.compose.project": f"autograde-evidence-test-{uuid.uuid4().hex[:8]}"},
        memory="128m",
        pids=64,
        cpus=1.0,
    )
    assert evidence.venvs == [] and evidence.error
