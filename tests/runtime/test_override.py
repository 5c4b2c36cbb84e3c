"""The grader's override files: only tags, ports, caps and container names are the grader's."""

from __future__ import annotations

from pathlib import Path

import yaml

from autograde.model.build import prod_build
from autograde.model.compose import parse
from autograde.runtime.override import Caps, dev_override, prod_override

PROD = """services:
  web_prod:
    build:
      context: ./app
      dockerfile: ../Dockerfile.prod
    image: my/web
    container_name: fixed
    ports: ["5006:5000"]
  redis_prod:
    image: redis:alpine
    ports: ["6383:6379"]
  worker:
    build: ./worker
    image: python:3.13-slim
"""


class _Tagged(yaml.SafeLoader):
    pass


_Tagged.add_multi_constructor(
    "!",
    lambda loader, tag, node: (
        tag,
        loader.construct_sequence(node)
        if isinstance(node, yaml.SequenceNode)
        else loader.construct_mapping(node)
        if isinstance(node, yaml.MappingNode)
        else loader.construct_scalar(node),
    ),
)


def load(text: str):
    return yaml.load(text, Loader=_Tagged)


def test_student_build_is_kept_and_only_grader_fields_are_overridden():
    cf = parse(PROD, "docker-compose.prod.yml")
    text, others = prod_override(
        cf,
        prod_build(cf),
        Path("/repo"),
        prod_tag="p:graded",
        other_tag="o{index}:graded",
        port=4242,
        caps=Caps("256m", 64, 0.5),
    )
    data = load(text)["services"]
    web = data["web_prod"]
    assert "build" not in web  # the student's own build section is what runs
    assert web["image"] == "p:graded"
    assert web["ports"] == ("override", ["127.0.0.1:4242:5000"])
    assert web["container_name"] == ("reset", "null")
    assert (web["mem_limit"], web["memswap_limit"], web["pids_limit"], web["cpus"]) == ("256m", "256m", 64, 0.5)
    assert data["redis_prod"]["ports"] == ("reset", [])
    assert "image" not in data["redis_prod"]  # a registry image keeps its name
    assert data["worker"]["image"] == "o0:graded" and others == ["o0:graded"]


def test_a_build_that_cannot_build_dockerfile_prod_is_replaced_by_the_labs():
    cf = parse(PROD.replace("dockerfile: ../Dockerfile.prod", "dockerfile: Dockerfile"), "docker-compose.prod.yml")
    text, _ = prod_override(
        cf, prod_build(cf), Path("/repo"), prod_tag="p:graded", other_tag="o{index}", port=1, caps=Caps()
    )
    assert load(text)["services"]["web_prod"]["build"] == (
        "override",
        {"context": "/repo", "dockerfile": "Dockerfile.prod"},
    )


def test_hostile_names_stay_data():
    cf = parse('services:\n  "web_prod": {build: .}\n  "x: !reset\\n  y": {image: redis}\n', "docker-compose.prod.yml")
    text, _ = prod_override(cf, prod_build(cf), Path("/r"), prod_tag="p", other_tag="o{index}", port=1, caps=Caps())
    assert set(load(text)["services"]) == {"web_prod", "x: !reset\n  y"}


def test_dev_override():
    data = load(dev_override(dev_tag="d:graded", caps=Caps()))
    assert data["services"]["web_dev"]["image"] == "d:graded"
