"""Read grade reports: the JSON and JUnit files the grading workflow uploads, loose or zipped.

Everything here is defensive: a report comes out of a student's repository, so it may be
truncated, of another schema, foreign XML, or a zip built to hurt (bombs, `../` names).
A bad file raises `ReportError` with a one-line reason; callers list it and go on.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree

from autograde.results import SCHEMA

# Caps for anything read from disk or from a downloaded artifact.
MAX_REPORT_BYTES = 8 * 1024 * 1024  # one JSON or XML report
MAX_ZIP_BYTES = 64 * 1024 * 1024  # one zip archive, compressed
MAX_ZIP_MEMBERS = 200
MAX_ZIP_TOTAL = 32 * 1024 * 1024  # sum of the report members we decompress from one zip

REPORT_SUFFIXES = (".json", ".xml")


class ReportError(ValueError):
    """A report cannot be used; str(e) is the reason."""


@dataclass
class Report:
    path: str  # where it came from: a file, or archive.zip!member
    kind: str  # "json" or "junit"
    score: int
    max_score: int
    points: dict[str, int]  # check id -> points, in report order
    max_points: dict[str, int]
    repository: str | None = None  # owner/name when the report says so
    commit: str | None = None
    ref: str | None = None
    graded_at: str | None = None
    static_only: bool = False
    error: str | None = None  # grading error, or "check X errored"
    modified_files: list[str] = field(default_factory=list)
    rubric: str | None = None  # the fingerprint of the rubric it was graded under (JSON reports since 1.2)
    rubric_source: str | None = None  # what the grader called that rubric: default, a file, env AUTOGRADE_RUBRIC
    workflow_mismatch: bool = False  # the repository's workflow did not list the runners of that rubric


@dataclass
class BadReport:
    path: str
    reason: str


# --------------------------------------------------------------------------- parsing


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise ReportError(f"{what} is not a whole number ({value!r})")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            f = float(value.strip())
        except ValueError:
            pass
        else:
            if f.is_integer():
                return int(f)
    raise ReportError(f"{what} is not a whole number ({str(value)[:40]!r})")


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        text = str(value).strip()
        return text[:200] or None
    return None


def parse_json_report(data: bytes, origin: str) -> Report:
    """A grade report in the grader's JSON format. Raises ReportError (with the reason) for anything else."""
    if len(data) > MAX_REPORT_BYTES:
        raise ReportError(f"too large ({len(data)} bytes)")
    try:
        doc = json.loads(data)
    except UnicodeDecodeError:
        raise ReportError("not UTF-8 text") from None
    except json.JSONDecodeError as e:
        truncated = e.pos >= len(data.rstrip()) - 1 or e.msg.startswith("Unterminated string")
        hint = " (truncated?)" if truncated else ""
        raise ReportError(f"not valid JSON{hint}: {e.msg} (line {e.lineno}, column {e.colno})") from None
    if not isinstance(doc, dict):
        raise ReportError(f"not a grade report (top level is a JSON {type(doc).__name__})")
    schema = doc.get("schema")
    if schema != SCHEMA:
        raise ReportError(f"wrong schema {str(schema)[:60]!r}, expected {SCHEMA!r}")
    checks = doc.get("checks")
    if not isinstance(checks, list):
        raise ReportError("`checks` is missing or not a list")
    points: dict[str, int] = {}
    max_points: dict[str, int] = {}
    errored: list[str] = []
    for i, check in enumerate(checks):
        if not isinstance(check, dict) or not isinstance(check.get("id"), str) or not check["id"]:
            raise ReportError(f"checks[{i}] has no id")
        cid = check["id"][:100]
        points[cid] = _int(check.get("score"), f"checks[{i}].score")
        max_points[cid] = _int(check.get("max_score"), f"checks[{i}].max_score")
        if check.get("status") == "error":
            errored.append(cid)
    raw_source = doc.get("source")
    source: dict[str, Any] = raw_source if isinstance(raw_source, dict) else {}
    error = _str(doc.get("error"))
    if error is None and errored:
        error = "check errored: " + ", ".join(errored)
    raw_rubric, raw_grader = doc.get("rubric"), doc.get("grader")
    rubric: dict[str, Any] = raw_rubric if isinstance(raw_rubric, dict) else {}
    grader: dict[str, Any] = raw_grader if isinstance(raw_grader, dict) else {}
    modified = doc.get("modified_files") or []
    if not isinstance(modified, list):
        raise ReportError("`modified_files` is not a list")
    return Report(
        path=origin,
        kind="json",
        score=_int(doc.get("score"), "score"),
        max_score=_int(doc.get("max_score"), "max_score"),
        points=points,
        max_points=max_points,
        repository=_str(source.get("repository")),
        commit=_str(source.get("commit")),
        ref=_str(source.get("ref")),
        graded_at=_str(source.get("graded_at")),
        static_only=bool(doc.get("static_only", False)),
        error=error,
        modified_files=sorted({str(p)[:300] for p in modified if isinstance(p, str) and p}),
        rubric=_str(rubric.get("fingerprint")),
        rubric_source=_str(rubric.get("source")),
        workflow_mismatch=bool(grader.get("workflow_mismatch")),
    )


