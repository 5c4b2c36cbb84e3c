"""Case 11: SIGINT or SIGTERM in the middle of a build or of the running stack.

The grader stops its children, writes a partial report in which the unfinished checks are
`error`, removes everything it started and exits with 2. It starts with the default signal
dispositions, whatever the shell that started pytest ignores (`start` resets them); one started with
SIGINT ignored (`nohup`, `cmd &` in a script) keeps ignoring it, and SIGTERM still stops it.
"""

from __future__ import annotations

import signal
import time

import pytest

from hostile.harness import (
    COMPOSE,
    DOCKERFILE,
    RUNTIME,
    assert_clean,
    checkout,
    containers_of,
    descendants,
    finish,
    prod_dockerfile,
    py_cmd,
    running_project,
    snapshot,
    start,
    wait_for,
)
from support import ignored_signals

pytestmark = pytest.mark.docker


def _interrupted(g, before):
    assert g.returncode == 2, g.explain()
    assert g.report is not None, "a partial report must be written"
    assert "interrupted" in (g.report["error"] or ""), g.report["error"]
    for check in RUNTIME:
        assert g.status(check) == "error", f"{check}: {g.checks[check]['status']} {g.message(check)}"
    for check in DOCKERFILE + COMPOSE:
        assert g.status(check) in ("pass", "fail"), g.message(check)
    assert_clean(g, before)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_during_the_build(tmp_path, sig, docker_engine):
    co = checkout(tmp_path / "co", {"Dockerfile.prod": prod_dockerfile(before_cmd="RUN sleep infinity\n")})
    before = snapshot()
    report = tmp_path / "report.json"
    t0 = time.monotonic()
    proc = start(co, report, "--build-timeout", "300")
    try:
        project = wait_for(
            lambda: (
                any("build" in args and "compose" in args for _, args in descendants(proc.pid))
                and running_project(proc.pid)
            ),
            60,
            "the prod build",
            proc,
        )
        time.sleep(3)  # well inside `RUN sleep infinity`
        # Redis needs no build: it was started beside the build, and goes with the rest
        redis = [c for c in containers_of(project) if c.labels.get("com.docker.compose.service") == "redis_prod"]
        assert [c.status for c in redis] == ["running"], redis
        proc.send_signal(sig)
    finally:
        g = finish(proc, report, t0, timeout=90)
    assert g.seconds < 60
    _interrupted(g, before)
    assert not descendants(proc.pid)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_while_the_stack_runs(tmp_path, sig, docker_engine):
    never = py_cmd("import time; print('up, never listening'); time.sleep(10**6)")
    co = checkout(tmp_path / "co", {"Dockerfile.prod": prod_dockerfile(cmd=never)})
    before = snapshot()
    report = tmp_path / "report.json"
    t0 = time.monotonic()
    proc = start(co, report, "--ready-timeout", "120")
    try:
        project = wait_for(lambda: running_project(proc.pid), 60, "a docker compose child", proc)
        wait_for(
            lambda: [
                c
                for c in containers_of(project)
                if c.status == "running" and c.labels.get("com.docker.compose.service") == "web_prod"
            ],
            120,
            "web_prod running",
            proc,
        )
        time.sleep(1)
        proc.send_signal(sig)
    finally:
        g = finish(proc, report, t0, timeout=90)
    assert g.project == project
    _interrupted(g, before)


def test_an_inherited_ignored_sigint_stays_ignored_and_sigterm_still_stops_the_grade(tmp_path, docker_engine):
    """As any Unix tool started by `nohup` or as a background job of a script, the grader keeps ignoring the
    SIGINT it inherited ignored: the build goes on. SIGTERM stops it as usual: partial report, nothing left."""
    co = checkout(tmp_path / "co", {"Dockerfile.prod": prod_dockerfile(before_cmd="RUN sleep infinity\n")})
    before = snapshot()
    report = tmp_path / "report.json"
    t0 = time.monotonic()
    proc = start(co, report, "--build-timeout", "300", ignored=(signal.SIGINT,))
    try:
        assert signal.SIGINT in ignored_signals(proc.pid)

        def building():
            return [pid for pid, args in descendants(proc.pid) if "build" in args and "compose" in args]

        build = wait_for(building, 60, "the prod build", proc)
        time.sleep(3)  # well inside `RUN sleep infinity`
        proc.send_signal(signal.SIGINT)
        time.sleep(5)
        assert proc.poll() is None, "a SIGINT the grader inherited ignored stopped it"
        assert set(build) & set(building()), "a SIGINT the grader inherited ignored stopped its build"
        assert signal.SIGINT in ignored_signals(proc.pid)
        stopped_at = time.monotonic()
        proc.send_signal(signal.SIGTERM)
    finally:
        g = finish(proc, report, t0, timeout=90)
    assert t0 + g.seconds - stopped_at < 60
    _interrupted(g, before)
    assert not descendants(proc.pid)
