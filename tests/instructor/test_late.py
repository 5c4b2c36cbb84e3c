"""grade-all's late policy: penalties per started day, a cap, a grace period, and per-student extensions,
from the push time GitHub recorded (the activity API of the fake), never commit dates."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fake_github_class import FakeClassGitHub
from instructor_fixtures import MAX, json_report, results
from test_deadline import DEADLINE, TOKEN, parse, student

from autograde import cli
from autograde.commands import grade_all
from autograde.errors import UserError
from autograde.instructor import grade_all_policy as cb
from autograde.instructor import late
from support import solution_files

D = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)


def test_started_days_and_the_penalty():
    policy = late.LatePolicy(percent_per_day=10, max_days=3)
    assert late.late_days(D, D, timedelta(0)) == 0
    assert late.late_days(D + timedelta(seconds=1), D, timedelta(0)) == 1
    assert late.late_days(D + timedelta(hours=24), D, timedelta(0)) == 1
    assert late.late_days(D + timedelta(hours=25), D, timedelta(0)) == 2
    assert late.late_days(D + timedelta(minutes=10), D, timedelta(minutes=15)) == 0  # grace
    assert late.penalty(80, 2, policy) == 16  # 10 % of the points earned, per started day
    assert late.penalty(80, 3, policy) == 24
    assert late.penalty(80, 4, policy) == 80  # past --late-max-days: 0 points
    assert late.penalty(80, 0, policy) == 0 and late.penalty(0, 2, policy) == 0
    assert late.penalty(80, 20, late.LatePolicy(percent_per_day=10)) == 80  # never below 0


def test_extensions_by_login_or_identifier_with_a_deadline_or_extra_hours(tmp_path):
    f = tmp_path / "ext.csv"
    f.write_text("login,identifier,deadline,extra_hours\nalice,,,48\n,s-bob@uni.edu,2026-12-05T12:00:00+01:00,\n")
    ext = late.load_extensions(f, D)
    assert ext.deadline(D, "Alice") == D + timedelta(hours=48)
    assert ext.deadline(D, "bob", "S-BOB@uni.edu") == datetime(2026, 12, 5, 11, 0, tzinfo=UTC)
    assert ext.deadline(D, "carol") == D


@pytest.mark.parametrize(
    "text, words",
    [
        ("name,hours\nalice,3\n", ":1: the header must name `login` or `identifier`"),
        ("login,extra_hours\nalice,lots\n", ":2: extra_hours 'lots' is not a number"),
        ("login,extra_hours\nalice,3\nbob,-1\n", ":3: extra_hours must be a number >= 0"),
        ("login,deadline\nalice,2026-12-05\n", ":2: deadline '2026-12-05' has no time zone"),
        ("login,deadline\nalice,\n", ":2: give a deadline or extra_hours for alice"),
    ],
)
def test_a_bad_extensions_file_is_refused_with_its_line(tmp_path, text, words):
    f = tmp_path / "ext.csv"
    f.write_text(text)
    with pytest.raises(UserError) as e:
        late.load_extensions(f, D)
    assert str(e.value).startswith(str(f)) and words in str(e.value), str(e.value)


def merge(tmp_path: Path, *extra: str) -> dict[str, dict[str, str]]:
    """grade-all --merge-only over reports and records with push times."""
    reports = tmp_path / "reports"
    (reports / cb.META_DIR).mkdir(parents=True, exist_ok=True)
    pushes = {
        "alice": "2026-12-01T20:00:00Z",  # on time
        "bob": "2026-12-02T23:00:00Z",  # 23 h 01 min late: 1 started day
        "carol": "2026-12-03T08:00:00Z",  # 32 h late: 2 started days; 48 h extension: on time
        "dan": "2026-12-10T00:00:00Z",  # past --late-max-days
        "erin": "2026-12-02T00:10:00Z",  # 11 min late: within a 15 min grace
    }
    for login, pushed in pushes.items():
        res = results(f"cs/lab04-{login}", "a" * 40, lost={"images.size_ratio": 15} if login == "bob" else None)
        (reports / f"lab04-{login}.json").write_bytes(json_report(res))
        meta = cb.Meta(f"lab04-{login}", f"cs/lab04-{login}", "graded", commit="a" * 40, pushed_at=pushed)
        cb.save_meta(reports, meta)
    out = tmp_path / "g.csv"
    argv = ["grade-all", "--merge-only", "--reports-dir", str(reports), "-o", str(out), "--prefix", "lab04", *extra]
    assert cli.main([*argv, "--deadline", DEADLINE]) == 0
    with open(out, newline="", encoding="utf-8") as fh:
        return {r["login"]: r for r in csv.DictReader(fh)}


def test_the_gradebook_shows_raw_total_penalty_total_lateness_and_each_deadline(tmp_path):
    ext = tmp_path / "ext.csv"
    ext.write_text("login,extra_hours\ncarol,48\n")
    rows = merge(
        tmp_path,
        *("--late-penalty", "10", "--late-max-days", "5", "--late-grace", "15", "--extensions", str(ext)),
    )
    head = list(next(iter(rows.values())))
    assert head[:9] == [
        "login",
        "repository",
        "commit",
        "pushed_at",
        "deadline",
        "late_hours",
        "graded_at",
        "raw_total",
        "penalty",
    ]
    assert head[9:11] == ["total", "max"]
    cut = lambda r: (r["deadline"], r["late_hours"], r["raw_total"], r["penalty"], r["total"])  # noqa: E731
    assert cut(rows["alice"]) == ("2026-12-01T23:59:00Z", "0.00", str(MAX), "0", str(MAX))
    assert rows["alice"]["flags"] == ""
    bob_raw = MAX - 15
    assert cut(rows["bob"]) == (
        "2026-12-01T23:59:00Z",
        "22.77",
        str(bob_raw),
        str(round(bob_raw * 0.1)),
        str(bob_raw - round(bob_raw * 0.1)),
    )
    assert rows["bob"]["flags"] == "late" and "late by 1 started day(s)" in rows["bob"]["notes"]
    assert cut(rows["carol"]) == ("2026-12-03T23:59:00Z", "0.00", str(MAX), "0", str(MAX))
    assert cut(rows["dan"])[2:] == (str(MAX), str(MAX), "0") and "more than --late-max-days 5" in rows["dan"]["notes"]
    assert cut(rows["erin"])[2:] == (str(MAX), "0", str(MAX)) and rows["erin"]["flags"] == ""


def test_without_a_policy_the_gradebook_is_as_before(tmp_path):
    rows = merge(tmp_path)
    head = list(next(iter(rows.values())))
    assert "penalty" not in head and "deadline" not in head and rows["bob"]["total"] == str(MAX - 15)


def test_a_policy_needs_a_deadline(tmp_path, capsys):
    assert cli.main(["grade-all", "--merge-only", "--reports-dir", str(tmp_path), "--late-penalty", "10"]) != 0
    assert "need --deadline" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ fake GitHub


@pytest.fixture
def fake(tmp_path: Path):
    server = FakeClassGitHub(TOKEN, git_root=tmp_path / "git").start()
    yield server
    server.stop()


@pytest.mark.slow
def test_an_extension_moves_the_commit_picked_by_push_time(fake, tmp_path, monkeypatch):
    """bob's extension: his push a day after the class deadline is the one graded, on time for him;
    alice's late push is not graded without --include-late. Commit dates are forged to mislead."""
    alice = student(fake, tmp_path, "lab04-alice")
    alice.commit({}, date="2026-11-30T09:00:00Z")
    a1 = alice.push("2026-11-30T10:00:00Z")
    alice.commit({"Dockerfile.prod": "FROM scratch\n"}, date="2026-11-30T09:30:00Z")
    alice.push("2026-12-02T10:00:00Z")
    bob = student(fake, tmp_path, "lab04-bob")
    bob.commit({}, date="2026-11-29T09:00:00Z")
    bob.push("2026-11-29T10:00:00Z")
    bob.commit({"Dockerfile.prod": "FROM python:3.13\n"}, date="2026-11-01T09:30:00Z")
    b2 = bob.push("2026-12-02T10:00:00Z")
    ext = tmp_path / "ext.csv"
    ext.write_text("login,extra_hours\nbob,36\n")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    args = parse(tmp_path, fake, "--extensions", str(ext))
    grade_all._late_setup(args)
    entries = {e.name: e for e in grade_all.entries_from_github(args)}
    assert (entries["lab04-alice"].commit, entries["lab04-alice"].flags) == (a1, ["late"])
    assert (entries["lab04-bob"].commit, entries["lab04-bob"].flags) == (b2, [])


