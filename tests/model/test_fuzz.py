"""Fuzzing the static side: random and mutated Dockerfiles and Compose files.

A seeded random loop (reproducible: the seed and the case are in the failure message),
bounded by count and by time. For every case the parsers either give a model or a
FileProblem, the static checks never end in `error` (a grader bug), the runtime checks
grade a fact-less context without raising, and the safety scan never raises.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

from autograde.checks import REGISTRY, grade, load_rubric
from autograde.checks.base import Context
from autograde.model import Submission, compose, dockerfile
from autograde.model.build import prod_build
from autograde.model.files import FileProblem
from autograde.runtime.facts import Facts
from autograde.runtime.safety import scan
from support import solution_files

SEED = int(os.environ.get("FUZZ_SEED", "20240604"))
CASES = int(os.environ.get("FUZZ_CASES", "8000"))
BUDGET_S = float(os.environ.get("FUZZ_SECONDS", "40"))

DF_WORDS = [
    "FROM",
    "AS",
    "RUN",
    "COPY",
    "--from=builder",
    "--from=0",
    "--from=9",
    "WORKDIR",
    "ENV",
    "ARG",
    "CMD",
    "ENTRYPOINT",
    "EXPOSE",
    "USER",
    "ADD",
    "ONBUILD",
    "HEALTHCHECK",
    "SHELL",
    "LABEL",
    "VOLUME",
    "python:3.13",
    "python:3.13-slim",
    "builder",
    "final",
    "${X}",
    "$PATH",
    "${A:-b}",
    "/opt/venv",
    "/opt/venv/bin/pip",
    "pip",
    "install",
    "-r",
    "requirements.txt",
    "app/",
    ".",
    "..",
    "../..",
    "/",
    "main.py",
    "tests/",
    "python",
    "-m",
    "venv",
    "pytest",
    "&&",
    "||",
    ";",
    "|",
    "\\",
    "\n",
    '"',
    "'",
    "[",
    "]",
    '["python", "main.py"]',
    '["',
    "cd",
    "source",
    "export",
    "PATH=/x",
    "=",
    "#",
    "*",
    "?",
    "5000",
    "5000/udp",
    "abc",
    "\t",
    " ",
    "RUNN",
    "FORM",
    "--mount=type=cache,target=/root",
    "<<EOF",
    "EOF",
    "\u00e9",
    "\u202e",
    "x" * 300,
]
YAML_WORDS = [
    "services:",
    "web_prod:",
    "redis_prod:",
    "build:",
    "context:",
    "dockerfile:",
    "image:",
    "ports:",
    "environment:",
    "depends_on:",
    "volumes:",
    "networks:",
    "- ",
    "  ",
    "    ",
    ".",
    "..",
    "/",
    "~",
    "${HOME}",
    "${X:-host}",
    "$$",
    "host",
    "true",
    "false",
    "null",
    "~",
    "5005:5000",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "&a",
    "*a",
    "<<: *a",
    "!!str",
    "!reset",
    "!override",
    "?",
    "|",
    ">",
    "#",
    "'",
    '"',
    "\n",
    "network_mode:",
    "privileged:",
    "security_opt:",
    "cap_add:",
    "env_file:",
    "type: bind",
    "source:",
    "external: true",
    "driver_opts:",
    "device:",
    "o: bind",
    "extends:",
    "include:",
    "secrets:",
    "additional_contexts:",
    "tags:",
    "cache_to:",
    "- type=local,dest=/tmp",
    "0",
    "1e9",
    "-1",
    "0x10",
    "REDIS_HOST=redis_prod",
    "\t",
    "\u00e9",
    "x" * 200,
]


def _mutate(rng: random.Random, text: str, words: list[str]) -> str:
    lines = text.splitlines(keepends=True)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(8)
        if not lines:
            lines = [""]
        i = rng.randrange(len(lines))
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif op == 2:
            lines.insert(i, " ".join(rng.choice(words) for _ in range(rng.randint(1, 6))) + "\n")
        elif op == 3 and lines[i]:
            j = rng.randrange(len(lines[i]))
            lines[i] = lines[i][:j] + rng.choice(words) + lines[i][j:]
        elif op == 4 and lines[i]:
            j = rng.randrange(len(lines[i]))
            lines[i] = lines[i][:j] + chr(rng.randrange(1, 0x3000)) + lines[i][j + 1 :]
        elif op == 5:
            lines[i] = lines[i].replace(" ", "", 1) if rng.random() < 0.5 else " " + lines[i]
        elif op == 6:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines = lines[: rng.randrange(len(lines) + 1)]
    return "".join(lines)


def _random(rng: random.Random, words: list[str]) -> str:
    return "".join(rng.choice(words) + rng.choice([" ", "", "\n", "\n  ", "\n    "]) for _ in range(rng.randint(0, 40)))


def _yaml_value(rng: random.Random, depth: int = 0) -> object:
    pick = rng.randrange(7 if depth < 4 else 4)
    if pick == 0:
        return rng.choice([None, True, False, 0, -1, 5005, 1.5, ""])
    if pick in (1, 2, 3):
        return rng.choice(YAML_WORDS).rstrip(":")
    if pick == 4:
        return [_yaml_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = [
        "build",
        "context",
        "dockerfile",
        "image",
        "ports",
        "environment",
        "depends_on",
        "volumes",
        "networks",
        "network_mode",
        "privileged",
        "security_opt",
        "env_file",
        "external",
        "driver_opts",
        "tags",
        "type",
        "source",
        "target",
        "published",
        "host_ip",
        "secrets",
        "configs",
        "file",
        "additional_contexts",
        "cache_to",
        "label_file",
        "pid",
        "web_prod",
        "redis_prod",
        "services",
        "include",
        "x",
    ]
    return {rng.choice(keys): _yaml_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def _structured(rng: random.Random) -> str:
    import yaml

    doc = {
        "services": {
            name: _yaml_value(rng, 1) for name in rng.sample(["web_prod", "redis_prod", "x"], rng.randint(0, 3))
        }
    }
    if rng.random() < 0.3:
        doc.update({k: _yaml_value(rng, 2) for k in rng.sample(["volumes", "networks", "secrets", "include"], 2)})
    return yaml.safe_dump(doc)


def _parse(fn):  # type: ignore[no-untyped-def]
    try:
        return fn(), None
    except FileProblem as e:
        return None, e.problem


@pytest.fixture(scope="module")
def rubric():
    return load_rubric(None)


@pytest.mark.slow
def test_fuzz_static_checks(tmp_path: Path, rubric):
    rng = random.Random(SEED)
    sol = solution_files()
    df_seed, prod_seed = sol["Dockerfile.prod"], sol["docker-compose.prod.yml"]
    dev_seed = (Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text()
    static_ids = [i.id for i in rubric.items if i.phase == "static"]
    runtime_ids = [i.id for i in rubric.items if i.phase == "runtime"]
    assert set(static_ids) | set(runtime_ids) <= set(REGISTRY)
    start, done = time.monotonic(), 0
    for case in range(CASES):
        if time.monotonic() - start > BUDGET_S:
            break
        df_text = _mutate(rng, df_seed, DF_WORDS) if rng.random() < 0.8 else _random(rng, DF_WORDS)
        r = rng.random()
        prod_text = (
            _mutate(rng, prod_seed, YAML_WORDS)
            if r < 0.5
            else _structured(rng)
            if r < 0.85
            else _random(rng, YAML_WORDS)
        )
        dev_text = _mutate(rng, dev_seed, YAML_WORDS) if rng.random() < 0.3 else dev_seed
        where = f"seed {SEED} case {case}\n--- Dockerfile.prod\n{df_text}\n--- prod\n{prod_text}\n--- dev\n{dev_text}"
        try:
            prod, prod_problem = _parse(lambda: compose.parse(prod_text, compose.PROD_FILE))
            build = prod_build(prod)
            df, df_problem = _parse(lambda: dockerfile.parse(df_text, tmp_path, build.context))
            dev, dev_problem = _parse(lambda: compose.parse(dev_text, compose.DEV_FILE))
            sub = Submission(tmp_path, df, df_problem, prod, prod_problem, dev, dev_problem, build)
            for cf in (prod, dev):
                if cf is not None:
                    for refusal in scan(cf, tmp_path):
                        str(refusal)
            results = grade(Context(sub, rubric, None), phase="static")
            results += grade(Context(sub, rubric, Facts(refused="fuzz")), phase="runtime")
        except Exception as e:
            raise AssertionError(f"{type(e).__name__}: {e}\n{where}") from e
        errors = [f"{c.id}: {c.message}" for c in results if c.status == "error"]
        assert not errors, f"{errors}\n{where}"
        for c in results:
            assert isinstance(c.message, str) and c.message, f"{c.id} has no message\n{where}"
        done += 1
    elapsed = time.monotonic() - start
    assert done >= min(CASES, 1000), f"only {done} cases in {elapsed:.0f} s"
    print(f"fuzz: {done} cases in {elapsed:.1f} s (seed {SEED})")
