"""A failed build is told by what its log shows (exit code, last lines), and the machine's trouble is an error."""

from __future__ import annotations

import pytest

from autograde.checks import default_rubric, run_check
from autograde.checks.base import Context
from autograde.model import load_submission
from autograde.runtime.diagnose import parse_build_output
from autograde.runtime.facts import BuildFacts, Facts
from support import make_checkout, solution_files

SOL = solution_files()
DF = SOL["Dockerfile.prod"]


def run_failed(cmd: str, lines: list[str], code: int) -> str:
    body = "\n".join(f"#12 {1.5 + i / 10:.3f} {line}" for i, line in enumerate(lines))
    return (
        f"#12 [web_prod builder 6/6] RUN {cmd}\n{body}\n"
        f'#12 ERROR: process "/bin/sh -c {cmd}" did not complete successfully: exit code: {code}\n'
        f"------\n > [web_prod builder 6/6] RUN {cmd}:\n------\n"
        f'failed to solve: process "/bin/sh -c {cmd}" did not complete successfully: exit code: {code}\n'
    )


def up_for(tmp_path, dockerfile: str, output: str):
    sub = load_submission(make_checkout(tmp_path / "c", files={"Dockerfile.prod": dockerfile}))
    out = parse_build_output(output)
    facts = Facts(
        host_port=5005,
        prod_build=BuildFacts(
            False,
            3.0,
            error=out.error,
            failed_step=out.step,
            output_tail=output,
            exit_code=out.exit_code,
            step_log=out.step_log,
            infrastructure=out.infrastructure,
        ),
        dev_build=BuildFacts(True, 1.0, "sha256:d", "d", 600_000_000),
    )
    return {i: run_check(i, Context(sub, default_rubric(), facts)) for i in ("runtime.up", "dockerfile.builder_tests")}


def test_missing_program_is_not_failing_tests(tmp_path):
    cmd = "/usr/local/bin/python -m pytest tests"
    df = DF.replace(
        "RUN pip install --no-cache-dir -r requirements-dev.txt \\\n && python -m pytest -q tests/",
        f"RUN pip install --no-cache-dir -r requirements-dev.txt\nRUN {cmd}",
    )
    r = up_for(tmp_path, df, run_failed(cmd, ["/bin/sh: 1: /usr/local/bin/python: not found"], 127))["runtime.up"]
    assert r.status == "fail"
    assert "calls `/usr/local/bin/python`, which does not exist" in r.message and "exit code 127" in r.message
    assert "tests failed" not in r.message


def test_pytest_not_installed_hint_fits_a_builder_with_the_venv_on_path(tmp_path):
    df = DF.replace("COPY app/ .", 'COPY app/ .\nENV PATH="/opt/venv/bin:$PATH"').replace(
        "RUN pip install --no-cache-dir -r requirements-dev.txt \\\n && python -m pytest -q tests/",
        "RUN python -m pytest tests/",
    )
    env_line = next(i for i, row in enumerate(df.splitlines(), 1) if row.startswith("ENV PATH"))
    checks = up_for(
        tmp_path, df, run_failed("python -m pytest tests/", ["/opt/venv/bin/python: No module named pytest"], 1)
    )
    up = checks["runtime.up"]
    assert up.status == "fail" and "runs pytest where it is not installed" in up.message
    assert "No module named pytest" in up.message  # what the log shows, not a guess
    assert f"line {env_line} puts /opt/venv/bin first on PATH" in up.hint
    assert (
        "/usr/local/bin/python -m pip install --no-cache-dir -r requirements-dev.txt && /usr/local/bin/python -m "
        "pytest tests/" in up.hint
    )  # a bare `pip` would be the venv's here
    tests = checks["dockerfile.builder_tests"]
    assert tests.status == "fail" and "the build failed there (exit code 1" in tests.message
    assert "/usr/local/bin/python -m pytest" in tests.hint


def test_pytest_not_installed_hint_without_path_change_uses_plain_pip(tmp_path):
    df = DF.replace(
        "RUN pip install --no-cache-dir -r requirements-dev.txt \\\n && python -m pytest -q tests/",
        "RUN /opt/venv/bin/python -m pytest tests/",
    )
    up = up_for(
        tmp_path,
        df,
        run_failed("/opt/venv/bin/python -m pytest tests/", ["/opt/venv/bin/python: No module named pytest"], 1),
    )["runtime.up"]
    assert "`RUN pip install --no-cache-dir -r requirements-dev.txt && python -m pytest tests/`" in up.hint


def test_failing_tests_are_named_with_pytest_summary(tmp_path):
    cmd = "pip install --no-cache-dir -r requirements-dev.txt  && python -m pytest -q tests/"
    log = ["F.....", "FAILED tests/test_main.py::test_counts - assert 1 == 2", "=== 1 failed, 5 passed in 0.3s ==="]
    checks = up_for(tmp_path, DF, run_failed(cmd, log, 1))
    assert "tests failed during the build (pytest: 1 failed, 5 passed)" in checks["runtime.up"].message
    assert checks["dockerfile.builder_tests"].status == "fail"


