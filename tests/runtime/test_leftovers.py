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
