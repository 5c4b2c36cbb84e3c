"""LAB06 through the instructor's tools, as LAB04 goes through them: a class graded from source with
`grade-all --lab lab06`, its JUnit reports named for the lab, and `export` of its reports into a gradebook
whose maximum is LAB06's."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from junitparser import JUnitXml
from lab06_support import make_checkout

from support import leftovers

GRADE = [sys.executable, "-m", "autograde"]


@pytest.mark.docker
def test_a_lab06_class_is_graded_exported_and_named_for_its_lab(tmp_path: Path, docker_engine) -> None:
    root = tmp_path / "class"
    make_checkout(root / "lab06-ann", solution=True)
    make_checkout(root / "lab06-bob")  # the starter, as accepted
    reports, out = tmp_path / "reports", tmp_path / "grades.csv"
    ran = subprocess.run(
        [
            *GRADE,
            "grade-all",
            str(root),
            "--lab",
            "lab06",
            "--jobs",
            "2",
            "--reports-dir",
            str(reports),
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    with open(out, newline="", encoding="utf-8") as fh:
        rows = {r["repository"]: r for r in csv.DictReader(fh)}
    assert {k: (rows[k]["total"], rows[k]["max"]) for k in rows} == {
        "lab06-ann": ("100", "100"),
        "lab06-bob": ("0", "100"),
    }, rows
    for name in ("lab06-ann", "lab06-bob"):
        report = json.loads((reports / f"{name}.json").read_text())
        assert report["grader"]["lab"]["id"] == "lab06"
        assert not leftovers(report["grader"]["project"])
        cases = [c for suite in JUnitXml.fromfile(str(reports / f"{name}.xml")) for c in suite]
        assert {c.classname for c in cases} == {"LAB06"} and len(cases) == 6

    exported = tmp_path / "exported.csv"
    ran = subprocess.run(
        [*GRADE, "export", str(reports), "--lab", "lab06", "-o", str(exported)], capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    with open(exported, newline="", encoding="utf-8") as fh:
        scores = {r["repository"]: r["total"] for r in csv.DictReader(fh)}
    assert scores == {"lab06-ann": "100", "lab06-bob": "0"}, scores
