"""`autograde grade-all` on the real engine: the same verdicts as grading each submission alone,
one shared dev build for identical dev files, bad inputs as flagged rows, and SIGTERM, timeout and
resume leaving nothing behind."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from variants import make_class

from support import default_signals, make_checkout, solution_files

pytestmark = pytest.mark.docker
PROJECT_LABEL = "com.docker.compose.project"
GRADE = [sys.executable, "-m", "autograde"]


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {r["repository"]: r for r in csv.DictReader(fh)}


def verdicts(report: Path) -> dict[str, tuple[str, int]]:
    doc = json.loads(report.read_text())
    return {c["id"]: (c["status"], c["score"]) for c in doc["checks"]}


def left_by_prefix(client, prefix: str) -> list[str]:
    """Everything on the engine whose compose project label starts with prefix, and tags with it.

    Plain listings (no inspect per object): other people's containers come and go meanwhile."""
    api, flt = client.api, {"label": PROJECT_LABEL}
    found = []
    for kind, items in (
        ("container", api.containers(all=True, filters=flt)),
        ("network", api.networks(filters=flt)),
        ("volume", api.volumes(filters=flt).get("Volumes") or []),
        ("image", api.images(filters=flt)),
    ):
        for item in items:
            if str((item.get("Labels") or {}).get(PROJECT_LABEL, "")).startswith(prefix):
                found.append(f"{kind} {item.get('Name') or item.get('Names') or item.get('Id')}")
    found += [f"image {t}" for i in api.images() for t in (i.get("RepoTags") or []) if t.startswith(prefix)]
    return found


def batch_prefix(reports: Path) -> str:
    for path in reports.glob("*.json"):
        project = json.loads(path.read_text())["grader"].get("project")
        if project:
            return project[:-4]  # autograde-<batch><4 hex counter> -> autograde-<batch>
    raise AssertionError("no report names its project")


def test_class_verdicts_equal_grading_each_alone(tmp_path: Path, docker_engine) -> None:
    root = tmp_path / "class"
    names = ["solution", "solution", "single-stage", "no-redis-host", "failing-build", "tampered-dev"]
    checkouts = make_class(root, names)
    (root / "lab04-zz-empty").mkdir()
    (root / "lab04-zz-nolab" / ".git").mkdir(parents=True)
    reports, out = tmp_path / "reports", tmp_path / "grades.csv"
    ran = subprocess.run(
        [
            *GRADE,
            "grade-all",
            str(root),
            "--jobs",
            "3",
            "--reports-dir",
            str(reports),
            "-o",
            str(out),
            "--summary",
            str(tmp_path / "summary.md"),
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "class summary: 6 graded" in ran.stdout
    assert "checks most often lost:" in ran.stdout

    # each submission alone, as `autograde grade` grades it (two at a time: independent sessions)
    alone = tmp_path / "alone"
    alone.mkdir()

    def single(path: Path) -> Path:
        report = alone / f"{path.name}.json"
        done = subprocess.run(
            [*GRADE, "grade", str(path), "--host-port", "auto", "--json", str(report)],
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr[-2000:]
        return report

    with ThreadPoolExecutor(max_workers=2) as pool:
        singles = dict(zip(checkouts, pool.map(single, checkouts)))
    for path, report in singles.items():
        assert verdicts(reports / f"{path.name}.json") == verdicts(report), path.name

    rows = read_csv(out)
    assert rows["lab04-s00-solution"]["total"] == rows["lab04-s00-solution"]["max"]
    assert int(rows["lab04-s02-single-stage"]["total"]) < 100
    assert rows["lab04-s04-failing-build"]["runtime.up"] == "0"
    assert "tampered:" in rows["lab04-s05-tampered-dev"]["flags"]
    assert "app/Dockerfile" in rows["lab04-s05-tampered-dev"]["flags"]
    assert rows["lab04-zz-empty"]["flags"] == "not-a-checkout"
    assert rows["lab04-zz-nolab"]["flags"] == "no-lab-files"
    assert (reports / "lab04-s00-solution.xml").is_file()

    # the template's dev files were built once and shared; the changed ones got their own build
    meta = {p.stem: json.loads(p.read_text()) for p in (reports / ".grade-all").glob("*.json")}
    shared = {n for n, m in meta.items() if m.get("shared_dev")}
    assert shared == {
        "lab04-s00-solution",
        "lab04-s01-solution",
        "lab04-s02-single-stage",
        "lab04-s03-no-redis-host",
        "lab04-s04-failing-build",
    }
    docs = {p.stem: json.loads(p.read_text()) for p in reports.glob("*.json")}
    dev_ids = {docs[n]["images"]["dev"]["id"] for n in shared if docs[n]["images"]["dev"]}
    assert len(dev_ids) == 1
    own = docs["lab04-s05-tampered-dev"]["images"]["dev"]
    assert own["id"] not in dev_ids and own["tag"].endswith("-web-dev:graded")
    prod_tags = [d["images"]["prod"]["tag"] for d in docs.values() if d["images"]["prod"]]
    assert len(prod_tags) == len(set(prod_tags)) == 5  # one per built submission, never shared
    # alone, Redis starts while the images are built; in a class (bound by the CPU) it starts with the stack
    solution = json.loads(singles[root / "lab04-s00-solution"].read_text())
    assert "first" in solution["grader"]["phases"], solution["grader"]["phases"]
    assert all("first" not in docs[n]["grader"]["phases"] for n in shared), {
        n: docs[n]["grader"]["phases"] for n in shared
    }
    assert left_by_prefix(docker_engine, batch_prefix(reports)) == []


HANG = solution_files()["Dockerfile.prod"].replace(
    "FROM python:3.13-slim AS final\n", "FROM python:3.13-slim AS final\nRUN sleep 600\n"
)


def test_sigterm_stops_everything_and_a_rerun_resumes(tmp_path: Path, docker_engine) -> None:
    root = tmp_path / "class"
    make_checkout(root / "lab04-alice")
    make_checkout(root / "lab04-hang", files={"Dockerfile.prod": HANG})
    reports, out = tmp_path / "reports", tmp_path / "grades.csv"
    argv = [*GRADE, "grade-all", str(root), "--jobs", "2", "--reports-dir", str(reports), "-o", str(out)]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_signals()
    )
    try:
        deadline = time.monotonic() + 900
        while not (reports / "lab04-alice.xml").is_file():  # alice is done, the hanging build still runs
            assert proc.poll() is None and time.monotonic() < deadline, "grade-all ended early"
            time.sleep(1)
        time.sleep(3)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-2000:]
    assert "Run the same command again to resume" in err
    prefix = batch_prefix(reports)
    assert left_by_prefix(docker_engine, prefix) == []
    alice_mtime = (reports / "lab04-alice.json").stat().st_mtime
    assert read_csv(out)["lab04-hang"]["flags"] == "interrupted"

    # resumed: alice is not graded again; the hanging build meets the per-repository time limit
    ran = subprocess.run([*argv, "--timeout", "40"], capture_output=True, text=True, timeout=900)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "1 already graded (resumed), 1 to grade" in ran.stderr
    assert (reports / "lab04-alice.json").stat().st_mtime == alice_mtime
    rows = read_csv(out)
    assert rows["lab04-alice"]["total"] == rows["lab04-alice"]["max"]
    assert rows["lab04-hang"]["flags"] == "timeout" and "longer than 40 s" in rows["lab04-hang"]["notes"]
    assert left_by_prefix(docker_engine, prefix) == []
    meta = json.loads((reports / ".grade-all" / "lab04-hang.json").read_text())
    assert meta["status"] == "timeout"
