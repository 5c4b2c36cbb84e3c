"""The one progress display of the instructor commands (`collect`, `collect --regrade`, `grade-all`).

Library modules do not print: a command hands them a `Display` (or takes their `Progress` steps
through a callback, as grade-all's runner does), and everything shown goes through here.

On a terminal, rich's bar: items done of the total, time elapsed and left, and a note while the
command waits (GitHub's rate limits). Always, one plain line per item, `[n/total] name: outcome`,
and one per wait, so a log or a CI job shows the same story without the bar.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress


def duration(seconds: float) -> str:
    """12s, 3m05s, 2h07m."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    """A bar on a terminal (none in a log), and a line per item and per wait in any case.

    Also a `github_api.WaitListener`: a client's waits are shown as they happen. Use it as a context
    manager, or call `close()`.
    """

    def __init__(self, total: int, label: str = "repositories", stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.console = Console(file=self.stream, highlight=False, soft_wrap=True)
        self.bar = RichProgress(
            TextColumn(label),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("elapsed"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[note]}"),
            console=self.console,
            transient=True,
            disable=not self.console.is_terminal,
        )
        self.task = self.bar.add_task(label, total=total, note="")
        self.bar.start()

    def say(self, text: str) -> None:
        """A line above the bar, printed as given (no rich markup: names come from students)."""
        self.console.print(text, markup=False, emoji=False)

    def step(self, name: str, outcome: str) -> None:
        """One item finished: its line, and the bar moves on."""
        self.done += 1
        self.say(f"[{self.done}/{self.total}] {name}: {outcome}")
        self.bar.update(self.task, advance=1, note="")

    def waiting(self, remaining: float, total: float, reason: str) -> None:
        """A wait (`github_api.WaitListener`): a line when it starts, the time left on the bar."""
        if remaining == total:
            until = (datetime.now(UTC) + timedelta(seconds=total)).strftime("%H:%M:%S UTC")
            self.say(f"{reason}: waiting {duration(total)} (until {until})")
        self.bar.update(self.task, note=f"waiting, {duration(remaining)} left")

    def close(self) -> None:
        self.bar.stop()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class Display:
    """Where a long-running instructor pipeline (`Collector`) shows what it does: notes, one at a time,
    and a `Progress` per pass over the repositories. The command makes it, for its stream."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr

    def say(self, text: str) -> None:
        """A note, on a line of its own."""
        print(text, file=self.stream, flush=True)

    def progress(self, total: int, label: str = "repositories") -> Progress:
        """A progress display for `total` items on this stream (close it when done)."""
        return Progress(total, label, self.stream)
