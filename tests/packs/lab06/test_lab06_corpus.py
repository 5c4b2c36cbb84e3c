"""LAB06's corpus, graded for real by the pack `lab06`: every case's check statuses compared with its expect.yml.

Each case (tests/packs/lab06/corpus/<case>/) is a student's docker-compose.yml (and, for some, an
app/Dockerfile or a .env) put over the template, confirmed by running it as a student does
(run_as_student.py). The grades run as the students' workflow runs them, `autograde grade DIR --lab lab06
--host-port auto --json F`, three at a time; each case is also graded `--static-only`, where every row the
files alone decide must get the same verdict. Nothing a grade started may be left on the engine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from lab06_support import CORPUS, case_names, make_checkout

from support import leftovers

CASES = case_names()
STATUSES = ("pass", "fail", "skip", "error")
JOBS = 3  # a LAB06 grade mostly waits for Docker's health checks (its image is the same for every case)


def check_ids() -> tuple[str, ...]:
    from autograde import labs
    from autograde.checks import default_items

    labs.select("lab06")
    try:
        return tuple(i.id for i in default_items())
    finally:
        labs.select("lab04")


CHECK_IDS = check_ids()


@dataclass
class Graded:
    returncode: int | None
    report: dict | None
    output: str
    left: list[str]


def expected(case: str) -> dict[str, tuple[str, str]]:
    data = yaml.safe_load((CORPUS / case / "expect.yml").read_text(encoding="utf-8"))
    out = dict.fromkeys(CHECK_IDS, (data["default"], data["why"]))
    for cid, entry in (data.get("checks") or {}).items():
        out[cid] = (entry["status"], entry["why"])
    return out


def _grade(case: str, work: Path, *extra: str) -> Graded:
    root = make_checkout(work / (case + "".join(extra).replace("-", "")), case=case)
    report = work / f"{root.name}.json"
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "autograde", "grade", str(root), "--lab", "lab06", "--json", str(report), *extra],
            capture_output=True,
            text=True,
            timeout=900,
        )
        code, output = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as e:
        code, output = None, f"the grade did not finish: {e}"
    data = json.loads(report.read_text(encoding="utf-8")) if report.is_file() else None
    project = ((data or {}).get("grader") or {}).get("project")
    return Graded(code, data, output, leftovers(project) if project else [])


@pytest.fixture(scope="module")
def graded(request, docker_engine) -> dict[str, Graded]:
    wanted = [
        item.callspec.params["case"]
        for item in request.session.items
        if item.module is request.module and getattr(item, "originalname", "") == "test_lab06_case"
    ]
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="autograde-lab06-corpus-") as tmp, ThreadPoolExecutor(JOBS) as pool:
        results = dict(zip(wanted, pool.map(lambda c: _grade(c, Path(tmp), "--host-port", "auto"), wanted)))
    print(f"\nlab06 corpus: {len(wanted)} submissions graded in {time.monotonic() - t0:.0f} s, {JOBS} at a time")
    return results


def _compare(case: str, report: dict | None, output: str, static: bool) -> list[str]:
    assert report is not None, f"{case}: no report was written\n{output[-3000:]}"
    rows = {c["id"]: c for c in report["checks"]}
    problems = []
    for cid, (want, why) in expected(case).items():
        got = rows.get(cid)
        if got is None:
            problems.append(f"{cid}: missing from the report")
        elif static and got["status"] == "skip":
            continue  # the files alone do not decide it
        elif got["status"] != want:
            problems.append(f"{cid}: expected {want} ({why}); got {got['status']}: {got['message']} | {got['hint']}")
    return problems


@pytest.mark.docker
@pytest.mark.parametrize("case", CASES)
def test_lab06_case(graded, case):
    g = graded[case]
    problems = _compare(case, g.report, g.output, static=False)
    assert not problems, f"{case}:\n  " + "\n  ".join(problems)
    assert "Traceback" not in g.output, g.output[-3000:]
    assert not g.left, f"{case}: left on the engine: {g.left}"
    owed = {s for s, _ in expected(case).values()}
    assert g.returncode == (2 if "error" in owed else 0 if owed == {"pass"} else 1), g.output[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_lab06_case_static_only(tmp_path, case):
    g = _grade(case, tmp_path, "--static-only")
    problems = _compare(case, g.report, g.output, static=True)
    assert not problems, f"{case} (--static-only):\n  " + "\n  ".join(problems)
    assert "Traceback" not in g.output, g.output[-3000:]


def test_cases_name_only_lab06_checks():
    for case in CASES:
        data = yaml.safe_load((CORPUS / case / "expect.yml").read_text(encoding="utf-8"))
        assert data.get("default") in STATUSES and isinstance(data.get("why"), str), case
        unknown = set(data.get("checks") or {}) - set(CHECK_IDS)
        assert not unknown, f"{case}: unknown check ids {unknown}"
