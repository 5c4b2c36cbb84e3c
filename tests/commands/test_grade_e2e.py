"""End to end on the real engine: the solution scores 100, the starter almost nothing, and each
broken submission loses exactly the points of the check it breaks (and of that check's dependents)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autograde.checks import default_rubric
from support import leftovers, make_checkout, solution_files, volumes_left_by

pytestmark = pytest.mark.docker
SOL = solution_files()
DF, DC = SOL["Dockerfile.prod"], SOL["docker-compose.prod.yml"]
COUNT_IN_MEMORY = (
    "import http.server as h\\nn=[0]\\nclass H(h.BaseHTTPRequestHandler):\\n def do_GET(s):\\n  n[0]+=1\\n"
    "  b=('viewed %d times' % n[0]).encode()\\n  s.send_response(200); s.end_headers(); s.wfile.write(b)\\n"
    "h.HTTPServer(('0.0.0.0',5000),H).serve_forever()"
)


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


# variant -> (files changed, ids expected not to pass)
VARIANTS: dict[str, tuple[dict[str, str | None], set[str]]] = {
    "dockerfile.stages": (
        {"Dockerfile.prod": DF.replace("AS builder", "AS build").replace("--from=builder", "--from=build")},
        {"dockerfile.stages"},
    ),
    "dockerfile.builder_venv": (
        {
            "Dockerfile.prod": edit(
                DF,
                "/opt/venv/bin/pip install --no-cache-dir -r requirements.txt",
                "/opt/venv/bin/pip install --no-cache-dir flask==3.1.3 redis==8.1.0",
            )
        },
        {"dockerfile.builder_venv"},
    ),
    "dockerfile.builder_tests": (
        {
            "Dockerfile.prod": edit(
                DF, "RUN pip install --no-cache-dir -r requirements-dev.txt \\\n && python -m pytest -q tests/", ""
            )
        },
        {"dockerfile.builder_tests"},
    ),
    "dockerfile.final_slim": (
        {"Dockerfile.prod": edit(DF, "FROM python:3.13-slim", "FROM autograde-e2e/pyslim:latest")},
        {"dockerfile.final_slim"},
    ),
    "dockerfile.final_copies": ({"Dockerfile.prod": edit(DF, "EXPOSE 5000\n", "")}, {"dockerfile.final_copies"}),
    "compose.services": (
        {"docker-compose.prod.yml": edit(DC, "image: redis:alpine", "image: autograde-e2e/kv:latest")},
        {"compose.services"},
    ),
    "compose.web_prod": ({"docker-compose.prod.yml": edit(DC, '"5005:5000"', '"5006:5000"')}, {"compose.web_prod"}),
    "compose.web_build": (
        {
            "docker-compose.prod.yml": edit(DC, "dockerfile: Dockerfile.prod", "dockerfile: Dockerfile.prod2"),
            "Dockerfile.prod2": DF,
        },
        {"compose.web_build"},
    ),
    "runtime.up": (
        {
            "docker-compose.prod.yml": edit(
                DC, "image: redis:alpine", 'image: redis:alpine\n    command: ["redis-server", "--no-such-option"]'
            )
        },
        {"runtime.up", "runtime.counter"},
    ),
    "runtime.counter": (
        {
            "docker-compose.prod.yml": edit(
                DC,
                "image: docker-cd-lab04-web-prod",
                f'image: docker-cd-lab04-web-prod\n    command: ["python", "-c", "{COUNT_IN_MEMORY}"]',
            )
        },
        {"runtime.counter"},
    ),
    "images.size_ratio": (
        {"Dockerfile.prod": edit(DF, "EXPOSE 5000", "RUN head -c 900000000 /dev/zero > /bloat\nEXPOSE 5000")},
        {"images.size_ratio"},
    ),
    "images.prod_lean": (
        {
            "Dockerfile.prod": edit(
                DF, "COPY --from=builder /opt/app_builder/main.py .", "COPY --from=builder /opt/app_builder/ ."
            )
        },
        {"images.prod_lean"},
    ),
}


def grade(root: Path, *extra: str) -> tuple[int, dict, str]:
    report = root / "report.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograde",
            "grade",
            str(root),
            "--json",
            str(report),
            "--host-port",
            "auto",
            "--build-timeout",
            "300",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return proc.returncode, json.loads(report.read_text()), proc.stdout


@pytest.fixture(scope="module")
def retagged(docker_engine):
    """Images that are the stand-ins under names the rubric does not accept."""
    tags = {"autograde-e2e/pyslim:latest": "python:3.13-slim", "autograde-e2e/kv:latest": "redis:alpine"}
    for new, old in tags.items():
        docker_engine.images.get(old).tag(new)
    yield
    for new in tags:
        docker_engine.images.remove(new)


def assert_clean(report: dict) -> None:
    project = report["grader"].get("project")
    assert project, "the report names the compose project it used"
    assert leftovers(project) == []


def test_solution_scores_full_marks(tmp_path, docker_engine):
    since = time.time()
    code, report, out = grade(make_checkout(tmp_path / "sol"))
    # every volume its containers mounted is gone too (redis:alpine's anonymous /data; the health probe's)
    assert volumes_left_by(report["grader"]["project"], since, time.time()) == []
    assert report["score"] == report["max_score"] == default_rubric().possible, out
    assert code == 0
    assert all(c["status"] == "pass" for c in report["checks"])
    assert report["images"]["ratio"] <= 0.5
    assert set(report["timings"]) >= {"parse", "static", "build_dev", "build_prod", "up", "probes", "cleanup"}
    assert_clean(report)
    tags = {t for i in docker_engine.images.list() for t in i.tags}
    assert not any(project_tag.startswith(report["grader"]["project"]) for project_tag in tags)


def test_starter_scores_at_most_10(tmp_path, docker_engine):
    code, report, out = grade(make_checkout(tmp_path / "starter", solution=False))
    assert report["score"] <= 10, out
    assert code == 1
    up = next(c for c in report["checks"] if c["id"] == "runtime.up")
    assert up["status"] == "skip" and "cannot be built" in up["message"]


def test_each_check_has_a_submission_that_loses_exactly_its_points(tmp_path, retagged):
    points = {i.id: i.points for i in default_rubric().items}
    assert set(VARIANTS) == set(points), "every check id has a broken variant"

    def one(name: str) -> tuple[str, int, dict, str]:
        files, _ = VARIANTS[name]
        code, report, out = grade(make_checkout(tmp_path / name.replace(".", "_"), files=files))
        return name, code, report, out

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(one, VARIANTS))
    for name, code, report, out in outcomes:
        expected = VARIANTS[name][1]
        lost = {c["id"] for c in report["checks"] if c["status"] != "pass"}
        assert lost == expected, f"{name}: lost {lost}\n{out}"
        assert report["score"] == default_rubric().possible - sum(points[i] for i in expected), name
        assert code == 1, name
        assert_clean(report)
