"""grade-all's late policy: each student's deadline (extensions first), and the penalty for a late push.

- The deadline a student is held to is `--deadline`, unless the extensions CSV gives them another:
  a `deadline` (ISO 8601 with a time zone) or `extra_hours` added to `--deadline`. Students are named
  by `login` (GitHub username) or by the roster's `identifier`.
- Lateness is the push time GitHub recorded for the graded commit (the activity API's timestamp,
  `pushed_at`) minus that deadline minus the grace period; never a commit date.
- The penalty is `--late-penalty` percent of the points earned (the raw total) per started day (24 h)
  of lateness, at most all of them; past `--late-max-days` started days a late push scores 0.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from autograde.errors import UserError
from autograde.instructor.deadline import DeadlineError, parse_deadline
from autograde.instructor.gradebook import Row

DAY = 86400.0


@dataclass(frozen=True)
class LatePolicy:
    percent_per_day: float = 0.0  # of the raw total, per started day late
    max_days: int | None = None  # more started days late than this: 0 points
    grace: timedelta = timedelta(0)

    @property
    def active(self) -> bool:
        return self.percent_per_day > 0 or self.max_days is not None


@dataclass(frozen=True)
class Extensions:
    """Per-student deadlines: by login and by roster identifier (lowercased)."""

    by_login: dict[str, datetime]
    by_identifier: dict[str, datetime]
    source: str = ""

    def deadline(self, default: datetime, login: str = "", identifier: str = "") -> datetime:
        if login and login.lower() in self.by_login:
            return self.by_login[login.lower()]
        if identifier and identifier.lower() in self.by_identifier:
            return self.by_identifier[identifier.lower()]
        return default


NO_EXTENSIONS = Extensions({}, {})


def load_extensions(path: str | Path, default: datetime) -> Extensions:
    """Read the extensions CSV: a `login` or `identifier` column, and `deadline` or `extra_hours`.

    Raises UserError naming the file and line of the first problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{p}: cannot read the extensions file ({getattr(e, 'strerror', None) or e})") from None
    reader = csv.DictReader(text.splitlines())
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if not ({"login", "identifier"} & set(fields)) or not ({"deadline", "extra_hours"} & set(fields)):
        raise UserError(
            f"{p}:1: the header must name `login` or `identifier`, and `deadline` or `extra_hours` "
            f"(found: {', '.join(fields) or 'nothing'})"
        )
    by_login: dict[str, datetime] = {}
    by_identifier: dict[str, datetime] = {}
    for n, raw in enumerate(reader, start=2):
        row = {str(k).strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        login, identifier = row.get("login", ""), row.get("identifier", "")
        if not login and not identifier:
            if any(row.values()):
                raise UserError(f"{p}:{n}: no login or identifier")
            continue
        if row.get("deadline"):
            try:
                when = parse_deadline(row["deadline"])
            except DeadlineError as e:
                raise UserError(f"{p}:{n}: {str(e).replace('--deadline', 'deadline')}") from None
        elif row.get("extra_hours"):
            try:
                hours = float(row["extra_hours"])
            except ValueError:
                raise UserError(f"{p}:{n}: extra_hours {row['extra_hours']!r} is not a number") from None
            if not math.isfinite(hours) or hours < 0:
                raise UserError(f"{p}:{n}: extra_hours must be a number >= 0, got {row['extra_hours']!r}")
            when = default + timedelta(hours=hours)
        else:
            raise UserError(f"{p}:{n}: give a deadline or extra_hours for {login or identifier}")
        if login:
            by_login[login.lower()] = when
        if identifier:
            by_identifier[identifier.lower()] = when
    return Extensions(by_login, by_identifier, str(p))


def _when(text: str) -> datetime | None:
    try:
        return parse_deadline(text)
    except DeadlineError:
        return None


def late_days(pushed: datetime, deadline: datetime, grace: timedelta) -> int:
    """Started days after deadline + grace: 0 when on time."""
    late = (pushed - deadline - grace).total_seconds()
    return 0 if late <= 0 else math.ceil(late / DAY)


def penalty(raw_total: int, days: int, policy: LatePolicy) -> int:
    """Points taken from raw_total for `days` started days late."""
    if days <= 0 or raw_total <= 0:
        return 0
    if policy.max_days is not None and days > policy.max_days:
        return raw_total
    return min(raw_total, round(raw_total * policy.percent_per_day / 100 * days))


def hours_text(seconds: float) -> str:
    return f"{max(seconds, 0) / 3600:.2f}"


def apply(rows: Iterable[Row], default: datetime, policy: LatePolicy, extensions: Extensions = NO_EXTENSIONS) -> None:
    """Give every row its deadline, lateness and (with a policy) penalty; the total becomes the final one."""
    for row in rows:
        deadline = extensions.deadline(default, row.login, row.identifier)
        row.deadline = deadline.isoformat().replace("+00:00", "Z")
        row.raw_total = row.total
        pushed = _when(row.pushed_at) if row.pushed_at else None
        if pushed is None or "missing" in row.flags:
            continue
        late = (pushed - deadline - policy.grace).total_seconds()
        row.late_hours = hours_text(late)
        if late <= 0:
            continue  # on time for the deadline this student was held to (a `late` flag may still say a later push was not graded)
        row.flags.add("late")
        days = late_days(pushed, deadline, policy.grace)
        row.penalty = penalty(row.total, days, policy)
        row.total -= row.penalty
        if policy.max_days is not None and days > policy.max_days:
            row.notes.append(f"late by {days} started days, more than --late-max-days {policy.max_days}: 0 points")
        elif row.penalty:
            row.notes.append(f"late by {days} started day(s): -{row.penalty} ({policy.percent_per_day:g}% per day)")
