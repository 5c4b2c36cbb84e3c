"""Static docker-compose.prod.yml checks: every accepted spelling, every mistake located."""

from __future__ import annotations

import pytest

BASE = """services:
  web_prod:
    build:
      context: .
      dockerfile: Dockerfile.prod
    image: me/app-prod:lab04
    ports:
      - "5005:5000"
    environment:
      - REDIS_HOST=redis_prod
    depends_on:
      - redis_prod
  redis_prod:
    image: redis:alpine
"""
IDS = ["compose.services", "compose.web_prod", "compose.web_build"]


def compose(replace: dict[str, str] | None = None, text: str = BASE) -> dict[str, str]:
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    return {"docker-compose.prod.yml": text}


@pytest.mark.parametrize("check_id", IDS)
def test_solution_compose_passes(grade_static, check_id):
    r = grade_static(check_id)
    assert r.status == "pass", r.message
    assert r.file == "docker-compose.prod.yml" and r.line


EQUIVALENT = {
    "port as mapping long syntax": {'- "5005:5000"': "- target: 5000\n        published: 5005"},
    "port published as string, protocol": {
        '- "5005:5000"': '- target: 5000\n        published: "5005"\n        protocol: tcp'
    },
    "port with host ip": {'- "5005:5000"': '- "127.0.0.1:5005:5000"'},
    "port with tcp suffix, unquoted": {'- "5005:5000"': "- 5005:5000/tcp"},
    "environment mapping, quoted": {"- REDIS_HOST=redis_prod": 'REDIS_HOST: "redis_prod"'},
    "environment with interpolation default": {"- REDIS_HOST=redis_prod": "- REDIS_HOST=${REDIS_HOST:-redis_prod}"},
    "depends_on mapping with condition": {
        "- redis_prod\n  redis_prod:": "redis_prod:\n        condition: service_started\n  redis_prod:"
    },
    "build context ./ and ./Dockerfile.prod": {
        "context: .": "context: ./",
        "dockerfile: Dockerfile.prod": "dockerfile: ./Dockerfile.prod",
    },
    "redis with registry prefix and tag": {"image: redis:alpine": "image: docker.io/library/redis:7-alpine"},
    # Redis reached by another name Docker's DNS gives redis_prod (each counted on the engine too:
    # tests/commands/test_grade_engine_truth.py)
    "REDIS_HOST a network alias of redis_prod": {
        "REDIS_HOST=redis_prod": "REDIS_HOST=redis",
        "image: redis:alpine\n": "image: redis:alpine\n    networks:\n      default:\n        aliases: [redis, cache]\n",
    },
    "REDIS_HOST an alias on a shared user network": {
        "REDIS_HOST=redis_prod": "REDIS_HOST=kv",
        "    depends_on:": "    networks: [back]\n    depends_on:",
        "image: redis:alpine\n": "image: redis:alpine\n    networks:\n      back:\n        aliases: [kv]\n"
        "networks:\n  back: {}\n",
    },
    "REDIS_HOST the hostname of redis_prod": {
        "REDIS_HOST=redis_prod": "REDIS_HOST=cache",
        "image: redis:alpine\n": "image: redis:alpine\n    hostname: cache\n",
    },
    "REDIS_HOST the alias web_prod's links give redis_prod": {
        "REDIS_HOST=redis_prod": "REDIS_HOST=db",
        "    depends_on:": "    links: ['redis_prod:db']\n    depends_on:",
    },
    "REDIS_HOST the container_name of redis_prod": {
        "REDIS_HOST=redis_prod": "REDIS_HOST=lab-redis",
        "image: redis:alpine\n": "image: redis:alpine\n    container_name: lab-redis\n",
    },
    "anchors and merge keys": {
        "services:\n": "x-env: &env\n  REDIS_HOST: redis_prod\nservices:\n",
        "environment:\n      - REDIS_HOST=redis_prod": "environment:\n      <<: *env",
    },
}


@pytest.mark.parametrize("name", list(EQUIVALENT))
def test_equivalent_compose_syntax_passes(grade_static, name):
    for check_id in IDS:
        r = grade_static(check_id, compose(EQUIVALENT[name]))
        assert r.status == "pass", f"{name}: {check_id}: {r.message}"


