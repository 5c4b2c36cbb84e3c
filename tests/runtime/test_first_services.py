"""Which services start while the web image is built (`Stack.first_services`): the stack's Redis, only when Compose
would start it the same way in the stack's own `up` (no build, no dependency of its own, an image to run)."""

from __future__ import annotations

import pytest

from autograde.model.compose import parse
from autograde.runtime.probes import Stack

WEB = "  web_prod:\n    build: .\n    depends_on: [redis_prod]\n"


def first(services: str, redis: str = "redis_prod") -> list[str]:
    stack = Stack(None, None, redis, 60.0, 5.0, 1, web="web_prod")  # type: ignore[arg-type]
    return stack.first_services(parse(f"services:\n{WEB}{services}", "docker-compose.prod.yml"))


@pytest.mark.parametrize(
    "redis, started",
    [
        ("  redis_prod:\n    image: redis:alpine\n", True),
        ("  redis_prod:\n    image: redis:alpine\n    ports: ['6383:6379']\n    volumes: [data:/data]\n", True),
        ("  redis_prod:\n    build: ./redis\n", False),  # its image is built with the web image
        ("  redis_prod:\n    image: redis:alpine\n    build: ./redis\n", False),
        ("  redis_prod:\n    image: redis:alpine\n    depends_on: [web_prod]\n", False),  # needs the web image
        ("  redis_prod:\n    image: redis:alpine\n    depends_on: [init]\n  init:\n    image: busybox\n", False),
        ("  other:\n    image: redis:alpine\n", False),  # no service of that name
    ],
)
def test_redis_starts_first_only_as_compose_would(redis, started):
    assert first(redis) == (["redis_prod"] if started else [])


def test_the_web_service_itself_is_never_started_first():
    assert first("  redis_prod:\n    image: redis:alpine\n", redis="web_prod") == []
