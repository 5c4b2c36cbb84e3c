"""Reading a failed build's output: the failing step, even when BuildKit cancelled parallel steps."""

from __future__ import annotations

from autograde.runtime.diagnose import parse_build_output

PARALLEL = """#9 [w final 2/5] WORKDIR /usr/src/app
#9 CANCELED
#8 [w builder 6/6] RUN pip install -r r.txt  && python -m pytest -q tests/
#8 ERROR: executor failed running [/bin/sh -c pip install -r r.txt  && python -m pytest -q tests/]: exit code: 1
------
 > [w final 2/5] WORKDIR /usr/src/app:
------
failed to solve: executor failed running [/bin/sh -c pip install -r r.txt  && python -m pytest -q tests/]: exit code: 1
"""
COPY = """#5 [w stage-1 2/2] COPY --from=builder /venv /x
#5 ERROR: lstat /var/lib/docker/overlay2/x/merged/venv: no such file or directory
------
 > [w stage-1 2/2] COPY --from=builder /venv /x:
------
failed to solve: lstat /var/lib/docker/overlay2/x/merged/venv: no such file or directory
"""
NEWER = """ > [builder 4/6] RUN pytest tests/:
0.2 /bin/sh: 1: pytest: not found
ERROR: failed to solve: process "/bin/sh -c pytest tests/" did not complete successfully: exit code: 127
"""
CLASSIC = """Step 6/12 : RUN pytest tests/
 ---> Running in 0a1b
/bin/sh: 1: pytest: not found
The command '/bin/sh -c pytest tests/' returned a non-zero code: 127
"""


def test_failing_run_step_wins_over_cancelled_steps():
    out = parse_build_output(PARALLEL)
    step, error = out.step, out.error
    assert step == "RUN pip install -r r.txt  && python -m pytest -q tests/"
    assert error.startswith("failed to solve")


def test_failing_copy_step_by_its_error_marker():
    assert parse_build_output(COPY).step == "COPY --from=builder /venv /x"


def test_newer_buildkit_and_classic_builder_output():
    assert parse_build_output(NEWER).step == "RUN pytest tests/"
    out = parse_build_output(CLASSIC)
    assert out.step == "RUN pytest tests/" and "non-zero code: 127" in out.error
    assert out.exit_code == 127 and "pytest: not found" in out.step_log


def test_compose_version_parsing():
    from autograde.runtime.session import MIN_COMPOSE, compose_version

    assert compose_version("2.40.3") == (2, 40) >= MIN_COMPOSE
    assert compose_version("v2.23.0-desktop.1") == (2, 23) < MIN_COMPOSE
    assert compose_version("") is None
