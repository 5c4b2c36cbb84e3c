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

import argparse
import base64
import os
import shutil
import subprocess
import sys
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autograde.instructor.classbatch import Entry, complete
from autograde.instructor.workflow import annotate

GIT_URL = "https://github.com"
# activity types that set the branch to `after`; branch_deletion does not (its `after` is all zeros)
REF_MOVES = ("push", "force_push", "pr_merge", "merge_queue_merge", "branch_creation")
ZERO = "0" * 40
CLONE_TIMEOUT = 600


class DeadlineError(ValueError):
    pass


def parse_deadline(text: str) -> datetime:
    """An ISO 8601 time with a time zone (`Z` or `+02:00`); a time without one is refused."""
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


def list_all(client: Any, org: str) -> list[dict[str, Any]]:
    """Every repository of the organization (one listing, paginated)."""
    return [
        r for r in client.paginate(f"/orgs/{urllib.parse.quote(org)}/repos", {"type": "all"}) if isinstance(r, dict)
    ]


def of_assignment(repos: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """The repositories named `<prefix>-...` (GitHub Classroom's naming), templates left out, by name."""
    want = prefix.lower() + "-"
    mine = [r for r in repos if str(r.get("name", "")).lower().startswith(want) and not r.get("is_template")]
    return sorted(mine, key=lambda r: str(r["name"]).lower())


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
    """
    from autograde.instructor.github_api import GitHubError, NotFound

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
    out = (ran.stderr or ran.stdout or "").strip()
    for s in secrets:
        if s:
            out = out.replace(s, "***")
    return ran.returncode, out.splitlines()[-1][:300] if out else ""


def clone_at(url: str, dest: Path, sha: str, env: dict[str, str], secrets: tuple[str, ...]) -> str:
    """Clone url into dest checked out at sha (detached); '' on success, else why not."""
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


# --------------------------------------------------------------------------- the command's part


def entries_from_github(args: argparse.Namespace) -> list[Entry] | int:
    """Entries for grade-all (cloned at the deadline), or an exit code after a message."""
    from autograde.instructor.collector import safe_dirname
    from autograde.instructor.github_api import API_URL, GitHubClient, GitHubError

    def err(message: str) -> None:
        print(f"autograde: {message}", file=sys.stderr)

    if not args.prefix:
        err("--org needs --prefix (the assignment's repository prefix)")
        return 2
    deadline: datetime | None = None
    if args.deadline:  # checked first, also with --list: the class workflow's list job fails once, not every chunk
        try:
            deadline = parse_deadline(args.deadline)
        except DeadlineError as e:
            err(str(e))
            return 2
    token = args.token or os.environ.get("GITHUB_TOKEN") or None
    if not token:
        err("no token: set GITHUB_TOKEN (or pass --token)")
        return 2
    # on GitHub Actions (also GitHub Enterprise Server) the runner names its API and git hosts
    client = GitHubClient(token, args.api_url or os.environ.get("GITHUB_API_URL") or API_URL)
    given: list[str] = []
    if args.repos:  # a chunk: the names were listed once for the whole class; no listing again
        try:
            text = Path(args.repos).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            err(f"--repos {args.repos}: cannot read it ({getattr(e, 'strerror', None) or e})")
            return 2
        given = list(dict.fromkeys(line.strip().rsplit("/", 1)[-1] for line in text.splitlines() if line.strip()))
    if given and not args.list:
        try:
            fetched = by_names(client, args.org, given)
        except GitHubError as e:
            err(f"reading {args.org}'s repositories: bad credentials: {e}")
            return 2
        repos = [r for r in fetched if isinstance(r, dict)]
        unreadable = {n: why for n, why in zip(given, fetched, strict=True) if isinstance(why, str)}
    else:
        try:
            everything = list_all(client, args.org)
        except GitHubError as e:
            what = {401: "bad credentials", 403: "not allowed", 404: "not found"}.get(e.status, "failed")
            err(f"listing {args.org}'s repositories: {what}: {e}")
            return 2
        repos, unreadable = of_assignment(everything, args.prefix), {}
        if given:
            wanted = {n.lower() for n in given}
            repos = [r for r in repos if str(r["name"]).lower() in wanted]
        elif not repos and not args.allow_empty:
            message = no_match(args.org, args.prefix, everything)
            err(message)
            annotate("No repository for this prefix", message)
            return 2
    if args.list:
        for r in repos:
            print(r["name"])
        return 0
    if deadline is None:
        err("--org needs --deadline (e.g. 2026-12-01T23:59:00Z)")
        return 2
    git_url = getattr(args, "git_url", None) or os.environ.get("GITHUB_SERVER_URL") or GIT_URL
    clone_dir = Path(args.clone_dir or f"{args.prefix}-checkouts")
    clone_dir.mkdir(parents=True, exist_ok=True)
    reports = Path(args.reports_dir)
    env = git_env(token, git_url)
    secrets = (token, base64.b64encode(f"x-access-token:{token}".encode()).decode())
    what = (
        f"{len(given)} repositories of {args.org} given by --repos"
        if given
        else (f"{len(repos)} repositories of {args.org} named {args.prefix}-*")
    )
    print(f"autograde: {what}; deadline {deadline.isoformat()}; cloning at the last push before it", file=sys.stderr)

    def one(repo: dict[str, Any]) -> Entry:
        name, full = safe_dirname(str(repo["name"])), str(repo["full_name"])
        branch = str(repo.get("default_branch") or "main")
        entry = Entry(name, (clone_dir / name).resolve(), repository=full)
        due = deadline
        deadline_of = getattr(args, "deadline_of", None)  # extensions and grace (grade-all's late policy)
        if deadline_of is not None:
            from autograde.instructor.roster import login_from_repo

            due = deadline_of(login_from_repo(str(repo["name"]), args.prefix))
        try:
            chosen = pick(activities(client, full, branch), branch, due, args.include_late)
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
        from autograde.instructor.classbatch import classify

        kind, note = classify(entry.path)
        if kind != "ok":
            entry.kind, entry.note = kind, note
        return entry

    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="autograde-clone") as pool:
        entries = list(pool.map(one, repos))
    for name, why in unreadable.items():
        safe = safe_dirname(name)
        entries.append(
            Entry(safe, (clone_dir / safe).resolve(), repository=f"{args.org}/{name}", kind="clone-failed", note=why)
        )
    return sorted(entries, key=lambda e: e.name.lower())
