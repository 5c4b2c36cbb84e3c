"""The evidence and the cleanup are off the critical path, read from the report's own phase times (when each phase
began and ended), not from a wall clock: the files are read while the engine is made ready, Redis (which needs no
build) starts while the prod image is built, the prod image is read (its files and what its Python imports) while
the stack starts and is probed, the stack's teardown begins before the report is written, and nothing is left
behind."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from support import leftovers, make_checkout


@pytest.mark.docker
def test_inspection_runs_beside_the_probes_and_teardown_beside_the_report(tmp_path, docker_engine):
    report_path = tmp_path / "report.json"
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograde",
            "grade",
            str(make_checkout(tmp_path / "sol")),
            "--host-port",
            "auto",
            "--json",
            str(report_path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    report = json.loads(report_path.read_text())
    assert ran.returncode == 0, ran.stdout[-3000:]
    spans = report["grader"]["phases"]
    assert {
        "parse",
        "connect",
        "first",
        "build_prod",
        "up",
        "probes",
        "inspect",
        "teardown",
        "report",
        "cleanup",
    } <= set(spans), spans
    begin = {name: span[0] for name, span in spans.items()}
    end = {name: span[1] for name, span in spans.items()}
    assert begin["parse"] < end["connect"], "the files are read while the engine is made ready"
    assert begin["first"] < end["build_prod"], "Redis starts while the prod image is built"
    assert end["first"] <= begin["up"] + 0.01, "the stack's `up` waits for Redis's start"
    assert begin["inspect"] >= end["build_prod"] - 0.01, "the image is read once it exists"
    assert begin["inspect"] < begin["probes"], "the image is read while the stack starts and is probed"
    assert begin["teardown"] < end["report"], "the stack goes away while the report is written"
    assert begin["cleanup"] >= begin["report"], "cleanup waits for the report"
    # Flask's import is shown by the running app, not imported again in a second container
    (lean,) = [c for c in report["checks"] if c["id"] == "images.prod_lean"]
    assert lean["status"] == "pass" and "imports Flask (the app it runs answered over HTTP)" in lean["message"], lean
    assert not leftovers(report["grader"]["project"])
