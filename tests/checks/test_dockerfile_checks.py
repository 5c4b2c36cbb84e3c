"""Static Dockerfile.prod checks: the solution passes, each mistake fails, equivalent syntax passes."""

from __future__ import annotations

import pytest

from support import solution_files

SOLUTION = solution_files()  # not `from conftest import ...`: another folder's conftest may have that name first


def solved(replace: dict[str, str] | None = None, text: str | None = None) -> dict[str, str]:
    body = text if text is not None else SOLUTION["Dockerfile.prod"]
    for old, new in (replace or {}).items():
        assert old in body, f"test setup: {old!r} not in the solution"
        body = body.replace(old, new)
    return {"Dockerfile.prod": body}


IDS = ["dockerfile.stages", "dockerfile.builder_venv", "dockerfile.final_slim", "dockerfile.final_copies"]


@pytest.mark.parametrize("check_id", IDS)
def test_solution_passes(grade_static, check_id):
    r = grade_static(check_id)
    assert r.status == "pass", r.message
    assert r.score == r.max_score > 0
    assert r.file == "Dockerfile.prod" and r.line


EQUIVALENT = {
    "lowercase as, shell-form CMD": {
        "AS builder": "as builder",
        "AS final": "as final",
        'CMD ["python", "main.py"]': "CMD python -u main.py",
    },
    "no alias on final": {"FROM python:3.13-slim AS final": "FROM python:3.13-slim"},
    "copy by stage index": {"COPY --from=builder /opt/venv": "COPY --from=0 /opt/venv"},
    "ARG in FROM": {
        "FROM python:3.13 AS builder": "ARG PY=3.13\nFROM python:${PY} AS builder",
        "FROM python:3.13-slim AS final": "FROM python:${PY}-slim AS final",
    },
    "venv pip via PATH": {
        "RUN python -m venv /opt/venv \\\n && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt": 'RUN python -m venv /opt/venv\nENV PATH="/opt/venv/bin:$PATH"\n'
        "RUN pip install --no-cache-dir -r requirements.txt"
    },
    "venv via activate": {"&& /opt/venv/bin/pip install": "&& . /opt/venv/bin/activate && pip install"},
    "venv python -m pip": {"/opt/venv/bin/pip install": "/opt/venv/bin/python -m pip install"},
    "venv path in ENV": {
        "RUN python -m venv /opt/venv \\\n && /opt/venv/bin/pip": "ENV VENV=/opt/venv\n"
        "RUN python -m venv $VENV \\\n && ${VENV}/bin/pip",
        'ENV PATH="/opt/venv/bin:$PATH"': 'ENV VENV=/opt/venv PATH="/opt/venv/bin:$PATH"',
    },
    "whole app dir, requirements by path": {
        "COPY app/requirements.txt app/requirements-dev.txt ./\n": "COPY . /src\n",
        "-r requirements.txt": "-r /src/app/requirements.txt",
    },
    "python by path instead of PATH": {
        'ENV PATH="/opt/venv/bin:$PATH" PYTHONUNBUFFERED=1': "ENV PYTHONUNBUFFERED=1",
        'CMD ["python", "main.py"]': 'CMD ["/opt/venv/bin/python", "main.py"]',
    },
    "legacy ENV syntax and EXPOSE tcp": {
        'ENV PATH="/opt/venv/bin:$PATH" PYTHONUNBUFFERED=1': "ENV PATH /opt/venv/bin:$PATH",
        "EXPOSE 5000": "EXPOSE 5000/tcp",
    },
    "main.py to an absolute dir, CMD by path": {
        "COPY --from=builder /opt/app_builder/main.py .": "COPY --from=builder /opt/app_builder/main.py /srv/",
        'CMD ["python", "main.py"]': 'CMD ["python", "/srv/main.py"]',
    },
    "alpine final": {"python:3.13-slim": "python:3.13-alpine"},
    "docker.io prefix and digest": {"python:3.13-slim": "docker.io/library/python:3.13-slim@sha256:" + "a" * 64},
}


