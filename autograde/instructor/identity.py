"""Which student repository is which: decided once, from the organization's listing.

GitHub Classroom creates each student's repository as `<prefix>-<login>`. A student may rename it
later (`lab04-dave` -> `dave-docker-lab`): GitHub then answers the old name with a redirect (301 on
the API, and on git's smart HTTP) to the new one, and the repository keeps its id; the
organization's listing may still give the old name for a while. `grade-all --org` on one machine
and the class workflow (list job -> chunks -> merge) both take a repository's identity from
`identify`, so that both write the same row for it:

- `name`: the name the listing gave, Classroom's name: the key of the repository's reports, its
  clone folder, its record in `reports/.grade-all/` and its gradebook row (`ORG/name`);
- `login`: the student it belongs to, read from that name (never from a name chosen later);
- `id`: GitHub's repository id, which a rename or a transfer does not change.

The list job writes each identity as a token (`lab04-dave@1005`, `Identity.token`), which the
chunks and the merge read back (`parse`). Before grading, each run finds the repository where it
is now by its id (`locate`, GET /repositories/{id}): a renamed repository is cloned and graded
under its new name for its student's row, with a note; one deleted or transferred out of the
organization since the listing is not graded, and its row says so.

The organization's listing gives a repository's name as it is now. A repository renamed before the
listing, to a name that no longer reads `<prefix>-<login>` (`dave-docker-lab`), cannot be told
apart from any other repository there. GitHub Classroom's own record can: given the assignment's id
(`--assignment-id`), the identities come from its accepted assignments (`from_classroom`), each
with its student's login and its repository's id, under the repository's Classroom name.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from autograde.instructor.roster import login_from_repo

# a repository name (letters, digits, `.`, `_`, `-`), optionally `@` and its numeric id
TOKEN = re.compile(r"^(?P<name>[A-Za-z0-9._-]{1,100})(?:@(?P<id>[0-9]{1,19}))?$")


@dataclass(frozen=True)
class Identity:
    """One repository of an assignment, as the organization's listing named it."""

    name: str
    """The listed name (Classroom's `<prefix>-<login>`): reports, clone folder and row are keyed by it."""
    login: str
    """The student's GitHub login, from `name` and the assignment's prefix (the whole name if it does not fit)."""
    id: int | None = None
    """GitHub's repository id (stable across renames and transfers); None when only a name was given."""

    def token(self) -> str:
        """`name@id` (or `name` without an id): one word, safe to split in a shell; `parse` reads it back."""
        return self.name if self.id is None else f"{self.name}@{self.id}"


def login_of(name: str, prefix: str | None) -> str:
    """The student's login in a Classroom repository name: `lab04-dave` -> `dave` for the prefix `lab04`."""
    return login_from_repo(name, prefix)


def identify(repo: Mapping[str, Any], prefix: str | None) -> Identity:
    """The identity of a repository from GitHub's repository object (a listing's item)."""
    name = str(repo["name"])
    rid = repo.get("id")
    return Identity(name, login_of(name, prefix), rid if isinstance(rid, int) and not isinstance(rid, bool) else None)


def parse(token: str, prefix: str | None) -> Identity:
    """An identity from `Identity.token`'s text (`name@id` or `name`; an `owner/` before it is ignored).

    Raises ValueError, naming the text, when it is not a repository name.
    """
    text = token.strip().rsplit("/", 1)[-1]
    m = TOKEN.match(text)
    if not m:
        raise ValueError(f"not a repository name: {token.strip()!r}")
    name = m.group("name")
    return Identity(name, login_of(name, prefix), int(m.group("id")) if m.group("id") else None)


def classroom_name(current: str, login: str, prefix: str | None) -> str:
    """The name Classroom gave a student's repository, from its name now: unchanged while it still reads as
    that student's (`<prefix>-<login>`, or Classroom's `<prefix>-<login>-<n>` on a name collision), else
    `<prefix>-<login>` (the student renamed it)."""
    if not prefix:
        return current
    tail = login_of(current, prefix)
    theirs = tail.lower() == login.lower() or re.fullmatch(re.escape(login) + r"-\d+", tail, re.IGNORECASE)
    return current if tail != current and theirs else f"{prefix}-{login}"


