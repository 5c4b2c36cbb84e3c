"""Verdicts from evidence: when the prod image built, builder_venv and builder_tests are decided from the
image and the build log; the text rules locate the line, word the hint, and are all --static-only has.
Where the two disagree, the evidence grades and the JSON report records the disagreement."""

from __future__ import annotations

from pathlib import Path

from autograde.checks import default_rubric, run_check
from autograde.checks.base import Context
from autograde.checks.dockerfile import disagreements
from autograde.model import load_submission
from autograde.runtime.evidence import BuildLog, ImageEvidence, VenvInImage, parse_probe
from autograde.runtime.facts import BuildFacts, Facts
from support import make_checkout

# A real `docker compose --progress plain build` log of the lab's solution (BuildKit 0.13), shortened.
PLAIN_LOG = """\
#7 [builder 2/6] WORKDIR /opt/app_builder
#7 DONE 0.1s
#8 [builder 3/6] COPY app/requirements.txt app/requirements-dev.txt ./
#8 CACHED
#9 [builder 5/6] COPY app/ .
#9 DONE 0.0s
#10 [builder 6/6] RUN pip install --no-cache-dir -r requirements-dev.txt  && python -m pytest -q tests/
#10 3.208 ......                                                                   [100%]
#10 3.215 6 passed in 0.31s
#10 DONE 3.6s
#11 [final 3/4] COPY --from=builder /opt/venv /opt/venv
#11 DONE 0.2s
"""

HEREDOC_DF = """FROM python:3.13 AS builder
WORKDIR /opt/app_builder
COPY app/ .
RUN <<EOF
python -m venv /opt/venv
/opt/venv/bin/pip install --no-cache-dir -r requirements.txt
pip install --no-cache-dir -r requirements-dev.txt
python -m pytest -q tests/
EOF

FROM python:3.13-slim
WORKDIR /usr/src/app
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /opt/app_builder/main.py .
ENV PATH="/opt/venv/bin:$PATH"
EXPOSE 5000
CMD ["python", "main.py"]
"""

# the text rules miss a venv filled by a shell script the build runs; the image shows it
SCRIPT_DF = """FROM python:3.13 AS builder
WORKDIR /opt/app_builder
COPY app/ .
RUN printf 'python -m venv /opt/venv\\n/opt/venv/bin/pip install -r requirements.txt\\n' > setup.sh && sh setup.sh
RUN pip install -r requirements-dev.txt && python -m pytest -q tests/

FROM python:3.13-slim
WORKDIR /usr/src/app
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /opt/app_builder/main.py .
ENV PATH="/opt/venv/bin:$PATH"
EXPOSE 5000
CMD ["python", "main.py"]
"""


def log_of(text: str) -> BuildLog:
    log = BuildLog()
    for line in text.splitlines():
        log.feed(line)
    return log


def facts(*venvs: VenvInImage, log: str = PLAIN_LOG, image_error: str = "") -> Facts:
    build = BuildFacts(True, 10.0, "sha256:x", "t", 1, evidence=log_of(log).evidence)
    return Facts(prod_build=build, image=ImageEvidence(list(venvs), image_error))


def grade(tmp_path: Path, check_id: str, dockerfile: str | None, f: Facts | None):
    root = make_checkout(tmp_path / "c", files={"Dockerfile.prod": dockerfile} if dockerfile else {})
    ctx = Context(load_submission(root), default_rubric(), f)
    return run_check(check_id, ctx), disagreements(ctx)


FULL = VenvInImage("/opt/venv", ("blinker", "flask", "redis", "werkzeug"))


def test_the_build_log_names_the_steps_that_ran_pytest_and_what_pytest_said():
    evidence = log_of(PLAIN_LOG).evidence
    assert len(evidence.steps) == 5
    [step] = evidence.test_steps
    assert step.stage == "builder" and step.summary == "6 passed in 0.31s" and not step.cached
    assert step.step.startswith("RUN pip install")


def test_a_cached_pytest_step_is_recorded_without_output():
    evidence = log_of("#5 [builder 4/4] RUN python -m pytest tests/\n#5 CACHED\n").evidence
    assert [(t.cached, t.summary) for t in evidence.test_steps] == [(True, "")]


