"""Live progress while grading, on stderr (stdout keeps the final table).

On a terminal: rich's live display, a spinner and the elapsed time per phase (building dev
and prod at once, pulling, starting, probing, inspecting, cleaning up), and the static
verdicts as soon as they are known. Anywhere else (GitHub Actions, a pipe, a file, a dumb
terminal): one plain line per finished phase with its duration, no spinner, no ANSI codes.

The runtime session calls `phase(name, event)` from its worker threads, with event "start",
"end" or "line:TEXT" (a line of build output). The live display shows, next to a build, the
step it is at or how far a base image has been pulled; the plain lines never carry build
output (text the student controls) and so cannot act as workflow commands.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TextIO

from rich.markup import escape

from autograde import labs
from autograde.results import CheckResult

if TYPE_CHECKING:
    from rich.progress import TaskID

LABELS = {
    "parse": "reading the files",
    "static": "static checks",
    "connect": "connecting to the Docker engine",
    "machine": "checking the grading machine",
    "evidence": "reading the prod image's files",
    "report": "writing the reports",
    "build_dev": "building the dev image",
    "build_prod": "building the prod image",
    "pull": "pulling the stack's images",
    "first": "starting Redis",
    "probes": "probing the app",
    "inspect": "inspecting the prod image",
    "teardown": "stopping the stack",
    "cleanup": "cleaning up",
}
BACKGROUND = frozenset({"teardown"})  # phases that go on after the display closes
MARK = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP", "error": "ERR "}
# BuildKit's plain output: `#7 [web_prod builder 3/6] RUN pip install ...` starts a step;
# `#2 sha256:3c1f... 52.43MB / 1.05GB 3.2s` is a layer being pulled
_STEP = re.compile(r"^#\d+ (\[[^\]]+\] .+)$")
_PULL = re.compile(r"^#\d+ sha256:[0-9a-f]{6,} (\d+(?:\.\d+)?[kMG]?B / \d+(?:\.\d+)?[kMG]?B)")
_FROM = re.compile(r"^#\d+ \[[^\]]+\] FROM (\S+)")
_FAILED = re.compile(r"^(?:#\d+ ERROR\b|(?:ERROR: )?failed to solve\b)")
DETAIL_WIDTH = 60


def detail(line: str) -> str | None:
    """What to show next to a build for one line of its output, or None to keep what is shown."""
    pulled = _PULL.match(line)
    if pulled:
        return f"pulling a base image layer: {pulled.group(1)}"
    step = _STEP.match(line)
    if step:
        text = " ".join(step.group(1).split())
        return text if len(text) <= DETAIL_WIDTH else text[: DETAIL_WIDTH - 1] + "…"
    return None


def is_live(stream: TextIO, env: Mapping[str, str]) -> bool:
    """A terminal a person watches: not GitHub Actions or another CI, not a pipe, not TERM=dumb."""
    if env.get("GITHUB_ACTIONS") == "true" or env.get("CI") or env.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def label(name: str) -> str:
    pack = labs.current()
    if name == "up":
        return f"starting {pack.scenario.web} and {pack.scenario.redis}"
    image = pack.hint("images", "the image")  # LAB04: "the prod image"
    if name in ("build_prod", "inspect"):
        return f"{'building' if name == 'build_prod' else 'inspecting'} {image}"
    return LABELS.get(name, name.replace("_", " "))


class Plain:
    """One line per finished phase: `autograde: building the prod image ... 12.3 s`."""

    def __init__(self, out: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.out, self.clock = out, clock
        self.started: dict[str, float] = {}
        self.lock = threading.Lock()

    def phase(self, name: str, event: str) -> None:
        with self.lock:
            if event == "start":
                self.started.setdefault(name, self.clock())
            elif event == "end" and name in self.started:
                seconds = self.clock() - self.started.pop(name)
                print(f"autograde: {label(name)} ... {seconds:.1f} s", file=self.out, flush=True)

    def timed(self, name: str, seconds: float) -> None:
        """A phase timed by the caller (parsing, static checks)."""
        with self.lock:
            print(f"autograde: {label(name)} ... {seconds:.1f} s", file=self.out, flush=True)

    def static(self, checks: list[CheckResult]) -> None:
        pass  # the final table has them; a log needs them once

    def close(self) -> None:
        with self.lock:
            for name, began in list(self.started.items()):
                if name in BACKGROUND:
                    continue  # goes on while the report is written; cleanup waits for it and says so
                print(
                    f"autograde: {label(name)} ... {self.clock() - began:.1f} s (unfinished)", file=self.out, flush=True
                )
            self.started.clear()


class Live:
    """rich's live display on a terminal."""

    def __init__(self, out: TextIO) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = Console(file=out, highlight=False)
        self.bar = Progress(
            SpinnerColumn(finished_text="[green]✓[/]"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.failed: set[str] = set()
        self.lock = threading.Lock()
        self.bar.start()

    def phase(self, name: str, event: str) -> None:
        with self.lock:
            if event == "start" and name not in self.tasks:
                self.tasks[name] = self.bar.add_task(label(name), total=1)
            elif event == "end" and name in self.tasks:
                failed = " [red](failed)[/]" if name in self.failed else ""
                self.bar.update(self.tasks[name], completed=1, description=label(name) + failed)
            elif event.startswith("line:") and name in self.tasks:
                if _FAILED.match(event[5:]):  # the builder's own error line, not a step's output
                    self.failed.add(name)
                shown = detail(event[5:])
                if shown is not None:
                    self.bar.update(self.tasks[name], description=f"{label(name)} [dim]{escape(shown)}[/]")

    def timed(self, name: str, seconds: float) -> None:
        with self.lock:
            task = self.bar.add_task(label(name), total=1)
            self.bar.update(task, completed=1)

    def static(self, checks: list[CheckResult]) -> None:
        from rich.text import Text

        for c in checks:
            style = {"pass": "green", "fail": "red", "error": "yellow"}.get(c.status, "dim")
            line = Text(f"{MARK[c.status]}  {c.id}  {c.score}/{c.max_score}", style=style)
            self.bar.console.print(line)

    def close(self) -> None:
        with self.lock:
            for task in self.bar.tasks:
                if not task.finished:
                    self.bar.update(task.id, description=f"{task.description} (stopped)", completed=1)
            self.bar.stop()


def reporter(out: TextIO, env: Mapping[str, str] | None = None) -> Plain | Live:
    env = os.environ if env is None else env
    if is_live(out, env):
        try:
            return Live(out)
        except Exception:  # no rich, or a terminal rich cannot drive: plain lines still work
            pass
    return Plain(out)
