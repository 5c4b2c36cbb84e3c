"""A run's lock: held while its process lives, released by the kernel however it dies."""

from __future__ import annotations

import subprocess
import sys

from autograde.runtime import leftovers


def test_abandoned_only_when_the_lock_file_exists_and_nobody_holds_it(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADE_LOCK_DIR", str(tmp_path))
    project = "autograde-0123456789ab"
    assert not leftovers.abandoned(project)  # no lock here: another machine's run, never touched
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from autograde.runtime.leftovers import RunLock\n"
                f"lock = RunLock({project!r}); lock.acquire(); print('held', flush=True); time.sleep(60)"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={"AUTOGRADE_LOCK_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not leftovers.abandoned(project)  # alive: never taken for abandoned
    finally:
        holder.kill()  # SIGKILL: no cleanup of its own
        holder.wait()
    assert leftovers.abandoned(project)
    leftovers.forget(project)
    assert not leftovers.abandoned(project)


def test_only_the_graders_project_names(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADE_LOCK_DIR", str(tmp_path))
    for name in ("myproject", "autograde-../../etc", "autograde-xyz"):
        (tmp_path / f"{name.replace('/', '_')}.lock").write_text("1\n")
        assert not leftovers.abandoned(name)


def test_a_clean_release_leaves_no_mark(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADE_LOCK_DIR", str(tmp_path))
    lock = leftovers.RunLock("autograde-aaaaaaaaaaaa")
    lock.acquire()
    lock.release()
    assert not leftovers.abandoned("autograde-aaaaaaaaaaaa")
    lock = leftovers.RunLock("autograde-bbbbbbbbbbbb")
    lock.acquire()
    lock.release(keep_file=True)  # remains still on the engine: the next run may remove them
    assert leftovers.abandoned("autograde-bbbbbbbbbbbb")


def test_a_clean_end_is_noted_so_what_the_run_kept_is_known_as_grading(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADE_LOCK_DIR", str(tmp_path))
    kept, cut_off = "autograde-cccccccccccc", "autograde-dddddddddddd"
    for project, keep_file in ((kept, False), (cut_off, True)):
        lock = leftovers.RunLock(project)
        lock.acquire()
        assert leftovers.live(project) and not leftovers.abandoned(project)
        lock.release(keep_file=keep_file)
        assert not leftovers.live(project)
    assert leftovers.finished() == [kept]  # the other one's remains are abandoned: the sweep's business
    assert leftovers.graders_project(f"{kept}-web-prod:graded") == kept
    assert leftovers.graders_project("python:3.13-slim") == leftovers.graders_project("autograde-x-web:graded") == ""
    leftovers.forget_finished({kept})
    assert leftovers.finished() == []


def test_the_note_of_ended_runs_keeps_the_newest_and_stays_small(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADE_LOCK_DIR", str(tmp_path))
    projects = [f"autograde-{n:012x}" for n in range(4000)]
    for project in projects:
        leftovers.record_finished(project)
    leftovers.record_finished("autograde-../../etc")  # not a grader's project name: never noted
    noted = leftovers.finished()
    assert (tmp_path / "finished.log").stat().st_size <= 64 * 1024
    assert noted[-1] == projects[-1] and len(noted) > 1000 and noted == projects[-len(noted) :]
