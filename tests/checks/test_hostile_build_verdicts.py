"""Hostile build steps are told in the student's terms: the line, out of memory with its cap, no space
left, the step that hung and what it left running."""

from __future__ import annotations

from autograde.checks import default_rubric, run_check
from autograde.checks.base import Context
from autograde.model import load_submission
from autograde.runtime.facts import BuildFacts, Facts
from support import make_checkout, solution_files

DF = solution_files()["Dockerfile.prod"]


def with_step(step: str) -> str:
    head, sep, tail = DF.rpartition("CMD [")
    return head + step + "\n" + sep + tail


def runtime_up(tmp_path, dockerfile: str, build: BuildFacts):
    sub = load_submission(make_checkout(tmp_path / "c", files={"Dockerfile.prod": dockerfile}))
    facts = Facts(host_port=5005, prod_build=build, dev_build=BuildFacts(True, 1.0, "sha256:d", "d", 600_000_000))
    return run_check("runtime.up", Context(sub, default_rubric(), facts))


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_step_killed_by_its_memory_cap_is_told_out_of_memory_at_its_line(tmp_path):
    step = 'RUN python -c "x = [bytes(10**8) for _ in range(100)]"'
    build = BuildFacts(False, 9.0, error="exit code: 137", failed_step=step, exit_code=137, oom_limit="2 GiB")
    r = runtime_up(tmp_path, with_step(step), build)
    assert r.status == "fail" and r.line == line_of(with_step(step), "bytes(10**8)")
    assert "killed: out of memory (limit 2 GiB per build step)" in r.message


def test_a_step_that_ran_out_of_disk_says_no_space_left(tmp_path):
    step = "RUN dd if=/dev/zero of=/fill bs=1M count=20000"
    log = "dd: error writing '/fill': No space left on device"
    build = BuildFacts(False, 9.0, error="exit code: 1", failed_step=step, exit_code=1, step_log=log)
    r = runtime_up(tmp_path, with_step(step), build)
    assert r.status == "fail" and "No space left on device" in r.message
    assert r.line == line_of(with_step(step), "dd if=")


def test_a_timed_out_build_names_the_step_that_hung_and_what_it_left(tmp_path):
    step = "RUN sleep 100000"
    build = BuildFacts(
        False,
        30.0,
        timed_out=True,
        running_step=step,
        still_running=["the step had 2 processes running"],
    )
    r = runtime_up(tmp_path, with_step(step), build)
    assert r.status == "fail" and r.line == line_of(with_step(step), "sleep 100000")
    assert f"stopped at Dockerfile.prod:{r.line} (`RUN sleep 100000`); the step had 2 processes running" in r.message


def test_the_machines_shortage_is_an_error_not_the_students_fail(tmp_path):
    step = "RUN pip install -r requirements.txt"
    build = BuildFacts(
        False,
        9.0,
        error="exit code: 1",
        failed_step=step,
        exit_code=1,
        step_log="OSError: [Errno 28] No space left on device",
        infrastructure="the grading machine was short of resources during the build (disk)",
    )
    r = runtime_up(tmp_path, with_step(step), build)
    assert r.status == "error" and "short of resources" in r.message


def test_a_step_refused_processes_by_its_cap_is_told_so(tmp_path):
    step = "RUN f(){ f|f & }; f; sleep 100000"
    build = BuildFacts(False, 9.0, error="exit code: 2", failed_step=step, exit_code=2, pids_limit=512)
    r = runtime_up(tmp_path, with_step(step), build)
    assert r.status == "fail" and r.line == line_of(with_step(step), "f(){")
    assert "its processes hit the cap of 512 per build step" in r.message