def _properties(element: ElementTree.Element) -> dict[str, str]:
    props: dict[str, str] = {}
    holder = element.find("properties")
    if holder is not None:
        for prop in holder.findall("property"):
            name = prop.get("name")
            if name:
                props[name] = prop.get("value", prop.text or "")
    return props


def parse_junit_report(data: bytes, origin: str) -> Report:
    """A JUnit report the grader wrote. Raises ReportError (with the reason) for anything else."""
    if len(data) > MAX_REPORT_BYTES:
        raise ReportError(f"too large ({len(data)} bytes)")
    head = data[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data.upper():
        raise ReportError("XML with a DTD or entities is not accepted")
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as e:
        raise ReportError(f"not well-formed XML (truncated?): {e}") from None
    if root.tag == "testsuite":
        suites = [root]
    elif root.tag == "testsuites":
        suites = root.findall("testsuite")
    else:
        raise ReportError(f"foreign XML: root element <{root.tag[:40]}>, expected <testsuites> or <testsuite>")
    suite = next((s for s in suites if s.get("name") == "autograde"), None)
    if suite is None:
        raise ReportError('foreign XML: no <testsuite name="autograde">')
    props = _properties(suite)
    points: dict[str, int] = {}
    max_points: dict[str, int] = {}
    errored: list[str] = []
    for case in suite.findall("testcase"):
        cid = (case.get("name") or "").strip()[:100]
        if not cid:
            raise ReportError("a <testcase> has no name")
        cprops = _properties(case)
        if "points" not in cprops or "max_points" not in cprops:
            raise ReportError(f"testcase {cid} has no points/max_points properties")
        points[cid] = _int(cprops["points"], f"{cid} points")
        max_points[cid] = _int(cprops["max_points"], f"{cid} max_points")
        if case.find("error") is not None:
            errored.append(cid)
    if not points:
        raise ReportError("no <testcase> in the autograde suite")
    score = _int(props["score"], "score") if "score" in props else sum(points.values())
    max_score = _int(props["max_score"], "max_score") if "max_score" in props else sum(max_points.values())
    return Report(
        path=origin,
        kind="junit",
        score=score,
        max_score=max_score,
        points=points,
        max_points=max_points,
        repository=_str(props.get("source.repository")),
        commit=_str(props.get("source.commit")),
        graded_at=_str(props.get("source.graded_at")),
        error=("check errored: " + ", ".join(errored)) if errored else None,
    )


def parse_report(data: bytes, name: str) -> Report:
    """Parse by file extension: .json -> JSON report, .xml -> JUnit report.

    Raises ReportError as they do, also for another extension.
    """
    lower = name.lower()
    if lower.endswith(".json"):
        return parse_json_report(data, name)
    if lower.endswith(".xml"):
        return parse_junit_report(data, name)
    raise ReportError("not a .json or .xml report")


# --------------------------------------------------------------------------- zips


def safe_member_name(name: str) -> bool:
    """False for absolute names, `..` components, backslashes and drive letters."""
    if not name or "\\" in name or name.startswith("/") or "\x00" in name:
        return False
    parts = PurePosixPath(name).parts
    return not any(p == ".." for p in parts) and not (parts and ":" in parts[0])


def zip_reports(data: bytes, origin: str) -> Iterator[tuple[str, bytes | ReportError]]:
    """Yield (origin!member, bytes or a ReportError) for each .json/.xml member of a zip.

    Raises ReportError if the archive itself is unusable. Nothing is extracted to disk.
    """
    if len(data) > MAX_ZIP_BYTES:
        raise ReportError(f"zip too large ({len(data)} bytes)")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise ReportError(f"not a readable zip archive ({e})") from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise ReportError(f"zip has {len(infos)} members (limit {MAX_ZIP_MEMBERS})")
    budget = MAX_ZIP_TOTAL
    with zf:
        for info in infos:
            if info.is_dir() or not info.filename.lower().endswith(REPORT_SUFFIXES):
                continue
            where = f"{origin}!{info.filename[:200]}"
            if not safe_member_name(info.filename):
                yield where, ReportError("unsafe member name in zip (absolute or '..')")
                continue
            if info.file_size > MAX_REPORT_BYTES or info.file_size > budget:
                yield where, ReportError(f"zip member too large ({info.file_size} bytes uncompressed)")
                continue
            try:
                with zf.open(info) as fh:
                    content = fh.read(min(MAX_REPORT_BYTES, budget) + 1)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as e:
                yield where, ReportError(f"cannot decompress zip member ({e})")
                continue
            if len(content) > min(MAX_REPORT_BYTES, budget):
                yield where, ReportError("zip member inflates beyond its declared size (zip bomb?)")
                continue
            budget -= len(content)
            yield where, content


# --------------------------------------------------------------------------- folders


@dataclass
class Scan:
    """Reports found under a folder, grouped by the entry directly under it."""

    groups: dict[str, list[Report]]  # folder key -> good reports
    bad: list[BadReport]
    bad_groups: dict[str, list[BadReport]]  # folder key -> bad reports


def group_key(root: Path, path: Path) -> str:
    rel = path.relative_to(root)
    first = rel.parts[0]
    if len(rel.parts) == 1:  # a file directly in REPORTS_DIR: its name without extension
        for suffix in (".zip", ".json", ".xml"):
            if first.lower().endswith(suffix):
                return first[: -len(suffix)]
    return first


def _read_file(path: Path, limit: int) -> bytes:
    size = path.stat().st_size
    if size > limit:
        raise ReportError(f"too large ({size} bytes)")
    return path.read_bytes()


def _parse_many(items: list[tuple[str, bytes | ReportError]], good: list[Report], bad: list[BadReport]) -> None:
    # JUnit only matters when there is no usable JSON next to it: parse JSON first.
    items.sort(key=lambda item: not item[0].lower().endswith(".json"))
    for where, content in items:
        if isinstance(content, ReportError):
            bad.append(BadReport(where, str(content)))
            continue
        if where.lower().endswith(".xml") and any(r.kind == "json" for r in good):
            continue
        try:
            good.append(parse_report(content, where))
        except ReportError as e:
            bad.append(BadReport(where, str(e)))


def scan_reports(root: str | os.PathLike[str]) -> Scan:
    """Find and parse every report under root (loose .json/.xml files and .zip artifacts).

    Raises nothing: a bad or unreadable file is listed in `bad` with its reason (an unreadable root finds none).
    """
    root = Path(root)
    files: dict[str, list[Path]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fname in sorted(filenames):
            if fname.lower().endswith((".json", ".xml", ".zip")) and not fname.startswith("."):
                path = Path(dirpath, fname)
                files.setdefault(group_key(root, path), []).append(path)
    scan = Scan(groups={}, bad=[], bad_groups={})
    for key in sorted(files):
        items: list[tuple[str, bytes | ReportError]] = []
        bad: list[BadReport] = []
        for path in files[key]:
            shown = str(path)
            try:
                if path.suffix.lower() == ".zip":
                    items.extend(zip_reports(_read_file(path, MAX_ZIP_BYTES), shown))
                else:
                    items.append((shown, _read_file(path, MAX_REPORT_BYTES)))
            except ReportError as e:
                bad.append(BadReport(shown, str(e)))
            except OSError as e:
                bad.append(BadReport(shown, f"cannot read ({e.strerror or e})"))
        good: list[Report] = []
        _parse_many(items, good, bad)
        if good:
            scan.groups[key] = good
        if bad:
            scan.bad.extend(bad)
            scan.bad_groups[key] = bad
    return scan


def reports_from_zip_bytes(data: bytes, origin: str) -> tuple[list[Report], list[BadReport]]:
    """Parse a downloaded artifact zip; returns (good, bad).

    Raises nothing: an unusable archive or member is listed in the bad ones.
    """
    good: list[Report] = []
    bad: list[BadReport] = []
    try:
        items = list(zip_reports(data, origin))
    except ReportError as e:
        return [], [BadReport(origin, str(e))]
    if not items:
        return [], [BadReport(origin, "the zip holds no .json or .xml report")]
    _parse_many(items, good, bad)
    return good, bad


# --------------------------------------------------------------------------- choice


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def best_report(reports: list[Report]) -> Report:
    """The newest report; for the same grading time, JSON over JUnit."""
    return max(reports, key=lambda r: (parse_time(r.graded_at) or _EPOCH, r.kind == "json"))
