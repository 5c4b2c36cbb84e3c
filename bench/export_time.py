"""Time `autograde export` over 1,000 student reports (target: under 2 s).

    python bench/export_time.py [--count 1000]

Generates the reports in a temporary folder the way instructors get them: one folder per
repository; half hold the JSON and JUnit files loose, half the zipped artifact as GitHub
serves it. Then runs the export in-process and as a CLI process and prints the timings.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograde.checks import default_items  # noqa: E402
from autograde.results import CheckResult, GradingResults  # noqa: E402


def report(i: int) -> GradingResults:
    checks = []
    for n, item in enumerate(default_items()):
        lost = item.points if (i + n) % 7 == 0 else 0
        checks.append(
            CheckResult(
                item.id,
                item.name,
                "fail" if lost else "pass",
                item.points - lost,
                item.points,
                "message " * 5,
                hint="hint " * 10,
                file="Dockerfile.prod",
                line=n + 1,
                duration_s=0.5,
                log_tail="log line\n" * 40,
            )
        )
    return GradingResults(
        checks=checks,
        timings={"static": 1.2, "runtime": 40.0},
        source={
            "repository": f"cs-class/lab04-student{i:04d}",
            "commit": f"{i:040x}",
            "ref": "refs/heads/main",
            "actor": f"student{i:04d}",
            "run_id": str(i),
            "graded_at": "2024-05-01T10:00:00+00:00",
        },
        grader={"version": "1.0.0", "started_at": "2024-05-01T09:59:00+00:00", "duration_s": 60},
    )


FAILURE = '<failure message="x"/>'


def junit(res: GradingResults) -> bytes:
    d = res.to_dict()
    cases = "".join(
        f'<testcase name="{c.id}" classname="autograde.{c.id.split(".")[0]}"><properties>'
        f'<property name="points" value="{c.score}"/><property name="max_points" value="{c.max_score}"/>'
        f"</properties>{FAILURE if c.status == 'fail' else ''}</testcase>"
        for c in res.checks
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="autograde"><properties>'
        f'<property name="score" value="{d["score"]}"/><property name="max_score" value="{d["max_score"]}"/>'
        f'<property name="source.repository" value="{res.source["repository"]}"/>'
        f'<property name="source.commit" value="{res.source["commit"]}"/>'
        f'<property name="source.graded_at" value="{res.source["graded_at"]}"/>'
        f"</properties>{cases}</testsuite></testsuites>"
    ).encode()


def generate(root: Path, count: int) -> None:
    for i in range(count):
        res = report(i)
        folder = root / f"lab04-student{i:04d}"
        folder.mkdir(parents=True)
        members = {
            "autograde-report.json": json.dumps(res.to_dict(), indent=2).encode(),
            "autograde-report.xml": junit(res),
        }
        if i % 2:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for name, data in members.items():
                    zf.writestr(name, data)
            (folder / "autograde-report.zip").write_bytes(buf.getvalue())
        else:
            for name, data in members.items():
                (folder / name).write_bytes(data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp, "reports")
        t = time.perf_counter()
        generate(root, args.count)
        print(
            f"generated {args.count} reports in {time.perf_counter() - t:.2f} s "
            f"({sum(f.stat().st_size for f in root.rglob('*') if f.is_file()) / 1e6:.1f} MB)"
        )

        from autograde.instructor.gradebook import rows_from_scan, write_gradebook
        from autograde.instructor.reports import scan_reports

        t = time.perf_counter()
        scan = scan_reports(root)
        rows, bad = write_gradebook(rows_from_scan(scan), str(Path(tmp, "in-process.csv"))), scan.bad
        inproc = time.perf_counter() - t
        assert len(rows) == args.count and not bad, (len(rows), bad[:3])
        print(f"export in-process:  {inproc:.3f} s for {len(rows)} rows")

        env = dict(os.environ, PYTHONPATH=str(ROOT))
        t = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "autograde", "export", str(root), "-o", str(Path(tmp, "cli.csv"))],
            env=env,
            capture_output=True,
            text=True,
        )
        cli = time.perf_counter() - t
        print(f"export CLI process: {cli:.3f} s (exit {proc.returncode}: {proc.stderr.strip()})")
        same = Path(tmp, "in-process.csv").read_bytes() == Path(tmp, "cli.csv").read_bytes()
        print(f"outputs identical: {same}")
        target = 2.0
        print(f"target < {target:.0f} s: {'met' if max(inproc, cli) < target else 'NOT met'}")
        return 0 if proc.returncode == 0 and same else 1


if __name__ == "__main__":
    sys.exit(main())
