"""Case 7: Dockerfile.prod missing, empty, binary, huge, a symlink out of the checkout, a
directory, not UTF-8, or with unknown instructions. The Dockerfile checks fail clearly and
nothing outside the checkout is read (a symlink to a FIFO would block any reader; a file
whose atime is older than its mtime gets a new atime when read)."""

from __future__ import annotations

import os
import time

import pytest

from hostile.harness import COMPOSE, RUNTIME, assert_clean, checkout, grade, prod_dockerfile, snapshot, solution

pytestmark = pytest.mark.docker

MARKER = "HOSTILE-SECRET-7f3a"


def _make(co, tmp_path, name):
    target = co / "Dockerfile.prod"
    target.unlink()
    if name == "missing":
        return ["is missing"]
    if name == "empty":
        target.write_text("")
        return ["is empty"]
    if name == "comments-only":
        target.write_text("# TODO: a builder stage\n# TODO: a final stage\n")
        return ["no instructions"]
    if name == "binary":
        target.write_bytes(b"\x7fELF\x02\x01\x01\0\0\0" + os.urandom(2000))
        return ["binary"]
    if name == "latin-1":
        target.write_bytes("FROM python:3.13\n# caf\xe9\n".encode("latin-1"))
        return ["not UTF-8", "line 2"]
    if name == "huge":
        target.write_text(solution("Dockerfile.prod") + "# padding\n" * 300_000)
        return ["MB", "1 MiB"]
    if name == "directory":
        target.mkdir()
        return ["not a regular file"]
    if name == "symlink-out":
        secret = tmp_path / "secret.txt"
        secret.write_text(f"FROM python:3.13\nRUN echo {MARKER}\n")
        target.symlink_to(secret)
        return ["points outside the repository"]
    if name == "symlink-fifo":
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo)
        target.symlink_to(fifo)
        return ["points outside the repository"]
    if name == "symlink-dotdot":
        (tmp_path / "up.txt").write_text(solution("Dockerfile.prod"))
        target.symlink_to("../up.txt")
        return ["points outside the repository"]
    if name == "symlink-loop":
        target.symlink_to("Dockerfile.prod")
        return ["Dockerfile.prod"]
    raise AssertionError(name)


NAMES = [
    "missing",
    "empty",
    "comments-only",
    "binary",
    "latin-1",
    "huge",
    "directory",
    "symlink-out",
    "symlink-fifo",
    "symlink-dotdot",
    "symlink-loop",
]


def _atime_works(tmp_path) -> bool:
    probe = tmp_path / "atime-probe"
    probe.write_text("x")
    old = time.time() - 3 * 86400
    os.utime(probe, (old, time.time()))
    probe.read_text()
    return os.stat(probe).st_atime > old + 86400


@pytest.mark.parametrize("name", NAMES)
def test_dockerfile_that_cannot_be_used(tmp_path, name):
    co = checkout(tmp_path / "co")
    words = _make(co, tmp_path, name)
    outside = [p for p in tmp_path.iterdir() if p.name in ("secret.txt", "up.txt")]
    old = time.time() - 3 * 86400
    for p in outside:
        os.utime(p, (old, time.time()))
    before = snapshot()
    g = grade(co, timeout=90)
    assert g.report is not None, g.explain()
    assert g.returncode == 1, g.explain()
    assert g.seconds < 45
    stages = g.checks["dockerfile.stages"]
    assert stages["status"] == "fail", stages
    assert stages["file"] == "Dockerfile.prod"
    for word in words:
        assert word in stages["message"], stages
    for check in ("dockerfile.builder_venv", "dockerfile.final_slim", "dockerfile.final_copies"):
        assert g.status(check) in ("fail", "skip"), g.message(check)
    for check in COMPOSE:
        assert g.status(check) == "pass", g.message(check)
    for check in RUNTIME:
        assert g.status(check) == "skip", g.message(check)
        assert "Dockerfile.prod" in g.message(check)
    assert MARKER not in g.stdout and MARKER not in str(g.report)
    assert g.report["advice"] == [], "hadolint must not be run on a file the grader refused to read"
    if outside and _atime_works(tmp_path):
        for p in outside:
            assert os.stat(p).st_atime < old + 86400, f"{p.name} outside the checkout was read"
    assert_clean(g, before)


def test_unknown_instruction(tmp_path):
    co = checkout(tmp_path / "co", {"Dockerfile.prod": prod_dockerfile(before_cmd="RUNN echo typo\n")})
    line = (co / "Dockerfile.prod").read_text().splitlines().index("RUNN echo typo") + 1
    before = snapshot()
    g = grade(co)
    assert g.report is not None, g.explain()
    stages = g.checks["dockerfile.stages"]
    assert stages["status"] == "fail" and stages["line"] == line, stages
    assert "unknown instruction RUNN" in stages["message"] and "did you mean RUN?" in stages["message"], stages
    up = g.checks["runtime.up"]
    assert up["status"] == "fail", up  # Docker refuses to build it too
    assert_clean(g, before)
