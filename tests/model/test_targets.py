"""The stage that is built is the stage that is judged: `build.target`, else the last stage, with everything
it inherits from the stages it is built FROM. A target that is not the final stage is the build section's
mistake: the grader builds the last stage instead."""

from __future__ import annotations

import pytest

from autograde.model import dockerfile
from autograde.model.build import ProdBuild, fit_target

SOLUTION = """FROM python:3.13 AS builder
WORKDIR /opt/app_builder
COPY app/requirements.txt app/requirements-dev.txt ./
RUN python -m venv /opt/venv && /opt/venv/bin/pip install -r requirements.txt
COPY app/ .
RUN pip install -r requirements-dev.txt && python -m pytest -q tests/

FROM python:3.13-slim AS final
WORKDIR /usr/src/app
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /opt/app_builder/main.py .
ENV PATH="/opt/venv/bin:$PATH"
EXPOSE 5000
CMD ["python", "main.py"]
"""

DEBUG = SOLUTION + '\nFROM final AS debug\nRUN pip install debugpy\nCMD ["python", "-X", "dev", "main.py"]\n'


def target(text: str, name: str | None) -> tuple[dockerfile.Dockerfile, ProdBuild]:
    df = dockerfile.parse(text)
    build = fit_target(ProdBuild(".", "Dockerfile.prod", True, target=name, written_target=name), df)
    df.target = build.target
    return df, build


def test_the_target_is_the_stage_judged():
    df, build = target(DEBUG, "final")
    assert build.target == "final" and not build.target_problem
    assert df.final is not None and df.final.alias == "final"
    df, _ = target(DEBUG, None)
    assert df.final is not None and df.final.alias == "debug", "without a target, the last stage"


def test_a_stage_built_from_another_inherits_its_files_env_and_command():
    df, _ = target(DEBUG, None)
    debug = df.final
    assert debug is not None
    assert [s.alias for s in df.lineage(debug)] == ["debug", "final"]
    assert [c.line for c in df.copies_into(debug)] == [10, 11]
    st = debug.state
    assert st.env["PATH"].startswith("/opt/venv/bin:") and st.workdir == "/usr/src/app"
    assert st.placements["app/main.py"] == ["/usr/src/app/main.py"]
    assert [p for p, _ in st.exposes] == ["5000"]
    assert dockerfile.app_words(st)[0] == ["python", "-X", "dev", "main.py"]


@pytest.mark.parametrize(
    "name, problem",
    [
        ("builder", "a build stage that stage final copies from, not the final stage"),
        ("nope", "`target: nope` names no stage of Dockerfile.prod (its stages: builder, final, debug)"),
        ("FINAL", ""),  # Docker matches stage names without regard to case
        ("debug", ""),
    ],
)
def test_which_targets_build_the_final_stage(name, problem):
    df, build = target(DEBUG, name)
    assert (problem in build.target_problem) if problem else not build.target_problem, build.target_problem
    if problem:
        assert build.target is None and df.final is df.stages[-1], "the grader builds the last stage instead"


def test_a_full_image_test_stage_beside_a_slim_last_stage_is_not_the_final_stage():
    text = SOLUTION.replace(
        "FROM python:3.13-slim AS final", "FROM builder AS test\nRUN python -m pytest\n\nFROM python:3.13-slim AS final"
    )
    _, build = target(text, "test")
    assert "on python:3.13, not the slim final stage" in build.target_problem


SCRIPT = "#!/bin/sh\nset -e\necho 'starting the hit counter'\nexec python main.py\n"


def test_an_entrypoint_script_written_with_a_heredoc_is_followed():
    text = SOLUTION.replace(
        'CMD ["python", "main.py"]',
        f"COPY --chmod=755 <<'EOF' /usr/local/bin/start-app\n{SCRIPT}EOF\nENTRYPOINT [\"start-app\"]",
    )
    df = dockerfile.parse(text)
    assert df.final is not None
    assert dockerfile.app_words(df.final.state) == (["python", "main.py"], ("/usr/local/bin/start-app", 14))


def test_an_entrypoint_script_copied_from_the_context_runs_its_cmd(tmp_path):
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "entrypoint.sh").write_text('#!/bin/sh\nset -eu\necho "REDIS_HOST=$REDIS_HOST"\nexec "$@"\n')
    text = SOLUTION.replace(
        'CMD ["python", "main.py"]',
        'COPY docker/entrypoint.sh /entrypoint.sh\nENTRYPOINT ["/entrypoint.sh"]\nCMD ["python", "-u", "main.py"]',
    )
    df = dockerfile.parse(text, tmp_path)
    assert df.final is not None
    words, script = dockerfile.app_words(df.final.state)
    assert words == ["python", "-u", "main.py"] and script == ("/entrypoint.sh", 14)


def test_lowercase_legacy_env_and_a_continued_json_cmd_read_as_docker_reads_them():
    text = (
        "from python:3.13 as builder\nworkdir /src\ncopy app/ .\n"
        "run python -m venv /venv && /venv/bin/pip install -r requirements.txt\n\n"
        "from python:3.13-slim as final\nworkdir /app\ncopy --from=builder /venv /venv\n"
        "copy --from=builder /src/main.py .\nenv PATH /venv/bin:$PATH\nexpose 5000\n"
        'cmd ["python", \\\n     "main.py"]\n'
    )
    df = dockerfile.parse(text)
    final = df.final
    assert final is not None and final.alias == "final"
    assert final.state.env["PATH"].startswith("/venv/bin:")
    assert dockerfile.app_words(final.state)[0] == ["python", "main.py"]
    assert final.state.interpreter_env("python", "/app", final.state.env["PATH"]) == "/venv"
