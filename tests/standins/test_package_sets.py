"""The stand-ins hold the Debian packages the official images hold, so that what a Dockerfile can observe
of them (`adduser`, `useradd`, `openssl`, `perl`, ...) is the same here and on GitHub's runners.

The official list is the one docker-library publishes for python:3.13-slim (see the data file's header).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from standin_support import FULL, SLIM, base_images, build, docker_cli, run  # noqa: F401  (fixtures)

pytestmark = pytest.mark.docker

OFFICIAL_SLIM = {
    line.strip()
    for line in (Path(__file__).parent / "official-python-3.13-slim-packages.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
}


def packages(run, image: str) -> set[str]:
    done = run(image, "-W", "-f", "${Package}\n", entrypoint="dpkg-query")
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_the_slim_stand_in_has_the_official_slim_package_set(run):
    held = packages(run, SLIM)
    assert sorted(OFFICIAL_SLIM - held) == [], "packages of the official python:3.13-slim missing here"
    assert sorted(held - OFFICIAL_SLIM) == [], "packages the official python:3.13-slim does not have"


def test_the_full_stand_in_has_every_package_of_the_slim_one(run):
    assert sorted(OFFICIAL_SLIM - packages(run, FULL)) == []


def test_adduser_works_in_the_slim_stand_in(build):
    built = build("""
        FROM {SLIM}
        RUN adduser --disabled-password --gecos "" app && addgroup web && adduser app web
        USER app
        CMD ["id"]
        """)
    done = docker_cli("run", "--rm", built.tag)
    assert done.returncode == 0, done.stderr
    # Debian 13's adduser also puts new users in `users` (gid 100), as it does in the official image
    assert done.stdout.startswith("uid=1000(app) gid=1000(app) groups=1000(app),"), done.stdout
    assert "1001(web)" in done.stdout
