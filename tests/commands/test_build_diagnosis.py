"""Failed builds on the real engine: the failing instruction's line, the log tail, a targeted hint."""

from __future__ import annotations

import pytest
from test_grade_e2e import assert_clean, grade

from support import make_checkout, solution_files

pytestmark = pytest.mark.docker
DF = solution_files()["Dockerfile.prod"]

PUBLISHED_PATTERN = DF.replace(
    "RUN pip install --no-cache-dir -r requirements-dev.txt \\\n && python -m pytest -q tests/",
    'ENV PATH="/opt/venv/bin:$PATH"\nRUN pytest tests/',
)

CASES = {
    # name: (Dockerfile.prod, text of the failing line, words in message, words in hint)
    "pytest where it is not installed": (
        PUBLISHED_PATTERN,
        "RUN pytest tests/",
        "runs pytest where it is not installed",
        "requirements-dev.txt",
    ),
    "COPY --from a path the builder lacks": (
        DF.replace("COPY --from=builder /opt/venv /opt/venv", "COPY --from=builder /venv /opt/venv"),
        "COPY --from=builder /venv",
        "does not exist there",
        "exact path",
    ),
    "a failing test": (
        DF.replace("COPY app/ .", "COPY app/ .\nRUN printf 'def test_x():\\n    assert False\\n' > tests/test_fail.py"),
        "python -m pytest",
        "tests failed",
        "pytest's output",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_failed_build_is_explained(tmp_path, docker_engine, name):
    dockerfile, line_text, message, hint = CASES[name]
    code, report, out = grade(
        make_checkout(tmp_path / "c", files={"Dockerfile.prod": dockerfile}), "--build-timeout", "120"
    )
    checks = {c["id"]: c for c in report["checks"]}
    up = checks["runtime.up"]
    assert up["status"] == "fail", out
    assert message in up["message"] and hint in up["hint"], up
    expected = next(i for i, row in enumerate(dockerfile.splitlines(), 1) if line_text in row)
    assert up["file"] == "Dockerfile.prod" and up["line"] in (expected, expected - 1), up
    assert up["log_tail"].strip(), "the build's last lines are quoted"
    for dependent in ("runtime.counter", "images.size_ratio", "images.prod_lean"):
        assert checks[dependent]["status"] == "skip", dependent
    assert code == 1
    assert_clean(report)


def test_a_tag_the_offline_registry_cannot_resolve_is_the_machines_trouble(tmp_path, docker_engine):
    """Here no registry is reachable, so a tag that is not on the engine cannot be looked up: that is an
    `error` naming the FROM line (on GitHub the registry answers "not found", a `fail`: see the unit tests)."""
    dockerfile = DF.replace("FROM python:3.13-slim", "FROM python:3.99-slim")
    code, report, out = grade(
        make_checkout(tmp_path / "c", files={"Dockerfile.prod": dockerfile}), "--build-timeout", "120"
    )
    up = next(c for c in report["checks"] if c["id"] == "runtime.up")
    assert up["status"] == "error" and "not because of your files" in up["message"], up
    assert up["line"] == next(i for i, row in enumerate(dockerfile.splitlines(), 1) if "python:3.99-slim" in row)
    assert code == 2
    assert_clean(report)


def test_following_the_hint_in_the_students_own_file_works(tmp_path, docker_engine):
    """The published pattern puts the venv on PATH before the tests: the hint's command must work there
    and keep pytest out of the prod image (a bare `pip` would be the venv's)."""
    import re

    code, report, out = grade(make_checkout(tmp_path / "a", files={"Dockerfile.prod": PUBLISHED_PATTERN}))
    up = next(c for c in report["checks"] if c["id"] == "runtime.up")
    suggested = re.search(r"`(RUN [^`]+)`", up["hint"])
    assert suggested, up["hint"]
    fixed = PUBLISHED_PATTERN.replace("RUN pytest tests/", suggested.group(1))
    code, report, out = grade(make_checkout(tmp_path / "b", files={"Dockerfile.prod": fixed}))
    checks = {c["id"]: c["status"] for c in report["checks"]}
    assert checks["dockerfile.builder_tests"] == checks["images.prod_lean"] == checks["runtime.up"] == "pass", out
    assert code == 0, out
    assert_clean(report)
