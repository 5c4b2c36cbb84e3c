"""Case 5: a fork bomb and a memory hog in the app are held by the grader's caps.

The student's docker-compose.prod.yml sets no limits; the grader adds pids, memory and CPU
caps in its own override file. The app below forks until the engine refuses, lets a child
allocate memory until the kernel kills it, and only then serves the real app: it gets full
marks only if the caps hold, and the caps are read from the running containers.
"""

from __future__ import annotations

import time

import pytest

from hostile.harness import (
    assert_clean,
    checkout,
    containers_of,
    finish,
    prod_dockerfile,
    py_cmd,
    running_project,
    snapshot,
    start,
    wait_for,
)

pytestmark = pytest.mark.docker

BOMB_AND_HOG = r"""
import os, runpy, signal, sys, time
kids = []
refused = None
for i in range(2000):
    try:
        pid = os.fork()
    except OSError as e:
        refused = e
        break
    if pid == 0:
        time.sleep(600)
        os._exit(0)
    kids.append(pid)
if refused is None:
    print('HOSTILE NO PIDS CAP: 2000 forks'); sys.exit(1)
print('HOSTILE fork refused after', len(kids), type(refused).__name__)
for pid in kids:
    os.kill(pid, signal.SIGKILL)
for pid in kids:
    os.waitpid(pid, 0)
pid = os.fork()
if pid == 0:
    hog = []
    for i in range(64):
        hog.append(bytearray(32 * 2**20))
        os.write(1, b'.')
    os._exit(0)
_, status = os.waitpid(pid, 0)
if not os.WIFSIGNALED(status):
    print('HOSTILE NO MEMORY CAP: 2 GiB allocated'); sys.exit(1)
print('HOSTILE memory hog killed by signal', os.WTERMSIG(status))
time.sleep(2)  # keeps the stack up long enough for the test to read both containers' caps
sys.argv = ['main.py']
runpy.run_path('main.py', run_name='__main__')
"""


def test_fork_bomb_and_memory_hog_are_capped(tmp_path, docker_engine):
    co = checkout(tmp_path / "co", {"Dockerfile.prod": prod_dockerfile(cmd=py_cmd(BOMB_AND_HOG))})
    student_compose = (co / "docker-compose.prod.yml").read_text()
    before = snapshot()
    report = tmp_path / "report.json"
    t0 = time.monotonic()
    proc = start(co, report, "--memory", "256m", "--pids", "128", "--cpus", "0.5", "--ready-timeout", "40")
    try:
        project = wait_for(lambda: running_project(proc.pid), 60, "a docker compose child", proc)

        def both() -> dict[str, object]:
            by_service = {c.labels.get("com.docker.compose.service"): c for c in containers_of(project)}
            return by_service if {"web_prod", "redis_prod"} <= set(by_service) else {}

        # Compose creates the two containers one after the other: read them once both exist
        stack = wait_for(both, 120, "the web_prod and redis_prod containers", proc)
        caps = [
            (h["Memory"], h["MemorySwap"], h["PidsLimit"], h["NanoCpus"])
            for h in (stack[s].attrs["HostConfig"] for s in ("web_prod", "redis_prod"))
        ]
        assert len(caps) == 2, "redis_prod was not started"
    finally:
        g = finish(proc, report, t0, timeout=240)
    assert g.report is not None, g.explain()
    for cap in caps:
        assert cap == (256 * 2**20, 256 * 2**20, 128, 500_000_000), caps
    assert (co / "docker-compose.prod.yml").read_text() == student_compose, "the student's file was edited"
    for check in ("runtime.up", "runtime.counter"):
        assert g.status(check) == "pass", f"{g.message(check)}\n{g.checks[check]['log_tail']}"
    assert g.max_rss_mb < 400
    assert_clean(g, before)
