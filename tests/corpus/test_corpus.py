"""The corpus: realistic submissions graded for real, each check's status compared with expect.yml.

Every case folder holds a student's Dockerfile.prod and docker-compose.prod.yml and the verdict
the grader owes them (tests/corpus/README.md). The submissions are graded by the real command,
`autograde grade DIR --host-port auto --json F`, as subprocesses, CORPUS_JOBS (default 2) at a
time, once per session for the cases selected; each test then compares one case.

Every case is also graded with `--static-only` (no engine needed; CORPUS_STATIC_JOBS, default two per
core, at a time), and each row the files alone decide must get the verdict the case is owed.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from expectations import (
    CHECK_IDS, CORPUS, STATIC_WALL_TIME, WALL_TIME, case_names, expected, load, registry_reachable, static_mismatches,
    write_case,
)
from support import PROJECT_LABEL, leftovers, make_checkout

CASES = case_names()
JOBS = max(1, int(os.environ.get("CORPUS_JOBS", "2")))
GRADER_TRACEBACK = re.compile(r'File "[^"]*[/\\]autograde[/\\][^"]*\.py", line \d+')
GRADE_TIMEOUT = 1200  # s, one grade as a whole; the grader's own build timeout is 600 s
STATIC_JOBS = max(1, int(os.environ.get("CORPUS_STATIC_JOBS", 2 * (os.cpu_count() or 1))))  # short grades, mostly CPU
STATIC_TIMEOUT = 120  # s, one static-only grade (it takes well under a second)


@dataclass
class Graded:
    returncode: int | None
    report: dict | None
    output: str
    left: list[str]
    seconds: float


def _images_left(project: str) -> list[str]:
    """Images tagged <project>... or labelled with the project (one API call: no race with others' rmi)."""
    import docker

    client = docker.from_env()
    try:
        found = []
        for image in client.api.images():
            tags = [t for t in image.get("RepoTags") or [] if t.startswith(project)]
            labelled = (image.get("Labels") or {}).get(PROJECT_LABEL) == project
            if tags or labelled:
                found.append(f"image {', '.join(tags) or image['Id']}")
        return found
    finally:
        client.close()


def _grade(case: str, work: Path) -> Graded:
    try:
        return _grade_once(case, work)
    except Exception as e:  # one case's trouble is reported in its own test, not in all of them
        return Graded(None, None, f"grading {case} raised {type(e).__name__}: {e}", [], 0.0)


def _grade_once(case: str, work: Path) -> Graded:
    root = write_case(case, make_checkout(work / case))
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
    keep = os.environ.get("CORPUS_REPORTS")  # a folder to keep every case's JSON report in
    if keep and report_path.is_file():
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy2(report_path, Path(keep) / report_path.name)
    left: list[str] = []
    project = ((report or {}).get("grader") or {}).get("project")
    if project:
        left = leftovers(project) + _images_left(project)
    return Graded(returncode, report, output, left, seconds)


def _grade_static(case: str, work: Path) -> Graded:
    """`autograde grade DIR --static-only --json F` on a checkout of the case: the files alone."""
    try:
        root = write_case(case, make_checkout(work / case))
        report_path = work / f"{case}.static.json"
        t0 = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "autograde", "grade", str(root), "--static-only", "--json", str(report_path)],
            capture_output=True, text=True, timeout=STATIC_TIMEOUT)
        report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.is_file() else None
        return Graded(proc.returncode, report, proc.stdout + proc.stderr, [], time.monotonic() - t0)
    except Exception as e:  # reported in this case's own test
        return Graded(None, None, f"the static-only grade of {case} raised {type(e).__name__}: {e}", [], 0.0)


@pytest.fixture(scope="module")
def static_graded(request) -> dict[str, Graded]:
    """Every case selected for test_static_only_agrees, graded with --static-only, STATIC_JOBS at a time."""
    wanted = [item.callspec.params["case"] for item in request.session.items
              if item.module is request.module and getattr(item, "originalname", "") == "test_static_only_agrees"]
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="autograde-corpus-static-") as tmp, \
            ThreadPoolExecutor(max_workers=STATIC_JOBS) as pool:
        results = dict(zip(wanted, pool.map(lambda c: _grade_static(c, Path(tmp)), wanted)))
    request.config.stash[STATIC_WALL_TIME] = (len(wanted), STATIC_JOBS, time.monotonic() - t0)
    return results


@pytest.fixture(scope="module")
def registry() -> bool:
    forced = os.environ.get("CORPUS_REGISTRY")  # "online" / "offline" to override the probe
    return forced == "online" if forced in ("online", "offline") else registry_reachable()


@pytest.fixture(scope="module")
def graded(request, docker_engine) -> dict[str, Graded]:
    """Grades every case selected in this session (JOBS at a time), once."""
    wanted = [item.callspec.params["case"] for item in request.session.items
              if item.module is request.module and getattr(item, "originalname", "") == "test_grade_matches_expect"]
    t0 = time.monotonic()
    # a folder of its own: pytest's numbered temp folders are pruned by other sessions on a shared machine
    with tempfile.TemporaryDirectory(prefix="autograde-corpus-") as tmp, ThreadPoolExecutor(max_workers=JOBS) as pool:
        results = dict(zip(wanted, pool.map(lambda c: _grade(c, Path(tmp)), wanted)))
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


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_static_only_agrees(case: str, static_graded: dict[str, Graded]):
    """`--static-only` gives every row the files alone decide the verdict the case is owed (README: `static_only`)."""
    g = static_graded[case]
    tail = "\n".join(g.output.strip().splitlines()[-15:])
    assert g.report is not None, f"no JSON report from --static-only (exit {g.returncode}):\n{tail}"
    assert not GRADER_TRACEBACK.search(g.output), tail
    assert g.report.get("static_only") is True, "the report does not say it was a static-only grade"
    mismatches = static_mismatches(case, g.report)
    assert not mismatches, f"{case}, --static-only:\n  " + "\n  ".join(mismatches)


@pytest.mark.docker
@pytest.mark.timeout(3600)  # the first test waits for the whole (parallel) corpus
@pytest.mark.parametrize("case", CASES)
def test_grade_matches_expect(case: str, graded: dict[str, Graded], registry: bool):
    g = graded[case]
    tail = "\n".join(g.output.strip().splitlines()[-15:])
    assert g.report is not None, f"no JSON report (exit {g.returncode}, {g.seconds:.0f} s):\n{tail}"
    # the app's own tracebacks may be quoted in the report; the grader's must never appear
    assert not GRADER_TRACEBACK.search(g.output), tail
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
        said = f"{got['message']} {got.get('hint') or ''}"
        missing = [w for w in want[cid].says if w not in said]
        if got["status"] == want[cid].status and missing:
            mismatches.append(f"{cid}: the message or hint does not say {missing}: {said}")
    statuses = {w.status for w in want.values()}
    want_rc = 2 if "error" in statuses else 0 if statuses == {"pass"} else 1
    if not mismatches and g.returncode != want_rc:
        mismatches.append(f"exit status {g.returncode}, expected {want_rc}")
    assert not g.left, f"left on the engine after the grade of {case}: {g.left}"
    assert not mismatches, f"{case} ({g.seconds:.0f} s):\n  " + "\n  ".join(mismatches)
