from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from autograde.checks import default_rubric
from support import make_checkout


@pytest.mark.slow
def test_static_only_needs_no_docker_engine(tmp_path):
    root = make_checkout(tmp_path / "c")
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock", "PATH": "/usr/bin:/bin"}
    p = subprocess.run(
        [sys.executable, "-m", "autograde", "grade", str(root), "--static-only", "--json", str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
        env=env,
    )
    report = json.loads((tmp_path / "r.json").read_text())
    assert p.returncode == 0, p.stdout + p.stderr
    static = sum(i.points for i in default_rubric().items if i.phase == "static")
    assert report["static_only"] is True and report["score"] == static
    assert {c["status"] for c in report["checks"] if c["id"].split(".")[0] in ("runtime", "images")} == {"skip"}
    assert "static checks only" in p.stdout
    assert "docker" not in json.dumps(report["timings"])


@pytest.mark.slow
def test_unwritable_report_paths_are_told_not_traced(tmp_path):
    root = make_checkout(tmp_path / "c")
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograde",
            "grade",
            str(root),
            "--static-only",
            "--json",
            str(tmp_path / "no" / "such" / "r.json"),
        ],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
    folder = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograde",
            "grade",
            str(root),
            "--static-only",
            "--json",
            str(tmp_path),
            "--junit",
            str(tmp_path / "r.xml"),
        ],
        capture_output=True,
        text=True,
    )
    assert folder.returncode == 2 and "cannot write" in folder.stderr and "Traceback" not in folder.stderr
    assert (tmp_path / "r.xml").is_file(), "the other report is still written"
    rubric = default_rubric()
    static = sum(i.points for i in rubric.items if i.phase == "static")
    assert f"Total: {static}/{rubric.possible}" in folder.stdout
