"""The development stack (docker-compose.yml) builds, counts from 1, and stops promptly."""

from __future__ import annotations

import time

import pytest

from support import (
    compose,
    down,
    first_int,
    http_get,
    leftovers,
    make_checkout,
    unique_project,
    wait_ok,
    wait_port_free,
)

pytestmark = pytest.mark.docker

FILE = "docker-compose.yml"
URL = "http://localhost:5004/"


@pytest.fixture
def dev_stack(tmp_path, docker_engine):
    checkout = make_checkout(tmp_path / "lab", solution=False)
    project = unique_project("lab04dev")
    wait_port_free(5004)
    try:
        up = compose(project, checkout, "up", "--build", "-d", file=FILE)
        yield project, checkout, up
    finally:
        down(project, checkout, FILE)
        assert leftovers(project) == []


def test_dev_stack_counts_visits(dev_stack):
    project, checkout, up = dev_stack
    assert up.returncode == 0, up.stdout + up.stderr

    status, body = wait_ok(URL)
    assert status == 200, body
    counts = [first_int(body)]
    for _ in range(2):
        status, body = http_get(URL)
        assert status == 200, body
        counts.append(first_int(body))
    assert counts == [1, 2, 3]  # a fresh project has a fresh Redis

    # The dev image is the one with the test tools: the app's tests run inside it.
    tests = compose(
        project,
        checkout,
        "exec",
        "-T",
        "web_dev",
        "python",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/",
        file=FILE,
        timeout=120,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr


def test_dev_container_stops_promptly(dev_stack):
    """SIGTERM ends the app at once (as PID 1 Python would otherwise ignore it for 10 s)."""
    project, checkout, up = dev_stack
    assert up.returncode == 0, up.stdout + up.stderr
    assert wait_ok(URL)[0] == 200

    started = time.monotonic()
    restart = compose(project, checkout, "restart", "web_dev", file=FILE, timeout=60)
    took = time.monotonic() - started
    assert restart.returncode == 0, restart.stdout + restart.stderr
    assert took < 2, f"docker compose restart took {took:.1f} s: the app does not exit on SIGTERM"

    status, body = wait_ok(URL)
    assert (status, first_int(body)) == (200, 2)  # Redis kept the count across the restart

    started = time.monotonic()
    stop = compose(project, checkout, "stop", "web_dev", file=FILE, timeout=60)  # default 10 s grace
    took = time.monotonic() - started
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert took < 2, f"docker compose stop took {took:.1f} s: the app does not exit on SIGTERM"