def test_pip_resolver_error(tmp_path):
    cmd = "python -m venv /opt/venv  && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt"
    log = [
        "ERROR: Could not find a version that satisfies the requirement flask==9.9 (from versions: 3.1.3)",
        "ERROR: No matching distribution found for flask==9.9",
    ]
    r = up_for(tmp_path, DF, run_failed(cmd, log, 1))["runtime.up"]
    assert r.status == "fail" and "pip could not install the requirements" in r.message


def test_pip_without_network_is_an_error(tmp_path):
    cmd = "python -m venv /opt/venv  && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt"
    log = [
        "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection "
        "broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object>: Failed to "
        "establish a new connection: [Errno -3] Temporary failure in name resolution')': /simple/flask/",
        "ERROR: Could not find a version that satisfies the requirement Flask==3.1.3 (from versions: none)",
    ]
    checks = up_for(tmp_path, DF, run_failed(cmd, log, 1))
    assert checks["runtime.up"].status == "error" and "not because of your files" in checks["runtime.up"].message
    assert checks["dockerfile.builder_tests"].status == "error"


FROM_FAILED = """#3 [web_prod internal] load metadata for docker.io/library/python:3.13-slim
#3 ERROR: {error}
------
 > [web_prod internal] load metadata for docker.io/library/python:3.13-slim:
------
failed to solve: python:3.13-slim: {error}
"""


@pytest.mark.parametrize(
    "error, status",
    [
        (
            'failed to do request: Head "https://registry-1.docker.io/v2/library/python/manifests/3.13-slim": dial tcp: '
            "lookup registry-1.docker.io: no such host",
            "error",
        ),
        (
            "unexpected status code [manifests 3.13-slim]: 429 Too Many Requests - toomanyrequests: You have reached your "
            "pull rate limit",
            "error",
        ),
        ('failed to do request: Head "https://registry-1.docker.io/v2/": dial tcp 1.2.3.4:443: i/o timeout', "error"),
        ("docker.io/library/python:3.13-slim: not found", "fail"),
        ("failed to resolve source metadata for docker.io/library/python:3.99-slim: manifest unknown", "fail"),
    ],
)
def test_registry_trouble_is_an_error_and_a_missing_tag_a_failure(tmp_path, error, status):
    r = up_for(tmp_path, DF, FROM_FAILED.format(error=error))["runtime.up"]
    assert r.status == status, r.message
    if status == "fail":
        assert r.line == next(i for i, row in enumerate(DF.splitlines(), 1) if row.startswith("FROM python:3.13-slim"))


def test_engine_lost_mid_build_is_an_error(tmp_path):
    out = (
        "#12 [web_prod builder 4/6] RUN pip install\nfailed to receive status: rpc error: code = Unavailable "
        "desc = error reading from server: EOF\n"
    )
    assert up_for(tmp_path, DF, out)["runtime.up"].status == "error"


def test_student_output_cannot_claim_engine_trouble(tmp_path):
    cmd = "pip install --no-cache-dir -r requirements-dev.txt  && python -m pytest -q tests/"
    log = ["failed to receive status: rpc error: code = Unavailable", "no such host", "=== 1 failed in 0.1s ==="]
    assert up_for(tmp_path, DF, run_failed(cmd, log, 1))["runtime.up"].status == "fail"


def test_every_check_that_needed_the_image_is_an_error_when_the_registry_failed(tmp_path):
    sub = load_submission(make_checkout(tmp_path / "c"))
    out = parse_build_output(FROM_FAILED.format(error="failed to do request: dial tcp: lookup x: no such host"))
    facts = Facts(
        host_port=5005,
        prod_build=BuildFacts(
            False, 3.0, error=out.error, failed_step=out.step, output_tail="", infrastructure=out.infrastructure
        ),
        dev_build=BuildFacts(True, 1.0, "sha256:d", "d", 600_000_000),
    )
    for check_id in (
        "runtime.up",
        "runtime.counter",
        "images.size_ratio",
        "images.prod_lean",
        "dockerfile.builder_tests",
    ):
        assert run_check(check_id, Context(sub, default_rubric(), facts)).status == "error", check_id


def test_a_pull_that_failed_for_the_network_is_an_error_at_up(tmp_path):
    from autograde.runtime.diagnose import up_infrastructure
    from autograde.runtime.facts import UpFacts

    sub = load_submission(make_checkout(tmp_path / "c"))
    seen = (
        'redis_prod Error Head "https://registry-1.docker.io/v2/library/redis/manifests/alpine": dial tcp: '
        "lookup registry-1.docker.io: no such host"
    )
    facts = Facts(
        host_port=5005,
        prod_build=BuildFacts(True, 3.0, "sha256:p", "p", 1),
        dev_build=BuildFacts(True, 1.0, "sha256:d", "d", 6),
        up=UpFacts(False, "`docker compose up` failed", [], seen, infrastructure=up_infrastructure(seen)),
    )
    assert run_check("runtime.up", Context(sub, default_rubric(), facts)).status == "error"
    assert run_check("runtime.counter", Context(sub, default_rubric(), facts)).status == "error"
    denied = "pull access denied for kv, repository does not exist or may require 'docker login'"
    assert up_infrastructure(denied) == ""
