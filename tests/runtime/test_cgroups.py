"""Build steps' cgroups: caps, attribution to the build that announced the step, freeze and kill.

The tests that need real cgroups make a cgroup tree of their own that looks like an engine's
(`<parent>/buildkit/<step>`), put real processes into it, and remove it; they need root and
cgroup v1 and are skipped elsewhere. No Docker engine is involved.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import subprocess
import time
from pathlib import Path

import pytest

from autograde.runtime import cgroups
from autograde.runtime.cgroups import EngineCgroups, StepCaps, StepGuard, human, locate, parse_bytes

CONTROLLERS = ("pids", "freezer", "memory", "cpu")


def test_sizes_read_like_dockers_and_are_said_in_binary_units():
    assert parse_bytes("2g") == 2 * 1024**3
    assert parse_bytes("512m") == 512 * 1024**2
    assert parse_bytes("1.5G") == int(1.5 * 1024**3)
    assert parse_bytes("1024") == 1024
    with pytest.raises(ValueError, match="not a size"):
        parse_bytes("lots")
    assert human(2 * 1024**3) == "2 GiB" and human(1536 * 1024**2) == "1.5 GiB" and human(10) == "10 bytes"


def test_the_engines_cgroup_parent_is_read_from_a_containers_own_cgroup(tmp_path, monkeypatch):
    monkeypatch.setattr(cgroups, "ROOT", tmp_path)
    cid = "dc0e511c2e7a" + "0" * 52
    lines = f"8:pids:/autograde-disposable-t1/{cid}\n6:freezer:/autograde-disposable-t1/{cid}\n0::/x\n"
    assert locate(lines, cid) is None  # this machine does not see that tree
    for c in ("pids", "freezer"):
        (tmp_path / c / "autograde-disposable-t1").mkdir(parents=True)
    assert locate(lines, cid) == EngineCgroups("/autograde-disposable-t1")
    assert locate(lines, "f" * 64) is None  # not that container's cgroup: another layout (cgroup namespace)
    assert locate("0::/system.slice/docker-abc.scope\n", cid) is None  # cgroup v2 / systemd: not known


def _cgroup_v1_root() -> str:
    if os.geteuid() != 0:
        return "needs root"
    if not all(Path("/sys/fs/cgroup", c).is_dir() for c in CONTROLLERS):
        return "needs cgroup v1 controllers " + ", ".join(CONTROLLERS)
    return ""


@pytest.fixture
def engine_tree(tmp_path, monkeypatch):
    """A cgroup tree shaped like an engine's, with its own lock dir; removed afterwards."""
    why = _cgroup_v1_root()
    if why:
        pytest.skip(why)
    monkeypatch.setenv("AUTOGRADE_LOCK_DIR", str(tmp_path / "locks"))
    parent = f"/autograde-test-{secrets.token_hex(4)}"
    cg = EngineCgroups(parent)
    for c in CONTROLLERS:
        cg.dir(c, "buildkit").mkdir(parents=True)
    yield cg
    for step in cg.steps():
        cg.kill(step)
    for c in CONTROLLERS:
        for d in sorted(cg.dir(c).rglob("*"), key=lambda p: -len(p.parts)):
            if d.is_dir():
                with contextlib.suppress(OSError):
                    d.rmdir()
        with contextlib.suppress(OSError):
            cg.dir(c).rmdir()


def start_step(cg: EngineCgroups, step: str, script: str) -> subprocess.Popen[bytes]:
    """A process running `sh -c script` in a new step cgroup (as BuildKit starts a RUN step)."""
    for c in CONTROLLERS:
        cg.dir(c, "buildkit", step).mkdir()
    cg.dir("pids", "buildkit", step, "pids.max").write_text("40")  # the test's own fork budget
    proc = subprocess.Popen(
        ["sh", "-c", f"read go; exec sh -c {script!r}"], stdin=subprocess.PIPE, start_new_session=True
    )
    for c in CONTROLLERS:
        (cg.dir(c, "buildkit", step) / "cgroup.procs").write_text(str(proc.pid))
    assert proc.stdin is not None
    proc.stdin.write(b"go\n")
    proc.stdin.close()
    return proc


@pytest.mark.slow
def test_a_forking_step_is_frozen_and_killed_to_the_last_process(engine_tree):
    cg = engine_tree
    proc = start_step(cg, "bomb1", "while :; do sleep 60 & done")
    deadline = time.monotonic() + 5
    while len(cg.processes("bomb1")) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(cg.processes("bomb1")) >= 10
    killed = cg.kill("bomb1")
    assert killed >= 10 and cg.processes("bomb1") == []
    proc.wait(timeout=5)


