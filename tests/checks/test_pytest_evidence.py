"""pytest's own words in every shape it prints them, the failing test at its place in the repository,
and the grader's own diagnosis when pytest ran no test (a flattened COPY, a .dockerignore pattern)."""

from __future__ import annotations

import pytest
from test_build_explanations import DF, run_failed, up_for

from autograde.runtime.diagnose import ignore_patterns, ignored_by, pytest_failures, pytest_summary

CMD = "pip install --no-cache-dir -r requirements-dev.txt  && python -m pytest -q tests/"
TRACEBACK = [
    "=================================== FAILURES ===================================",
    "____________________ test_each_visit_increments_the_counter _____________________",
    "",
    "    def test_each_visit_increments_the_counter(client, use_redis):",
    ">       assert second == first + 2",
    "E       assert 2 == (1 + 2)",
    "",
    "tests/test_main.py:62: AssertionError",
]
FAILED = "FAILED tests/test_main.py::test_each_visit_increments_the_counter - assert 2 == (1 + 2)"
SHAPES = {
    # -q: the summary line has no `===`
    "-q": [
        "..F...                                                                   [100%]",
        *TRACEBACK,
        FAILED,
        "1 failed, 5 passed in 0.31s",
    ],
    "-v": [
        "tests/test_main.py::test_each_visit_increments_the_counter FAILED       [ 16%]",
        "tests/test_main.py::test_unknown_page_is_404 PASSED                     [100%]",
        *TRACEBACK,
        "=========================== short test summary info ============================",
        FAILED,
        "========================= 1 failed, 5 passed in 0.29s ==========================",
    ],
    "-rA": [
        "..F...",
        *TRACEBACK,
        "==================================== PASSES ====================================",
        "=========================== short test summary info ============================",
        "PASSED tests/test_main.py::test_unknown_page_is_404",
        FAILED,
        "==================== 1 failed, 5 passed, 1 warning in 0.30s ====================",
    ],
}


def buildkit(lines: list[str]) -> str:
    return run_failed(CMD, lines, 1)


def classic(lines: list[str]) -> str:
    """The classic builder: the step's output bare, between `---> Running in` and `The command ...`."""
    body = "\n".join(lines)
    return (
        f"Step 6/13 : RUN {CMD}\n ---> Running in 4f2a1c9d0e11\n{body}\n"
        f"The command '/bin/sh -c {CMD}' returned a non-zero code: 1\n"
    )


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("builder", [buildkit, classic])
def test_pytest_summary_in_every_shape(shape, builder):
    log = builder(SHAPES[shape])
    said = pytest_summary(log)
    assert said is not None and said.startswith("1 failed, 5 passed"), (shape, said)
    [failure] = pytest_failures(log)
    assert (failure.path, failure.line) == ("tests/test_main.py", 62)
    assert failure.test == "test_each_visit_increments_the_counter"


def test_no_summary_when_pytest_did_not_finish():
    assert pytest_summary(buildkit(["Collecting flask", "Successfully installed flask-3.1.3"])) is None


@pytest.mark.parametrize("shape", list(SHAPES))
def test_failing_test_verdict_quotes_pytest_and_names_the_students_file(tmp_path, shape):
    checks = up_for(tmp_path, DF, buildkit(SHAPES[shape]))
    up = checks["runtime.up"]
    assert up.status == "fail" and "(pytest: 1 failed, 5 passed" in up.message, up.message
    assert [(p.file, p.line) for p in up.places] == [("app/tests/test_main.py", 62)]
    assert "app/tests/test_main.py:62" in up.message
    assert "tests/test_main.py:62" not in up.message.replace("app/tests/test_main.py:62", "")
    tests = checks["dockerfile.builder_tests"]
    assert (tests.status, tests.file, tests.line, tests.hint) == ("fail", up.file, up.line, up.hint)


