"""Report fixtures: JSON from real GradingResults objects, JUnit XML in the documented shape."""

from __future__ import annotations

import io
import json
import zipfile
from xml.sax.saxutils import quoteattr

from autograde.checks import default_items
from autograde.results import CheckResult, GradingResults

CHECK_IDS = [i.id for i in default_items()]
MAX = sum(i.points for i in default_items())  # the rubric's total, from the registry


def results(
    repository: str = "cs-class/lab04-alice",
    commit: str = "a" * 40,
    graded_at: str = "2024-05-01T10:00:00+00:00",
    lost: dict[str, int] | None = None,
    *,
    static_only: bool = False,
    error: str | None = None,
    errored: tuple[str, ...] = (),
    modified_files: list[str] | None = None,
) -> GradingResults:
    """Full marks except `lost` {check id: points lost}."""
    lost = lost or {}
    checks = []
    for item in default_items():
        minus = lost.get(item.id, 0)
        status = "error" if item.id in errored else ("fail" if minus else "pass")
        checks.append(
            CheckResult(
                item.id,
                item.name,
                status,
                item.points - minus,
                item.points,
                "ok" if status == "pass" else "not quite",
                file="Dockerfile.prod",
                line=3,
            )
        )
    source = {
        "repository": repository,
        "commit": commit,
        "ref": "refs/heads/main",
        "actor": "student",
        "run_id": "42",
        "graded_at": graded_at,
    }
    return GradingResults(
        checks=checks,
        static_only=static_only,
        error=error,
        modified_files=modified_files or [],
        source={k: v for k, v in source.items() if v is not None},
        grader={"version": "1.0.0", "started_at": graded_at, "duration_s": 12.5},
    )


def json_report(res: GradingResults) -> bytes:
    return json.dumps(res.to_dict(), indent=2).encode()


def junit_report(res: GradingResults) -> bytes:
    """The grade command's JUnit shape: one suite `autograde`, properties, one testcase per check."""
    out = io.StringIO()
    d = res.to_dict()
    failures = sum(1 for c in res.checks if c.status == "fail")
    errors = sum(1 for c in res.checks if c.status == "error")
    skipped = sum(1 for c in res.checks if c.status == "skip")
    out.write('<?xml version="1.0" encoding="utf-8"?>\n<testsuites>\n')
    out.write(
        f'  <testsuite name="autograde" tests="{len(res.checks)}" failures="{failures}" errors="{errors}" '
        f'skipped="{skipped}" time="12.5">\n    <properties>\n'
    )
    props = {"score": d["score"], "max_score": d["max_score"]}
    for key in ("repository", "commit", "graded_at"):
        if key in res.source:
            props[f"source.{key}"] = res.source[key]
    for name, value in props.items():
        out.write(f"      <property name={quoteattr(name)} value={quoteattr(str(value))}/>\n")
    out.write("    </properties>\n")
    for c in res.checks:
        prefix = c.id.split(".")[0]
        out.write(f'    <testcase name={quoteattr(c.id)} classname="autograde.{prefix}" time="{c.duration_s}">\n')
        out.write(
            f'      <properties>\n        <property name="points" value="{c.score}"/>\n'
            f'        <property name="max_points" value="{c.max_score}"/>\n      </properties>\n'
        )
        if c.status == "fail":
            out.write(f"      <failure message={quoteattr(c.message)}>{c.hint}</failure>\n")
        elif c.status == "error":
            out.write(f"      <error message={quoteattr(c.message)}/>\n")
        elif c.status == "skip":
            out.write(f"      <skipped message={quoteattr(c.message)}/>\n")
        out.write("    </testcase>\n")
    out.write("  </testsuite>\n</testsuites>\n")
    return out.getvalue().encode()


def artifact_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def both(res: GradingResults) -> dict[str, bytes]:
    return {"autograde-report.json": json_report(res), "autograde-report.xml": junit_report(res)}
