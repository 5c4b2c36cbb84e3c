"""Progress while grading: rich on a terminal, one plain line per phase anywhere else."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from autograde.report import progress
from autograde.results import CheckResult

ANSI = re.compile(r"\x1b\[")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plain_prints_one_line_per_finished_phase_with_its_duration():
    out, clock = io.StringIO(), Clock()
    shown = progress.Plain(out, clock)
    shown.timed("static", 0.04)
    shown.phase("build_dev", "start")
    shown.phase("build_prod", "start")
    clock.now += 12.34
    shown.phase("build_prod", "end")
    shown.phase("up", "start")
    clock.now += 30
    shown.phase("build_dev", "end")
    shown.phase("up", "something else")  # not an event it knows: ignored
    shown.close()  # `up` never ended (a failed start, Ctrl-C)
    assert out.getvalue().splitlines() == [
        "autograde: static checks ... 0.0 s",
        "autograde: building the prod image ... 12.3 s",
        "autograde: building the dev image ... 42.3 s",
        "autograde: starting web_prod and redis_prod ... 30.0 s (unfinished)",
    ]
    assert not ANSI.search(out.getvalue())


def test_plain_is_safe_from_the_sessions_threads():
    out = io.StringIO()
    shown = progress.Plain(out)
    names = [f"phase{i}" for i in range(50)]
    threads = [threading.Thread(target=lambda n=n: (shown.phase(n, "start"), shown.phase(n, "end"))) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = out.getvalue().splitlines()
    assert len(lines) == 50 and all(re.fullmatch(r"autograde: phase\d+ \.\.\. \d+\.\d s", x) for x in lines)


def test_live_only_on_a_terminal_outside_ci():
    assert not progress.is_live(io.StringIO(), {})
    assert isinstance(progress.reporter(io.StringIO(), {}), progress.Plain)
    master, slave = pty.openpty()
    try:
        with os.fdopen(slave, "w", closefd=False) as tty:
            assert progress.is_live(tty, {"TERM": "xterm"})
            assert not progress.is_live(tty, {"GITHUB_ACTIONS": "true"})
            assert not progress.is_live(tty, {"CI": "true"})
            assert not progress.is_live(tty, {"TERM": "dumb"})
    finally:
        os.close(master)
        os.close(slave)


def test_live_display_draws_phases_and_static_verdicts_with_rich():
    out = io.StringIO()
    out.isatty = lambda: True  # rich draws for a terminal
    shown = progress.Live(out)
    shown.static(
        [
            CheckResult("dockerfile.stages", "Stages", "pass", 5, 5, "ok"),
            CheckResult("compose.web_prod", "web_prod", "fail", 0, 10, "no port"),
        ]
    )
    shown.phase("build_prod", "start")
    shown.phase("build_prod", "end")
    shown.phase("up", "start")
    shown.close()
    text = ANSI.sub("", out.getvalue())
    assert "PASS  dockerfile.stages  5/5" in text and "FAIL  compose.web_prod  0/10" in text
    assert "building the prod image" in text and "starting web_prod and redis_prod (stopped)" in text


@pytest.mark.slow
def test_grade_on_a_terminal_shows_live_progress_and_keeps_stdout_plain(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from support import make_checkout

    checkout = make_checkout(tmp_path / "repo", solution=True)
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS")}
    env.update(TERM="xterm-256color", COLUMNS="100")
    proc = subprocess.Popen(
        [sys.executable, "-m", "autograde", "grade", "--static-only", str(checkout)],
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    stdout = proc.communicate(timeout=120)[0].decode()
    os.close(master)
    terminal = ANSI.sub("", seen.decode(errors="replace"))
    assert "PASS  dockerfile.stages" in terminal  # the static verdicts, as soon as known
    assert "static checks" in terminal
    assert stdout.startswith("LAB04 autograde") and not ANSI.search(stdout)  # the table is unchanged


def test_build_output_becomes_a_short_detail_next_to_the_build():
    assert (
        progress.detail("#7 [web_prod builder 3/6] RUN pip install -r requirements.txt")
        == "[web_prod builder 3/6] RUN pip install -r requirements.txt"
    )
    assert (
        progress.detail("#2 sha256:3c1f0a9e8b7d 52.43MB / 1.05GB 3.2s")
        == "pulling a base image layer: 52.43MB / 1.05GB"
    )
    assert progress.detail("#7 0.512 Collecting flask") is None  # a step's own output: keep the step shown
    long = progress.detail("#7 [web_prod builder 3/6] RUN " + "x" * 200)
    assert len(long) == progress.DETAIL_WIDTH and long.endswith("…")


def test_plain_lines_never_carry_build_output():
    out = io.StringIO()
    shown = progress.Plain(out)
    shown.phase("build_prod", "start")
    shown.phase("build_prod", "line:#5 [web_prod builder 2/6] RUN echo '::notice::forged'")
    shown.phase("build_prod", "end")
    assert "forged" not in out.getvalue() and len(out.getvalue().splitlines()) == 1


def test_live_shows_the_step_a_build_is_at_with_markup_taken_literally():
    out = io.StringIO()
    out.isatty = lambda: True
    shown = progress.Live(out)
    shown.phase("build_prod", "start")
    shown.phase("build_prod", "line:#5 [web_prod builder 2/6] RUN echo [bold]hi[/bold]")
    task = shown.bar.tasks[0]
    assert "RUN echo \\[bold]hi\\[/bold]" in task.description  # escaped: shown as typed
    shown.phase("build_prod", "end")
    assert shown.bar.tasks[0].description == "building the prod image"
    shown.close()


def test_live_marks_a_build_that_failed():
    out = io.StringIO()
    out.isatty = lambda: True
    shown = progress.Live(out)
    shown.phase("build_prod", "start")
    shown.phase("build_prod", "line:#9 0.3 ERROR: this is only what a RUN step printed")
    shown.phase("build_prod", 'line:#9 ERROR: process "/bin/sh -c pytest" did not complete successfully')
    shown.phase("build_prod", "end")
    assert shown.bar.tasks[0].description == "building the prod image [red](failed)[/]"
    shown.close()
