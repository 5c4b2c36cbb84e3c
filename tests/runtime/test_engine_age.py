"""Builds that fail because the engine or its builder is too old for the file's syntax are the machine's
(`error`), told as "this engine is too old for <feature>"; the same words printed by a student's own
step, a malformed heredoc, or a frontend the student pinned stay the student's.

Each output below is real: recorded from this project's engine (Docker Engine 26.1.5, its classic
builder with DOCKER_BUILDKIT=0 and its built-in Dockerfile frontend), or quoted from public bug reports
of older engines (the report is named beside it).
"""

from __future__ import annotations

import pytest

from autograde.runtime.engine_age import (
    NEWER_COMPOSE_KEYS,
    TESTED_COMPOSE,
    classic_heredoc,
    compose_too_old,
    heredoc_lines,
    skipped_heredoc,
    too_old,
)

# -- classic builder (DOCKER_BUILDKIT=0) on Docker Engine 26.1.5, through `docker compose build` ------
CLASSIC_MOUNT = """\
time="2026-11-29T23:44:14Z" level=warning msg="Docker Compose is configured to build using Bake, but buildkit isn't enabled"
 Service w  Building
Sending build context to Docker daemon     253B
Step 1/3 : FROM scratch
 --->
Step 2/3 : RUN --mount=type=cache,target=/c echo hi
the --mount option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled
"""
CLASSIC_CHMOD = """\
Step 1/2 : FROM scratch
 --->
Step 2/2 : COPY --chmod=644 f.txt /f.txt
the --chmod option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled
"""
CLASSIC_COPY_HEREDOC = """\
Step 1/2 : FROM scratch
 --->
Step 2/2 : COPY <<EOF /x.txt
COPY failed: no source files were specified
"""
CLASSIC_PARENTS = """\
 Service w  Building
Sending build context to Docker daemon     243B
Error response from daemon: dockerfile parse error on line 2: unknown flag: parents
"""
# -- BuildKit on Docker Engine 26.1.5, its built-in frontend, no `# syntax=` line ------------------------
BUILDKIT_PARENTS = """\
   1 |     FROM scratch
   2 | >>> COPY --parents f.txt /d/
   3 |
--------------------
ERROR: failed to solve: dockerfile parse error on line 2: unknown flag: parents
"""
# -- older engines, quoted from public reports --------------------------------------------------------------
# dunglas/symfony-docker#356: Docker Engine 20.10.17, `docker compose build`, classic builder
OLD_CLASSIC_LINK = """\
Sending build context to Docker daemon  3.674kB
2 errors occurred:
        * Error response from daemon: dockerfile parse error line 23: Unknown flag: link
"""
# mastodon/mastodon#20951: Docker 20.10's BuildKit, its built-in frontend (the syntax line was not first)
OLD_BUILDKIT_LINK = (
    "failed to solve with frontend dockerfile.v0: failed to create LLB definition: "
    "dockerfile parse error line 9: Unknown flag: link\n"
)
# mathieuruellan/docker-piwigo#32: Docker 20.10's BuildKit reading a heredoc's body as instructions
OLD_BUILDKIT_HEREDOC = (
    "failed to solve: rpc error: code = Unknown desc = failed to solve with frontend dockerfile.v0: "
    "failed to create LLB definition: dockerfile parse error line 10: unknown instruction: SET\n"
)
# alehaa/docker-debian-systemd#2: a classic builder from before multi-stage builds
ANCIENT_FROM = """\
Step 10/15 : FROM debian:10
 ---> 109b803c6a30
Step 11/15 : COPY --from=0 / /
Unknown flag: from
"""
# difx/difx#103: Docker 26.1.4; `<< EOF` with a space is no heredoc for BuildKit: the file's mistake
SPACED_HEREDOC = "ERROR: failed to solve: dockerfile parse error on line 40: unknown instruction: [oneAPI]\n"


def _lines(n: int, text: str) -> str:
    """A Dockerfile whose line n is `text` (comment lines before it)."""
    return "FROM python:3.13-slim\n" + "".join(f"# filler {i}\n" for i in range(2, n)) + text + "\n"


HEREDOC_AT_10 = _lines(8, "RUN <<EOF\nset -e\nset -x\napt-get update\nEOF")


