"""LAB06 — Implementing Service Health Checks in Docker Compose: the built-in pack `lab06`.

Students complete `docker-compose.yml`: a health check on `web` (its `/health` endpoint, with a command
the image has), `redis-cli ping` on `redis`, their timing, and `depends_on` with
`condition: service_healthy`. The runtime builds `web` from `app/Dockerfile`, starts the stack, waits for
Docker's own health verdicts, counts hits in Redis, then stops Redis and runs web's check once more: it
must fail, because the app's `/health` answers 503 without Redis.

The template (the repository a student receives) is `template/`; `autograde lab init lab06 DIR` writes it
with its workflow and fingerprints. This module is the declaration only (data).
"""

from __future__ import annotations

from autograde.labs import LabPack, Scenario

PACK = LabPack(
    id="lab06",
    title="LAB06 — Implementing Service Health Checks in Docker Compose",
    student_files=("docker-compose.yml",),
    protected=(
        "app/Dockerfile",
        "app/main.py",
        "app/requirements.txt",
        "app/requirements-dev.txt",
        "app/tests/",
        ".github/workflows/classroom.yml",
    ),
    check_modules=("autograde.labs.lab06.checks",),
    scenario=Scenario(
        stack_file="docker-compose.yml",
        web="web",
        redis="redis",
        dockerfile="app/Dockerfile",
        context="app",
        container_port=5000,
        host_port=5007,
        probe="autograde.labs.lab06.scenario:probe",
        stop_services=("redis",),
    ),
    template="autograde.labs.lab06/template",
    fingerprints="autograde.labs.lab06/template-files.json",
    hints={
        "no_stage": "app/Dockerfile comes complete with the lab: restore it from the template.",
        "dockerfile_what": "the web service's Dockerfile (it comes complete with the lab)",
        "image_source": "app/Dockerfile (docker-compose.yml)",
        "images": "the web image",
        "web_check": (
            'healthcheck:\n  test: ["CMD", "python", "-c", "import urllib.request; '
            "urllib.request.urlopen('http://localhost:5000/health', timeout=2)\"]"
        ),
        "redis_check": 'healthcheck:\n  test: ["CMD", "redis-cli", "ping"]',
    },
    docs="README.md",
)
