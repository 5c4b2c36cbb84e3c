"""Cases 9 and 10: the host port is taken; two grades run at once on one machine."""

from __future__ import annotations

import socket

import pytest

from hostile.harness import COMPOSE, DOCKERFILE, RUNTIME, assert_clean, checkout, grade, grade_many, snapshot

pytestmark = pytest.mark.docker


@pytest.fixture
def held_port():
    """A listening socket on 5005 if that is free, else on any free port (the test passes it)."""
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 5005))
    except OSError:
        s.close()
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
    s.listen(1)
    yield s.getsockname()[1]
    s.close()


def test_taken_host_port_is_the_graders_error_not_the_students(tmp_path, held_port):
    co = checkout(tmp_path / "co")
    before = snapshot()
    g = grade(co, "--host-port", str(held_port))
    assert g.report is not None, g.explain()
    assert g.returncode == 2, g.explain()
    for check in RUNTIME:
        c = g.checks[check]
        assert c["status"] == "error", c
        assert f"host port {held_port} is already in use" in c["message"], c
        assert "not a problem with your files" in c["message"]
        assert "--host-port auto" in c["hint"]
    for check in DOCKERFILE + COMPOSE:  # static checks still graded
        assert g.status(check) == "pass", g.message(check)
    assert "build_prod" not in g.report["timings"]
    assert_clean(g, before)


def test_two_grades_at_once_with_auto_ports(tmp_path, held_port):
    """Two checkouts graded at the same time while the default port is held: both full marks,
    each on its own port and project, nothing left of either."""
    before = snapshot()
    jobs = {name: (checkout(tmp_path / name / "co"), (), None) for name in ("a", "b")}
    runs = grade_many(jobs, timeout=300)
    for g in runs.values():
        assert g.report is not None, g.explain()
        assert g.returncode == 0, g.explain()
        assert g.report["score"] == g.report["max_score"]
    a, b = runs["a"], runs["b"]
    assert a.project != b.project
    ports = {g.checks["runtime.counter"]["message"].split("/")[2] for g in (a, b)}
    assert len(ports) == 2 and f"localhost:{held_port}" not in ports, ports
    for g in (a, b):
        assert_clean(g, before)
