"""The grader's override files: only tags, ports, caps and container names are the grader's."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from autograde.model.build import prod_build
from autograde.model.compose import parse
from autograde.runtime.override import Caps, dev_override, merge_refusal, prod_override, size_bytes

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


# -- the caps merge with the student's own limits ----------------------------------------------
# Each case: the student's web_prod limits (valid Compose, accepted by `docker compose config` on
# its own), and the limits the merged stack must end up with, as Compose resolves them.

MiB = 1 << 20
LIMIT_CASES = {
    "deploy-limits-stricter": (
        "deploy: {resources: {limits: {cpus: '0.50', memory: 256M, pids: 100},"
        " reservations: {cpus: '0.25', memory: 128M}}}",
        {"cpus": 0.5, "mem_limit": 256 * MiB, "memswap_limit": 256 * MiB, "pids_limit": 100},
    ),
    "deploy-limits-looser": (
        "deploy: {resources: {limits: {cpus: '2', memory: 2G, pids: 4096}}}",
        {"cpus": 1.0, "mem_limit": 512 * MiB, "limits.memory": 512 * MiB, "limits.cpus": 1.0, "pids_limit": 256},
    ),
    "short-form-looser": (
        "{cpus: 4, mem_limit: 1g, pids_limit: 1000}",
        {"cpus": 1.0, "mem_limit": 512 * MiB, "pids_limit": 256},
    ),
    "short-form-stricter": (
        "{cpus: 0.25, mem_limit: 64m, pids_limit: 32}",
        {"cpus": 0.25, "mem_limit": 64 * MiB, "memswap_limit": 64 * MiB, "pids_limit": 32},
    ),
    "reservations-above-the-cap": (
        "{mem_reservation: 1g, deploy: {resources: {reservations: {memory: 1g}}}}",
        {"mem_limit": 512 * MiB, "mem_reservation": 512 * MiB, "reservations.memory": 512 * MiB},
    ),
    "unlimited-swap": (
        "{mem_limit: 300m, memswap_limit: -1}",
        {"mem_limit": 300 * MiB, "memswap_limit": 300 * MiB},
    ),
    "swap-limit-only": (
        "{memswap_limit: 200m, mem_limit: 100m}",
        {"mem_limit": 100 * MiB, "memswap_limit": 100 * MiB},
    ),
    "cfs-quota": (
        "{cpu_quota: 300000, cpu_period: 100000}",
        {"cpu_quota": 100000, "cpu_period": 100000, "cpus": None},
    ),
    "cfs-period-only": (
        "{cpu_period: 50000}",
        {"cpu_quota": 50000, "cpus": None},
    ),
}


def _student_file(limits: str) -> str:
    return (
        "x-base: &base\n"
        "  restart: unless-stopped\n"
        "services:\n"
        "  web_prod:\n"
        "    <<: *base\n"
        "    build: {context: ., dockerfile: Dockerfile.prod}\n"
        "    ports: ['5005:5000']\n"
        f"    {limits if limits.startswith('deploy') else ''}\n"
        "  redis_prod:\n"
        "    image: redis:alpine\n"
        "    deploy:\n"
        "      resources:\n"
        "        limits:\n"
        "          memory: ${REDIS_MEM:-128M}\n"
    ).replace("    \n", "\n")


def _with_limits(text: str, limits: str) -> str:
    if limits.startswith("deploy"):
        return text
    # a flow mapping of short-form keys goes under web_prod
    data = yaml.safe_load(limits)
    lines = "".join(f"    {k}: {v}\n" for k, v in data.items() if k != "deploy")
    if "deploy" in data:
        lines += f"    deploy: {json.dumps(data['deploy'])}\n"
    return text.replace("    ports: ['5005:5000']\n", "    ports: ['5005:5000']\n" + lines)


def _config(root: Path, *files: str) -> subprocess.CompletedProcess[str]:
    argv = ["docker", "compose", "-p", "override-test", "--project-directory", str(root)]
    for f in files:
        argv += ["-f", f]
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    return subprocess.run(
        [*argv, "config", "--format", "json"], capture_output=True, text=True, timeout=60, cwd=root, env=env
    )


def _effective(service: dict, key: str):
    if key.startswith(("limits.", "reservations.")):
        kind, name = key.split(".")
        value = ((service.get("deploy") or {}).get("resources") or {}).get(kind, {}).get(name)
    else:
        value = service.get(key)
    if value is None:
        return None
    return float(value) if "cpus" in key else int(value)


@pytest.mark.docker
@pytest.mark.parametrize("case", sorted(LIMIT_CASES))
def test_caps_merge_with_the_students_limits_in_a_form_compose_accepts(tmp_path, case):
    limits, expected = LIMIT_CASES[case]
    prod = tmp_path / "docker-compose.prod.yml"
    prod.write_text(_with_limits(_student_file(limits), limits))
    alone = _config(tmp_path, str(prod))
    assert alone.returncode == 0, alone.stderr  # the student's file is valid on its own
    resolved = json.loads(alone.stdout)
    cf = parse(prod.read_text(), "docker-compose.prod.yml")
    caps = Caps("512m", 256, 1.0)
    kwargs: dict = {"prod_tag": "p:graded", "other_tag": "o{index}:graded", "port": 4242, "caps": caps}

    # the plain caps, as the grader wrote them before, are refused beside `deploy` limits
    plain = tmp_path / "plain.yml"
    plain.write_text(prod_override(cf, prod_build(cf), tmp_path, **kwargs)[0])
    if "deploy: {resources: {limits" in limits:
        refused = _config(tmp_path, str(prod), str(plain))
        assert refused.returncode != 0 and "can't set distinct values" in refused.stderr

    merged_file = tmp_path / "override.yml"
    merged_file.write_text(prod_override(cf, prod_build(cf), tmp_path, resolved=resolved, **kwargs)[0])
    merged = _config(tmp_path, str(prod), str(merged_file))
    assert merged.returncode == 0, merged.stderr + merged_file.read_text()
    services = json.loads(merged.stdout)["services"]
    web = services["web_prod"]
    for key, value in expected.items():
        assert _effective(web, key) == value, (key, web)
    # every service is capped, the student's stricter Redis limit kept
    redis = services["redis_prod"]
    assert int(redis["mem_limit"]) == 128 * MiB and _effective(redis, "limits.memory") == 128 * MiB
    assert web["restart"] == "unless-stopped"  # the student's anchors and merge keys are untouched


def test_size_bytes_reads_sizes_as_compose_does():
    assert size_bytes("512m") == 512 * MiB
    assert size_bytes("1.5g") == 3 * (1 << 29)
    assert size_bytes("256 MiB") == 256 * MiB
    assert size_bytes("268435456") == 268435456
    assert size_bytes(1024) == 1024
    assert size_bytes("-1") is None and size_bytes(-1) is None and size_bytes(0) is None
    assert size_bytes("lots") is None and size_bytes(None) is None


def test_the_dev_override_merges_too():
    resolved = {"services": {"web_dev": {"deploy": {"resources": {"limits": {"cpus": 0.5}}}}}}
    data = load(dev_override(dev_tag="d:graded", caps=Caps(), resolved=resolved))["services"]["web_dev"]
    assert data["cpus"] == 0.5
    assert data["deploy"] == {"resources": {"limits": {"cpus": 0.5, "memory": "512m", "pids": 256}}}


def test_merge_refusal_names_compose_and_blames_the_grader():
    message, hint = merge_refusal(
        "docker-compose.prod.yml",
        "services.web_prod: can't set distinct values on 'cpus' and 'deploy.resources.limits.cpus'",
    )
    assert "can't set distinct values on 'cpus'" in message
    assert "grader's problem, not your file's" in message
    assert "Nothing to fix in your files" in hint


def test_a_container_name_the_grader_removes_stays_a_network_alias():
    cf = parse(PROD, "docker-compose.prod.yml")
    resolved = {
        "services": {
            "web_prod": {"container_name": "fixed", "networks": {"default": None, "back": {"aliases": ["w"]}}},
            "redis_prod": {"container_name": "lab-redis", "network_mode": "host"},
        }
    }
    text, _ = prod_override(
        cf, prod_build(cf), Path("/r"), prod_tag="p", other_tag="o{index}", port=1, caps=Caps(), resolved=resolved
    )
    data = load(text)["services"]
    assert data["web_prod"]["container_name"] == ("reset", "null")
    assert data["web_prod"]["networks"] == {"default": {"aliases": ["fixed"]}, "back": {"aliases": ["fixed"]}}
    assert "networks" not in data["redis_prod"]  # no networks of its own to alias on