@pytest.mark.slow
def test_a_guard_caps_new_steps_and_kills_only_the_steps_its_build_announced(engine_tree):
    cg = engine_tree
    caps = StepCaps(memory="64m", pids=30, cpus=0.5)
    guard = StepGuard(cg, caps, "autograde-0123456789ab-prod")
    with guard.running() as report:
        ours = start_step(cg, "ours", "sleep 300")
        theirs = start_step(cg, "theirs", "sleep 301")  # another build's step on the same engine
        guard.feed("#9 [final 3/4] RUN sleep 300")
        guard.feed("#8 [final 2/4] RUN sleep 301")
        guard.feed("#8 CACHED")  # taken from the cache: not run by this build
        deadline = time.monotonic() + 5
        while cg.dir("pids", "buildkit", "ours", "pids.max").read_text().strip() != "30" and (
            time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert (cg.dir("memory", "buildkit", "ours") / "memory.limit_in_bytes").read_text().strip() == str(64 * 1024**2)
        assert (cg.dir("cpu", "buildkit", "ours") / "cpu.cfs_quota_us").read_text().strip() == "50000"
        assert (cg.dir("pids", "buildkit") / "pids.max").read_text().strip() == "30"  # one grader build running
        time.sleep(0.3)
    assert ours.wait(timeout=10) is not None and cg.processes("ours") == []
    assert len(report.stray) == 1, report
    assert re.fullmatch(
        r"`RUN sleep 300` was still running \(\d+ process(es)?\) after the build stopped: killed", report.stray[0]
    ), report
    assert theirs.poll() is None and cg.processes("theirs")  # never touched
    assert (cg.dir("pids", "buildkit") / "pids.max").read_text().strip() == "max"  # lifted: no grader build runs
    theirs.kill()
    theirs.wait()


@pytest.mark.slow
def test_a_step_left_by_a_killed_grader_is_stopped_by_the_next_grade(engine_tree):
    cg = engine_tree
    proc = start_step(cg, "left", "sleep 302")
    lock = cgroups._build_dir() / "autograde-0123456789ab-prod.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text("")  # the lock of a grader that is gone (not held)
    lock.with_suffix(".steps").write_text("left\n")
    said = cgroups.stray_steps(cg)
    assert len(said) == 1 and re.fullmatch(
        r"a build step an earlier grade left running \(\d+ process(es)?\) was stopped", said[0]
    ), said
    assert proc.wait(timeout=10) is not None and not lock.exists()


@pytest.mark.slow
def test_a_command_two_live_builds_run_is_killed_only_when_the_last_of_them_ends(engine_tree):
    cg = engine_tree
    caps = StepCaps(memory="64m", pids=30, cpus=0.5)
    dev = StepGuard(cg, caps, "autograde-0123456789ab-dev")
    prod = StepGuard(cg, caps, "autograde-0123456789ab-prod")
    with prod.running() as prod_report:
        with dev.running() as dev_report:
            step = start_step(cg, "shared", "sleep 303")
            other = start_step(cg, "longer", "sleep 303 && true")  # contains the command: not it
            dev.feed("#5 [2/3] RUN sleep 303")
            prod.feed("#7 [builder 2/6] RUN sleep 303")
            deadline = time.monotonic() + 5
            while "sleep 303" not in prod_report.peaks and time.monotonic() < deadline:
                time.sleep(0.05)
        assert dev_report.stray == [] and step.poll() is None  # prod still runs the same command
    assert step.wait(timeout=10) is not None and len(prod_report.stray) == 1
    assert other.poll() is None and cg.processes("longer")  # never anyone's: not killed
    other.kill()
    other.wait()


@pytest.mark.slow
def test_a_process_left_in_a_removed_containers_cgroup_is_killed(engine_tree):
    from autograde.runtime.cleanup import kill_remains

    cg = engine_tree
    cid = "c" * 64
    for c in CONTROLLERS:
        cg.dir(c, cid).mkdir()
    proc = subprocess.Popen(["sh", "-c", "read go; exec sleep 304"], stdin=subprocess.PIPE, start_new_session=True)
    for c in CONTROLLERS:
        (cg.dir(c, cid) / "cgroup.procs").write_text(str(proc.pid))
    assert kill_remains(cg, [cid, "d" * 64]) == []
    assert proc.wait(timeout=10) is not None and cg.processes(cid, container=True) == []
    assert kill_remains(None, [cid]) == []  # cgroups not visible: nothing known, nothing done
