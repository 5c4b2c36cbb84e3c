"""LAB04 — Optimizing Images with Multi-Stage Dockerfile Builds: the built-in pack `lab04`.

Students complete `Dockerfile.prod` (a builder stage and a slim final stage) and
`docker-compose.prod.yml` (web_prod and redis_prod on port 5005). The runtime builds the prod stack and
the dev image (`docker-compose.yml`, web_dev), starts the prod stack, counts hits in Redis, and measures
the prod image against the dev image. Its template is this repository's root.

This module is the declaration only (data): the checks are in this package's modules, registered when
the pack is selected, and the runtime's probes in `scenario.py`.
"""

from __future__ import annotations

from autograde.labs import LabPack, Scenario

PACK = LabPack(
    id="lab04",
    title="LAB04 — Optimizing Images with Multi-Stage Dockerfile Builds",
    student_files=("Dockerfile.prod", "docker-compose.prod.yml"),
    protected=(
        "app/Dockerfile",
        "app/main.py",
        "app/requirements.txt",
        "app/requirements-dev.txt",
        "app/tests/",
        "docker-compose.yml",
        ".github/workflows/classroom.yml",
        "autograde/",
    ),
    check_modules=(
        "autograde.labs.lab04.dockerfile",
        "autograde.labs.lab04.compose",
        "autograde.labs.lab04.runtime",
        "autograde.labs.lab04.images",
    ),
    scenario=Scenario(
        stack_file="docker-compose.prod.yml",
        web="web_prod",
        redis="redis_prod",
        dockerfile="Dockerfile.prod",
        context=".",
        container_port=5000,
        host_port=5005,
        probe="autograde.labs.lab04.scenario:probe",
        compare_file="docker-compose.yml",
        compare_service="web_dev",
        compare_context="app",
    ),
    thresholds={"size_ratio_max": 0.5},
    template="",
    fingerprints="autograde/data/template-files.json",
    hints={
        "no_stage": "Complete the TODOs: a `FROM ... AS builder` stage, then a final stage.",
        "dockerfile_what": "the multi-stage production Dockerfile",
        "images": "the prod image",
        "image_source": "Dockerfile.prod (docker-compose.prod.yml)",
        "compared_image_source": "app/Dockerfile (docker-compose.yml)",
        "compared_image_name": "docker-cd-lab04-web-dev",
        "compared_image": "the dev image",
    },
    docs="README.md",
)
