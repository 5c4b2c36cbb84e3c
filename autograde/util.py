"""Subprocesses with a deadline, bounded output, and a way to stop them all at once."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_LINE = 400
TAIL_LINES = 60


@dataclass
class Ran:
    returncode: int | None  # None: killed at the deadline or interrupted
    tail: str
    seconds: float
    timed_out: bool


class Processes:
    """Children started for one grading run; `stop_all` ends them (on timeout, Ctrl-C or SIGTERM)."""

    def __init__(self) -> None:
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self.stopping = False

    def run(
        self,
        argv: list[str],
        *,
        timeout: float,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        keep: int = TAIL_LINES,
        on_line: Callable[[str], None] | None = None,
    ) -> Ran:
        """Run argv to its end or the deadline; `on_line` (display only) sees each output line as it comes."""
        start = time.monotonic()
        if self.stopping:
            return Ran(None, "", 0.0, False)
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with self._lock:
            self._procs.add(proc)
        lines: collections.deque[str] = collections.deque(maxlen=keep)
        reader = threading.Thread(target=_drain, args=(proc, lines, on_line), daemon=True)
        reader.start()
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill(proc)
        finally:
            reader.join(timeout=5)
            with self._lock:
                self._procs.discard(proc)
        return Ran(None if timed_out else proc.returncode, "\n".join(lines), time.monotonic() - start, timed_out)

    def stop_all(self) -> None:
        self.stopping = True
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            _kill(proc)


def _drain(
    proc: subprocess.Popen[bytes], lines: collections.deque[str], on_line: Callable[[str], None] | None = None
) -> None:
    assert proc.stdout is not None
    for raw in proc.stdout:  # reads everything, keeps only the tail: output size is the student's choice
        text = raw.decode("utf-8", "replace").rstrip("\n")
        lines.append(text if len(text) <= MAX_LINE else text[:MAX_LINE] + " [...]")
        if on_line is not None:
            try:
                on_line(lines[-1])
            except Exception:  # a display problem must not stop reading the output
                pass


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT first so the compose CLI cancels its build on the engine, then SIGKILL."""
    for sig, grace in ((signal.SIGINT, 3.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
