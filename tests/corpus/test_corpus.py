"""The corpus: realistic submissions graded for real, each check's status compared with expect.yml.

Every case folder holds a student's Dockerfile.prod and docker-compose.prod.yml and the verdict
the grader owes them (tests/corpus/README.md). The submissions are graded by the real command,
`autograde grade DIR --host-port auto --json F`, as subprocesses, CORPUS_JOBS (default 2) at a
time, once per session for the cases selected; each test then compares one case.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import WALL_TIME
from expectations import CHECK_IDS, CORPUS, case_names, expected, load, registry_reachable
from support import PROJECT_LABEL, leftovers, make_checkout

CASES = case_names()
JOBS = max(1, int(os.environ.get("CORPUS_JOBS", "2")))
GRADE_TIMEOUT = 1200  # s, one grade as a whole; the grader's own build timeout is 600 s


@dataclass
class Graded:
    returncode: int | None
    report: dict | None
    output: str
    left: list[str]
    seconds: float


def _images_left(project: str) -> list[str]:
    import docker

    client = docker.from_env()
    try:
        found = []
        for image in client.images.list():
            tags = [t for t in image.tags if t.startswith(project)]
            labelled = (image.labels or {}).get(PROJECT_LABEL) == project
            if tags or labelled:
                found.append(f"image {', '.join(tags) or image.short_id}")
        return found
    finally:
        client.close()


def _grade(case: str, work: Path) -> Graded:
    src = CORPUS / case
    root = make_checkout(work / case, files={
        "Dockerfile.prod": (src / "Dockerfile.prod").read_text(encoding="utf-8"),
        "docker-compose.prod.yml": (src / "docker-compose.prod.yml").read_text(encoding="utf-8"),
    })
    report_path = work / f"{case}.json"
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "autograde", "grade", str(root), "--host-port", "auto", "--json", str(report_path)],
            capture_output=True, text=True, timeout=GRADE_TIMEOUT)
        returncode, output = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as e:
        returncode, output = None, f"the grade did not finish within {GRADE_TIMEOUT} s: {e}"
    seconds = time.monotonic() - t0
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.is_file() else None
    left: list[str] = []
    project = ((report or {}).get("grader") or {}).get("project")
    if project:
        left = leftovers(project) + _images_left(project)
    return Graded(returncode, report, output, left, seconds)


@pytest.fixture(scope="module")
def registry() -> bool:
    forced = os.environ.get("CORPUS_REGISTRY")  # "online" / "offline" to override the probe
    return forced == "online" if forced in ("online", "offline") else registry_reachable()


@pytest.fixture(scope="module")
def graded(request, docker_engine, tmp_path_factory) -> dict[str, Graded]:
    """Grades every case selected in this session (JOBS at a time), once."""
    wanted = [item.callspec.params["case"] for item in request.session.items
              if item.module is request.module and getattr(item, "originalname", "") == "test_grade_matches_expect"]
    work = tmp_path_factory.mktemp("corpus")
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        results = dict(zip(wanted, pool.map(lambda c: _grade(c, work), wanted)))
    request.config.stash[WALL_TIME] = (len(wanted), JOBS, time.monotonic() - t0)
    return results


def test_corpus_is_complete_and_well_formed():
    """At least 40 cases, at least 15 of them correct solutions; every expect.yml parses and names known ids."""
    assert len(CASES) >= 40, CASES
    ok = [c for c in CASES if c.startswith("ok-")]
    assert len(ok) >= 15, ok
    problems = []
    for case in CASES:
        try:
            data = load(case)
        except ValueError as e:
            problems.append(str(e))
            continue
        if case.startswith("ok-") and (data["default"] != "pass" or data.get("checks")):
            problems.append(f"{case}: a correct solution must expect pass for every check (offline entries aside)")
        if case.startswith("bad-") and not data.get("checks") and not data.get("offline"):
            problems.append(f"{case}: a mistake case must say which checks it loses")
    assert not problems, "\n".join(problems)


@pytest.mark.docker
@pytest.mark.timeout(3600)  # the first test waits for the whole (parallel) corpus
@pytest.mark.parametrize("case", CASES)
def test_grade_matches_expect(case: str, graded: dict[str, Graded], registry: bool):
    g = graded[case]
    tail = "\n".join(g.output.strip().splitlines()[-15:])
    assert g.report is not None, f"no JSON report (exit {g.returncode}, {g.seconds:.0f} s):\n{tail}"
    assert "Traceback" not in g.output, tail
    checks = {c["id"]: c for c in g.report["checks"]}
    assert set(checks) == set(CHECK_IDS), sorted(checks)

    want = expected(case, registry=registry)
    mismatches = []
    for cid in CHECK_IDS:
        got = checks[cid]
        if got["status"] != want[cid].status:
            hint = f" | hint: {got['hint']}" if got.get("hint") else ""
            mismatches.append(f"{cid}: expected {want[cid].status} ({want[cid].why}); "
                              f"grader says {got['status']}: {got['message']}{hint}")
    statuses = {w.status for w in want.values()}
    want_rc = 2 if "error" in statuses else 0 if statuses == {"pass"} else 1
    if not mismatches and g.returncode != want_rc:
        mismatches.append(f"exit status {g.returncode}, expected {want_rc}")
    assert not g.left, f"left on the engine after the grade of {case}: {g.left}"
    assert not mismatches, f"{case} ({g.seconds:.0f} s):\n  " + "\n  ".join(mismatches)
