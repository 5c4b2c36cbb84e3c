"""The CSV gradebook: one row per student repository, with points per check and flags."""

from __future__ import annotations

import csv
import io
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from autograde.errors import UserError
from autograde.instructor.reports import BadReport, Report, Scan, best_report
from autograde.instructor.roster import RepoMatch, RosterEntry, infer_prefix, login_from_repo, match_repositories

# Flags, in the order they are written. `tampered` carries its paths: `tampered:a,b`.
FLAG_ORDER = (
    "missing",
    "no-submission",
    "expired",
    "bad-report",
    "not-a-checkout",
    "no-lab-files",
    "clone-failed",
    "timeout",
    "interrupted",
    "error",
    "static-only",
    "mismatch",
    "stale",
    "rubric-mismatch",
    "workflow-mismatch",
    "late",
    "tampered",
    "not-in-roster",
)


@dataclass
class Row:
    repository: str  # owner/name, or the folder name when the report does not say
    login: str = ""
    identifier: str = ""
    commit: str = ""
    graded_at: str = ""
    pushed_at: str = ""  # when the graded commit was pushed (grade-all --deadline), if known
    total: int = 0
    max: int | None = None
    points: dict[str, int] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    tampered: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    rubric: str = ""  # fingerprint of the rubric the report was graded under ("" if it does not say)
    rubric_source: str = ""
    # grade-all's late policy (instructor/late.py): the deadline held to, and what it cost
    deadline: str = ""
    late_hours: str = ""  # hours after deadline + grace of the graded push ("" when not known)
    raw_total: int | None = None  # before the penalty; `total` is after it
    penalty: int = 0

    @property
    def name(self) -> str:
        return self.repository.rsplit("/", 1)[-1]

    def flag_text(self) -> str:
        flags = set(self.flags)
        if self.tampered:
            flags.add("tampered")
        out = []
        for flag in sorted(flags, key=lambda f: (FLAG_ORDER.index(f) if f in FLAG_ORDER else len(FLAG_ORDER), f)):
            out.append(f"tampered:{','.join(sorted(self.tampered))}" if flag == "tampered" else flag)
        return ";".join(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "login": self.login,
            "identifier": self.identifier,
            "commit": self.commit,
            "graded_at": self.graded_at,
            "pushed_at": self.pushed_at,
            "total": self.total,
            "max": self.max,
            "points": dict(self.points),
            "flags": sorted(self.flags),
            "tampered": sorted(self.tampered),
            "notes": list(self.notes),
            "rubric": self.rubric,
            "rubric_source": self.rubric_source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Row:
        """A row from `to_dict`'s record. Raises KeyError or ValueError for a record that is not one."""
        return cls(
            repository=str(data["repository"]),
            login=str(data.get("login", "")),
            identifier=str(data.get("identifier", "")),
            commit=str(data.get("commit", "")),
            graded_at=str(data.get("graded_at", "")),
            pushed_at=str(data.get("pushed_at", "")),
            total=int(data.get("total", 0)),
            max=None if data.get("max") is None else int(data["max"]),
            points={str(k): int(v) for k, v in (data.get("points") or {}).items()},
            flags=set(data.get("flags") or []),
            tampered=set(data.get("tampered") or []),
            notes=[str(n) for n in data.get("notes") or []],
            rubric=str(data.get("rubric") or ""),
            rubric_source=str(data.get("rubric_source") or ""),
        )


def row_from_report(report: Report, repository: str) -> Row:
    row = Row(
        repository=report.repository or repository,
        commit=report.commit or "",
        graded_at=report.graded_at or "",
        total=report.score,
        max=report.max_score,
        points=dict(report.points),
    )
    if report.error:
        row.flags.add("error")
        row.notes.append(f"grading error: {report.error[:200]}")
    if report.static_only:
        row.flags.add("static-only")
    if report.modified_files:
        row.tampered.update(report.modified_files)
    if report.kind == "junit":
        row.notes.append("from the JUnit report (no JSON report)")
    row.rubric, row.rubric_source = report.rubric or "", report.rubric_source or ""
    if report.workflow_mismatch:
        row.flags.add("workflow-mismatch")
        row.notes.append("its workflow's Classroom reporter block did not match the rubric: the dashboard may differ")
    return row


def bad_row(repository: str, bad: list[BadReport]) -> Row:
    row = Row(repository=repository, flags={"missing", "bad-report"})
    row.notes.extend(f"bad report {b.path.rsplit('/', 1)[-1]}: {b.reason}" for b in bad[:3])
    return row


def rows_from_scan(scan: Scan) -> list[Row]:
    """One row per repository found in a scan (the newest report wins; JSON over JUnit)."""
    by_repo: dict[str, list[Report]] = {}
    shown: dict[str, str] = {}
    for key, reports in scan.groups.items():
        named = {r.repository for r in reports if r.repository}
        fallback = next(iter(named)) if len(named) == 1 else key
        for r in reports:
            repo = r.repository or fallback
            by_repo.setdefault(repo.lower(), []).append(r)
            shown.setdefault(repo.lower(), repo)
    rows = []
    for lower, reports in by_repo.items():
        rows.append(row_from_report(best_report(reports), shown[lower]))
    have = {r.name.lower() for r in rows} | set(by_repo)
    for key, bad in scan.bad_groups.items():
        if key not in scan.groups and key.lower() not in have:
            rows.append(bad_row(key, bad))
    return rows


def assign_logins(rows: list[Row], prefix: str | None) -> str | None:
    """Fill in each row's login from `<prefix>-<login>`; returns the prefix used."""
    if prefix is None:
        prefix = infer_prefix([r.name for r in rows])
    for row in rows:
        if not row.login:
            row.login = login_from_repo(row.name, prefix)
    return prefix


def merge_roster(
    rows: list[Row],
    roster: list[RosterEntry],
    prefix: str | None,
    max_score: int | None,
    matching: RepoMatch | None = None,
) -> list[Row]:
    """Attach roster identifiers; add a `missing` row for every rostered student without a row.

    Repositories are matched to students by `roster.match_repositories` (login, Classroom's `-<n>`
    suffix, account id) unless `matching` is given; rows of no student get `not-in-roster`.
    """
    if matching is None:
        matching = match_repositories([r.name for r in rows if r.repository], prefix, roster)
    newer = {old.lower(): matching.matched[e] for e, olds in matching.superseded.items() for old in olds}
    matched: set[RosterEntry] = set()
    for row in rows:
        entry = matching.student_of(row.name) if row.repository else None
        if entry is None:
            row.flags.add("not-in-roster")
            if row.name.lower() in newer:
                row.notes.append(f"an older repository of a student whose newest is {newer[row.name.lower()]}")
            continue
        row.login = entry.login or row.login
        row.identifier = entry.identifier
        matched.add(entry)
    out = list(rows)
    for entry in roster:
        if entry in matched:
            continue
        row = Row(repository="", login=entry.login, identifier=entry.identifier, max=max_score, flags={"missing"})
        row.notes.append("no repository" if entry.login else "no GitHub account linked in the roster")
        out.append(row)
    return out


def usual_max(rows: Iterable[Row]) -> int | None:
    counts = Counter(r.max for r in rows if r.max is not None and "missing" not in r.flags)
    if counts:
        return counts.most_common(1)[0][0]
    from autograde.checks import default_rubric

    return default_rubric().possible


def fill_missing_max(rows: list[Row]) -> None:
    """Give rows without a report 0 out of the class's usual maximum; flag the rows graded under
    another rubric than the class's (see flag_rubric_mismatch)."""
    top = usual_max(rows)
    for row in rows:
        if row.max is None:
            row.max = top
    flag_rubric_mismatch(rows)


def flag_rubric_mismatch(rows: list[Row], expected: str | None = None) -> str | None:
    """Flag `rubric-mismatch` on every row whose report was graded under another rubric than the
    class's: `expected` (a fingerprint) if given, else the one most reports share. Reports that do not
    say (older graders, JUnit) are not judged. Returns the fingerprint held to."""
    counts = Counter(r.rubric for r in rows if r.rubric)
    if expected is None:
        if len(counts) < 2:
            return next(iter(counts), None)
        expected = counts.most_common(1)[0][0]
    sources = {r.rubric: r.rubric_source for r in rows if r.rubric}
    for row in rows:
        if row.rubric and row.rubric != expected:
            row.flags.add("rubric-mismatch")
            note = f"graded under rubric {row.rubric} ({row.rubric_source or '?'})"
            row.notes.append(f"{note}, not the class's {expected} ({sources.get(expected) or '?'})")
    return expected


def check_columns(rows: Iterable[Row]) -> list[str]:
    """Check ids in rubric order first, then any others alphabetically."""
    seen: set[str] = set()
    for row in rows:
        seen.update(row.points)
    from autograde.checks import default_items

    known = [i.id for i in default_items() if i.id in seen]
    return known + sorted(seen - set(known))


def _cell(value: str) -> str:
    # Values come from student repositories: keep spreadsheets from running them as formulas.
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def sort_rows(rows: list[Row]) -> list[Row]:
    return sorted(
        rows, key=lambda r: ((r.login or r.name or r.identifier).lower(), r.repository.lower(), r.identifier.lower())
    )


def write_csv(rows: list[Row], out: TextIO, *, identifier: bool = False, pushed: bool = False) -> None:
    """pushed: add a `pushed_at` column after `commit` (grade-all knows when each commit was pushed);
    when a row has a deadline (grade-all's late policy), `deadline` and `late_hours` follow it, and
    `raw_total` and `penalty` come before `total` (then the total after the penalty).

    Raises OSError when `out` cannot be written.
    """
    checks = check_columns(rows)
    late = any(r.deadline for r in rows)
    writer = csv.writer(out, lineterminator="\n")
    head = [
        *(["identifier"] if identifier else []),
        "login",
        "repository",
        "commit",
        *(["pushed_at"] if pushed else []),
        *(["deadline", "late_hours"] if late else []),
    ]
    totals = ["raw_total", "penalty", "total"] if late else ["total"]
    writer.writerow([*head, "graded_at", *totals, "max", *checks, "flags", "notes"])
    for row in sort_rows(rows):
        cells = [row.identifier] if identifier else []
        cells += [row.login, row.repository, row.commit] + ([row.pushed_at] if pushed else [])
        cells += ([row.deadline, row.late_hours] if late else []) + [row.graded_at]
        cells = [_cell(c) for c in cells]
        if late:
            raw = row.total if row.raw_total is None else row.raw_total
            cells += [str(raw), str(row.penalty)]
        cells += [str(row.total), "" if row.max is None else str(row.max)]
        cells += ["" if c not in row.points else str(row.points[c]) for c in checks]
        cells += [_cell(row.flag_text()), _cell("; ".join(row.notes))]
        writer.writerow(cells)


def save_csv(rows: list[Row], path: str, *, identifier: bool = False, pushed: bool = False) -> None:
    """Write to path ('-' for stdout), atomically for files.

    Raises OSError when the file cannot be written.
    """
    if path == "-":
        write_csv(rows, sys.stdout, identifier=identifier, pushed=pushed)
        return
    buf = io.StringIO()
    write_csv(rows, buf, identifier=identifier, pushed=pushed)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(buf.getvalue())
    os.replace(tmp, path)


def flagged(rows: Iterable[Row]) -> int:
    """Rows with a flag (tampered files included): the number every gradebook summary line gives."""
    return sum(1 for r in rows if r.flags or r.tampered)


def write_gradebook(
    rows: list[Row],
    output: str,
    *,
    prefix: str | None = None,
    roster: list[RosterEntry] | None = None,
    max_score: int | None = None,
    matching: RepoMatch | None = None,
    pushed: bool = False,
    adjust: Callable[[list[Row]], None] | None = None,
) -> list[Row]:
    """The one gradebook tail of `export`, `collect` and `grade-all`: logins from `<prefix>-<login>`
    (the prefix inferred when None), the roster's students merged in (identifiers, a `missing` row of
    `max_score` points for each student without a row, `not-in-roster`; see `merge_roster`), the
    class's usual maximum for rows without one, and the CSV written to `output` ('-': stdout).

    `adjust`, when given, changes the rows last (grade-all's late policy: deadlines and penalties).

    Returns the rows written. Raises UserError when `output` cannot be written.
    """
    used = assign_logins(rows, prefix)
    if roster is not None:
        rows = merge_roster(rows, roster, used, max_score, matching)
    fill_missing_max(rows)
    if adjust is not None:
        adjust(rows)
    try:
        save_csv(rows, output, identifier=roster is not None, pushed=pushed)
    except OSError as e:
        raise UserError(f"cannot write {output}: {e.strerror or e}") from None
    return rows
