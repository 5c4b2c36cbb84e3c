"""The fake GitHub of fake_github.py, plus what `grade-all --org` uses: repository activity and git.

- GET /repos/{owner}/{repo}/activity: ref updates newest first, filtered by `ref` (full or short
  branch name), `activity_type` and `direction`, paginated by cursor (`after`) with Link headers,
  as GitHub's REST documentation describes ("List repository activities").
- GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs: the jobs of a workflow run ("List jobs for a
  workflow run"): `filter=latest` (the default) gives each job's latest attempt, `filter=all` every
  attempt; paginated by `page` / `per_page` with Link headers, the list under `jobs`.
- /git/{owner}/{repo}.git/...: git's smart HTTP protocol, served by `git http-backend` from local
  bare repositories. Like github.com, it wants HTTP Basic credentials whose password is the
  token (answering 401 with a Basic challenge otherwise), lets clients fetch any commit of
  the repository by its sha, also one no branch holds any more after a force push, and answers
  a renamed or transferred repository's old path with a 301 to its new one (git follows it).

Both API endpoints are served behind the base fake's rules (token, rate limit, canned failures),
and for a renamed repository as the rest of the API: its old name answers 301 to
`/repositories/{id}/...`, which serves it. Renames, transfers and deletions move or remove the
activity and the bare repository with the repository.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from fake_github import DOCS, FakeGitHub, Logged

ZERO = "0" * 40


@dataclass
class FakeClassGitHub(FakeGitHub):
    git_root: Path = Path("/nonexistent")  # bare repositories at git_root/<owner>/<name>.git
    activity: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # full name -> oldest first
    git_auth: list[str | None] = field(default_factory=list)  # Authorization of every git request
    run_jobs: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # run id -> jobs, every attempt

    def add_job(self, full: str, run_id: int, name: str, conclusion: str | None, *, attempt: int = 1) -> None:
        """A job of a workflow run of repository `full`; conclusion None: still in progress."""
        jid = self.new_id()
        self.run_jobs.setdefault(run_id, []).append(
            {
                "id": jid,
                "run_id": run_id,
                "workflow_name": "Grade a class",
                "head_branch": "main",
                "run_url": f"https://api.github.com/repos/{full}/actions/runs/{run_id}",
                "run_attempt": attempt,
                "node_id": f"CR_{jid}",
                "head_sha": "f" * 40,
                "url": f"https://api.github.com/repos/{full}/actions/jobs/{jid}",
                "html_url": f"https://github.com/{full}/actions/runs/{run_id}/job/{jid}",
                "status": "in_progress" if conclusion is None else "completed",
                "conclusion": conclusion,
                "created_at": "2026-12-02T00:00:00Z",
                "started_at": "2026-12-02T00:00:05Z",
                "completed_at": None if conclusion is None else "2026-12-02T00:10:00Z",
                "name": name,
                "steps": [],
                "check_run_url": f"https://api.github.com/repos/{full}/check-runs/{jid}",
                "labels": ["ubuntu-latest"],
                "runner_id": 1,
                "runner_name": "GitHub Actions 1",
                "runner_group_id": 2,
                "runner_group_name": "GitHub Actions",
            }
        )

    def add_activity(
        self,
        full: str,
        after: str,
        timestamp: str,
        *,
        kind: str = "push",
        before: str = ZERO,
        branch: str = "main",
        actor: str = "student",
    ) -> None:
        items = self.activity.setdefault(full, [])
        items.append(
            {
                "id": self.new_id(),
                "node_id": f"RA_{len(items)}",
                "before": before,
                "after": after,
                "ref": f"refs/heads/{branch}",
                "timestamp": timestamp,
                "activity_type": kind,
                # apps act as `<name>[bot]` users of type Bot (github-classroom[bot] creates the repositories)
                "actor": {"login": actor, "id": 7, "type": "Bot" if actor.endswith("[bot]") else "User"},
            }
        )

    def move(self, old_full: str, new_full: str) -> str:
        """As on GitHub, the activity and the git repository move with the repository."""
        repo = self.repo(old_full)
        assert repo is not None
        old_full = repo["full_name"]
        new_full = super().move(old_full, new_full)
        if old_full in self.activity:
            self.activity[new_full] = self.activity.pop(old_full)
        old_bare = self.git_root / f"{old_full}.git"
        if old_bare.exists():
            (self.git_root / f"{new_full}.git").parent.mkdir(parents=True, exist_ok=True)
            old_bare.rename(self.git_root / f"{new_full}.git")
        return new_full

    def delete(self, full: str) -> None:
        repo = self.repo(full)
        assert repo is not None
        full = repo["full_name"]
        super().delete(full)
        saved = self.deleted[full.lower()]
        saved["activity"] = self.activity.pop(full, None)
        bare = self.git_root / f"{full}.git"
        if bare.exists():
            saved["bare"] = bare.rename(bare.with_name(bare.name + ".deleted"))

    def undelete(self, full: str) -> None:
        saved = self.deleted[full.lower()]
        full = saved["repo"]["full_name"]
        if saved.get("activity") is not None:
            self.activity[full] = saved["activity"]
        if saved.get("bare"):
            saved["bare"].rename(self.git_root / f"{full}.git")
        super().undelete(full)

    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        url = urllib.parse.urlsplit(h.path)
        if url.path.startswith("/git/"):
            # what the base fake's handle() records for every request, which _send() reads
            h.entry = Logged(  # type: ignore[attr-defined]
                method,
                url.path,
                h.headers.get("Authorization"),
                h.headers.get("Host", ""),
                dict(urllib.parse.parse_qsl(url.query)),
            )
            h.cut = None  # type: ignore[attr-defined]
            with self.lock:
                self.log.append(h.entry)  # type: ignore[attr-defined]
            return self._git(h, method, url)
        return super().handle(h, method)

    def route(self, h: BaseHTTPRequestHandler, method: str, path: str, query: dict[str, str], body: Any) -> None:
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/activity", path)
        if m and method == "GET":
            return self._activity(h, m.group(1), path, query)
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/actions/runs/(\d+)/jobs", path)
        if m and method == "GET":
            return self._jobs(h, int(m.group(2)), path, query)
        return super().route(h, method, path, query, body)

    def _activity(self, h: BaseHTTPRequestHandler, full: str, path: str, query: dict[str, str]) -> None:
        if not any(r["full_name"] == full for r in self.repos):
            return self._not_found(h)
        items = list(self.activity.get(full, []))
        ref = query.get("ref")
        if ref:
            items = [a for a in items if a["ref"] in (ref, f"refs/heads/{ref}")]
        if query.get("activity_type"):
            items = [a for a in items if a["activity_type"] == query["activity_type"]]
        items.sort(key=lambda a: a["timestamp"], reverse=query.get("direction", "desc") == "desc")
        size = min(int(query.get("per_page", "30")), self.page_size)
        start = int(base64.b64decode(query["after"]).decode().split(":")[1]) if query.get("after") else 0
        page = items[start : start + size]
        headers = {}
        if start + size < len(items):
            cursor = base64.b64encode(f"cursor:{start + size}".encode()).decode()
            rest = {k: v for k, v in query.items() if k != "after"}
            rest.update(after=cursor, per_page=str(size))
            headers["Link"] = f'<{self.api_url}{path}?{urllib.parse.urlencode(rest)}>; rel="next"'
        return self._send(h, 200, page, headers)

    def _jobs(self, h: BaseHTTPRequestHandler, run_id: int, path: str, query: dict[str, str]) -> None:
        if run_id not in self.run_jobs:
            return self._not_found(h)
        jobs = self.run_jobs[run_id]
        if query.get("filter", "latest") == "latest":  # each job as its latest attempt left it
            newest: dict[str, dict[str, Any]] = {}
            for j in jobs:
                if j["name"] not in newest or j["run_attempt"] >= newest[j["name"]]["run_attempt"]:
                    newest[j["name"]] = j
            jobs = list(newest.values())
        size = min(int(query.get("per_page", "30")), 100, self.page_size)
        page = int(query.get("page", "1"))
        headers = {}
        if page * size < len(jobs):
            rest = dict(query, page=str(page + 1), per_page=str(size))
            headers["Link"] = f'<{self.api_url}{path}?{urllib.parse.urlencode(rest)}>; rel="next"'
        body = {"total_count": len(jobs), "jobs": jobs[(page - 1) * size : page * size]}
        return self._send(h, 200, body, headers)

    def _git(self, h: BaseHTTPRequestHandler, method: str, url: urllib.parse.SplitResult) -> None:
        auth = h.headers.get("Authorization")
        with self.lock:
            self.git_auth.append(auth)
        ok = False
        if auth and auth.lower().startswith("basic "):
            try:
                ok = base64.b64decode(auth.split(None, 1)[1]).decode().split(":", 1)[1] == self.token
            except (ValueError, IndexError):
                ok = False
        if not ok:
            return self._send(
                h,
                401,
                {"message": "Requires authentication", "documentation_url": DOCS},
                {"WWW-Authenticate": 'Basic realm="GitHub"'},
            )
        m = re.fullmatch(r"/git/([^/]+/[^/]+?)\.git(/.*)?", url.path)
        moved = self.renamed.get(m.group(1).lower()) if m else None
        repo = next((r for r in self.repos if r["id"] == moved), None) if moved is not None else None
        if m and repo is not None:  # renamed or transferred: git follows the redirect to the new path
            target = f"{self.host_url}/git/{repo['full_name']}.git{m.group(2) or ''}"
            return self._send(h, 301, None, {"Location": target + (f"?{url.query}" if url.query else "")})
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.git_root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": url.path[len("/git") :],
            "REQUEST_METHOD": method,
            "QUERY_STRING": url.query,
            "CONTENT_TYPE": h.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_USER": "x-access-token",
            "HTTP_CONTENT_ENCODING": h.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": h.headers.get("Git-Protocol", ""),
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "uploadpack.allowAnySHA1InWant",
            "GIT_CONFIG_VALUE_0": "true",
        }
        out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, timeout=60).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        status, headers = 200, {}
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers[name.strip()] = value.strip()
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)


def git(cwd: Path, *argv: str, date: str | None = None) -> str:
    """Run git in cwd (commits dated `date`, author and committer: students set these freely)."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Student",
        "GIT_AUTHOR_EMAIL": "s@example.com",
        "GIT_COMMITTER_NAME": "Student",
        "GIT_COMMITTER_EMAIL": "s@example.com",
    }
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    return subprocess.run(["git", *argv], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


class StudentRepo:
    """A student's working copy that pushes to a bare repository the fake git host serves."""

    def __init__(self, fake: FakeClassGitHub, work: Path, name: str) -> None:
        self.fake = fake
        self.full = fake.add_repo(name)
        self.bare = fake.git_root / f"{self.full}.git"
        self.bare.parent.mkdir(parents=True, exist_ok=True)
        git(fake.git_root, "init", "--quiet", "--bare", "-b", "main", str(self.bare))
        self.work = work / name
        self.work.mkdir(parents=True)
        git(self.work, "init", "--quiet", "-b", "main")
        git(self.work, "remote", "add", "origin", str(self.bare))
        self.head = ZERO

    def commit(self, files: dict[str, str], *, date: str = "2026-11-20T10:00:00Z") -> str:
        for rel, text in files.items():
            path = self.work / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        git(self.work, "add", "-A")
        git(self.work, "commit", "--quiet", "--allow-empty", "-m", "work", date=date)
        return git(self.work, "rev-parse", "HEAD")

    def accept(self, at: str) -> str:
        """GitHub Classroom creates the repository with the starter: its bot makes the branch."""
        sha = self.commit({}, date=at)
        git(self.work, "push", "--quiet", "origin", "HEAD:main")
        self.fake.add_activity(self.full, sha, at, kind="branch_creation", actor="github-classroom[bot]")
        self.head = sha
        return sha

    def push(self, at: str, *, force: bool = False) -> str:
        """Push HEAD; the activity API records it at time `at` (the server's clock, not the commit's)."""
        sha = git(self.work, "rev-parse", "HEAD")
        git(self.work, "push", "--quiet", *(["--force"] if force else []), "origin", "HEAD:main")
        self.fake.add_activity(self.full, sha, at, kind="force_push" if force else "push", before=self.head)
        self.head = sha
        return sha
