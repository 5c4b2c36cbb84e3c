"""The session's progress hook: phase starts and ends, and a failing display changes nothing."""

from __future__ import annotations

from autograde.model import load_submission
from autograde.runtime.session import Session


def session(tmp_path, progress):
    from support import make_checkout

    return Session(load_submission(make_checkout(tmp_path / "repo", solution=True)), progress=progress)


def test_phase_ends_come_with_their_timing_and_cleanup_is_told(tmp_path):
    events = []
    s = session(tmp_path, lambda name, event: events.append((name, event)))
    s._time("build_prod", 1.5)
    assert s.cleanup() == []
    assert events == [("build_prod", "end"), ("cleanup", "start"), ("cleanup", "end")]
    assert s.timings["build_prod"] == 1.5


def test_a_broken_display_does_not_break_grading(tmp_path):
    def broken(name, event):
        raise RuntimeError("terminal gone")

    s = session(tmp_path, broken)
    s._time("up", 2.0)
    assert s.cleanup() == [] and s.timings["up"] == 2.0


def test_processes_show_each_line_as_it_comes_and_a_broken_display_loses_nothing():
    from autograde.util import Processes

    seen: list[str] = []
    ran = Processes().run(["sh", "-c", "echo one; echo two"], timeout=30, on_line=seen.append)
    assert seen == ["one", "two"] and ran.tail == "one\ntwo" and ran.returncode == 0

    def broken(line):
        raise RuntimeError("terminal gone")

    ran = Processes().run(["sh", "-c", "echo one; echo two"], timeout=30, on_line=broken)
    assert ran.tail == "one\ntwo"
