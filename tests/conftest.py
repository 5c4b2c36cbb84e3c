"""Fixtures shared by all of the project's tests.

The `docker` marker is declared in pyproject.toml. Tests carrying it need a running Docker
engine: when none is reachable they FAIL (not skip), so a broken CI machine cannot pass
quietly.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def docker_engine():
    """A docker SDK client for the local engine; fails the test if the engine is unreachable."""
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception as e:  # SDK missing, socket absent, daemon not answering ...
        pytest.fail(
            f"Docker engine not reachable ({type(e).__name__}: {e}). "
            "Start it with scripts/docker-engine.sh, then run the tests again.",
            pytrace=False,
        )
    yield client
    client.close()


@pytest.fixture(autouse=True)
def _docker_tests_need_the_engine(request):
    """Tests marked `docker` get the engine check before they run."""
    if request.node.get_closest_marker("docker") is not None:
        request.getfixturevalue("docker_engine")
