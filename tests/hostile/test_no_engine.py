"""Case 12: no Docker engine. The runtime checks are the grader's `error` with how to start
Docker; the static checks are graded as usual."""

from __future__ import annotations

import pytest

from hostile.harness import COMPOSE, DOCKERFILE, RUNTIME, checkout, environ, grade


@pytest.mark.slow
def test_unreachable_engine(tmp_path):
    co = checkout(tmp_path / "co")
    g = grade(co, env=environ(DOCKER_HOST="unix:///nonexistent.sock"), timeout=120)
    assert g.report is not None, g.explain()
    assert g.returncode == 2, g.explain()
    assert g.seconds < 60
    for check in RUNTIME:
        c = g.checks[check]
        assert c["status"] == "error", c
        assert "Docker engine is not reachable" in c["message"], c
        assert "Start Docker" in c["hint"] and "static checks were graded" in c["hint"], c
    for check in DOCKERFILE + COMPOSE:
        assert g.status(check) == "pass", g.message(check)
    assert "Traceback" not in g.stderr, g.stderr
