"""GitHub Classroom roster CSV (identifier <-> GitHub login) and repository-name logins."""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass


class RosterError(ValueError):
    """The roster file cannot be used; str(e) says why."""


@dataclass(frozen=True)
class RosterEntry:
    identifier: str
    login: str  # "" when the student has not linked a GitHub account yet


LOGIN_COLUMNS = ("github_username", "login")


def load_roster(path: str | os.PathLike[str]) -> list[RosterEntry]:
    """Read Classroom's roster export: columns `identifier` and `github_username` (or `login`)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip().lower() for h in reader.fieldnames or []]
            reader.fieldnames = header
            login_col = next((c for c in LOGIN_COLUMNS if c in header), None)
            if login_col is None:
                raise RosterError(f"{path}: no `github_username` or `login` column (columns: {', '.join(header) or 'none'})")
            entries = []
            for row in reader:
                identifier = (row.get("identifier") or "").strip()
                login = (row.get(login_col) or "").strip().lstrip("@")
                if identifier or login:
                    entries.append(RosterEntry(identifier, login))
            return entries
    except OSError as e:
        raise RosterError(f"{path}: cannot read the roster ({e.strerror or e})") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise RosterError(f"{path}: not a CSV roster ({e})") from None


def infer_prefix(names: list[str]) -> str | None:
    """Longest common `<prefix>-` of two or more repository names (Classroom's `<prefix>-<login>`)."""
    if len(names) < 2:
        return None
    common = os.path.commonprefix([n.lower() for n in names])
    cut = common.rfind("-")
    return names[0][:cut] if cut > 0 else None


def login_from_repo(name: str, prefix: str | None) -> str:
    """`lab04-alice` -> `alice` given the prefix `lab04`; the whole name if it does not fit."""
    if prefix and name.lower().startswith(prefix.lower() + "-") and len(name) > len(prefix) + 1:
        return name[len(prefix) + 1 :]
    return name


def match_login(repo_name: str, logins: dict[str, RosterEntry], prefix: str | None) -> RosterEntry | None:
    """The roster entry whose login this repository belongs to (logins keyed lower-case)."""
    lower = repo_name.lower()
    if prefix:
        if lower.startswith(prefix.lower() + "-"):
            return logins.get(lower[len(prefix) + 1 :])
        return None
    # Try every suffix after a hyphen, longest login first (logins may hold hyphens).
    for i, ch in enumerate(lower):
        if ch == "-" and lower[i + 1 :] in logins:
            return logins[lower[i + 1 :]]
    return None
