"""End to end on the real engine: submissions that are valid where students run them are graded on what
they build, never broken by the grader's own settings or blamed for the engine's age.

- the grader's resource caps merge with `deploy.resources.limits` (issue 21, item 4);
- Redis reached under a network alias or `hostname` of its service counts (item 5);
- a HEALTHCHECK using a program the slim image lacks: the app serves, Docker marks it unhealthy (item 5);
- syntax the classic builder cannot build (DOCKER_BUILDKIT=0) is an `error`, never a `fail` (item 1).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import leftovers, make_checkout, solution_files

pytestmark = pytest.mark.docker
SOL = solution_files()
DF, DC = SOL["Dockerfile.prod"], SOL["docker-compose.prod.yml"]


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


def grade(root: Path, env: dict[str, str] | None = None) -> tuple[dict, str]:
    report = root / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "autograde", "grade", str(root), "--json", str(report), "--host-port", "auto"],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, **(env or {})},
    )
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out
    data = json.loads(report.read_text())
    assert leftovers(data["grader"]["project"]) == []
    return data, out


def by_id(report: dict) -> dict[str, dict]:
    return {c["id"]: c for c in report["checks"]}


DEPLOY_LIMITS = edit(
    DC,
    "    depends_on:\n      - redis_prod\n",
    "    depends_on:\n      - redis_prod\n"
    "    deploy:\n"
    "      resources:\n"
    "        limits:\n"
    "          cpus: '0.50'\n"
    "          memory: 256M\n"
    "        reservations:\n"
    "          memory: 64M\n",
)


def test_deploy_resource_limits_get_full_marks(tmp_path):
    report, out = grade(make_checkout(tmp_path / "deploy", files={"docker-compose.prod.yml": DEPLOY_LIMITS}))
    assert report["score"] == report["max_score"], out


ALIAS = edit(
    edit(DC, "REDIS_HOST=redis_prod", "REDIS_HOST=redis"),
    '      - "6383:6379"\n',
    '      - "6383:6379"\n    networks:\n      default:\n        aliases: [redis]\n',
)
HOSTNAME = edit(
    edit(DC, "REDIS_HOST=redis_prod", "REDIS_HOST=cache"),
    "    image: redis:alpine\n",
    "    image: redis:alpine\n    hostname: cache\n",
)

CONTAINER_NAME = edit(
    edit(DC, "REDIS_HOST=redis_prod", "REDIS_HOST=lab-redis"),
    "    image: redis:alpine\n",
    "    image: redis:alpine\n    container_name: lab-redis\n",
)

LINKS = edit(
    edit(DC, "REDIS_HOST=redis_prod", "REDIS_HOST=db"),
    "    depends_on:\n",
    "    links:\n      - redis_prod:db\n    depends_on:\n",
)


@pytest.mark.parametrize(
    ("name", "compose"),
    [("alias", ALIAS), ("hostname", HOSTNAME), ("container_name", CONTAINER_NAME), ("links", LINKS)],
)
def test_redis_reached_under_an_alias_or_hostname_of_redis_prod_counts(tmp_path, name, compose):
    report, out = grade(make_checkout(tmp_path / name, files={"docker-compose.prod.yml": compose}))
    checks = by_id(report)
    assert checks["runtime.counter"]["status"] == "pass", out
    assert report["score"] == report["max_score"], out


CURL_HEALTHCHECK = edit(
    DF, "EXPOSE 5000\n", "EXPOSE 5000\nHEALTHCHECK --interval=30s CMD curl -f http://localhost:5000/ || exit 1\n"
)


def test_a_healthcheck_with_a_program_the_slim_image_lacks_costs_nothing_and_is_named(tmp_path):
    report, out = grade(make_checkout(tmp_path / "curl", files={"Dockerfile.prod": CURL_HEALTHCHECK}))
    assert report["score"] == report["max_score"], out
    up = by_id(report)["runtime.up"]
    assert "Docker marks web_prod unhealthy" in up["message"], out
    assert "curl -f http://localhost:5000/ || exit 1" in up["message"]
    assert "(Dockerfile.prod:" in up["message"]
    assert "curl is not in the prod image" in up["message"] and "urllib.request" in up["message"]


def test_a_healthcheck_that_passes_is_not_mentioned(tmp_path):
    python_check = "python -c \"import urllib.request; urllib.request.urlopen('http://localhost:5000/')\""
    dockerfile = edit(DF, "EXPOSE 5000\n", f"EXPOSE 5000\nHEALTHCHECK CMD {python_check}\n")
    report, out = grade(make_checkout(tmp_path / "py", files={"Dockerfile.prod": dockerfile}))
    assert report["score"] == report["max_score"], out
    assert "unhealthy" not in by_id(report)["runtime.up"]["message"]


CACHE_MOUNT = edit(
    DF,
    "RUN python -m venv /opt/venv \\\n && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt",
    "RUN python -m venv /opt/venv\n"
    "RUN --mount=type=cache,target=/root/.cache/pip /opt/venv/bin/pip install -r requirements.txt",
)
HEREDOC = edit(
    DF,
    "RUN python -m venv /opt/venv \\\n && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt",
    "RUN <<EOF\nset -e\npython -m venv /opt/venv\n/opt/venv/bin/pip install --no-cache-dir -r requirements.txt\nEOF",
)


@pytest.mark.parametrize(
    ("name", "dockerfile", "feature"),
    [("mount", CACHE_MOUNT, "`RUN --mount`"), ("heredoc", HEREDOC, "heredocs (`RUN <<EOF`)")],
)
def test_the_classic_builder_is_too_old_for_buildkit_syntax_an_error_not_a_fail(tmp_path, name, dockerfile, feature):
    root = make_checkout(tmp_path / name, files={"Dockerfile.prod": dockerfile})
    report, out = grade(root, env={"DOCKER_BUILDKIT": "0"})
    checks = by_id(report)
    up = checks["runtime.up"]
    assert up["status"] == "error", out
    assert f"this engine is too old for {feature}" in up["message"], out
    assert "Docker Engine" in up["message"] and "classic builder" in up["message"]
    assert "Nothing to fix in your files" in up["hint"]
    for check in ("runtime.up", "runtime.counter", "images.size_ratio", "images.prod_lean"):
        assert checks[check]["status"] != "fail", (check, out)


def test_the_same_files_build_with_buildkit(tmp_path):
    report, out = grade(make_checkout(tmp_path / "mount", files={"Dockerfile.prod": CACHE_MOUNT}))
    assert by_id(report)["runtime.up"]["status"] == "pass", out
    assert by_id(report)["runtime.counter"]["status"] == "pass", out
