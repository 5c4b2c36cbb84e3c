"""A class's repositories at a deadline: list them, find the last push before it, clone that commit.

The commit to grade is chosen by push time, from GitHub's repository activity API
(GET /repos/{owner}/{repo}/activity: each ref update with its `after` sha and `timestamp`), never
by commit dates, which students set as they like. Pushes, force pushes and merges on the default
branch all move it; the last one at or before the deadline gives the commit graded. A later one
flags the row `late` (and is graded instead with --include-late). A branch that only GitHub
Classroom's bot had moved by the deadline (it creates each repository with the starter) holds
nothing of the student's: the starter is graded and flagged `no-submission`. A repository with
nothing on its branch at the deadline is `missing`.

Which repository is whose is decided once, from the listing (identity.py): listed name, login,
repository id. Each repository is found where it is now by its id before its activity is read;
a renamed one keeps its listed name and student, one deleted or transferred out of the
organization since the listing is a `gone` entry (an `error` row).

Clones use the token through git's configuration taken from the environment
(GIT_CONFIG_COUNT/KEY/VALUE: an `http.<base>/.extraheader` for the git host only), never in a
command line, a URL or a message; git gets no other variable of the instructor's but those it
needs (GIT_ENV_KEEP), so no GITHUB_TOKEN nor any other secret reaches it.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autograde.errors import UserError
from autograde.instructor.github_setup import list_all, of_assignment
from autograde.instructor.grade_all_policy import Entry, complete
from autograde.instructor.identity import Identity, classroom_identities, identify, locate

# activity types that set the branch to `after`; branch_deletion does not (its `after` is all zeros)
REF_MOVES = ("push", "force_push", "pr_merge", "merge_queue_merge", "branch_creation")
ZERO = "0" * 40
CLONE_TIMEOUT = 600


DeadlineError = UserError  # a --deadline that is not an ISO 8601 time with a time zone


def parse_deadline(text: str) -> datetime:
    """An ISO 8601 time with a time zone (`Z` or `+02:00`), in UTC.

    Raises UserError (`DeadlineError`) for anything else, a time without a zone included.
    """
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise DeadlineError(f"--deadline {text!r} is not an ISO 8601 time such as 2026-12-01T23:59:00Z") from None
    if t.tzinfo is None:
        raise DeadlineError(f"--deadline {text!r} has no time zone: add Z (UTC) or an offset such as +01:00")
    return t.astimezone(UTC)


def _when(text: Any) -> datetime | None:
    try:
        t = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@dataclass
class Pick:
    sha: str | None  # the commit to grade, None: nothing to grade
    pushed_at: str = ""
    late: bool = False
    note: str = ""
    no_submission: bool = False  # the commit graded is the starter a bot created: nothing of the student's


def by_bot(activity: dict[str, Any]) -> bool:
    """Was this ref update made by an app (GitHub Classroom's `github-classroom[bot]` creating the
    repository from the template), not by a person?"""
    actor = activity.get("actor")
    if not isinstance(actor, dict):
        return False
    return actor.get("type") == "Bot" or str(actor.get("login") or "").endswith("[bot]")


def pick(activities: list[dict[str, Any]], branch: str, deadline: datetime, include_late: bool) -> Pick:
    """The commit of the last ref update of `branch` at or before the deadline (or the last one at all).

    Under GitHub Classroom the bot creates the branch with the starter (`branch_creation`): when
    nothing but a bot moved the branch by the deadline, that starter is graded and the pick says
    `no_submission`. A push after the deadline makes it `late` (a bot's does not).
    """
    ref = f"refs/heads/{branch}"
    moves = []
    for a in activities:
        if not isinstance(a, dict) or a.get("activity_type") not in REF_MOVES:
            continue
        if str(a.get("ref", "")) not in (ref, branch):
            continue
        sha, when = str(a.get("after") or ""), _when(a.get("timestamp"))
        if len(sha) != 40 or sha == ZERO or when is None:
            continue
        moves.append((when, sha, str(a.get("timestamp")), by_bot(a)))
    if not moves:
        return Pick(None, note=f"no push to {branch} recorded")
    moves.sort()
    before = [m for m in moves if m[0] <= deadline]
    after = [m for m in moves if m[0] > deadline]
    late = [m for m in after if not m[3]]
    starter = bool(before) and all(m[3] for m in before)
    nothing = "nothing of the student's before the deadline: graded the starter GitHub Classroom created"
    if late:
        last = late[-1]
        if include_late:
            return Pick(
                after[-1][1],
                after[-1][2],
                True,
                f"late: pushed {last[2]} after the deadline; graded that push (--include-late)",
            )
        if not before:
            return Pick(
                None,
                "",
                True,
                f"late: the first push came {late[0][2]}, after the deadline (--include-late grades the last one)",
            )
        if starter:
            return Pick(
                before[-1][1],
                before[-1][2],
                True,
                f"{nothing}; the student's first push came {late[0][2]} (--include-late grades the last one)",
                no_submission=True,
            )
        return Pick(
            before[-1][1],
            before[-1][2],
            True,
            f"late: {len(late)} push(es) after the deadline, the last {last[2]} ({last[1][:10]}), "
            "not graded; graded the last push before it",
        )
    if not before:
        return Pick(None, note=f"nothing on {branch} at the deadline: the repository was created after it")
    if starter:
        return Pick(before[-1][1], before[-1][2], note=f"{nothing}; no push by the student", no_submission=True)
    return Pick(before[-1][1], before[-1][2])


def no_match(org: str, prefix: str, repos: list[dict[str, Any]]) -> str:
    """Why an empty class is refused: the prefix and organization, and the prefixes that do exist."""
    names = [str(r.get("name", "")) for r in repos if not r.get("is_template")]
    seen = Counter(n.split("-", 1)[0] for n in names if "-" in n.strip("-"))
    common = ", ".join(f"{p}-* ({n})" for p, n in sorted(seen.items(), key=lambda t: (-t[1], t[0].lower()))[:5])
    listed = (
        f"the token sees {len(names)} repositories there" + (f", named e.g. {common}" if common else "")
        if names
        else "the token sees no repository there (wrong organization, or a token without access to it)"
    )
    return (
        f"no repository of the organization {org!r} is named {prefix}-* ({listed}). Check the prefix (the "
        "assignment's repository prefix in GitHub Classroom, without the trailing '-') and the organization; "
        "--allow-empty accepts an empty class"
    )


def activities(client: Any, full_name: str, branch: str) -> list[dict[str, Any]]:
    """The branch's ref updates, newest first (GET /repos/{owner}/{repo}/activity). Raises GitHubError when they cannot
    be read.
    """
    return list(client.paginate(f"/repos/{full_name}/activity", {"ref": f"refs/heads/{branch}", "direction": "desc"}))


# --------------------------------------------------------------------------- cloning


# What git needs from the instructor's environment, nothing else (no token nor any other secret the
# shell holds): where programs, its configuration and temporary files are, the language of its
# messages, the certificates and proxies of the network (Windows: its system folders).
GIT_ENV_KEEP = frozenset(
    {
        "PATH",
        "HOME",
        "XDG_CONFIG_HOME",
        "TMPDIR",
        "TZ",
        "LANG",
        "LANGUAGE",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "CURL_CA_BUNDLE",
        "GIT_SSL_CAINFO",
        "GIT_SSL_CAPATH",
        "http_proxy",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
        "SYSTEMROOT",
        "SYSTEMDRIVE",
        "WINDIR",
        "COMSPEC",
        "PATHEXT",
        "TEMP",
        "TMP",
        "USERPROFILE",
        "APPDATA",
        "LOCALAPPDATA",
    }
)


def git_env(token: str | None, git_url: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    """git's whole environment: what it needs (GIT_ENV_KEEP, LC_*), no prompts, no LFS downloads, no
    credential helper, and the token only as an HTTP header for git_url, through git's configuration."""
    source = os.environ if environ is None else environ
    env = {k: v for k, v in source.items() if k in GIT_ENV_KEEP or k.startswith("LC_")}
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_LFS_SKIP_SMUDGE": "1", "GIT_ASKPASS": "true"})
    config = [("credential.helper", "")]  # an empty value clears the instructor's helpers: nothing stored or asked
    if token:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        config.append((f"http.{git_url.rstrip('/')}/.extraheader", f"AUTHORIZATION: basic {basic}"))
    env["GIT_CONFIG_COUNT"] = str(len(config))
    for i, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
    return env


def _git(
    argv: list[str], env: dict[str, str], secrets: tuple[str, ...], timeout: float = CLONE_TIMEOUT
) -> tuple[int, str]:
    try:
        ran = subprocess.run(
            ["git", *argv], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return 124, f"git {argv[0]} took longer than {timeout:g} s"
    except OSError as e:  # no git on PATH, or it cannot be run
        return 127, f"git could not be started ({e.strerror or e})"
    out = (ran.stderr or ran.stdout or "").strip()
    for s in secrets:
        if s:
            out = out.replace(s, "***")
    return ran.returncode, out.splitlines()[-1][:300] if out else ""


def clone_at(url: str, dest: Path, sha: str, env: dict[str, str], secrets: tuple[str, ...]) -> str:
    """Clone url into dest checked out at sha (detached); '' on success, else why not.

    Raises OSError only when an earlier copy in dest cannot be removed.
    """
    if (dest / ".git").is_dir():
        code, head = _git(["-C", str(dest), "rev-parse", "HEAD"], env, secrets, 30)
        if code == 0 and head.strip() == sha:
            return ""  # already there (a resumed run)
    if dest.exists():
        shutil.rmtree(dest)
    code, out = _git(["clone", "--quiet", "--no-checkout", "--", url, str(dest)], env, secrets)
    if code != 0:
        return f"git clone failed: {out or f'exit {code}'}"
    code, _ = _git(["-C", str(dest), "checkout", "--quiet", "--detach", sha], env, secrets)
    if code != 0:  # not on a branch any more (a force push rewrote it): fetch that commit by its sha
        code, out = _git(["-C", str(dest), "fetch", "--quiet", "origin", sha], env, secrets)
        if code == 0:
            code, out = _git(["-C", str(dest), "checkout", "--quiet", "--detach", sha], env, secrets)
        if code != 0:
            return f"commit {sha[:10]} cannot be checked out: {out or f'exit {code}'}"
    return ""


# --------------------------------------------------------------------------- the class at the deadline


@dataclass
class Assignment:
    """The repositories of an assignment, as the organization's listing (or the list job) named them."""

    identities: list[Identity]
    """Each repository to grade (identity.py: listed name, login, id), sorted by name."""
    listed: list[dict[str, Any]] | None = None
    """Every repository of the organization when it was listed (for `no_match`); None when it was not."""


def find_assignment(
    client: Any,
    org: str,
    prefix: str,
    given: list[Identity],
    *,
    listing: bool = False,
    assignment_id: int | None = None,
) -> Assignment:
    """The assignment's repositories: those in `given` (a chunk: the identities the list job decided, not
    looked up here: `entries_at_deadline` locates each), or every `<prefix>-*` repository of the
    organization (also when `listing`: the names in `given` then only filter the listing); with
    `assignment_id`, every accepted assignment's repository of that GitHub Classroom assignment
    instead of the listing, renamed ones included (identity.classroom_identities). An empty
    assignment is returned as such.

    Raises UserError when the organization or the assignment cannot be read, or the token is refused.
    """
    from autograde.github_api import GitHubError
    from autograde.instructor.github_setup import failure

    if given and not listing:
        return Assignment(sorted(given, key=lambda i: i.name.lower()))
    everything: list[dict[str, Any]] | None = None
    try:
        if assignment_id is not None:
            identities = classroom_identities(client, assignment_id, prefix)
        else:
            everything = list_all(client, org)
            identities = [identify(r, prefix) for r in of_assignment(everything, prefix)]
    except GitHubError as e:
        doing = f"reading GitHub Classroom assignment {assignment_id}" if assignment_id is not None else ""
        raise failure(e, doing or f"listing {org}'s repositories") from None
    if given:
        wanted = {i.name.lower() for i in given}
        identities = [i for i in identities if i.name.lower() in wanted]
    return Assignment(identities, everything)


def entries_at_deadline(
    client: Any,
    org: str,
    assignment: Assignment,
    deadline: datetime,
    *,
    include_late: bool,
    clone_dir: Path,
    reports: Path,
    token: str,
    git_url: str,
    due_of: Callable[[str], datetime] | None = None,
) -> list[Entry]:
    """One grade-all entry per repository, cloned into `clone_dir` at the commit to grade (see `pick`),
    by name. Each is first found where it is now (`identity.locate`): a renamed repository is read and
    cloned under its new name, its entry keeps the listed name and login; one deleted or transferred
    out of `org` since the listing is a `gone` entry. A repository already graded at the commit to
    grade (in `reports`) is not cloned again. `due_of(login)`, when given, is the deadline that student
    is held to (grade-all's extensions and grace period), in place of `deadline`.

    What goes wrong with one repository (gone, unreadable, its push activity unreadable, a failed
    clone, nothing to grade) is in its entry's `kind` and `note`. Raises UserError when `clone_dir`
    cannot be made, or the token is refused.
    """
    from autograde.github_api import GitHubError
    from autograde.instructor.collector import safe_dirname
    from autograde.instructor.github_setup import failure
    from autograde.instructor.grade_all_policy import classify

    try:
        clone_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"--clone-dir {clone_dir}: {e.strerror or e}") from None
    env = git_env(token, git_url)
    secrets = (token, base64.b64encode(f"x-access-token:{token}".encode()).decode())

    def one(identity: Identity) -> Entry:
        name = safe_dirname(identity.name)
        entry = Entry(
            name,
            (clone_dir / name).resolve(),
            repository=f"{org}/{identity.name}",
            login=identity.login,
            repository_id=identity.id,
        )
        where = locate(client, org, identity)
        if not where.full_name:
            entry.kind, entry.note = ("gone" if where.gone else "clone-failed"), where.note
            return entry
        full, branch = where.full_name, where.default_branch
        due = deadline if due_of is None else due_of(identity.login)  # extensions and grace (late policy)
        try:
            chosen = pick(activities(client, full, branch), branch, due, include_late)
        except GitHubError as e:
            if e.status == 401:
                raise
            entry.kind, entry.note = "clone-failed", _notes(where.note, f"push activity could not be read: {e}")
            return entry
        entry.pushed_at, entry.note = chosen.pushed_at, _notes(where.note, chosen.note)
        if chosen.late:
            entry.flags.append("late")
        if chosen.no_submission:
            entry.flags.append("no-submission")
        if chosen.sha is None:
            entry.kind = "missing"
            entry.note = _notes(where.note, chosen.note + " - not graded")
            return entry
        entry.commit = chosen.sha
        if complete(reports, name, chosen.sha):
            return entry  # graded at this commit by an earlier run: no clone needed
        why = clone_at(f"{git_url.rstrip('/')}/{full}.git", entry.path, chosen.sha, env, secrets)
        if why:
            entry.kind, entry.note = "clone-failed", _notes(entry.note, why)
            return entry
        kind, note = classify(entry.path)
        if kind != "ok":
            entry.kind, entry.note = kind, _notes(entry.note, note)
        return entry

    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="autograde-clone") as pool:
        try:
            entries = list(pool.map(one, assignment.identities))
        except GitHubError as e:  # bad credentials (401): true of every repository
            raise failure(e, f"reading {org}'s repositories") from None
    return sorted(entries, key=lambda e: e.name.lower())


def _notes(*notes: str) -> str:
    return "; ".join(n for n in notes if n)
