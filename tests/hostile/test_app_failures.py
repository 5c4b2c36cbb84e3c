"""Cases 3 and 4: an app that exits at once, never listens, answers slowly, never answers,
trickles, or sends a huge body. Every grade ends in bounded time with a message that says
what was seen; the checks that do not depend on the app keep their points.

The graders of this module run at the same time (each its own checkout and project).
"""

from __future__ import annotations

import pytest

from hostile.harness import COMPOSE, DOCKERFILE, assert_clean, checkout, grade_many, prod_dockerfile, py_cmd, snapshot

pytestmark = pytest.mark.docker

EXIT_NOW = "import sys; print('HOSTILE-EXIT about to exit with 3'); sys.exit(3)"
NEVER_LISTENS = "import time; print('HOSTILE-IDLE listening nowhere'); time.sleep(10**6)"
SERVER = r"""
import socket, sys, threading, time
MODE = sys.argv[1]
print('HOSTILE-HTTP mode', MODE)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', 5000)); s.listen(64)
def serve(c):
    try:
        c.recv(65536)
        if MODE == 'slow':
            time.sleep(30)
            c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 31\r\n\r\nThis page was viewed 1 times.\r\n')
        elif MODE == 'silent':
            time.sleep(3600)
        elif MODE == 'trickle':
            c.sendall(b'HTTP/1.1 200 OK\r\n\r\nviewed ')
            while True:
                c.sendall(b'1'); time.sleep(0.2)
        elif MODE == 'huge':
            c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n')
            chunk = b'x' * 65536
            while True:
                c.sendall(chunk)
        elif MODE == 'headers':
            c.sendall(b'HTTP/1.1 200 OK\r\n')
            while True:
                c.sendall(b'X-Junk: ' + b'a' * 4000 + b'\r\n')
    except OSError:
        pass
    finally:
        c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""
APPS = {
    "exit-now": py_cmd(EXIT_NOW),
    "never-listens": py_cmd(NEVER_LISTENS),
    "slow": py_cmd(SERVER, "slow"),
    "silent": py_cmd(SERVER, "silent"),
    "trickle": py_cmd(SERVER, "trickle"),
    "huge": py_cmd(SERVER, "huge"),
    "headers": py_cmd(SERVER, "headers"),
}
READY = 8


@pytest.fixture(scope="module")
def graded(tmp_path_factory, docker_engine):
    before = snapshot()
    jobs = {}
    for name, cmd in APPS.items():
        base = tmp_path_factory.mktemp(name)
        co = checkout(base / "co", {"Dockerfile.prod": prod_dockerfile(cmd=cmd)})
        jobs[name] = (co, ("--ready-timeout", str(READY), "--request-timeout", "2"), None)
    return before, grade_many(jobs, timeout=240)


def _common(before, g):
    assert g.report is not None, g.explain()
    assert g.returncode == 1, g.explain()
    for check in DOCKERFILE + COMPOSE:
        if check != "dockerfile.final_copies":  # the hostile CMD does not run main.py, rightly a fail
            assert g.status(check) == "pass", g.message(check)
    assert g.status("images.size_ratio") == "pass", "the image sizes do not depend on the app"
    assert g.max_rss_mb < 400, f"the grader used {g.max_rss_mb:.0f} MB"
    assert len(g.stdout) < 200_000
    assert_clean(g, before)


def test_container_that_exits_at_once(graded):
    before, runs = graded
    g = runs["exit-now"]
    _common(before, g)
    up = g.checks["runtime.up"]
    assert up["status"] == "fail", up
    assert "web_prod is exited (exit code 3)" in up["message"], up
    assert "HOSTILE-EXIT about to exit with 3" in up["log_tail"], up
    assert g.status("runtime.counter") == "skip"


def test_container_that_never_listens(graded):
    before, runs = graded
    g = runs["never-listens"]
    _common(before, g)
    assert g.status("runtime.up") == "pass"  # both services do run
    counter = g.checks["runtime.counter"]
    assert counter["status"] == "fail"
    assert f"no 200 within {READY} s" in counter["message"] or "connection" in counter["message"], counter
    assert "HOSTILE-IDLE listening nowhere" in counter["log_tail"], "the last log lines must be shown"


@pytest.mark.parametrize("mode", ["slow", "silent", "trickle", "huge", "headers"])
def test_app_that_answers_badly_is_bounded(graded, mode):
    before, runs = graded
    g = runs[mode]
    _common(before, g)
    # the ready timeout, a restart-free probe, builds and cleanup: well under a minute each
    assert g.seconds < 120, f"{mode}: took {g.seconds:.0f} s"
    counter = g.checks["runtime.counter"]
    assert counter["status"] == "fail", counter
    assert "first request" in counter["message"], counter
    if mode == "huge":
        assert "without a hit count" in counter["message"]
        assert len(counter["message"]) < 1000, "a huge body is quoted, shortened"
    assert len(str(g.report)) < 100_000, "the report stays small"
