"""The compose model is Docker Compose's own reading (`docker compose config`, no engine needed): include,
extends, profiles, env files, `.env`, interpolation, anchors. Lines come from the files that define each
setting; the student's own spelling is kept for hints. Without a Compose CLI the YAML reading is the
model, and the report says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograde.checks import default_rubric, run_check
from autograde.checks.base import Context
from autograde.model import compose, compose_cli, load_submission
from autograde.model.files import FileProblem
from autograde.runtime.policy import refusals
from support import make_checkout, solution_files

SOLVED = solution_files()["docker-compose.prod.yml"]
WEB_ONLY = SOLVED.split("  redis_prod:")[0]
REDIS = 'services:\n  redis_prod:\n    image: redis:alpine\n    ports:\n      - "6383:6379"\n'

pytestmark = pytest.mark.usefixtures("compose_cli")


def checkout(tmp_path: Path, files: dict[str, str | None]) -> Path:
    return make_checkout(tmp_path / "repo", files=files)


def grade(root: Path, *checks: str) -> dict[str, tuple[str, str, str | None, int | None]]:
    sub = load_submission(root)
    ctx = Context(sub, default_rubric(), None)
    return {c: (r.status, r.message, r.file, r.line) for c in checks for r in [run_check(c, ctx)]}


COMPOSE_CHECKS = ("compose.services", "compose.web_prod", "compose.web_build")


def test_a_redis_service_pulled_in_with_include_is_the_stacks(tmp_path):
    root = checkout(
        tmp_path,
        {
            "docker-compose.prod.yml": "include:\n  - stack/redis.yml\n" + WEB_ONLY,
            "stack/redis.yml": REDIS,
        },
    )
    sub = load_submission(root)
    assert sub.prod is not None and sub.prod.by_compose, sub.prod.decided_by if sub.prod else sub.prod_problem
    assert set(sub.prod.services) == {"web_prod", "redis_prod"}
    assert sub.prod.where("services", "redis_prod", "image") == ("stack/redis.yml", 3)
    assert sub.prod.where("services", "web_prod", "ports") == ("docker-compose.prod.yml", 11)
    verdicts = grade(root, *COMPOSE_CHECKS)
    assert all(v[0] == "pass" for v in verdicts.values()), verdicts
    assert "(in stack/redis.yml)" in verdicts["compose.services"][1]
    assert refusals(sub, root).prod is None, "a file Compose accepts is run"


def test_a_wrong_image_in_an_included_file_is_told_there(tmp_path):
    root = checkout(
        tmp_path,
        {
            "docker-compose.prod.yml": "include:\n  - redis.yml\n" + WEB_ONLY,
            "redis.yml": REDIS.replace("redis:alpine", "postgres:16"),
        },
    )
    status, message, file, line = grade(root, "compose.services")["compose.services"]
    assert (status, file, line) == ("fail", "redis.yml", 3), message
    assert message.startswith("redis.yml:3: redis_prod runs postgres:16")


def test_extends_from_another_file_and_lines_where_each_setting_is_written(tmp_path):
    base = (
        "services:\n  web_base:\n    build:\n      context: .\n      dockerfile: Dockerfile.prod\n"
        "    environment:\n      REDIS_HOST: redis_prod\n"
    )
    web = (
        "name: lab04-prod\nservices:\n  web_prod:\n    extends:\n      file: common.yml\n      service: web_base\n"
        '    image: me/app-prod\n    ports: ["5005:5000"]\n    depends_on: [redis_prod]\n'
        "  redis_prod:\n    image: redis:alpine\n"
    )
    root = checkout(tmp_path, {"docker-compose.prod.yml": web, "common.yml": base})
    sub = load_submission(root)
    assert sub.prod is not None and sub.prod.by_compose
    assert sub.prod.where("services", "web_prod", "environment") == ("common.yml", 6)
    assert sub.prod.where("services", "web_prod", "ports") == ("docker-compose.prod.yml", 8)
    assert all(v[0] == "pass" for v in grade(root, *COMPOSE_CHECKS).values())


def test_a_service_in_a_profile_is_not_started_by_up(tmp_path):
    debug = "  debug:\n    image: nicolaka/netshoot:v0.13\n    profiles: [debug]\n"
    root = checkout(tmp_path, {"docker-compose.prod.yml": SOLVED + debug})
    sub = load_submission(root)
    assert sub.prod is not None and set(sub.prod.services) == {"web_prod", "redis_prod"}
    assert sub.prod.inactive == {"debug": ["debug"]}

    # web_prod depends on it, so Compose refuses the file ("depends on undefined service"): `up` fails, and
    # the row about the services says why
    only_in_profile = SOLVED.replace("    image: redis:alpine\n", "    image: redis:alpine\n    profiles: [cache]\n")
    root = checkout(tmp_path / "b", {"docker-compose.prod.yml": only_in_profile})
    status, message, _, line = grade(root, "compose.services")["compose.services"]
    assert status == "fail" and "only in the profile cache" in message and line == 18, message
    sub = load_submission(root)
    assert sub.prod is not None and sub.prod.refused is not None
    assert 'depends on undefined service "redis_prod"' in sub.prod.refused.message
    assert "does not define redis_prod yet" in str(refusals(sub, root).prod), "nothing to start: the runtime skips"
    # enabled in the project's .env, it is the stack's
    root = checkout(tmp_path / "c", {"docker-compose.prod.yml": only_in_profile, ".env": "COMPOSE_PROFILES=cache\n"})
    assert grade(root, "compose.services")["compose.services"][0] == "pass"


def test_dotenv_and_env_file_interpolation_are_composes(tmp_path, monkeypatch):
    web = SOLVED.replace("      - REDIS_HOST=redis_prod\n", "      - REDIS_HOST=${REDIS_SERVICE:-redis}\n").replace(
        '"5005:5000"', '"${WEB_PORT:-5005}:5000"'
    )
    monkeypatch.setenv("REDIS_SERVICE", "from-the-graders-shell")  # never reaches the student's file
    compose_cli.reset()
    root = checkout(tmp_path, {"docker-compose.prod.yml": web, ".env": "REDIS_SERVICE=redis_prod\n"})
    verdicts = grade(root, "compose.web_prod")
    assert verdicts["compose.web_prod"][0] == "pass", verdicts

    from_file = SOLVED.replace("    environment:\n      - REDIS_HOST=redis_prod\n", "    env_file: prod.env\n")
    root = checkout(tmp_path / "b", {"docker-compose.prod.yml": from_file, "prod.env": "REDIS_HOST=redis_prod\n"})
    assert grade(root, "compose.web_prod")["compose.web_prod"][0] == "pass"


def test_anchors_and_merge_keys_and_long_syntax(tmp_path):
    text = (
        "x-common: &common\n  restart: unless-stopped\n  environment:\n    REDIS_HOST: redis_prod\n"
        "services:\n  web_prod:\n    <<: *common\n    build: {context: ., dockerfile: Dockerfile.prod}\n"
        "    image: me/app\n    ports:\n      - target: 5000\n        published: 5005\n"
        "    depends_on:\n      redis_prod:\n        condition: service_started\n"
        "  redis_prod:\n    <<: *common\n    image: redis:alpine\n"
    )
    root = checkout(tmp_path, {"docker-compose.prod.yml": text})
    assert all(v[0] == "pass" for v in grade(root, *COMPOSE_CHECKS).values())


def test_a_file_compose_refuses_cannot_be_run_and_its_rows_are_graded_as_written(tmp_path):
    text = SOLVED.replace("    depends_on:\n", "    env_file: missing.env\n    depends_on:\n")
    root = checkout(tmp_path, {"docker-compose.prod.yml": text})
    sub = load_submission(root)
    assert sub.prod is not None and sub.prod.refused is not None and not sub.prod.by_compose
    assert "Docker Compose refuses docker-compose.prod.yml" in sub.prod.refused.message
    assert "missing.env" in sub.prod.refused.message and str(root) not in sub.prod.refused.message
    verdicts = grade(root, *COMPOSE_CHECKS)
    assert all(v[0] == "pass" for v in verdicts.values()), "the rows about its settings are graded as written"
    refused = refusals(sub, root)
    assert refused.compose_refused and refused.prod == sub.prod.refused.message

    from autograde.runtime.facts import Facts

    facts = Facts(refused=refused.prod, compose_refused=True)
    up = run_check("runtime.up", Context(sub, default_rubric(), facts))
    counter = run_check("runtime.counter", Context(sub, default_rubric(), facts))
    assert up.status == "fail" and "`docker compose -f docker-compose.prod.yml up --build` fails" in up.message
    assert counter.status == "skip", "one mistake, one row"


def test_without_a_compose_cli_the_yaml_reading_decides_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv(compose_cli.CLI_VAR, "none")
    compose_cli.reset()
    try:
        root = checkout(tmp_path, {})
        sub = load_submission(root)
        assert sub.prod is not None and not sub.prod.by_compose
        assert "no Docker Compose 2.24 or newer was found" in sub.prod.decided_by
        assert all(v[0] == "pass" for v in grade(root, *COMPOSE_CHECKS).values())
    finally:
        monkeypatch.delenv(compose_cli.CLI_VAR)
        compose_cli.reset()


def test_the_same_files_in_another_folder_reuse_composes_answer(tmp_path):
    files = {"docker-compose.prod.yml": "include:\n  - redis.yml\n" + WEB_ONLY, "redis.yml": REDIS}
    first = checkout(tmp_path / "one", files)
    second = checkout(tmp_path / "two", files)
    compose.load(first, "docker-compose.prod.yml")
    before = len(compose_cli._memo)
    cf = compose.load(second, "docker-compose.prod.yml")
    assert len(compose_cli._memo) == before, "answered from the memo"
    assert cf.build(cf.services["web_prod"]).context == "."  # type: ignore[union-attr]
    assert cf.data["services"]["web_prod"]["build"]["context"] == str(second.resolve())
    assert cf.data["name"] == "lab04-prod"
    (second / "redis.yml").write_text(REDIS.replace("redis:alpine", "redis:7"))
    changed = compose.load(second, "docker-compose.prod.yml")
    assert changed.image(changed.services["redis_prod"]) == "redis:7", "another included file is another answer"


def test_a_refusal_names_the_line_of_the_setting(tmp_path):
    text = SOLVED.replace('    ports:\n      - "5005:5000"\n', '    ports: "5005:5000"\n')
    root = checkout(tmp_path, {"docker-compose.prod.yml": text})
    sub = load_submission(root)
    assert sub.prod is not None and sub.prod.refused is not None
    assert (sub.prod.refused.file, sub.prod.refused.line) == ("docker-compose.prod.yml", 9), sub.prod.refused
    assert "services.web_prod.ports must be a array" in sub.prod.refused.message


def test_an_alias_bomb_is_refused_before_compose_reads_it(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(6)
    )
    (tmp_path / "docker-compose.prod.yml").write_text(bomb + "services: {}\n")
    with pytest.raises(FileProblem) as e:
        compose.load(tmp_path, "docker-compose.prod.yml")
    assert "alias bomb" in e.value.problem.message
