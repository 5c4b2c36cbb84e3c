"""The grader's Compose project is its own: a `name:` in the student's files never names its runs."""

from __future__ import annotations

import json
import time

import pytest
from test_grade_e2e import assert_clean, grade

from support import leftovers, make_checkout, solution_files, unique_project

pytestmark = pytest.mark.docker


def test_a_students_project_name_never_reaches_the_graders_runs(tmp_path, docker_engine):
    student = unique_project("studentname")
    prod = solution_files()["docker-compose.prod.yml"]
    assert prod.count("name: lab04-prod\n") == 1
    checkout = make_checkout(
        tmp_path / "c", files={"docker-compose.prod.yml": prod.replace("name: lab04-prod\n", f"name: {student}\n")}
    )
    dev = checkout / "docker-compose.yml"
    dev.write_text(dev.read_text().replace("name: lab04-dev\n", f"name: {student}-dev\n"))
    assert f"name: {student}-dev\n" in dev.read_text()

    since = int(time.time()) - 1
    code, report, out = grade(checkout)
    until = int(time.time()) + 2
    assert report["score"] == report["max_score"] and code == 0, out

    project = report["grader"]["project"]
    assert project.startswith("autograde-") and student not in project
    events = [json.dumps(e) for e in docker_engine.events(since=since, until=until, decode=True)]
    assert any(project in e for e in events), "the grader's own containers and network show in the engine's events"
    named_by_student = [e for e in events if student in e]
    assert named_by_student == [], named_by_student[:3]
    assert leftovers(student) == [] and leftovers(f"{student}-dev") == []
    assert_clean(report)
