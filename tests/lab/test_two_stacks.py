"""Both stacks at once, started and stopped with the README's own commands (Part 3, Cleanup).

Each compose file names its own Compose project (`name:`), so neither stack's commands see the
other's containers as orphans, and `down` of one leaves the other running.

The commands run exactly as the README writes them, with one extra `-f` file per stack that
changes only what a shared engine needs changed: host ports (free ones instead of 5004, 5005
and 6383) and image tags (unique ones instead of the fixed docker-cd-lab04-web-*). The
projects' names come from the files' own `name:` lines (made unique per run in this checkout
copy); COMPOSE_PROJECT_NAME is unset, so nothing else names the projects.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import socket
import subprocess
from pathlib import Path

import pytest

from support import REPO, first_int, http_get, leftovers, make_checkout, wait_ok

pytestmark = pytest.mark.docker

DEV, PROD = "docker-compose.yml", "docker-compose.prod.yml"
README = (REPO / "README.md").read_text(encoding="utf-8")
SHIPPED_NAME = {DEV: "lab04-dev", PROD: "lab04-prod"}
FIXED_IMAGE = {DEV: "docker-cd-lab04-web-dev", PROD: "docker-cd-lab04-web-prod"}


def readme_commands(title: str) -> list[list[str]]:
    """The commands of the ```bash blocks in one README section, comments stripped."""
    text = README.split(f"\n## {title}", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"^[ \t]*```bash\n(.*?)^[ \t]*```", text, re.S | re.M):
        for line in block.splitlines():
            argv = shlex.split(line, comments=True)
            if argv:
                commands.append(argv)
    return commands


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def student_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    env["DOCKER_CLI_HINTS"] = "false"
    return env


class Lab:
    """A solved checkout whose two stacks carry unique `name:`s, plus the per-stack overrides."""

    def __init__(self, root: Path):
        self.root = make_checkout(root / "lab", solution=True)
        token = secrets.token_hex(4)
        self.project: dict[str, str] = {}
        self.tag: dict[str, str] = {}
        self.override: dict[str, str] = {}
        self.port = {5004: free_port(), 5005: free_port()}
        for file in (DEV, PROD):
            path = self.root / file
            text = path.read_text(encoding="utf-8")
            shipped = f"name: {SHIPPED_NAME[file]}\n"
            assert text.count(shipped) == 1, f"{file} should name its project {SHIPPED_NAME[file]}"
            self.project[file] = f"{SHIPPED_NAME[file]}-{token}"
            path.write_text(text.replace(shipped, f"name: {self.project[file]}\n"), encoding="utf-8")
            self.tag[file] = f"{self.project[file]}-web:test"
        dev = root / "dev-ports.yml"
        dev.write_text(
            f"services:\n  web_dev:\n    image: {self.tag[DEV]}\n"
            f'    ports: !override\n      - "127.0.0.1:{self.port[5004]}:5000"\n'
        )
        prod = root / "prod-ports.yml"
        prod.write_text(
            f"services:\n  web_prod:\n    image: {self.tag[PROD]}\n"
            f'    ports: !override\n      - "127.0.0.1:{self.port[5005]}:5000"\n'
            "  redis_prod:\n    ports: !reset []\n"
        )
        self.override = {DEV: str(dev), PROD: str(prod)}

    def run(self, argv: list[str], timeout: float = 900) -> tuple[str, subprocess.CompletedProcess]:
        """A README command as written, plus the port/tag override of its stack. Returns (file, result)."""
        assert argv[:2] == ["docker", "compose"], argv
        rest, file = argv[2:], DEV
        if rest[:1] == ["-f"]:
            file, rest = rest[1], rest[2:]
        ran = subprocess.run(
            ["docker", "compose", "-f", file, "-f", self.override[file], *rest],
            cwd=self.root,
            env=student_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return file, ran

    def url(self, readme_url: str) -> str:
        m = re.fullmatch(r"http://localhost:(\d+)/?", readme_url)
        assert m and int(m.group(1)) in self.port, readme_url
        return f"http://127.0.0.1:{self.port[int(m.group(1))]}/"

    def services(self, file: str) -> set[str]:
        _, ran = self.run(["docker", "compose", "-f", file, "ps", "--services"], timeout=60)
        assert ran.returncode == 0, ran.stderr
        return set(ran.stdout.split())

    def remove_everything(self, docker_engine) -> None:
        for file in (DEV, PROD):
            self.run(["docker", "compose", "-f", file, "down", "-v", "--remove-orphans", "-t", "1"], timeout=120)
            try:  # by our own tag, never forced: an image someone else also uses stays
                docker_engine.images.remove(self.tag[file])
            except Exception:  # not built (an earlier step failed) or already gone
                pass


@pytest.fixture
def lab(tmp_path, docker_engine):
    lab = Lab(tmp_path)
    try:
        yield lab
    finally:
        lab.remove_everything(docker_engine)
        assert leftovers(lab.project[DEV]) == [] and leftovers(lab.project[PROD]) == []
        tags = {t for image in docker_engine.images.list() for t in image.tags}
        assert not tags & set(lab.tag.values())


def test_both_stacks_run_side_by_side_with_the_readme_commands(lab):
    part3 = readme_commands("Part 3")
    kinds = [argv[:2] if argv[0] != "curl" else ["curl"] for argv in part3]
    assert kinds == [
        ["docker", "compose"],
        ["docker", "compose"],
        ["docker", "images"],
        ["curl"],
        ["curl"],
        ["docker", "compose"],
        ["docker", "run"],
        ["docker", "run"],
    ], part3
    up_dev, up_prod, images, curl_dev, curl_prod, redis_get, run_flask, run_pytest = part3

    file, ran = lab.run(up_dev)
    assert file == DEV and ran.returncode == 0, ran.stdout + ran.stderr
    file, ran = lab.run(up_prod)
    assert file == PROD and ran.returncode == 0, ran.stdout + ran.stderr
    output = ran.stdout + ran.stderr
    assert "orphan" not in output.lower(), f"starting the prod stack saw the dev stack's containers:\n{output}"

    # each project lists only its own services
    assert lab.services(DEV) == {"web_dev", "redis_dev"}
    assert lab.services(PROD) == {"web_prod", "redis_prod"}

    # two counters, two Redis servers: each starts at 1
    for readme_url in (curl_dev[-1], curl_prod[-1]):
        status, body = wait_ok(lab.url(readme_url), timeout=90)
        assert (status, first_int(body)) == (200, 1), body
    for readme_url in (curl_dev[-1], curl_prod[-1]):
        status, body = http_get(lab.url(readme_url))
        assert (status, first_int(body)) == (200, 2), body

    listing = subprocess.run(images, capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0 and lab.tag[PROD].split(":")[0] in listing.stdout

    file, ran = lab.run(redis_get, timeout=60)
    assert file == PROD and ran.returncode == 0, ran.stderr
    assert ran.stdout.strip().strip('"') == "2"  # quoted on a terminal, bare here (no TTY)

    for argv, ok in ((run_flask, True), (run_pytest, False)):
        assert FIXED_IMAGE[PROD] in argv  # "use your own image name": here, this run's tag
        argv = [lab.tag[PROD] if a == FIXED_IMAGE[PROD] else a for a in argv]
        ran = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert (ran.returncode == 0) == ok, ran.stdout + ran.stderr

    # Cleanup: each `down` stops its own stack only
    cleanup = readme_commands("Cleanup")
    assert [argv[:3] for argv in cleanup] == [
        ["docker", "compose", "down"],
        ["docker", "compose", "-f"],
        ["docker", "rmi", "lab04-prod-try"],
    ], cleanup
    file, ran = lab.run(cleanup[0], timeout=120)
    output = ran.stdout + ran.stderr
    assert file == DEV and ran.returncode == 0, output
    assert "still in use" not in output and "orphan" not in output.lower(), output
    assert leftovers(lab.project[DEV]) == []
    assert lab.services(PROD) == {"web_prod", "redis_prod"}
    status, body = http_get(lab.url(curl_prod[-1]))
    assert (status, first_int(body)) == (200, 3), body

    file, ran = lab.run(cleanup[1], timeout=120)
    assert file == PROD and ran.returncode == 0, ran.stdout + ran.stderr
    assert leftovers(lab.project[PROD]) == []


def test_projects_are_named_by_the_files_not_by_the_folder(lab, docker_engine):
    """The containers carry the files' `name:` as their project, whatever the folder is called."""
    for file, services in ((DEV, {"web_dev", "redis_dev"}), (PROD, {"web_prod", "redis_prod"})):
        _, ran = lab.run(["docker", "compose", "-f", file, "config", "--format", "json"], timeout=60)
        assert ran.returncode == 0, ran.stderr
        config = json.loads(ran.stdout)
        assert config["name"] == lab.project[file] != lab.root.name
        assert set(config["services"]) == services
