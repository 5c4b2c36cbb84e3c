"""A first-time student follows LAB06's text, and gets 100.

The student starts from the template, runs what Part 1 says, and edits docker-compose.yml with exactly the
snippets the lab text gives: Part 2's redis health check, Part 3's web health check, Part 4's suggested
timing (the table's last column), Part 5's `depends_on`. Then, as Part 6 says, `docker compose config
--quiet` accepts the file, and the grade, run as the workflow runs it, is 100.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from lab06_support import TEMPLATE, make_checkout

README = (TEMPLATE / "README.md").read_text(encoding="utf-8")


def part(n: int) -> str:
    m = re.search(rf"^## Part {n} .*?(?=^## )", README, re.S | re.M)
    assert m, f"the lab text has no Part {n}"
    return m.group(0)


def yaml_blocks(text: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", text, re.S)


def suggested_timing() -> dict[str, dict[str, object]]:
    """Part 4's table: each setting's suggested value, per service ("`10s` for web, `5s` for redis")."""
    out: dict[str, dict[str, object]] = {"web": {}, "redis": {}}
    for row in re.findall(r"^\| `(\w+)` \|.*\| (.+?) \|$", part(4), re.M):
        key, cell = row
        values = re.findall(r"`([^`]+)`(?: for (\w+))?", cell)
        for value, service in values:
            for name in [service] if service else ["web", "redis"]:
                out[name][key] = int(value) if value.isdigit() else value
    return out


def edited_by_the_student() -> str:
    """The starter edited as the lab text says, block by block."""
    starter = yaml.safe_load((TEMPLATE / "docker-compose.yml").read_text(encoding="utf-8"))
    redis_check = yaml.safe_load(yaml_blocks(part(2))[0])["healthcheck"]
    web_check = yaml.safe_load(yaml_blocks(part(3))[0])["healthcheck"]
    depends = yaml.safe_load(yaml_blocks(part(5))[-1])["depends_on"]
    timing = suggested_timing()
    assert set(timing["web"]) == {"interval", "timeout", "retries", "start_period"}, timing
    starter["services"]["redis"]["healthcheck"] = {**redis_check, **timing["redis"]}
    starter["services"]["web"]["healthcheck"] = {**web_check, **timing["web"]}
    starter["services"]["web"]["depends_on"] = depends
    return yaml.safe_dump(starter, sort_keys=False)


def test_the_lab_text_gives_every_piece_a_student_needs():
    text = edited_by_the_student()
    data = yaml.safe_load(text)
    assert data["services"]["web"]["healthcheck"]["start_period"] == "10s"
    assert data["services"]["redis"]["healthcheck"]["start_period"] == "5s"
    assert data["services"]["web"]["depends_on"] == {"redis": {"condition": "service_healthy"}}


@pytest.mark.docker
def test_a_student_who_follows_the_text_gets_100(tmp_path, docker_engine):
    checkout = make_checkout(tmp_path / "student")
    (checkout / "docker-compose.yml").write_text(edited_by_the_student(), encoding="utf-8")
    config = subprocess.run(
        ["docker", "compose", "config", "--quiet"], cwd=checkout, capture_output=True, text=True, timeout=60
    )
    assert config.returncode == 0, config.stderr  # Part 6: "docker-compose.yml is valid"
    report = tmp_path / "report.json"
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograde",
            "grade",
            str(checkout),
            "--lab",
            "lab06",
            "--host-port",
            "auto",
            "--json",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    data = json.loads(report.read_text())
    assert (ran.returncode, data["score"], data["max_score"]) == (0, 100, 100), ran.stdout[-3000:] + ran.stderr[-2000:]


def test_the_student_s_file_is_not_the_solution_copied():
    """The text, not solutions.md, got the student there (their files differ; both are valid)."""
    solutions = (TEMPLATE / "solutions.md").read_text(encoding="utf-8")
    assert edited_by_the_student() not in solutions
    assert Path(TEMPLATE / "docker-compose.yml").read_text(encoding="utf-8").count("TODO_") == 3
