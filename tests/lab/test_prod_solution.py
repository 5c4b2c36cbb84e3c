"""The published solution (solutions.md) builds a working, small production stack.

The build runs the app's tests in the builder stage, the final image holds Flask but not
pytest, and it is at most half the size of the development image.
"""

from __future__ import annotations

import secrets
import subprocess

import pytest

from support import (
    PROJECT_LABEL,
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

PROD, DEV = "docker-compose.prod.yml", "docker-compose.yml"
URL = "http://localhost:5005/"


def built_image(client, project: str):
    """The image Compose built for this project (it carries the project label)."""
    images = client.images.list(filters={"label": f"{PROJECT_LABEL}={project}"})
    assert len(images) == 1, f"expected one image built for {project}, found {images}"
    return images[0]


@pytest.fixture(scope="module")
def prod_stack(tmp_path_factory, docker_engine):
    # A fresh file in app/ changes the `COPY app/ .` layer, so the build cache cannot skip the
    # step that runs the tests and the build output shows them running.
    nonce = {"app/.build-nonce": secrets.token_hex(8) + "\n"}
    checkout = make_checkout(tmp_path_factory.mktemp("prod") / "lab", solution=True, files=nonce)
    project = unique_project("lab04prod")
    wait_port_free(5005)
    wait_port_free(6383)
    try:
        up = compose(project, checkout, "up", "--build", "-d", file=PROD, timeout=900)
        yield project, checkout, up
    finally:
        down(project, checkout, PROD)
        assert leftovers(project) == []


@pytest.fixture(scope="module")
def dev_image(prod_stack, docker_engine):
    """The development image, built (not run) from the same checkout for comparison."""
    _, checkout, _ = prod_stack
    project = unique_project("lab04devimg")
    try:
        build = compose(project, checkout, "build", file=DEV, timeout=900)
        assert build.returncode == 0, build.stdout + build.stderr
        yield built_image(docker_engine, project)
    finally:
        down(project, checkout, DEV)
        assert leftovers(project) == []


def run_in(image_id: str, project: str, *cmd: str) -> subprocess.CompletedProcess:
    # The label makes any container left behind by an interrupted run show up in leftovers().
    return subprocess.run(
        ["docker", "run", "--rm", "--label", f"{PROJECT_LABEL}={project}", image_id, *cmd],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_build_runs_the_tests(prod_stack):
    _, _, up = prod_stack
    output = up.stdout + up.stderr
    assert up.returncode == 0, output
    assert "pytest" in output and " passed" in output, f"no sign of the tests running in the build:\n{output}"


def test_prod_stack_counts_and_uses_its_redis(prod_stack):
    project, checkout, up = prod_stack
    assert up.returncode == 0, up.stdout + up.stderr
    status, body = wait_ok(URL)
    assert status == 200, body
    n = first_int(body)
    status, body = http_get(URL)
    assert status == 200, body
    assert first_int(body) == n + 1

    stored = compose(project, checkout, "exec", "-T", "redis_prod", "redis-cli", "GET", "hits", file=PROD, timeout=60)
    assert stored.returncode == 0, stored.stdout + stored.stderr
    assert stored.stdout.strip() == str(n + 1)


def test_prod_app_answers_503_while_redis_is_down(prod_stack):
    project, checkout, up = prod_stack
    assert up.returncode == 0, up.stdout + up.stderr
    assert wait_ok(URL)[0] == 200
    stop = compose(project, checkout, "stop", "-t", "1", "redis_prod", file=PROD, timeout=60)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    try:
        status, body = http_get(URL, timeout=30)
        assert status == 503, body
        assert "redis_prod:6379" in body and "Traceback" not in body, body
    finally:
        start = compose(project, checkout, "start", "redis_prod", file=PROD, timeout=60)
    assert start.returncode == 0, start.stdout + start.stderr
    status, body = wait_ok(URL)
    assert status == 200, body  # and it recovers once Redis is back


def test_prod_image_is_at_most_half_the_dev_image(prod_stack, dev_image, docker_engine):
    project, _, up = prod_stack
    assert up.returncode == 0, up.stdout + up.stderr
    prod = built_image(docker_engine, project)
    ratio = prod.attrs["Size"] / dev_image.attrs["Size"]
    assert ratio <= 0.5, (
        f"prod {prod.attrs['Size'] / 1e6:.0f} MB vs dev {dev_image.attrs['Size'] / 1e6:.0f} MB (ratio {ratio:.2f})"
    )


def test_prod_image_has_flask_but_not_pytest(prod_stack, docker_engine):
    project, _, up = prod_stack
    assert up.returncode == 0, up.stdout + up.stderr
    image_id = built_image(docker_engine, project).id

    flask = run_in(image_id, project, "python", "-c", "import flask, redis")
    assert flask.returncode == 0, flask.stdout + flask.stderr
    pytest_import = run_in(image_id, project, "python", "-c", "import pytest")
    assert pytest_import.returncode != 0, "pytest is importable in the production image"
    assert "ModuleNotFoundError" in pytest_import.stderr, pytest_import.stderr
    listing = run_in(image_id, project, "python", "-c", "import os; print(sorted(os.listdir('.')))")
    assert listing.stdout.strip() == "['main.py']", listing.stdout + listing.stderr


def test_a_failing_app_test_fails_the_prod_build(tmp_path, docker_engine):
    broken = {"app/tests/test_broken.py": "def test_always_fails():\n    assert 1 + 1 == 3\n"}
    checkout = make_checkout(tmp_path / "lab", solution=True, files=broken)
    project = unique_project("lab04broken")
    try:
        build = compose(project, checkout, "build", file=PROD, timeout=900)
        output = build.stdout + build.stderr
        assert build.returncode != 0, f"the build succeeded although a test fails:\n{output}"
        assert "test_always_fails" in output or "1 failed" in output, output
        assert docker_engine.images.list(filters={"label": f"{PROJECT_LABEL}={project}"}) == []
    finally:
        down(project, checkout, PROD)
        assert leftovers(project) == []
