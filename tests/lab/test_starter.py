"""The starter files, as shipped, are unfinished; solutions.md holds exactly the two answers."""
from __future__ import annotations

import re

import pytest

from support import REPO, compose, down, leftovers, make_checkout, solution_files, unique_project, \
    wait_http, wait_port_free

PROD = "docker-compose.prod.yml"


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
    assert [s.strip() for s in settings] == ["services:", "web_prod:", "redis_prod:"]
    assert not re.search(r"^version\s*:", text, re.M)


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