FLATTENED = DF.replace("COPY app/ .", "COPY app/* .")


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        (["ERROR: file or directory not found: tests/", "", "no tests ran in 0.01s"], 4),
        (["", "no tests ran in 0.01s"], 5),
    ],
)
def test_a_flattening_copy_is_the_cause_not_failing_tests(tmp_path, lines, code):
    checks = up_for(tmp_path, FLATTENED, run_failed(CMD, lines, code))
    copy_line = next(i for i, row in enumerate(FLATTENED.splitlines(), 1) if row == "COPY app/* .")
    for check in checks.values():
        assert check.status == "fail"
        assert f"pytest found no tests/ — the COPY at Dockerfile.prod:{copy_line} flattened app/" in check.message
        assert f"exit code {code}" in check.message, check.message
        assert (check.file, check.line) == ("Dockerfile.prod", copy_line)
        assert "COPY app/ ." in check.hint
        assert "fix the code or the test" not in (check.message + check.hint).lower()


def test_tests_kept_out_by_dockerignore_name_the_pattern(tmp_path):
    from autograde.checks import default_rubric, run_check
    from autograde.checks.base import Context
    from autograde.model import load_submission
    from support import REPO, make_checkout

    ignore = (REPO / ".dockerignore").read_text() + "app/tests\n"
    root = make_checkout(tmp_path / "c", files={".dockerignore": ignore})
    line = ignore.splitlines().index("app/tests") + 1
    lines = ["ERROR: file or directory not found: tests/", "", "no tests ran in 0.01s"]
    checks = up_for(tmp_path / "x", DF, run_failed(CMD, lines, 4))  # same log, no ignore pattern: not this cause
    assert ".dockerignore" not in checks["runtime.up"].message
    sub = load_submission(root)
    facts = _facts(run_failed(CMD, lines, 4))
    up = run_check("runtime.up", Context(sub, default_rubric(), facts))
    assert (up.file, up.line) == (".dockerignore", line), up
    assert f".dockerignore:{line} (`app/tests`)" in up.message and "/opt/app_builder/tests" not in up.message
    assert "Remove the line `app/tests` from .dockerignore" in up.hint


def _facts(output: str):
    from autograde.runtime.diagnose import parse_build_output
    from autograde.runtime.facts import BuildFacts, Facts

    out = parse_build_output(output)
    return Facts(
        host_port=5005,
        prod_build=BuildFacts(
            False,
            3.0,
            error=out.error,
            failed_step=out.step,
            output_tail=output,
            exit_code=out.exit_code,
            step_log=out.step_log,
        ),
    )


@pytest.mark.parametrize(
    ("patterns", "path", "pattern"),
    [
        ("app/tests\n", "app/tests/test_main.py", "app/tests"),
        ("**/tests\n", "app/tests/test_main.py", "**/tests"),
        ("tests\n", "app/tests/test_main.py", None),  # a pattern without a slash matches at the root only
        ("app/tests\n!app/tests/test_main.py\n", "app/tests/test_main.py", None),
        ("# app/tests\n\napp/*.txt\n", "app/requirements.txt", "app/*.txt"),
    ],
)
def test_which_pattern_keeps_a_file_out(patterns, path, pattern):
    hit = ignored_by(ignore_patterns(patterns), path)
    assert (hit.pattern if hit else None) == pattern


def test_a_copy_of_an_ignored_file_names_the_pattern(tmp_path):
    from autograde.checks import default_rubric, run_check
    from autograde.checks.base import Context
    from autograde.model import load_submission
    from support import REPO, make_checkout

    ignore = (REPO / ".dockerignore").read_text() + "app/*.txt\n"
    sub = load_submission(make_checkout(tmp_path / "c", files={".dockerignore": ignore}))
    step = "COPY app/requirements.txt app/requirements-dev.txt ./"
    output = (
        f"#7 [web_prod builder 3/6] {step}\n"
        '#7 ERROR: failed to calculate checksum of ref abc::def: "/app/requirements-dev.txt": not found\n'
        f"------\n > [web_prod builder 3/6] {step}:\n------\n"
        "failed to solve: failed to compute cache key: failed to calculate checksum of ref abc::def: "
        '"/app/requirements-dev.txt": not found\n'
    )
    up = run_check("runtime.up", Context(sub, default_rubric(), _facts(output)))
    line = ignore.splitlines().index("app/*.txt") + 1
    assert up.status == "fail" and (up.file, up.line) == (".dockerignore", line), up
    assert f".dockerignore:{line} (`app/*.txt`)" in up.message and "app/*.txt" in up.hint
