"""A grading machine without the free disk a grade needs: an error (exit 2), never the student's fail,
and `grade-all` stops starting grades and regrades later.

The machine is made "unfit" without harming it: the free-disk floor is set above what any disk
has (`--min-free-disk 100000g`). The grader then prunes only the build cache of its own earlier
builds on this machine, which, with a fresh lock directory, is none.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from support import REPO, make_checkout

pytestmark = pytest.mark.docker
UNFIT = ["--min-free-disk", "100000g"]


def env(tmp_path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "COMPOSE_"))}
    e.update(PYTHONPATH=str(REPO), AUTOGRADE_LOCK_DIR=str(tmp_path / "locks"))
    return e


def test_a_machine_out_of_disk_is_an_error_not_a_fail(tmp_path, docker_engine):
    co = make_checkout(tmp_path / "co")
    report = tmp_path / "r.json"
    ran = subprocess.run(
        [sys.executable, "-m", "autograde", "grade", str(co), "--host-port", "auto", "--json", str(report), *UNFIT],
        capture_output=True,
        text=True,
        timeout=300,
        env=env(tmp_path),
    )
    assert ran.returncode == 2, ran.stdout[-2000:] + ran.stderr[-2000:]
    doc = json.loads(report.read_text())
    assert doc["error"].startswith("the grading machine is out of disk: the Docker engine has "), doc["error"]
    assert doc["grader"]["machine"]["fit"] is False and doc["grader"]["machine"]["free_disk_bytes"] > 0
    runtime = [c for c in doc["checks"] if c["id"].startswith(("runtime.", "images."))]
    assert runtime and all(c["status"] == "error" for c in runtime), runtime
    assert not any(c["status"] == "fail" for c in doc["checks"])


def test_grade_all_stops_on_an_unfit_machine_and_grades_those_rows_again(tmp_path, docker_engine):
    class_dir = tmp_path / "class"
    for student in ("lab04-alice", "lab04-bob"):
        make_checkout(class_dir / student)
    reports = tmp_path / "reports"
    argv = [sys.executable, "-m", "autograde", "grade-all", str(class_dir), "--reports-dir", str(reports)]
    argv += ["-o", str(tmp_path / "grades.csv"), "--jobs", "1", "--no-shared-dev", *UNFIT]
    ran = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env(tmp_path))
    out = ran.stdout + ran.stderr
    assert ran.returncode != 0, out[-3000:]
    metas = {
        p.stem: json.loads(p.read_text()) for p in (reports / ".grade-all").glob("*.json") if p.stem.startswith("lab04")
    }
    statuses = sorted(m["status"] for m in metas.values())
    assert statuses == ["failed", "interrupted"], (metas, out[-3000:])
    assert "run the same command again" in out