@pytest.mark.docker
def test_grade_all_with_a_late_penalty_from_github(fake, tmp_path):
    """The documented columns on a class with late pushes, graded for real."""
    solution = solution_files()
    alice = student(fake, tmp_path, "lab04-alice")  # on time
    alice.commit(solution, date="2026-11-30T09:00:00Z")
    alice.push("2026-11-30T10:00:00Z")
    bob = student(fake, tmp_path, "lab04-bob")  # 1 day 2 h late: 2 started days, 20 %
    bob.commit(solution, date="2026-11-30T09:00:00Z")  # a commit date before the deadline changes nothing
    bob.push("2026-12-03T02:00:00Z")
    carol = student(fake, tmp_path, "lab04-carol")  # as late as bob, with 48 h more: on time
    carol.commit(solution, date="2026-11-30T09:00:00Z")
    carol.push("2026-12-03T02:00:00Z")
    ext = tmp_path / "ext.csv"
    ext.write_text("login,extra_hours\ncarol,48\n")
    out = tmp_path / "grades.csv"
    argv = [
        *(sys.executable, "-m", "autograde", "grade-all", "--org", fake.org, "--prefix", "lab04"),
        *("--deadline", DEADLINE, "--include-late", "--late-penalty", "10", "--late-max-days", "7"),
        *("--extensions", str(ext), "--api-url", fake.api_url, "--git-url", f"http://127.0.0.1:{fake.port}/git"),
        *("--clone-dir", str(tmp_path / "clones"), "--reports-dir", str(tmp_path / "reports"), "-o", str(out)),
        *("--jobs", "2"),
    ]
    ran = subprocess.run(argv, capture_output=True, text=True, timeout=1500, env={**os.environ, "GITHUB_TOKEN": TOKEN})
    assert ran.returncode == 0, ran.stderr[-3000:]
    with open(out, newline="", encoding="utf-8") as fh:
        rows = {r["login"]: r for r in csv.DictReader(fh)}
    full = rows["alice"]["raw_total"]
    assert int(full) == int(rows["alice"]["max"]) and rows["alice"]["penalty"] == "0" and rows["alice"]["total"] == full
    assert (rows["bob"]["raw_total"], rows["bob"]["late_hours"]) == (full, "26.02")
    assert rows["bob"]["penalty"] == str(round(int(full) * 0.2)) and rows["bob"]["flags"].startswith("late")
    assert rows["bob"]["total"] == str(int(full) - round(int(full) * 0.2))
    assert (rows["carol"]["deadline"], rows["carol"]["penalty"], rows["carol"]["total"]) == (
        "2026-12-03T23:59:00Z",
        "0",
        full,
    )
    assert "late" not in rows["carol"]["flags"].split(";")
