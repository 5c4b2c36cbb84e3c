"""GitHub Classroom roster CSV (identifier <-> GitHub login) and repository-name logins."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from autograde.errors import UserError

RosterError = UserError  # the roster file cannot be used; str(e) says why (file, what, what to do)


@dataclass(frozen=True)
class RosterEntry:
    identifier: str
    login: str  # "" when the student has not linked a GitHub account yet
    github_id: str = ""  # numeric account id (Classroom's `github_id` column): survives renames


LOGIN_COLUMNS = ("github_username", "login")


def load_roster(path: str | os.PathLike[str]) -> list[RosterEntry]:
    """Read Classroom's roster export: columns `identifier` and `github_username` (or `login`).

    Raises UserError (`RosterError`) when the file cannot be read, is not CSV, or has no login column.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip().lower() for h in reader.fieldnames or []]
            reader.fieldnames = header
            login_col = next((c for c in LOGIN_COLUMNS if c in header), None)
            if login_col is None:
                raise RosterError(
                    f"{path}: no `github_username` or `login` column (columns: {', '.join(header) or 'none'})"
                )
            entries = []
            for row in reader:
                identifier = (row.get("identifier") or "").strip()
                login = (row.get(login_col) or "").strip().lstrip("@")
                github_id = (row.get("github_id") or "").strip()
                if identifier or login:
                    entries.append(RosterEntry(identifier, login, github_id if github_id.isdigit() else ""))
            return entries
    except OSError as e:
        raise RosterError(f"{path}: cannot read the roster ({e.strerror or e})") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise RosterError(f"{path}: not a CSV roster ({e})") from None


def infer_prefix(names: list[str]) -> str | None:
    """Longest common `<prefix>-` of two or more repository names (Classroom's `<prefix>-<login>`)."""
    if len(names) < 2:
        return None
    common = os.path.commonprefix([n.lower() for n in names])  # noqa: RUF071 - a string prefix is meant
    cut = common.rfind("-")
    return names[0][:cut] if cut > 0 else None


def login_from_repo(name: str, prefix: str | None) -> str:
    """`lab04-alice` -> `alice` given the prefix `lab04`; the whole name if it does not fit."""
    if prefix and name.lower().startswith(prefix.lower() + "-") and len(name) > len(prefix) + 1:
        return name[len(prefix) + 1 :]
    return name


# --------------------------------------------------------------------------- assignment repositories

_COLLISION = re.compile(r"^(.+)-(\d+)$")  # Classroom's `-1`, `-2` on a name collision or re-accept


@dataclass
class RepoMatch:
    """Which repositories are the assignment's, and whose.

    `matched`: roster entry -> repository name (one per student: the newest when there are several);
    `superseded`: other repositories of a matched student (older accepts);
    `unmatched`: `<prefix>-*` repositories that match no student (another assignment with a longer
    prefix, last term's class, an unlinked roster entry); `others`: names without the prefix.
    """

    matched: dict[RosterEntry, str] = field(default_factory=dict)
    superseded: dict[RosterEntry, list[str]] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)
    how: dict[str, str] = field(default_factory=dict)  # repository name -> "name", "suffix" or "id"

    def student_of(self, repo_name: str) -> RosterEntry | None:
        lower = repo_name.lower()
        return next((e for e, n in self.matched.items() if n.lower() == lower), None)


def _suffix(name: str, prefix: str | None, logins: Mapping[str, RosterEntry]) -> str | None:
    lower = name.lower()
    if prefix:
        start = prefix.lower() + "-"
        return lower[len(start) :] if lower.startswith(start) and len(lower) > len(start) else None
    # No prefix known: the longest tail after a hyphen that is a login (logins may hold hyphens).
    for i, ch in enumerate(lower):
        if ch == "-":
            tail = lower[i + 1 :]
            if tail in logins or ((m := _COLLISION.match(tail)) and m.group(1) in logins):
                return tail
    return None


def match_repositories(
    names: Iterable[str],
    prefix: str | None,
    roster: Iterable[RosterEntry],
    *,
    created: Mapping[str, str] | None = None,
    collaborators: Mapping[str, list[tuple[str, str]]] | None = None,
) -> RepoMatch:
    """Match repository names to roster students (GitHub Classroom names them `<prefix>-<login>`).

    A repository is a student's when the part after `<prefix>-` is their `github_username`
    (any case), or that login followed by Classroom's collision suffix `-<n>` (an exact login wins:
    `bob-2` may be a login). Repositories left over can still be matched by account id when
    `collaborators` (repository name -> [(login, id)]) is given: a student who renamed their
    account keeps the repository named after the old login. A collaborator match is not taken
    for a name that reads `<prefix>-<something>-<collaborator login>` (that is another
    assignment of the same student, e.g. `lab04-extra-alice`). With several repositories for
    one student the newest by `created` (ISO times) wins; the others are `superseded`.
    """
    entries = [e for e in roster if e.login or e.github_id]
    logins = {e.login.lower(): e for e in entries if e.login}
    by_id = {e.github_id: e for e in entries if e.github_id}
    created = created or {}
    found: dict[RosterEntry, list[str]] = {}
    out = RepoMatch()
    left: list[str] = []
    for name in names:
        tail = _suffix(name, prefix, logins)
        if tail is None:
            out.others.append(name)
            continue
        entry = logins.get(tail)
        how = "name"
        if entry is None and (m := _COLLISION.match(tail)):
            entry, how = logins.get(m.group(1)), "suffix"
        if entry is None:
            left.append(name)
            continue
        found.setdefault(entry, []).append(name)
        out.how[name] = how
    for name in left:
        entry = None
        for login, account_id in (collaborators or {}).get(name, []):
            candidate = by_id.get(str(account_id))
            tail = _suffix(name, prefix, logins) or ""
            if candidate is None or candidate in found or tail.endswith("-" + login.lower()):
                continue
            entry = candidate
            break
        if entry is None:
            out.unmatched.append(name)
            continue
        found.setdefault(entry, []).append(name)
        out.how[name] = "id"
    for entry, repos in found.items():
        ranked = sorted(repos, key=lambda n: (created.get(n, ""), out.how[n] == "name", n))
        out.matched[entry] = ranked[-1]
        if len(ranked) > 1:
            out.superseded[entry] = ranked[:-1]
    return out