@pytest.mark.parametrize("name", list(EQUIVALENT))
def test_equivalent_syntax_passes(grade_static, name):
    files = solved(EQUIVALENT[name])
    for check_id in IDS:
        r = grade_static(check_id, files)
        assert r.status == "pass", f"{name}: {check_id}: {r.message}"


BROKEN = {
    # name: (replacements, check that fails, words expected in the message, line expected)
    "one stage": ({"FROM python:3.13-slim AS final\n": ""}, "dockerfile.stages", "one stage", None),
    "builder not named": (
        {"AS builder": "AS build", "--from=builder": "--from=build"},
        "dockerfile.stages",
        "none is named `builder`",
        "AS build",
    ),
    "no venv": (
        {"RUN python -m venv /opt/venv \\\n && /opt/venv/bin/pip": "RUN pip"},
        "dockerfile.builder_venv",
        "creates no virtual environment",
        None,
    ),
    "system pip": (
        {"&& /opt/venv/bin/pip install": "&& pip install"},
        "dockerfile.builder_venv",
        "image's own pip",
        "&& pip install",
    ),
    "venv after system in PATH": (
        {"&& /opt/venv/bin/pip install": "&& PATH=$PATH:/opt/venv/bin pip install"},
        "dockerfile.builder_venv",
        "image's own pip",
        "PATH=$PATH",
    ),
    "requirements not copied": (
        {"COPY app/requirements.txt app/requirements-dev.txt ./\n": ""},
        "dockerfile.builder_venv",
        "not copied into the builder before this line",
        "/opt/venv/bin/pip install",
    ),
    "packages by name": ({"-r requirements.txt": "flask redis"}, "dockerfile.builder_venv", "by name", "flask redis"),
    "full final base": ({"python:3.13-slim": "python:3.13"}, "dockerfile.final_slim", "python:3.13", "AS final"),
    "not python": ({"python:3.13-slim": "debian:bookworm-slim"}, "dockerfile.final_slim", "debian", "AS final"),
    "venv not copied": (
        {"COPY --from=builder /opt/venv /opt/venv\n": ""},
        "dockerfile.final_copies",
        "copies no virtual environment",
        None,
    ),
    "venv copied from wrong path": (
        {"COPY --from=builder /opt/venv /opt/venv": "COPY --from=builder /venv /opt/venv"},
        "dockerfile.final_copies",
        "/opt/venv",
        None,
    ),
    "PATH points elsewhere": (
        {'ENV PATH="/opt/venv/bin:$PATH"': 'ENV PATH="/venv/bin:$PATH"'},
        "dockerfile.final_copies",
        "PATH has /venv/bin but the venv is at /opt/venv",
        None,
    ),
    "no EXPOSE": ({"EXPOSE 5000\n": ""}, "dockerfile.final_copies", "EXPOSE 5000", None),
    "wrong port": ({"EXPOSE 5000": "EXPOSE 8000"}, "dockerfile.final_copies", "EXPOSE 5000", None),
    "no main.py": (
        {"COPY --from=builder /opt/app_builder/main.py .\n": ""},
        "dockerfile.final_copies",
        "does not copy main.py",
        None,
    ),
    "CMD runs app.py": (
        {'CMD ["python", "main.py"]': 'CMD ["python", "app.py"]'},
        "dockerfile.final_copies",
        "does not run main.py",
        None,
    ),
    "CMD wrong dir": (
        {'CMD ["python", "main.py"]': 'CMD ["python", "/app/main.py"]'},
        "dockerfile.final_copies",
        "main.py is at /usr/src/app/main.py",
        None,
    ),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_each_mistake_fails_its_check_with_a_located_message(grade_static, name):
    replace, check_id, words, line = BROKEN[name]
    r = grade_static(check_id, solved(replace))
    assert r.status == "fail", f"{name}: {r.message}"
    assert r.score == 0
    assert words in r.message + " " + r.hint, r.message
    assert r.file == "Dockerfile.prod"
    assert r.hint
    if line is not None:  # the reported line starts the instruction holding this text
        from autograde.model.dockerfile import parse

        instructions = parse(solved(replace)["Dockerfile.prod"]).instructions
        expected = next(i.line for i in instructions if line in i.original)
        assert r.line == expected, r.message


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "is empty"),
        ("# only comments\n", "no instructions yet"),
        ("FORM python:3.13\n", "unknown instruction FORM (did you mean FROM?)"),
        ("RUN echo hi\nFROM python:3.13\n", "comes before the first FROM"),
    ],
)
def test_unusable_dockerfile_fails_every_dockerfile_check(grade_static, text, words):
    for check_id in IDS:
        r = grade_static(check_id, {"Dockerfile.prod": text})
        assert r.status == "fail" and words in r.message, r.message


