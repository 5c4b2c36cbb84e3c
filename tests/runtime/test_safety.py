"""The refusal policy, without an engine: each setting that reaches past the containers is refused, with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograde.model.compose import parse
from autograde.runtime.safety import FORBIDDEN_KEYS, HOST_NAMESPACES, scan

BASE = "services:\n  web_prod:\n    build: .\n"


def refused(extra: str, top: str = "", root: Path = Path("/repo")) -> list[str]:
    cf = parse(BASE + extra + top, "docker-compose.prod.yml")
    return [str(r) for r in scan(cf, root)]


@pytest.mark.parametrize("key", FORBIDDEN_KEYS)
def test_forbidden_keys(key):
    found = refused(f"    {key}: [x]\n")
    assert len(found) == 1 and f"`{key}`" in found[0] and found[0].startswith("docker-compose.prod.yml:4:"), found


@pytest.mark.parametrize("key", HOST_NAMESPACES)
def test_host_namespaces(key):
    assert refused(f"    {key}: host\n")
    assert refused(f"    {key}: ${{NS:-host}}\n"), "variables are expanded first"
    assert not refused(f"    {key}: private\n")


@pytest.mark.parametrize(
    "opt",
    [
        "seccomp:unconfined",
        "apparmor=unconfined",
        "label=disable",
        "label:disable",
        "no-new-privileges=false",
        "systempaths=unconfined",
    ],
)
def test_security_opt_that_turns_confinement_off(opt):
    assert refused(f"    security_opt: ['{opt}']\n")


@pytest.mark.parametrize(
    "volume, bad",
    [
        ("/var/run/docker.sock:/var/run/docker.sock", True),
        ("/etc:/host-etc", True),
        ("../outside:/x", True),
        ("~/.ssh:/x", True),
        ("./app:/app", False),
        ("data:/data", False),
        ("{type: bind, source: /, target: /host}", True),
        ("{type: npipe, source: x, target: /y}", True),
    ],
)
def test_volumes(volume, bad, tmp_path):
    (tmp_path / "app").mkdir()
    assert bool(refused(f"    volumes: [{volume if volume.startswith('{') else repr(volume)}]\n", root=tmp_path)) == bad


@pytest.mark.parametrize(
    "build, bad",
    [
        ("{context: .., dockerfile: Dockerfile.prod}", True),
        ("{context: 'https://github.com/x/y.git'}", True),
        ("{context: ., network: host}", True),
        ("{context: ., privileged: true}", True),
        ("{context: ., tags: ['python:3.13-slim']}", True),
        ("{context: ., cache_from: ['type=local,src=/tmp/c']}", True),
        ("{context: ., dockerfile: ../../etc/x}", True),
        ("{context: ., secrets: [s]}", True),
        ("{context: ./app, dockerfile: ../Dockerfile.prod}", False),
    ],
)
def test_builds(build, bad, tmp_path):
    (tmp_path / "app").mkdir()
    cf = parse(f"services:\n  web_prod:\n    build: {build}\n", "docker-compose.prod.yml")
    assert bool(scan(cf, tmp_path)) == bad


@pytest.mark.parametrize(
    "top",
    [
        "volumes:\n  v: {external: true}\n",
        "networks:\n  n: {external: true}\n",
        "networks:\n  n: {driver: host}\n",
        "volumes:\n  v: {driver_opts: {type: none, o: bind, device: /}}\n",
        "secrets:\n  s: {file: /etc/shadow}\n",
    ],
)
def test_top_level_sections(top):
    assert refused("", top)


def test_env_file_outside_the_repository(tmp_path):
    assert refused("    env_file: /etc/environment\n", root=tmp_path)
    assert not refused("    env_file: .env\n", root=tmp_path)


def test_the_solution_is_not_refused(tmp_path):
    from support import solution_files

    cf = parse(solution_files()["docker-compose.prod.yml"], "docker-compose.prod.yml")
    assert scan(cf, tmp_path) == []


# The scan runs over the file as Docker Compose resolves it (what will run): what an included or extended
# file sets is seen, in the file and at the line where it is written.


def _load(tmp_path: Path, files: dict[str, str]):
    from autograde.model import compose

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return compose.load(tmp_path, "docker-compose.prod.yml")


@pytest.mark.slow
def test_a_setting_in_an_included_file_is_refused_where_it_is_written(tmp_path, compose_cli):
    cf = _load(
        tmp_path,
        {
            "docker-compose.prod.yml": "include: [stack/redis.yml]\n" + BASE,
            "stack/redis.yml": "services:\n  redis_prod:\n    image: redis:alpine\n    privileged: true\n",
        },
    )
    assert cf.by_compose, cf.decided_by
    assert [str(r) for r in scan(cf, tmp_path)] == [
        "stack/redis.yml:4: service redis_prod sets `privileged`, which the grader does not allow"
    ]


@pytest.mark.slow
def test_a_service_extending_another_is_scanned_with_what_it_inherits(tmp_path, compose_cli):
    cf = _load(
        tmp_path,
        {
            "docker-compose.prod.yml": BASE + "  redis_prod:\n    extends: {file: base.yml, service: r}\n",
            "base.yml": "services:\n  r:\n    image: redis:alpine\n    volumes: ['/etc:/host-etc']\n",
        },
    )
    found = [str(r) for r in scan(cf, tmp_path)]
    assert len(found) == 1 and "mounts the host path '/etc'" in found[0] and found[0].startswith("base.yml:4:"), found


@pytest.mark.slow
def test_resolved_bind_mounts_inside_the_repository_pass(tmp_path, compose_cli):
    (tmp_path / "app").mkdir()
    cf = _load(
        tmp_path, {"docker-compose.prod.yml": BASE + "    volumes: ['./app:/app', 'data:/data']\nvolumes:\n  data:\n"}
    )
    assert cf.by_compose and scan(cf, tmp_path) == []


@pytest.mark.parametrize(
    "include",
    ["../elsewhere.yml", "/etc/compose.yml", "git@github.com:someone/stack.git", "oci://docker.io/someone/stack"],
)
def test_an_include_from_outside_the_repository_is_not_read_and_not_run(tmp_path, include):
    from autograde.model import compose

    (tmp_path / "docker-compose.prod.yml").write_text(f"include:\n  - {include}\n" + BASE)
    cf = compose.load(tmp_path, "docker-compose.prod.yml")
    assert not cf.by_compose and "outside the repository" in cf.decided_by, "Compose is not asked: it would read it"
    found = [str(r) for r in scan(cf, tmp_path)]
    assert found and found[0].startswith("docker-compose.prod.yml:2:"), found
    assert "the grader reads only the repository's own files" in found[0] and include in found[0]
