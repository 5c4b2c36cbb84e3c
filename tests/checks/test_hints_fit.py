"""Hints fit the student's file: "Change" what exists, "Add" only what is missing, never ask for a
step the file already has."""

from __future__ import annotations

import pytest

from autograde.checks.build_diagnosis import explain_build
from autograde.model import load_submission
from autograde.runtime.facts import BuildFacts
from support import make_checkout, solution_files

SOLUTION = solution_files()
COMPOSE = SOLUTION["docker-compose.prod.yml"]
DOCKERFILE = SOLUTION["Dockerfile.prod"]


def edited(text: str, replace: dict[str, str]) -> str:
    for old, new in replace.items():
        assert old in text, f"test setup: {old!r} not in the solution"
        text = text.replace(old, new)
    return text


PORT_HINTS = {
    "reversed": ('- "5000:5005"', "Change `5000:5005` to `5005:5000`"),
    "reversed with host ip": ('- "127.0.0.1:5000:5005"', "Change `127.0.0.1:5000:5005` to `127.0.0.1:5005:5000`"),
    "another host port": ('- "5006:5000"', "Change `5006:5000` to `5005:5000`"),
    "container port only": ('- "5000"', "Change `5000` to `5005:5000`"),
    "udp": ('- "5005:5000/udp"', "Change `5005:5000/udp` to `5005:5000`"),
    "long syntax, other published": (
        "- target: 5000\n        published: 5006",
        "change `published: 5006` to `published: 5005`",
    ),
}


@pytest.mark.parametrize("case", PORT_HINTS)
def test_ports_hint_changes_the_entry_that_exists(grade_static, case):
    entry, expected = PORT_HINTS[case]
    r = grade_static("compose.web_prod", {"docker-compose.prod.yml": edited(COMPOSE, {'- "5005:5000"': entry})})
    assert r.status == "fail"
    assert expected in r.hint, r.hint
    assert "Add" not in r.hint, r.hint


def test_ports_hint_adds_when_there_are_no_ports(grade_static):
    r = grade_static(
        "compose.web_prod", {"docker-compose.prod.yml": edited(COMPOSE, {'    ports:\n      - "5005:5000"\n': ""})}
    )
    assert r.status == "fail"
    assert r.hint.startswith('Add `ports: ["5005:5000"]`'), r.hint


def test_ports_hint_adds_beside_an_unrelated_entry(grade_static):
    text = edited(COMPOSE, {'- "5005:5000"': '- "8080:80"\n      - "9090:90"'})
    r = grade_static("compose.web_prod", {"docker-compose.prod.yml": text})
    assert r.hint.startswith('Add `- "5005:5000"` to web_prod\'s `ports:` list'), r.hint


@pytest.mark.parametrize(
    ("replace", "expected"),
    [
        ({"- REDIS_HOST=redis_prod": "- REDIS_HOST=redis"}, "Change `REDIS_HOST=redis` to `REDIS_HOST=redis_prod`"),
        (
            {"- REDIS_HOST=redis_prod": "REDIS_HOST: localhost"},
            "Change `REDIS_HOST: localhost` to `REDIS_HOST: redis_prod`",
        ),
        (
            {"- REDIS_HOST=redis_prod": "- FLASK_ENV=production"},
            "Add `- REDIS_HOST=redis_prod` to web_prod's `environment:` list",
        ),
        (
            {"    environment:\n      - REDIS_HOST=redis_prod\n": ""},
            "Add `environment: [REDIS_HOST=redis_prod]` to web_prod",
        ),
    ],
)
def test_environment_hint_fits_the_file(grade_static, replace, expected):
    r = grade_static("compose.web_prod", {"docker-compose.prod.yml": edited(COMPOSE, replace)})
    assert r.status == "fail"
    assert expected in r.hint, r.hint


def test_depends_on_hint_adds_to_the_existing_list(grade_static):
    text = edited(COMPOSE, {"depends_on:\n      - redis_prod": "depends_on:\n      - cache"})
    text += "  cache:\n    image: busybox\n"
    r = grade_static("compose.web_prod", {"docker-compose.prod.yml": text})
    assert "Add `- redis_prod` to web_prod's `depends_on:` list (it names cache)" in r.hint, r.hint


WRONG_REQUIREMENT_PATHS = {
    "-r requirements.txt": "-r app/requirements.txt",
    "-r requirements-dev.txt": "-r app/requirements-dev.txt",
}


def test_requirements_already_copied_are_not_asked_for_again(grade_static):
    """`-r app/requirements.txt` after `COPY app/requirements.txt ... ./`: the file is there, pip names a wrong path."""
    files = {"Dockerfile.prod": edited(DOCKERFILE, WRONG_REQUIREMENT_PATHS)}
    venv = grade_static("dockerfile.builder_venv", files)
    assert venv.status == "fail"
    assert "COPY" not in venv.hint, venv.hint
    assert "already in the stage, at /opt/app_builder/requirements.txt" in venv.hint
    assert "`-r requirements.txt` (relative to WORKDIR /opt/app_builder)" in venv.hint
    tests = grade_static("dockerfile.builder_tests", files)
    assert tests.status == "fail"
    assert "COPY" not in tests.hint and "pytest is in app/requirements-dev.txt" not in tests.hint, tests.hint
    assert "`-r requirements-dev.txt` (relative to WORKDIR /opt/app_builder)" in tests.hint


def test_requirements_not_copied_are_asked_for(grade_static):
    text = edited(DOCKERFILE, {"COPY app/requirements.txt app/requirements-dev.txt ./\n": ""})
    venv = grade_static("dockerfile.builder_venv", {"Dockerfile.prod": text})
    assert venv.status == "fail"
    assert venv.hint.startswith("COPY app/requirements.txt into the stage before line"), venv.hint


def test_build_failure_on_a_wrong_requirements_path_names_the_copied_file(tmp_path):
    """The build's own words ("Could not open requirements file") get the same fitting hint."""
    text = edited(DOCKERFILE, WRONG_REQUIREMENT_PATHS)
    sub = load_submission(make_checkout(tmp_path / "c", files={"Dockerfile.prod": text}))
    assert sub.dockerfile is not None
    line = next(i.line for i in sub.dockerfile.instructions if "app/requirements.txt" in i.original and i.cmd == "RUN")
    ins = next(i for i in sub.dockerfile.instructions if i.line == line)
    log = "ERROR: Could not open requirements file: [Errno 2] No such file or directory: 'app/requirements.txt'\n"
    build = BuildFacts(False, 3.0, failed_step=ins.original, exit_code=1, step_log=log, output_tail=log)
    out = explain_build(sub, build, "the prod image")
    assert out.status == "fail" and out.line == line
    assert "pip cannot open app/requirements.txt" in out.message
    assert "COPY" not in out.hint and "`-r requirements.txt` (relative to WORKDIR /opt/app_builder)" in out.hint, (
        out.hint
    )