def from_classroom(item: Mapping[str, Any], prefix: str | None) -> Identity | None:
    """The identity of one accepted assignment (GitHub Classroom's GET
    /assignments/{assignment_id}/accepted_assignments); None when it has no repository.

    An individual assignment's repository is its one student's, under its Classroom name (see
    `classroom_name`); a group's repository keeps its name. The login is read from the name, as from
    a listing, so that a chunk reading the token back (`parse`) decides the same row.
    """
    repo = item.get("repository")
    if not isinstance(repo, Mapping):
        return None
    full = str(repo.get("full_name") or "")
    current = full.rsplit("/", 1)[-1]
    if not TOKEN.match(current):
        return None
    rid = repo.get("id")
    rid = rid if isinstance(rid, int) and not isinstance(rid, bool) else None
    students = [s for s in item.get("students") or [] if isinstance(s, Mapping) and s.get("login")]
    if len(students) != 1:
        return Identity(current, login_of(current, prefix), rid)
    name = classroom_name(current, str(students[0]["login"]), prefix)
    return Identity(name, login_of(name, prefix), rid)  # read back from the name, as `parse` does in a chunk


def classroom_repositories(
    client: Any, assignment_id: int, prefix: str | None
) -> list[tuple[Identity, dict[str, Any]]]:
    """Every accepted assignment's repository of Classroom assignment `assignment_id`, sorted by name:
    its identity, and the repository as Classroom's record gives it now (`id`, `full_name`,
    `default_branch`, ...).

    Raises UserError when GitHub does not find the assignment (no such assignment, or the token's user
    is not an administrator of its classroom), GitHubError (github_api) when it cannot be read.
    """
    from autograde.errors import UserError
    from autograde.github_api import NotFound

    found: dict[str, tuple[Identity, dict[str, Any]]] = {}
    try:
        for item in client.paginate(f"/assignments/{int(assignment_id)}/accepted_assignments"):
            identity = from_classroom(item, prefix) if isinstance(item, Mapping) else None
            if identity is not None:
                found.setdefault(identity.name.lower(), (identity, dict(item["repository"])))
    except NotFound:
        raise UserError(
            f"GitHub Classroom assignment {assignment_id} was not found: check --assignment-id (the number "
            "`gh api /classrooms/CLASSROOM_ID/assignments` gives as `id`), and that the token's user is an "
            "administrator of its classroom"
        ) from None
    return sorted(found.values(), key=lambda pair: pair[0].name.lower())


def classroom_identities(client: Any, assignment_id: int, prefix: str | None) -> list[Identity]:
    """The identities of `classroom_repositories` (same order). Raises as it does."""
    return [identity for identity, _ in classroom_repositories(client, assignment_id, prefix)]


@dataclass(frozen=True)
class Location:
    """Where a listed repository is now, as GitHub says when it is asked by id."""

    full_name: str
    """`owner/name` to read and clone it from now; "" when it cannot be graded (see `note`)."""
    default_branch: str = "main"
    note: str = ""
    """For the gradebook: the rename (`renamed on GitHub to ...`), or why it is not graded."""
    gone: bool = False
    """Deleted, or transferred out of the organization: a final `error` row, not a failure a rerun retries."""


def locate(client: Any, org: str, identity: Identity) -> Location:
    """Find a listed repository where it is now: by id (GET /repositories/{id}), else by its listed name
    (GET /repos/{org}/{name}, a rename's redirect followed).

    A repository GitHub no longer shows (404, 410), or now owned by another account than `org`, is
    `gone`. Any other failure is a Location without `full_name` that says why (a rerun may succeed).
    Raises GitHubError for bad credentials (401) only: true of every repository, said once.
    """
    from autograde.github_api import GitHubError, Gone, NotFound

    listed = f"{org}/{identity.name}"
    path = (
        f"/repositories/{identity.id}"
        if identity.id is not None
        else f"/repos/{urllib.parse.quote(org)}/{urllib.parse.quote(identity.name)}"
    )
    what = listed + (f" (repository id {identity.id})" if identity.id is not None else "")
    try:
        repo = client.get(path)
    except (NotFound, Gone):
        return Location(
            "",
            note=f"{what} is not found any more: deleted, or transferred out of {org}, after the organization "
            "was listed (or the token lost access to it); not graded",
            gone=True,
        )
    except GitHubError as e:
        if e.status == 401:
            raise
        return Location("", note=f"{what} could not be read: {e}")
    full = str(repo.get("full_name") or "") if isinstance(repo, dict) else ""
    if "/" not in full:
        return Location("", note=f"{what}: GitHub's answer is not a repository")
    branch = str(repo.get("default_branch") or "main")
    owner, name = full.split("/", 1)
    if owner.lower() != org.lower():
        return Location(
            "",
            note=f"{what} was transferred to {full} after the organization was listed: it is no longer "
            f"{org}'s; not graded",
            gone=True,
        )
    if name.lower() != identity.name.lower():
        return Location(full, branch, f"renamed on GitHub to {full}; graded as {listed}, its Classroom name")
    return Location(full, branch)
