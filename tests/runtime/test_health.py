"""The machine's health: what the engine's messages mean, and who a failed build is blamed on."""

from __future__ import annotations

import json

import pytest

from autograde.instructor.grade_all_runner import _machine_unfit
from autograde.runtime import cgroups, health
from autograde.runtime.disk import epoch
from autograde.runtime.facts import BuildFacts, Facts
from autograde.runtime.health import Machine, MachineHealth, machine_said


def test_engine_times_are_read_to_the_nanosecond_and_bad_ones_are_none():
    assert epoch("2026-11-29T23:41:06.550577671Z") == pytest.approx(1795995666.5505777)
    assert epoch("2026-11-29T23:41:06+01:00") == 1795995666 - 3600
    assert epoch("yesterday") is None


def test_the_machines_trouble_is_recognised_in_the_engines_words():
    assert machine_said("write /var/lib/docker/x: No space left on device") == "no space left on device"
    assert machine_said("runc create failed: fork/exec: resource temporarily unavailable") == (
        "resource temporarily unavailable"
    )
    assert machine_said("exit code: 1") == ""
    # at 0 bytes free the kernel mounts a layer without its work folder, and the engine's chown of it fails (seen on
    # Engine 26.1.5 after a build filled its disk)
    said = (
        '500 Server Error for http+docker://localhost/v1.45/containers/create: Internal Server Error ("chown '
        "/var/lib/docker/overlay2/1c5d0acc30f699629fc672e530e72e960cd0af583597fb309c84d3e830fe3629-init/work/work: "
        'no such file or directory")'
    )
    assert machine_said(said) == "no space left on device"
    # a student's own missing file is not the machine's trouble
    assert machine_said("chown /usr/src/app/work/work: no such file or directory") == ""
    assert machine_said("COPY failed: stat app/work/work: no such file or directory") == ""


def machine(monkeypatch, fit: bool = True, builds: int = 0) -> tuple[Machine, Facts]:
    facts = Facts()
    found = MachineHealth(fit=fit, problem="" if fit else "the grading machine is out of disk: 10 MiB free")
    monkeypatch.setattr(health, "check", lambda *a, **k: found)
    monkeypatch.setattr(cgroups, "builds_running", lambda but=None: builds)
    return Machine(engine=None, facts=facts, floor=1 << 30, images=[]), facts  # type: ignore[arg-type]


def failed(error: str, step_log: str = "") -> BuildFacts:
    return BuildFacts(False, 3.0, error=error, step_log=step_log, exit_code=1)


def test_a_step_that_filled_the_disk_itself_stays_the_students(monkeypatch):
    m, facts = machine(monkeypatch)
    build = failed('process "/bin/sh -c dd if=/dev/zero of=/f" did not complete', "dd: No space left on device")
    m.judge_build(build)
    assert build.infrastructure == "" and not facts.machine_unfit


def test_a_full_disk_beside_other_grades_or_after_the_build_is_the_machines(monkeypatch):
    m, facts = machine(monkeypatch, builds=1)
    build = failed("exit code: 1", "OSError: [Errno 28] No space left on device: '/opt/venv'")
    m.judge_build(build)
    assert build.infrastructure.startswith("the grading machine was short of resources") and not facts.machine_unfit
    m, facts = machine(monkeypatch, fit=False)
    build = failed("exit code: 1", "No space left on device")
    m.judge_build(build)
    assert build.infrastructure == facts.machine_unfit == "the grading machine is out of disk: 10 MiB free"
    assert facts.engine_lost  # the grade cannot finish: unfinished checks are errors


def test_what_a_step_prints_never_turns_its_failure_into_an_error(monkeypatch):
    m, facts = machine(monkeypatch)
    build = failed("exit code: 1", "echo: resource temporarily unavailable")
    m.judge_build(build)
    assert build.infrastructure == "" and not facts.machine_unfit
    timed_out = BuildFacts(False, 30.0, timed_out=True, step_log="No space left on device")
    m.judge_build(timed_out)
    assert timed_out.infrastructure == ""


def test_the_builders_own_shortage_is_the_machines(monkeypatch):
    m, _ = machine(monkeypatch)
    build = failed("failed to create shim task: fork/exec /usr/bin/runc: resource temporarily unavailable")
    m.judge_build(build)
    assert "resource temporarily unavailable" in build.infrastructure


def test_grade_all_reads_an_unfit_machine_from_the_report(tmp_path):
    report = tmp_path / "r.json"
    report.write_text(json.dumps({"checks": [], "grader": {"machine": {"fit": False, "problem": "out of disk"}}}))
    assert _machine_unfit(report) == "out of disk"
    report.write_text(json.dumps({"checks": [], "grader": {"machine": {"fit": True, "problem": ""}}}))
    assert _machine_unfit(report) == ""
    report.write_text("not json")
    assert _machine_unfit(report) == ""