@pytest.mark.parametrize(
    ("output", "dockerfile", "feature"),
    [
        (CLASSIC_MOUNT, None, "`RUN --mount`"),
        (CLASSIC_CHMOD, None, "`COPY --chmod`"),
        (CLASSIC_COPY_HEREDOC, None, "heredocs"),
        (CLASSIC_PARENTS, "FROM scratch\nCOPY --parents f.txt /d/\n", "`COPY --parents`"),
        (BUILDKIT_PARENTS, "FROM scratch\nCOPY --parents f.txt /d/\n", "`COPY --parents`"),
        (OLD_CLASSIC_LINK, _lines(23, "COPY --link --from=builder /opt/venv /opt/venv"), "`COPY --link`"),
        (OLD_BUILDKIT_LINK, _lines(9, "COPY --link app/ /app/"), "`COPY --link`"),
        (OLD_BUILDKIT_HEREDOC, HEREDOC_AT_10, "heredocs"),
        (ANCIENT_FROM, None, "`COPY --from`"),
    ],
)
def test_syntax_the_engine_cannot_build_is_the_engines_age(output, dockerfile, feature):
    said = too_old(output, dockerfile, "Docker Engine 20.10.17")
    assert said.startswith(f"this engine is too old for {feature}"), said
    assert "Docker Engine 20.10.17" in said


def test_a_malformed_heredoc_is_the_students():
    dockerfile = _lines(39, "RUN tee > /tmp/oneAPI.repo << EOF\n[oneAPI]\nname=Intel oneAPI repository\nEOF")
    assert too_old(SPACED_HEREDOC, dockerfile) == ""


def test_a_frontend_the_student_pinned_is_the_students_choice():
    pinned = "# syntax=docker/dockerfile:1.2\n" + _lines(9, "COPY --link app/ /app/")[0:]
    assert too_old(OLD_BUILDKIT_LINK, pinned.replace("# filler 2\n", "")) == ""
    # a syntax line after a blank line is no directive: the engine's own frontend built it
    assert too_old(OLD_BUILDKIT_LINK, "\n" + pinned.replace("# filler 2\n# filler 3\n", "")).startswith(
        "this engine is too old for `COPY --link`"
    )
    # the classic builder ignores the directive: still the engine's age
    assert too_old(CLASSIC_PARENTS, "# syntax=docker/dockerfile:1.7-labs\nCOPY --parents f.txt /d/\n") != ""


def test_a_flag_the_file_does_not_use_is_not_blamed_on_the_engine():
    assert too_old(BUILDKIT_PARENTS, "FROM scratch\nCOPY f.txt /d/\n") == ""
    assert too_old(OLD_BUILDKIT_HEREDOC, _lines(10, "SET x=1")) == ""  # no heredoc there: a typo


def test_the_students_own_output_cannot_pose_as_the_builder():
    # a classic-builder RUN that prints the refusal and fails: the step ran, so its words are the student's
    printed = """\
Step 5/9 : RUN echo "the --mount option requires BuildKit" && exit 1
 ---> Running in 0a1b2c3d4e5f
the --mount option requires BuildKit
The command '/bin/sh -c echo "the --mount option requires BuildKit" && exit 1' returned a non-zero code: 1
"""
    assert too_old(printed, None) == ""
    # ... also when it prints a step line of its own first: a later step shows the builder went on
    forged = """\
Step 5/9 : RUN printf 'Step 6/9 : RUN --mount=x y\\nthe --mount option requires BuildKit\\n' && exit 1
 ---> Running in 0a1b2c3d4e5f
Step 6/9 : RUN --mount=x y
the --mount option requires BuildKit
The command '/bin/sh -c printf ...' returned a non-zero code: 1
"""
    assert too_old(forged, None) == ""
    # BuildKit: a RUN step that printed a parse error, then failed
    buildkit = """\
#9 [builder 4/6] RUN echo 'dockerfile parse error on line 2: unknown flag: link'; exit 1
#9 0.215 dockerfile parse error on line 2: unknown flag: link
#9 ERROR: process "/bin/sh -c echo 'dockerfile parse error on line 2: unknown flag: link'; exit 1" did not complete successfully: exit code: 1
"""
    assert too_old(buildkit, "FROM x\nCOPY --link a b\n") == ""


def test_heredoc_lines():
    text = "FROM x\nRUN <<EOF\na\nb\nEOF\nCOPY <<-'A' <<B /x\n1\nA\n2\nB\nRUN echo a << b\nb\n"
    assert heredoc_lines(text) == {3: "RUN", 4: "RUN", 5: "RUN", 7: "COPY", 8: "COPY", 9: "COPY", 10: "COPY"}


