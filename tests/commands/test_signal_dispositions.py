"""Signals the grader inherits: a SIGINT ignored at start (`nohup`, `cmd &` in a script) stays ignored, and
SIGTERM is always handled; and the tests' own children start with the default dispositions.

In-process and without an engine; tests/hostile/test_signals.py does the same to a real grade."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograde.commands.grade import Interrupted
from autograde.instructor.grade_all_policy import Entry
from autograde.instructor.grade_all_runner import Batch, BatchOptions
from support import default_signals, ignored_signals


@pytest.fixture
def dispositions() -> Iterator[None]:
    """The test may change SIGINT and SIGTERM in this process: they are put back afterwards."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


def _deliver(sig: signal.Signals) -> None:
    """Send `sig` to this process and give Python the moment it takes to run the handler."""
    os.kill(os.getpid(), sig)
    time.sleep(0.01)


def test_an_inherited_ignored_sigint_stays_ignored_while_grading_reporting_and_cleaning_up(dispositions) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    interrupted = Interrupted()
    _deliver(signal.SIGINT)
    assert not interrupted.seen
    interrupted.defer()  # reporting and cleanup: an ignored SIGINT is not turned into a noted one
    assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    _deliver(signal.SIGINT)
    assert not interrupted.seen
    _deliver(signal.SIGTERM)  # SIGTERM still counts: the run ends as interrupted
    assert interrupted.seen


def test_sigterm_interrupts_grading_whatever_sigint_is(dispositions) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    interrupted = Interrupted()
    with pytest.raises(KeyboardInterrupt):
        _deliver(signal.SIGTERM)
    assert interrupted.seen


def test_a_default_sigint_is_noted_during_reporting_and_cleanup(dispositions) -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    interrupted = Interrupted()
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C while grading
        _deliver(signal.SIGINT)
    interrupted.defer()
    _deliver(signal.SIGINT)  # noted, not raised: the reports are still written and everything removed
    assert interrupted.seen


@pytest.mark.parametrize("before", [signal.SIG_IGN, signal.default_int_handler], ids=["ignored", "default"])
def test_grade_all_puts_back_the_sigint_it_started_with(tmp_path: Path, dispositions, before) -> None:
    signal.signal(signal.SIGINT, before)
    batch = Batch(BatchOptions(reports=tmp_path / "reports", jobs=1, timeout=60))
    entry = Entry("lab04-x", tmp_path / "lab04-x", kind="not-a-checkout")  # recorded, never graded: no engine
    assert batch.run([entry]) is True
    assert signal.getsignal(signal.SIGINT) == before


def test_the_tests_start_children_with_default_signals_whatever_pytest_inherited(dispositions) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as when pytest runs under `nohup` or as `cmd &` in a script
    for preexec, want_ignored in ((None, True), (default_signals(), False), (default_signals((signal.SIGINT,)), True)):
        child = subprocess.Popen(["sleep", "30"], preexec_fn=preexec)
        try:
            assert (signal.SIGINT in ignored_signals(child.pid)) is want_ignored, preexec
            assert signal.SIGTERM not in ignored_signals(child.pid)
        finally:
            child.kill()
            child.wait()
