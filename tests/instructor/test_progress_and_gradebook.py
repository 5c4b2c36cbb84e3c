"""The one progress display and the one gradebook writer that export, collect and grade-all share."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from autograde.errors import UserError
from autograde.instructor.gradebook import Row, flagged, write_gradebook
from autograde.instructor.progress import Display, Progress, duration
from autograde.instructor.roster import RosterEntry


def test_progress_off_a_terminal_is_one_plain_line_per_item_and_per_wait() -> None:
    out = io.StringIO()
    with Progress(2, "grading", out) as progress:
        progress.step("lab04-[bold]alice[/bold]", "100/100 ok")  # a student's name is never markup
        progress.waiting(65, 65, "rate limited by GitHub (secondary limit)")
        progress.waiting(60, 65, "rate limited by GitHub (secondary limit)")  # the bar's note only
        progress.step("lab04-bob", "not collected (HTTP 502); rerun to retry")
    lines = out.getvalue().splitlines()
    assert lines[0] == "[1/2] lab04-[bold]alice[/bold]: 100/100 ok"
    assert lines[1].startswith("rate limited by GitHub (secondary limit): waiting 1m05s (until ")
    assert lines[2] == "[2/2] lab04-bob: not collected (HTTP 502); rerun to retry"
    assert len(lines) == 3 and "\x1b" not in out.getvalue()  # no bar, no escape codes in a log


def test_a_display_says_notes_and_hands_out_progress_on_its_stream() -> None:
    out = io.StringIO()
    display = Display(out)
    display.say("autograde: 2 repositories named lab04-* in cs")
    with display.progress(1) as progress:
        progress.step("lab04-alice", "triggered classroom.yml on main")
    assert out.getvalue().splitlines() == [
        "autograde: 2 repositories named lab04-* in cs",
        "[1/1] lab04-alice: triggered classroom.yml on main",
    ]
    assert [duration(s) for s in (7, 65, 3600 * 2 + 7 * 60)] == ["7s", "1m05s", "2h07m"]


def test_the_gradebook_writer_fills_logins_merges_the_roster_and_writes_once(tmp_path: Path) -> None:
    rows = [
        Row("cs/lab04-alice", total=90, max=100, points={"runtime.up": 10}, graded_at="2026-12-01T10:00:00+00:00"),
        Row("cs/lab04-zed", total=50, max=100, flags={"late"}, graded_at="2026-12-01T10:00:00+00:00"),
    ]
    roster = [RosterEntry("s1", "alice"), RosterEntry("s2", "bob")]
    output = tmp_path / "grades.csv"
    written = write_gradebook(rows, str(output), roster=roster, max_score=100)
    with open(output, newline="", encoding="utf-8") as fh:
        table = {r["login"]: r for r in csv.DictReader(fh)}
    assert set(table) == {"alice", "bob", "zed"}  # the prefix lab04 inferred from the names
    assert (table["alice"]["identifier"], table["alice"]["total"], table["alice"]["runtime.up"]) == ("s1", "90", "10")
    assert (table["bob"]["flags"], table["bob"]["max"], table["bob"]["notes"]) == ("missing", "100", "no repository")
    assert table["zed"]["flags"] == "late;not-in-roster"
    assert flagged(written) == 2 and len(written) == 3
    assert not list(tmp_path.glob("*.tmp"))


def test_an_unwritable_gradebook_is_a_user_error_naming_it(tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "grades.csv"
    with pytest.raises(UserError, match=f"cannot write {target}: No such file or directory"):
        write_gradebook([Row("cs/lab04-alice", total=1, max=100)], str(target))