def test_the_probe_output_is_parsed_and_names_normalized():
    ev = parse_probe('noise\n{"venvs": [{"path": "/opt/venv/", "packages": ["Flask", "redis", "typing_extensions"]}]}')
    assert ev.venvs == [VenvInImage("/opt/venv", ("flask", "redis", "typing-extensions"))]
    assert ev.venv("/opt/venv").holds("Flask", "redis")
    assert parse_probe("").error and parse_probe("not json").error


def test_a_venv_the_text_rules_miss_passes_from_the_image_and_the_disagreement_is_recorded(tmp_path):
    static, _ = grade(tmp_path, "dockerfile.builder_venv", SCRIPT_DF, None)
    assert static.status == "fail"  # --static-only: the text rule is all there is
    graded, differ = grade(tmp_path, "dockerfile.builder_venv", SCRIPT_DF, facts(FULL))
    assert graded.status == "pass", graded.message
    assert "/opt/venv holds Flask and redis" in graded.message
    assert [d["check"] for d in differ] == ["dockerfile.builder_venv"]
    assert differ[0]["text_rule"]["status"] == "fail" and differ[0]["evidence"]["status"] == "pass"


def test_a_copied_venv_without_the_packages_fails_from_the_image(tmp_path):
    empty = VenvInImage("/opt/venv", ("pip",))
    graded, differ = grade(tmp_path, "dockerfile.builder_venv", None, facts(empty))
    assert graded.status == "fail" and "lacks Flask and redis" in graded.message
    assert graded.line is not None
    assert differ and differ[0]["evidence"]["status"] == "fail"


def test_no_image_evidence_leaves_the_text_verdict(tmp_path):
    graded, differ = grade(tmp_path, "dockerfile.builder_venv", None, facts(image_error="the probe exited"))
    assert graded.status == "pass" and differ == []


def test_tests_that_ran_and_passed_in_a_heredoc_pass_with_pytest_s_own_words(tmp_path):
    log = (
        "#9 [builder 4/4] RUN <<EOF (python -m venv /opt/venv...)\n#9 12.0 6 passed in 0.40s\n#9 DONE 12.5s\n"
        "#10 [stage-1 3/4] COPY --from=builder /opt/venv /opt/venv\n#10 DONE 0.1s\n"
    )
    graded, _ = grade(tmp_path, "dockerfile.builder_tests", HEREDOC_DF, facts(FULL, log=log))
    assert graded.status == "pass", graded.message
    assert "6 passed in 0.40s" in graded.message and graded.line == 4


def test_a_heredoc_whose_failing_test_would_not_stop_the_build_keeps_the_text_verdict(tmp_path):
    no_errexit = HEREDOC_DF.replace("python -m pytest -q tests/\n", "python -m pytest -q tests/\necho done\n")
    log = "#9 [builder 4/4] RUN <<EOF (python -m venv /opt/venv...)\n#9 12.0 6 passed in 0.40s\n#9 DONE 12.5s\n"
    graded, _ = grade(tmp_path, "dockerfile.builder_tests", no_errexit, facts(FULL, log=log))
    assert graded.status == "fail" and "would not stop the build" in graded.message


def test_a_log_without_the_pytest_step_is_no_evidence(tmp_path):
    """With a warm cache BuildKit may list none of the builder's steps; that says nothing about the tests."""
    log = "#7 [final 2/4] COPY --from=builder /opt/venv /opt/venv\n#7 CACHED\n"
    graded, differ = grade(tmp_path, "dockerfile.builder_tests", None, facts(FULL, log=log))
    assert graded.status == "pass" and "the prod build succeeded" in graded.message
    assert differ == []


