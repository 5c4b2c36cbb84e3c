"""Case 1: a Compose file that reaches past its containers is refused before anything runs.

The runtime checks are skipped with the offending key and its line; the static checks keep
their points; nothing is started, so nothing is left.
"""

from __future__ import annotations

import pytest

from hostile.harness import DOCKERFILE, RUNTIME, assert_clean, checkout, grade, snapshot, solution

pytestmark = pytest.mark.docker

ANCHOR = "    image: docker-cd-lab04-web-prod\n"  # in the published docker-compose.prod.yml

# (id, lines added to web_prod right after ANCHOR, expected line of the refusal if ANCHOR were line 6, words
# the message must hold)
CASES = [
    ("privileged", "    privileged: true\n", 7, ["privileged"]),
    ("docker-socket", "    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n", 8, ["docker.sock"]),
    ("use-api-socket", "    use_api_socket: true\n", 7, ["use_api_socket"]),
    ("parent-dir", "    volumes:\n      - ../:/outside\n", 8, ["'../'", "inside the repository"]),
    ("home-dir", "    volumes:\n      - ~/.ssh:/root/.ssh:ro\n", 8, ["~/.ssh"]),
    (
        "bind-long-syntax",
        "    volumes:\n      - type: bind\n        source: /etc\n        target: /host-etc\n",
        8,
        ["'/etc'"],
    ),
    ("variable-host-path", "    volumes:\n      - ${HOME}:/h\n", 8, ["${HOME}"]),
    ("network-host", "    network_mode: host\n", 7, ["network_mode: host"]),
    ("network-host-variable", '    network_mode: "${NET:-host}"\n', 7, ["network_mode"]),
    ("pid-host", "    pid: host\n", 7, ["pid: host"]),
    ("ipc-host", "    ipc: host\n", 7, ["ipc: host"]),
    ("userns-host", "    userns_mode: host\n", 7, ["userns_mode: host"]),
    ("cap-add", "    cap_add:\n      - SYS_ADMIN\n", 7, ["cap_add"]),
    ("devices", "    devices:\n      - /dev/kmsg:/dev/kmsg\n", 7, ["devices"]),
    ("seccomp-unconfined", "    security_opt:\n      - seccomp:unconfined\n", 8, ["seccomp:unconfined"]),
    ("apparmor-unconfined", "    security_opt:\n      - apparmor=unconfined\n", 8, ["apparmor=unconfined"]),
    ("selinux-disable-variable", '    security_opt:\n      - "label=${L:-disable}"\n', 8, ["security_opt", "label"]),
    ("env-file-outside", "    env_file: /etc/environment\n", 7, ["env_file", "/etc/environment"]),
    ("build-tags", "", 6, ["build.tags"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_refused_before_anything_runs(tmp_path, case):
    name, added, line, words = case
    compose = solution("docker-compose.prod.yml")
    assert ANCHOR in compose
    line += compose[: compose.index(ANCHOR)].count("\n") + 1 - 6  # where ANCHOR really is
    if name == "build-tags":
        compose = compose.replace(
            "      dockerfile: Dockerfile.prod\n",
            '      dockerfile: Dockerfile.prod\n      tags: ["python:3.13-slim"]\n',
        )
    else:
        compose = compose.replace(ANCHOR, ANCHOR + added)
    co = checkout(tmp_path / "co", {"docker-compose.prod.yml": compose})
    before = snapshot()
    g = grade(co, timeout=120)
    assert g.report is not None, g.explain()
    assert g.returncode == 1, g.explain()  # points lost; not a grader error
    assert g.seconds < 60, "a refusal happens before any build"
    for check in RUNTIME:
        assert g.status(check) == "skip", g.message(check)
    up = g.message("runtime.up")
    assert "refused to run" in up and f"docker-compose.prod.yml:{line}" in up, up
    for word in words:
        assert word in up, up
    for check in DOCKERFILE:  # the static checks keep their points
        assert g.status(check) == "pass", g.message(check)
    assert g.status("compose.services") == "pass"
    assert "build_prod" not in g.report["timings"], "nothing may be built after a refusal"
    assert_clean(g, before)


def test_a_refused_dev_file_stops_only_the_dev_build(tmp_path):
    """docker-compose.yml asking for the host's network: the prod stack is still graded."""
    dev = tmp_path / "dev.yml"
    co = checkout(tmp_path / "co")
    text = (
        (co / "docker-compose.yml")
        .read_text()
        .replace("    image: docker-cd-lab04-web-dev\n", "    image: docker-cd-lab04-web-dev\n    privileged: true\n")
    )
    dev.write_text(text)
    (co / "docker-compose.yml").write_text(text)
    before = snapshot()
    g = grade(co)
    assert g.report is not None, g.explain()
    assert g.status("runtime.up") == "pass", g.message("runtime.up")
    assert g.status("runtime.counter") == "pass", g.message("runtime.counter")
    assert g.status("images.size_ratio") == "fail"
    assert "refused to build the dev image" in g.message("images.size_ratio")
    assert "docker-compose.yml:" in g.message("images.size_ratio") and "privileged" in g.message("images.size_ratio")
    assert_clean(g, before)


def test_another_buildable_service_cannot_overwrite_a_shared_image(tmp_path):
    """A third service that builds and names its image `python:3.13-slim` must not retag the engine's
    python:3.13-slim (other people's builds use it); its image is the grader's and is removed."""
    import docker

    client = docker.from_env()
    try:
        slim_before = client.images.get("python:3.13-slim").id
        compose = solution("docker-compose.prod.yml") + (
            "  extra:\n    build:\n      context: .\n      dockerfile: Dockerfile.prod\n    image: python:3.13-slim\n"
        )
        co = checkout(tmp_path / "co", {"docker-compose.prod.yml": compose})
        before = snapshot()
        g = grade(co)
        assert g.report is not None, g.explain()
        assert client.images.get("python:3.13-slim").id == slim_before, "the shared base image was overwritten"
        assert g.status("runtime.up") == "pass", g.explain()
        assert_clean(g, before)
    finally:
        client.close()
