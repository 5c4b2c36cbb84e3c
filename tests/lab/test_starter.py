"""The starter files, as shipped, are unfinished; solutions.md holds exactly the two answers."""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest
import yaml

from support import (
    REPO,
    compose,
    down,
    leftovers,
    make_checkout,
    solution_files,
    unique_project,
    wait_http,
    wait_port_free,
)

PROD = "docker-compose.prod.yml"
README = (REPO / "README.md").read_text(encoding="utf-8")
PART1 = README.split("## Part 1", 1)[1].split("\n## ", 1)[0]


def part1_try_command() -> str:
    """The one command of README Part 1: building Dockerfile.prod on its own."""
    blocks = re.findall(r"^```bash\n(.*?)^```", PART1, re.S | re.M)
    assert len(blocks) == 1, blocks
    return blocks[0].strip()


def test_solutions_md_gives_exactly_the_two_files():
    files = solution_files()
    assert set(files) == {"Dockerfile.prod", "docker-compose.prod.yml"}
    assert all(text.strip() for text in files.values())


def test_starter_dockerfile_prod_has_no_instructions():
    lines = (REPO / "Dockerfile.prod").read_text(encoding="utf-8").splitlines()
    instructions = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    assert instructions == []
    assert "TODO" in "\n".join(lines)


def test_starter_compose_prod_only_names_the_services():
    text = (REPO / PROD).read_text(encoding="utf-8")
    assert "TODO_WEB_PROD_SERVICE" in text and "TODO_REDIS_PROD_SERVICE" in text
    settings = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert [s.strip() for s in settings] == ["name: lab04-prod", "services:", "web_prod:", "redis_prod:"]
    assert not re.search(r"^version\s*:", text, re.M)


def test_each_stack_has_its_own_project_name_and_the_solution_keeps_it():
    """Both files share a folder: without their own `name:` they would be one Compose project."""

    def name(text: str) -> str:
        return yaml.safe_load(text)["name"]

    dev = name((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    starter = (REPO / PROD).read_text(encoding="utf-8")
    starter_name = re.search(r"^name: (\S+)$", starter, re.M).group(1)
    assert (dev, starter_name) == ("lab04-dev", "lab04-prod")
    assert name(solution_files()[PROD]) == starter_name


def test_starter_header_points_to_the_part1_try_not_to_compose():
    """The prod compose file is unfinished until Part 2: the header must not send students there."""
    header = (REPO / "Dockerfile.prod").read_text(encoding="utf-8").split("# TODO 1")[0]
    assert part1_try_command() in header
    assert "docker compose" not in header


@pytest.mark.docker
def test_part1_try_command_refuses_the_starter_as_the_readme_says(tmp_path, docker_engine):
    checkout = make_checkout(tmp_path / "lab", solution=False)
    argv = shlex.split(part1_try_command())
    assert argv[:3] == ["docker", "build", "-f"] and argv[-1] == "."
    ran = subprocess.run(argv, cwd=checkout, capture_output=True, text=True, timeout=300)
    assert ran.returncode != 0
    assert "file with no instructions" in ran.stdout + ran.stderr  # quoted in Part 1
    assert "file with no instructions" in PART1


@pytest.mark.docker
def test_starter_does_not_make_a_working_prod_stack(tmp_path, docker_engine):
    checkout = make_checkout(tmp_path / "lab", solution=False)
    project = unique_project("lab04starter")
    wait_port_free(5005)
    try:
        up = compose(project, checkout, "up", "--build", "-d", file=PROD, timeout=600)
        if up.returncode == 0:  # should not happen; if it does, nothing may answer
            with pytest.raises(TimeoutError):
                wait_http("http://localhost:5005/", timeout=15)
    finally:
        down(project, checkout, PROD)
        assert leftovers(project) == []
