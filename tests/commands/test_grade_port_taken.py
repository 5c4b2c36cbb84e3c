"""Grading while the student's own prod stack runs (the lab's Cleanup allows keeping it) scores the
same as without it: the grader publishes web_prod on a free port when 5005 is taken, and says so."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from support import (
    compose,
    down,
    first_int,
    leftovers,
    make_checkout,
    solution_files,
    unique_project,
    wait_ok,
    wait_port_free,
)

pytestmark = pytest.mark.docker
PROD = "docker-compose.prod.yml"


def test_grade_with_the_students_own_stack_on_5005(tmp_path, docker_engine):
    project = unique_project("lab04prod")
    # the image name is the student's choice; a unique one keeps other runs on this engine apart
    compose_text = solution_files()[PROD].replace("image: docker-cd-lab04-web-prod", f"image: {project}-own-web-prod")
    checkout = make_checkout(tmp_path / "lab", files={PROD: compose_text})
    wait_port_free(5005)
    wait_port_free(6383)
    try:
        up = compose(project, checkout, "up", "--build", "-d", file=PROD, timeout=900)
        assert up.returncode == 0, up.stdout + up.stderr
        status, body = wait_ok("http://localhost:5005/")
        assert status == 200, body
        before = first_int(body)

        report = tmp_path / "report.json"
        proc = subprocess.run(
            [sys.executable, "-m", "autograde", "grade", str(checkout), "--json", str(report)],
            capture_output=True,
            text=True,
            timeout=900,
        )
        out = proc.stdout + proc.stderr
        assert "Traceback" not in out, out
        data = json.loads(report.read_text())
        assert data["score"] == data["max_score"], out
        assert proc.returncode == 0, out
        assert all(c["status"] == "pass" for c in data["checks"]), out
        grader = data["grader"]
        assert grader["host_port"] != 5005
        assert f"host port 5005 is in use (the container {project}-web_prod-1 publishes it)" in grader["host_port_note"]
        assert "autograde: host port 5005 is in use" in proc.stderr
        assert leftovers(grader["project"]) == []

        # the student's stack was left alone: still up, still counting where it was
        status, body = wait_ok("http://localhost:5005/")
        assert status == 200 and first_int(body) == before + 1, body
    finally:
        down(project, checkout, PROD)
        assert leftovers(project) == []
