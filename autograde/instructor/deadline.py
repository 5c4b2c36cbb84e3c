"""A class's repositories at a deadline: list them, find the last push before it, clone that commit.

The commit to grade is chosen by push time, from GitHub's repository activity API
(GET /repos/{owner}/{repo}/activity: each ref update with its `after` sha and `timestamp`), never
by commit dates, which students set as they like. Pushes, force pushes and merges on the default
branch all move it; the last one at or before the deadline gives the commit graded. A later one
flags the row `late` (and is graded instead with --include-late). A branch that only GitHub
Classroom's bot had moved by the deadline (it creates each repository with the starter) holds
nothing of the student's: the starter is graded and flagged `no-submission`. A repository with
nothing on its branch at the deadline is `missing`.

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
import urllib.parse
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autograde.errors import UserError
from autograde.instructor.github_setup import list_all, of_assignment
from autograde.instructor.grade_all_policy import Entry, complete

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


def by_names(client: Any, org: str, names: list[str]) -> list[dict[str, Any] | str]:
    """Each named repository's metadata (GET /repos/{org}/{name}, renames followed), or why not.

    A chunk of a class grades the names the listing gave it, without listing the organization again.

    Raises GitHubError for bad credentials (401) only; any other failure is that name's answer.
    """
    from autograde.github_api import GitHubError, NotFound

    def one(name: str) -> dict[str, Any] | str:
        try:
            repo = client.get(f"/repos/{urllib.parse.quote(org)}/{urllib.parse.quote(name)}")
        except NotFound:
            return f"{org}/{name} is not found any more (deleted, or the token lost access since it was listed)"
        except GitHubError as e:
            if e.status == 401:
                raise  # bad credentials: true of every repository, said once
            return f"{org}/{name} could not be read: {e}"
        if not isinstance(repo, dict) or not repo.get("full_name"):
            return f"{org}/{name}: GitHub's answer is not a repository"
        return {**repo, "name": name}  # keep the listed name: reports and the gradebook are keyed by it

    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="autograde-repo") as pool:
        return list(pool.map(one, names))


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
    """The repositories of an assignment, as GitHub gives them."""

    repos: list[dict[str, Any]]
    """Metadata (GitHub's repository objects) of the repositories to grade, sorted by name."""
    unreadable: dict[str, str] = field(default_factory=dict)
    """Names given to `find_assignment` that could not be read -> why (each gets a `clone-failed` entry)."""
    listed: list[dict[str, Any]] | None = None
    """Every repository of the organization when it was listed (for `no_match`); None when it was not."""


def find_assignment(client: Any, org: str, prefix: str, given: list[str], *, listing: bool = False) -> Assignment:
    """The assignment's repositories: those named in `given` (a chunk: read one by one, the organization
    is not listed again), or every `<prefix>-*` repository of the organization (also when `listing`:
    the names in `given` then only filter the listing). An empty assignment is returned as such.

    Raises UserError when the organization cannot be listed, or the token is refused.
    """
    from autograde.github_api import GitHubError
    from autograde.instructor.github_setup import failure

    if given and not listing:
        try:
            fetched = by_names(client, org, given)
        except GitHubError as e:
            raise failure(e, f"reading {org}'s repositories") from None
        unreadable = {n: why for n, why in zip(given, fetched, strict=True) if isinstance(why, str)}
        return Assignment([r for r in fetched if isinstance(r, dict)], unreadable)
    try:
        everything = list_all(client, org)
    except GitHubError as e:
        raise failure(e, f"listing {org}'s repositories") from None
    repos = of_assignment(everything, prefix)
    if given:
        wanted = {n.lower() for n in given}
        repos = [r for r in repos if str(r["name"]).lower() in wanted]
    return Assignment(repos, {}, everything)


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
    by name. A repository already graded at that commit (in `reports`) is not cloned again.
    `due_of(repository name)`, when given, is the deadline that repository's student is held to
    (grade-all's extensions and grace period), in place of `deadline`.

    What goes wrong with one repository (its push activity unreadable, a failed clone, nothing to
    grade) is in its entry's `kind` and `note`. Raises UserError when `clone_dir` cannot be made.
    """
    from autograde.github_api import GitHubError
    from autograde.instructor.collector import safe_dirname
    from autograde.instructor.grade_all_policy import classify

    try:
        clone_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"--clone-dir {clone_dir}: {e.strerror or e}") from None
    env = git_env(token, git_url)
    secrets = (token, base64.b64encode(f"x-access-token:{token}".encode()).decode())

    def one(repo: dict[str, Any]) -> Entry:
        name, full = safe_dirname(str(repo["name"])), str(repo["full_name"])
        branch = str(repo.get("default_branch") or "main")
        entry = Entry(name, (clone_dir / name).resolve(), repository=full)
        due = deadline if due_of is None else due_of(str(repo["name"]))  # extensions and grace (late policy)
        try:
            chosen = pick(activities(client, full, branch), branch, due, include_late)
        except GitHubError as e:
            entry.kind, entry.note = "clone-failed", f"push activity could not be read: {e}"
            return entry
        entry.pushed_at, entry.note = chosen.pushed_at, chosen.note
        if chosen.late:
            entry.flags.append("late")
        if chosen.no_submission:
            entry.flags.append("no-submission")
        if chosen.sha is None:
            entry.kind = "missing"
            entry.note = chosen.note + " - not graded"
            return entry
        entry.commit = chosen.sha
        if complete(reports, name, chosen.sha):
            return entry  # graded at this commit by an earlier run: no clone needed
        why = clone_at(f"{git_url.rstrip('/')}/{full}.git", entry.path, chosen.sha, env, secrets)
        if why:
            entry.kind, entry.note = "clone-failed", why
            return entry
        kind, note = classify(entry.path)
        if kind != "ok":
            entry.kind, entry.note = kind, note
        return entry

    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="autograde-clone") as pool:
        entries = list(pool.map(one, assignment.repos))
    for name, why in assignment.unreadable.items():
        safe = safe_dirname(name)
        entries.append(
            Entry(safe, (clone_dir / safe).resolve(), repository=f"{org}/{name}", kind="clone-failed", note=why)
        )
    return sorted(entries, key=lambda e: e.name.lower())