def test_a_heredoc_step_the_classic_builder_ran_is_recognised():
    # Docker Engine 26.1.5, DOCKER_BUILDKIT=0: the step "succeeds" without running its body
    recorded = """\
Step 1/3 : FROM python:3.13-slim
 ---> 43815c32df9b
Step 2/3 : RUN <<EOF
 ---> Running in 31c8128fcabb
 ---> Removed intermediate container 31c8128fcabb
 ---> 0cd5b5c5a4d2
Step 3/3 : RUN cat /made.txt
 ---> Running in ef5e69d50214
cat: /made.txt: No such file or directory
The command '/bin/sh -c cat /made.txt' returned a non-zero code: 1
"""
    seen = [line for line in recorded.splitlines() if classic_heredoc(line)]
    assert seen == ["Step 2/3 : RUN <<EOF"]
    said = skipped_heredoc(seen[0], "Docker Engine 26.1.5")
    assert said.startswith("this engine is too old for heredocs (`RUN <<EOF`)") and "26.1.5" in said
    assert not classic_heredoc("#5 [builder 2/6] RUN <<EOF")  # BuildKit builds heredocs
    assert not classic_heredoc("Step 2/3 : RUN cat << EOF > x")  # no heredoc for Docker either


def test_an_unknown_flag_no_current_frontend_knows_is_the_files_mistake():
    typo = "ERROR: failed to solve: dockerfile parse error on line 2: unknown flag: chmode\n"
    assert too_old(typo, "FROM scratch\nCOPY --chmode=644 f.txt /f.txt\n") == ""
    labs = "ERROR: failed to solve: dockerfile parse error on line 2: unknown flag: security\n"
    assert too_old(labs, "FROM scratch\nRUN --security=insecure true\n") == ""


# -- Compose older than the tested one -------------------------------------------------------------------
# docker/getting-started-todo-app#22: Compose v2.21.0 (`develop` came in 2.22.0)
COMPOSE_2_21_DEVELOP = (
    "validating /nvme2/data1/software/docker/getting-started-todo-app/compose.yml: "
    "services.backend Additional property develop is not allowed\n"
)
# infiniflow/ragflow#3789 and SigNoz/signoz#6224: Compose 2.9 (`include` came in 2.20)
COMPOSE_2_9_INCLUDE = (
    "validating /opt/devops/release/signoz/deploy/docker/clickhouse-setup/docker-compose.yaml: "
    "(root) Additional property include is not allowed\n"
)


def test_a_compose_key_an_older_compose_does_not_know_is_the_engines_age():
    said = compose_too_old(COMPOSE_2_21_DEVELOP, (2, 21), "docker-compose.prod.yml")
    assert said.startswith("this engine is too old for `develop` in docker-compose.prod.yml"), said
    assert "Docker Compose 2.21" in said
    assert compose_too_old(COMPOSE_2_9_INCLUDE, (2, 9), "docker-compose.prod.yml").startswith(
        "this engine is too old for `include`"
    )
    # the tested Compose, or a key no Compose knows (a typo), is the file's business
    assert compose_too_old(COMPOSE_2_21_DEVELOP, (2, 40), "docker-compose.prod.yml") == ""
    typo = "validating x.yml: services.web_prod Additional property enviroment is not allowed\n"
    assert compose_too_old(typo, (2, 21), "docker-compose.prod.yml") == ""


KEYS_FILE = """include:
  - path: included.yml
services:
  web:
    image: x
    develop:
      watch:
        - {action: sync, path: ./app, target: /app}
    post_start:
      - command: echo started
    pre_stop:
      - command: echo stopping
    use_api_socket: true
    networks:
      default:
        gw_priority: 1
    models: [m]
  p:
    provider:
      type: model
      options: {model: ai/x}
models:
  m:
    model: ai/smollm2
"""


@pytest.mark.docker
def test_the_tested_compose_accepts_every_newer_key(tmp_path):
    import os
    import subprocess

    (tmp_path / "compose.yml").write_text(KEYS_FILE)
    (tmp_path / "included.yml").write_text("services:\n  inc:\n    image: y\n")
    for key in NEWER_COMPOSE_KEYS:
        assert f"{key}:" in KEYS_FILE, key
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    version = subprocess.run(
        ["docker", "compose", "version", "--short"], capture_output=True, text=True, timeout=30, env=env
    )
    assert tuple(int(n) for n in version.stdout.strip().lstrip("v").split(".")[:2]) >= TESTED_COMPOSE
    done = subprocess.run(
        ["docker", "compose", "-p", "keys", "-f", "compose.yml", "config", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
