"""Case 2: a build that never ends is stopped at the build timeout, and graded as such."""

from __future__ import annotations

import pytest

from hostile.harness import COMPOSE, DOCKERFILE, assert_clean, checkout, grade, prod_dockerfile, snapshot

pytestmark = pytest.mark.docker


def test_run_sleep_infinity_is_stopped_at_the_build_timeout(tmp_path):
    co = checkout(tmp_path / "co", {"Dockerfile.prod": prod_dockerfile(before_cmd="RUN sleep infinity\n")})
    before = snapshot()
    g = grade(co, "--build-timeout", "12", timeout=180)
    assert g.report is not None, g.explain()
    assert g.returncode == 1, g.explain()
    assert g.seconds < 12 + 45, f"took {g.seconds:.0f} s"
    up = g.checks["runtime.up"]
    assert up["status"] == "fail"
    assert "did not finish within" in up["message"] and "stopped" in up["message"], up
    assert "RUN step that never ends" in up["hint"]
    assert up["file"] == "Dockerfile.prod"
    for check in ("runtime.counter", "images.size_ratio", "images.prod_lean"):
        assert g.status(check) == "skip", g.message(check)
    for check in DOCKERFILE + COMPOSE:
        assert g.status(check) == "pass", g.message(check)
    assert_clean(g, before)