def test_env_file_inside_checkout_counts(grade_static):
    files = compose({"environment:\n      - REDIS_HOST=redis_prod": "env_file: prod.env"})
    files["prod.env"] = "# settings\nREDIS_HOST=redis_prod\n"
    assert grade_static("compose.web_prod", files).status == "pass"


BROKEN = {
    "no redis_prod": (
        {"  redis_prod:\n    image: redis:alpine\n": "", "    depends_on:\n      - redis_prod\n": ""},
        "compose.services",
        "does not define the service `redis_prod`",
    ),
    "redis_prod not redis": (
        {"image: redis:alpine": "image: memcached:alpine"},
        "compose.services",
        "not a redis image",
    ),
    "wrong host port": ({'"5005:5000"': '"5006:5000"'}, "compose.web_prod", "not host 5005 -> container 5000"),
    "wrong container port": ({'"5005:5000"': '"5005:80"'}, "compose.web_prod", "not host 5005"),
    "no REDIS_HOST": (
        {"    environment:\n      - REDIS_HOST=redis_prod\n": ""},
        "compose.web_prod",
        "does not set REDIS_HOST",
    ),
    "REDIS_HOST localhost": (
        {"REDIS_HOST=redis_prod": "REDIS_HOST=localhost"},
        "compose.web_prod",
        "sets REDIS_HOST=localhost",
    ),
    "REDIS_HOST an alias on a network web_prod is not on": (
        {
            "REDIS_HOST=redis_prod": "REDIS_HOST=kv",
            "image: redis:alpine\n": "image: redis:alpine\n    networks:\n      back:\n        aliases: [kv]\n"
            "networks:\n  back: {}\n",
        },
        "compose.web_prod",
        "sets REDIS_HOST=kv",
    ),
    "no depends_on": ({"    depends_on:\n      - redis_prod\n": ""}, "compose.web_prod", "does not depend on"),
    "no image name": ({"    image: me/app-prod:lab04\n": ""}, "compose.web_prod", "names no image"),
    "no build": (
        {"    build:\n      context: .\n      dockerfile: Dockerfile.prod\n": ""},
        "compose.web_build",
        "has no `build:`",
    ),
    "dev Dockerfile": (
        {"dockerfile: Dockerfile.prod": "dockerfile: app/Dockerfile"},
        "compose.web_build",
        "not 'Dockerfile.prod'",
    ),
    "build: . string": (
        {"build:\n      context: .\n      dockerfile: Dockerfile.prod": "build: ."},
        "compose.web_build",
        "not 'Dockerfile.prod'",
    ),
    "context app": ({"context: .": "context: ./app"}, "compose.web_build", "not the repository root"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_each_compose_mistake_fails_only_its_check(grade_static, name):
    replace, check_id, words = BROKEN[name]
    files = compose(replace)
    r = grade_static(check_id, files)
    assert r.status == "fail" and words in r.message, f"{name}: {r.message}"
    assert r.file == "docker-compose.prod.yml" and r.line and r.hint
    for other in IDS:
        if other != check_id and not (name == "no redis_prod" and other == "compose.web_prod"):
            assert grade_static(other, files).status == "pass", (name, other)


@pytest.mark.parametrize(
    "text, words, line",
    [
        ("services:\n  web_prod:\n    image: [unclosed\n", "invalid YAML", 3),
        ("- just\n- a list\n", "must be a mapping", 1),
        ("services:\n  web_prod:\n  redis_prod:\n", "has no settings yet", 2),
        ("services: 5\n", "`services` must be a mapping", 1),
        (
            "a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
            "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
            "alias bomb",
            None,
        ),
    ],
)
def test_unusable_compose_file_fails_compose_checks(grade_static, text, words, line):
    for check_id in IDS:
        r = grade_static(check_id, {"docker-compose.prod.yml": text})
        assert r.status == "fail" and words in r.message, r.message
        if line:
            assert r.line == line


def test_starter_compose_names_the_todo(grade_static):
    from support import REPO

    starter = (REPO / "docker-compose.prod.yml").read_text()
    r = grade_static("compose.services", {"docker-compose.prod.yml": starter})
    assert r.status == "fail" and "still the TODO" in r.message