def test_missing_dockerfile(grade_static):
    r = grade_static("dockerfile.stages", {"Dockerfile.prod": None})
    assert r.status == "fail" and "Dockerfile.prod is missing" in r.message


def test_builder_tests_static_side(grade_static):
    ok = grade_static("dockerfile.builder_tests")
    assert ok.status == "skip" and "--static-only" in ok.message  # needs the build to pass
    published = solved(
        {
            "RUN pip install --no-cache-dir -r requirements-dev.txt \\\n && python -m pytest -q tests/": 'ENV PATH="/opt/venv/bin:$PATH"\nRUN pytest tests/'
        }
    )
    r = grade_static("dockerfile.builder_tests", published)
    assert r.status == "fail"
    assert "nothing installs pytest" in r.message and "requirements-dev.txt" in r.hint
    none = solved({"RUN pip install --no-cache-dir -r requirements-dev.txt \\\n && python -m pytest -q tests/": ""})
    assert grade_static("dockerfile.builder_tests", none).status == "fail"
    hidden = solved({"python -m pytest -q tests/": "python -m pytest -q tests/ || true"})
    r = grade_static("dockerfile.builder_tests", hidden)
    assert r.status == "fail" and "would not stop the build" in r.message and "&&" in r.hint
    errexit = solved(
        {
            "RUN pip install --no-cache-dir -r requirements-dev.txt \\\n && python -m pytest -q tests/": "RUN set -e; pip install -r requirements-dev.txt; python -m pytest -q tests/; echo tested"
        }
    )
    assert grade_static("dockerfile.builder_tests", errexit).status == "skip"  # static side satisfied
    listed = solved({"python -m pytest -q tests/": "python -m pytest --collect-only -q tests/"})
    r = grade_static("dockerfile.builder_tests", listed)
    assert r.status == "fail" and "runs no test (--collect-only)" in r.message
    other = solved(text=SOL_WITH_UNUSED_TEST_STAGE)
    r = grade_static("dockerfile.builder_tests", other)
    assert r.status == "fail" and "does not depend on" in r.message


SOL_WITH_UNUSED_TEST_STAGE = """FROM python:3.13 AS builder
WORKDIR /opt/app_builder
COPY app/requirements.txt app/requirements-dev.txt ./
RUN python -m venv /opt/venv && /opt/venv/bin/pip install -r requirements.txt
COPY app/ .

FROM builder AS tester
RUN pip install -r requirements-dev.txt && python -m pytest tests/

FROM python:3.13-slim AS final
WORKDIR /usr/src/app
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /opt/app_builder/main.py .
ENV PATH="/opt/venv/bin:$PATH"
EXPOSE 5000
CMD ["python", "main.py"]
"""


def test_test_stage_that_final_depends_on_counts(grade_static):
    text = SOL_WITH_UNUSED_TEST_STAGE.replace(
        "COPY --from=builder /opt/app_builder/main.py .", "COPY --from=tester /opt/app_builder/main.py ."
    )
    r = grade_static("dockerfile.builder_tests", {"Dockerfile.prod": text})
    assert r.status == "skip" and "pytest runs" in r.message  # static side satisfied; build not run