def test_tests_that_ran_where_the_text_rules_see_none_pass_and_the_disagreement_is_recorded(tmp_path):
    script = SCRIPT_DF.replace(
        "RUN pip install -r requirements-dev.txt && python -m pytest -q tests/",
        "RUN printf 'pip install -r requirements-dev.txt\\npython -m pytest -q tests/\\n' > t.sh && sh -e t.sh",
    )
    log = "#9 [builder 5/5] RUN printf 'pip install ...' > t.sh && sh -e t.sh\n#9 8.1 6 passed in 0.30s\n#9 DONE 9s\n"
    static, _ = grade(tmp_path, "dockerfile.builder_tests", script, None)
    assert static.status == "fail"
    graded, differ = grade(tmp_path, "dockerfile.builder_tests", script, facts(FULL, log=log))
    assert graded.status == "pass" and "6 passed in 0.30s" in graded.message
    assert [d["check"] for d in differ] == ["dockerfile.builder_venv", "dockerfile.builder_tests"]


def test_a_from_variable_that_is_not_a_global_arg_fails_runtime_up_at_that_line(tmp_path):
    df = HEREDOC_DF.replace("FROM python:3.13-slim", "FROM python:${PYTHON_VERSION}-slim").replace(
        "WORKDIR /opt/app_builder", "ARG PYTHON_VERSION=3.13\nWORKDIR /opt/app_builder", 1
    )
    said = 'failed to solve: failed to parse stage name "python:-slim": invalid reference format'
    build = BuildFacts(False, 1.0, error=said, output_tail=said)
    graded, _ = grade(tmp_path, "runtime.up", df, Facts(prod_build=build))
    assert graded.status == "fail" and graded.line == 12, graded.message
    assert "python:-slim" in graded.message and "PYTHON_VERSION" in graded.message
    slim, _ = grade(tmp_path, "dockerfile.final_slim", df, None)
    assert slim.status == "fail" and slim.line == 12 and "above the first FROM" in slim.hint


def test_a_line_the_engine_s_parser_refuses_is_named(tmp_path):
    said = "ERROR: failed to solve: dockerfile parse error on line 4: unknown flag: parents"
    build = BuildFacts(False, 1.0, error=said, output_tail=said)
    graded, _ = grade(tmp_path, "runtime.up", None, Facts(prod_build=build))
    assert graded.status == "fail" and graded.line == 4 and "--parents" in graded.hint


def test_uv_that_cannot_reach_the_package_index_is_the_machine_s_trouble():
    from autograde.runtime.diagnose import infrastructure

    # as uv 0.9 printed it in a build on a network whose TLS inspection uv's own CA bundle does not trust
    output = (
        "#9 2.122 error: Failed to fetch: https://pypi.org/simple/redis/\n"
        "#9 2.122   cause: error sending request for url (https://pypi.org/simple/redis/)\n"
        "#9 2.122   cause: client error (Connect)\n"
        "#9 2.122   cause: invalid peer certificate: UnknownIssuer\n"
    )
    assert infrastructure(None, "exit code: 2", output).startswith("uv could not reach the package index")
    assert infrastructure(None, "exit code: 2", "#9 2.0 error: No virtual environment found\n") == ""


def test_only_pytest_s_own_summary_words_are_taken_from_the_log():
    log = log_of(
        "#5 [builder 4/4] RUN python -m pytest\n#5 3.0 6 passed, 1 warning in 0.31s\n#5 DONE 3.1s\n"
        "#6 [builder 5/5] RUN echo\n#6 0.1 1 passed <b>[x](http://e)</b> in 1s\n#6 DONE 0.2s\n"
    )
    assert [t.summary for t in log.evidence.test_steps] == ["6 passed, 1 warning in 0.31s"]


def test_packages_installed_by_name_keep_the_text_verdict_though_the_image_has_them(tmp_path):
    """Which packages were asked for (names, not app/requirements.txt) is the Dockerfile's to show."""
    from support import solution_files

    by_name = solution_files()["Dockerfile.prod"].replace(
        "/opt/venv/bin/pip install --no-cache-dir -r requirements.txt",
        "/opt/venv/bin/pip install --no-cache-dir flask==3.1.3 redis==8.1.0",
    )
    assert "flask==3.1.3" in by_name
    graded, differ = grade(tmp_path, "dockerfile.builder_venv", by_name, facts(FULL))
    assert graded.status == "fail" and "by name" in graded.message
    assert differ == []
