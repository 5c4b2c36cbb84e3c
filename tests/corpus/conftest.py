"""Makes the corpus' helper modules importable and prints the corpus' wall time at the end."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from expectations import STATIC_WALL_TIME, WALL_TIME  # noqa: E402


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if WALL_TIME in config.stash:
        cases, jobs, seconds = config.stash[WALL_TIME]
        terminalreporter.write_line(
            f"corpus: {cases} submissions graded in {seconds:.0f} s wall time, {jobs} at a time")
    if STATIC_WALL_TIME in config.stash:
        cases, jobs, seconds = config.stash[STATIC_WALL_TIME]
        terminalreporter.write_line(
            f"corpus: {cases} submissions graded --static-only in {seconds:.1f} s wall time, {jobs} at a time")
