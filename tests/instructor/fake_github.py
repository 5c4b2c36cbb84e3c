"""A local stand-in for the GitHub REST endpoints the instructor commands use.

Bodies and headers follow GitHub's REST documentation and OpenAPI description, including the
ways the real API misbehaves for a client:

- every answer has `Date` (the server's clock, `now`, which may differ from the client's) and
  `x-ratelimit-limit/-remaining/-reset/-used/-resource`; when the budget (`remaining`) is used up
  the next call gets the primary-limit 403;
- `Link` pagination on list endpoints (page size `page_size`);
- renamed or transferred repositories (`rename`, `transfer`) answer 301 (GET) or 307 (POST) to
  `/repositories/{id}/...` with GitHub's `{"message": "Moved Permanently", "url": ...}` body, and
  keep their id; `GET /repositories/{id}` gives the repository where it is now; the organization's
  listing may still give a renamed repository's old name (`rename(..., listing_lags=True)`), and
  lists only the repositories the organization owns; a deleted repository (`delete`) answers 404
  by name and by id (`undelete` brings it back, id and all);
- GitHub Classroom's `GET /assignments/{assignment_id}/accepted_assignments` (`accept`): each
  accepted assignment with its students and its repository as the repository is now (a rename
  shows its new name, as GitHub's own record does), paginated by `page` / `per_page` with Link
  headers; an unknown assignment answers 404;
- `after_listing`: callables run once the organization's listing (or an assignment's accepted
  assignments) has served its last page (a change between a list job and the chunks that follow it);
- artifact downloads answer 302 to a signed "storage" URL on another host (`localhost` instead of
  `127.0.0.1`) that refuses an Authorization header and answers 403 (XML, as blob storage does)
  once its `se=` expiry has passed;
- canned failures per path (`failures`), served once each before the real answer:
  "reset" (primary limit, 403), "secondary" (403 without retry-after), "secondary-retry-after"
  (403 with retry-after), "retry-after" (429), "500", "truncate" (fewer bytes than
  Content-Length, then the connection closes), "chunked-cut" (chunked body cut off before its
  last chunk), "301"/"307" (an API redirect to the same resource); and under the key
  `"after:" + path`, failures that happen once the request was carried out: "502" (a dispatch
  that started a run, answered 502) and "expired-url" (the 302 hands out a signed URL that has
  already expired);
- workflow dispatch answers 204 (with `Date`), 200 with the run's id when asked with
  `return_run_details` (unless `run_details_supported` is off: then 422, as older servers do),
  and 422 when the workflow has no `workflow_dispatch` trigger (`no_dispatch`);
- `api_prefix="/api/v3"` serves the API under a path, like GitHub Enterprise Server; anything
  else gets the web UI's HTML.
"""

from __future__ import annotations

import email.utils
import json
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DOCS = "https://docs.github.com/rest"
SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID."
)
WEB_PAGE = (
    b"<!DOCTYPE html>\n<html lang='en'><head><title>Sign in to GitHub Enterprise</title></head><body></body></html>"
)


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Logged:
    method: str
    path: str
    authorization: str | None
    host: str
    query: dict[str, str] = field(default_factory=dict)
    status: int = 0
    body: Any = None


@dataclass
class FakeGitHub:
    token: str
    org: str = "cs-class"
    page_size: int = 2  # the server's page size: the client must follow Link headers
    api_prefix: str = ""
    now: Any = None  # the server's clock: epoch seconds, a function returning them, or None (real time)
    remaining: int = 5000  # primary rate-limit budget, renewed at `reset_at`
    reset_at: float | None = None
    run_details_supported: bool = True
    repos: list[dict[str, Any]] = field(default_factory=list)
    branches: dict[str, dict[str, Any]] = field(default_factory=dict)  # full name -> branch JSON
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # full name -> runs, newest first; absent: 404
    artifacts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # run id -> artifacts
    blobs: dict[int, bytes] = field(default_factory=dict)  # artifact id -> zip
    trees: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)  # (full, ref) -> entries
    files: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (full, ref, path) -> text
    collaborators: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    renamed: dict[str, int] = field(default_factory=dict)  # old full name (lower) -> repository id
    listed_as: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> fields the listing still shows
    deleted: dict[str, dict[str, Any]] = field(default_factory=dict)  # full name (lower) -> what `undelete` restores
    after_listing: list[Any] = field(default_factory=list)  # run (and dropped) after a listing's last page
    accepted: dict[int, list[tuple[int, list[str]]]] = field(default_factory=dict)  # assignment -> (repo id, logins)
    no_dispatch: set[str] = field(default_factory=set)  # workflows without the workflow_dispatch trigger
    failures: dict[str, list[str]] = field(default_factory=dict)  # path -> canned failures, served in order
    dispatches: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    log: list[Logged] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    _next_id: int = 1000

    # ------------------------------------------------------------------ building the class

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.server_address[1]

    @property
    def host_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return self.host_url + self.api_prefix

    def clock(self) -> float:
        if self.now is None:
            return time.time()
        return float(self.now()) if callable(self.now) else float(self.now)

    def window_reset(self) -> int:
        if self.reset_at is None:
            self.reset_at = self.clock() + 1800
        return int(self.reset_at)

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def repo(self, full: str) -> dict[str, Any] | None:
        return next((r for r in self.repos if r["full_name"].lower() == full.lower()), None)

    def add_repo(
        self,
        name: str,
        *,
        default_branch: str = "main",
        is_template: bool = False,
        created_at: str = "2024-04-01T09:00:00Z",
    ) -> str:
        full = f"{self.org}/{name}"
        rid = self.new_id()
        self.repos.append(
            {
                "id": rid,
                "node_id": f"R_{rid}",
                "name": name,
                "full_name": full,
                "private": True,
                "owner": {"login": self.org, "id": 1, "type": "Organization"},
                "html_url": f"https://github.com/{full}",
                "description": None,
                "fork": False,
                "url": f"https://api.github.com/repos/{full}",
                "default_branch": default_branch,
                "is_template": is_template,
                "archived": False,
                "disabled": False,
                "visibility": "private",
                "pushed_at": "2024-05-01T09:00:00Z",
                "created_at": created_at,
                "updated_at": "2024-05-01T09:00:00Z",
                "size": 120,
            }
        )
        return full

    def accept(self, assignment_id: int, full: str, *logins: str) -> None:
        """Record that `logins` accepted GitHub Classroom assignment `assignment_id`, which made `full`."""
        repo = self.repo(full)
        assert repo is not None
        self.accepted.setdefault(assignment_id, []).append((repo["id"], list(logins)))

    def rename(self, old_full: str, new_name: str, *, listing_lags: bool = False) -> str:
        """Rename a repository: the old name answers 301/307 to /repositories/{id}/..., the id stays.

        listing_lags: the organization's listing still gives the old name (as the issue a class
        workflow met: the listing said `lab04-dave` while the API and git redirected to the new name).
        """
        repo = self.repo(old_full)
        assert repo is not None
        if listing_lags:
            self.listed_as[repo["id"]] = {"name": repo["name"], "full_name": repo["full_name"], "url": repo["url"]}
        return self.move(old_full, f"{repo['owner']['login']}/{new_name}")

    def transfer(self, full: str, new_owner: str) -> str:
        """Transfer a repository to another account: as a rename, the old name redirects to its id."""
        return self.move(full, f"{new_owner}/{full.split('/', 1)[1]}")

    def move(self, old_full: str, new_full: str) -> str:
        """The repository at old_full is at new_full from now on (rename or transfer)."""
        repo = self.repo(old_full)
        assert repo is not None
        old_full = repo["full_name"]
        for table in (self.branches, self.runs, self.collaborators):
            if old_full in table:
                table[new_full] = table.pop(old_full)
        self.trees = {(new_full if f == old_full else f, r): v for (f, r), v in self.trees.items()}
        for run in self.runs.get(new_full, []):  # GitHub answers with the repository as it is now
            for key in ("repository", "head_repository"):
                if str(run.get(key, {}).get("full_name", "")).lower() == old_full.lower():
                    run[key] = {**run[key], "full_name": new_full}
        owner, name = new_full.split("/", 1)
        repo.update(
            name=name,
            full_name=new_full,
            url=f"https://api.github.com/repos/{new_full}",
            html_url=f"https://github.com/{new_full}",
            owner={**repo["owner"], "login": owner},
        )
        self.renamed.pop(new_full.lower(), None)  # a name taken again is no redirect any more
        self.renamed[old_full.lower()] = repo["id"]
        return new_full

    def delete(self, full: str) -> None:
        """Delete a repository: its name and its id answer 404 (`undelete` restores it)."""
        repo = self.repo(full)
        assert repo is not None
        saved = {"repo": repo, "tables": {}}
        for label, table in (("branches", self.branches), ("runs", self.runs), ("collaborators", self.collaborators)):
            if repo["full_name"] in table:
                saved["tables"][label] = table.pop(repo["full_name"])
        self.repos.remove(repo)
        self.deleted[repo["full_name"].lower()] = saved

    def undelete(self, full: str) -> None:
        saved = self.deleted.pop(full.lower())
        repo = saved["repo"]
        self.repos.append(repo)
        for label, value in saved["tables"].items():
            getattr(self, label)[repo["full_name"]] = value

    def set_head(self, full: str, sha: str, date: str, branch: str = "main") -> None:
        self.branches[full] = {
            "name": branch,
            "commit": {
                "sha": sha,
                "node_id": f"C_{sha[:8]}",
                "commit": {
                    "author": {"name": "Student", "email": "s@example.com", "date": date},
                    "committer": {"name": "Student", "email": "s@example.com", "date": date},
                    "message": "work",
                    "tree": {"sha": "f" * 40, "url": ""},
                    "comment_count": 0,
                },
                "url": f"https://api.github.com/repos/{full}/commits/{sha}",
                "parents": [],
            },
            "_links": {"self": "", "html": ""},
            "protected": False,
        }

    def add_run(
        self,
        full: str,
        head_sha: str,
        created_at: str,
        zip_bytes: bytes | None,
        *,
        expired: bool = False,
        conclusion: str = "success",
        event: str = "push",
        actor: str = "student",
        attempt: int = 1,
        status: str = "completed",
        head_repository: str | None = None,
        head_branch: str = "main",
        name: str = "Autograding",
        started_at: str | None = None,
    ) -> int:
        run_id = self.new_id()
        head_repo = head_repository or full
        user = {
            "login": actor,
            "id": 99 if actor.endswith("[bot]") else 5,
            "type": "Bot" if actor.endswith("[bot]") else "User",
        }
        self.runs.setdefault(full, []).insert(
            0,
            {
                "id": run_id,
                "name": name,
                "node_id": f"WFR_{run_id}",
                "display_title": "work",
                "head_branch": head_branch,
                "head_sha": head_sha,
                "path": ".github/workflows/classroom.yml",
                "run_number": len(self.runs.get(full, [])) + 1,
                "event": event,
                "status": status,
                "conclusion": conclusion if status == "completed" else None,
                "workflow_id": 7,
                "url": f"https://api.github.com/repos/{full}/actions/runs/{run_id}",
                "html_url": f"https://github.com/{full}/actions/runs/{run_id}",
                "created_at": created_at,
                "updated_at": created_at,
                "run_attempt": attempt,
                "run_started_at": started_at or created_at,
                "actor": user,
                "triggering_actor": user,
                "repository": {"id": 1, "full_name": full},
                "head_repository": {"id": 2, "full_name": head_repo},
            },
        )
        self.artifacts[run_id] = []
        if zip_bytes is not None:
            self.add_artifact(full, run_id, zip_bytes, created_at, expired=expired)
        return run_id

    def add_artifact(
        self,
        full: str,
        run_id: int,
        zip_bytes: bytes,
        created_at: str,
        *,
        expired: bool = False,
        name: str = "autograde-report",
    ) -> int:
        run = next(r for r in self.runs[full] if r["id"] == run_id)
        aid = self.new_id()
        self.blobs[aid] = zip_bytes
        self.artifacts.setdefault(run_id, []).append(
            {
                "id": aid,
                "node_id": f"MDg6QXJ0aWZhY3Q{aid}",
                "name": name,
                "size_in_bytes": len(zip_bytes),
                "url": f"{{api}}/repos/{full}/actions/artifacts/{aid}",
                "archive_download_url": f"{{api}}/repos/{full}/actions/artifacts/{aid}/zip",
                "expired": expired,
                "created_at": created_at,
                "expires_at": "2024-07-30T10:00:00Z",
                "updated_at": created_at,
                "digest": None,
                "workflow_run": {
                    "id": run_id,
                    "repository_id": 1,
                    "head_repository_id": 2,
                    "head_branch": run["head_branch"],
                    "head_sha": run["head_sha"],
                },
            }
        )
        return aid

    def finish_run(self, full: str, run_id: int, zip_bytes: bytes | None, created_at: str | None = None) -> None:
        run = next(r for r in self.runs[full] if r["id"] == run_id)
        run.update(status="completed", conclusion="success")
        if zip_bytes is not None:
            self.add_artifact(full, run_id, zip_bytes, created_at or run["created_at"])

    def set_tree(self, full: str, ref: str, files: dict[str, str]) -> None:
        """files: path -> blob sha."""
        entries: list[dict[str, Any]] = []
        dirs = sorted({"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)})
        for d in dirs:
            entries.append({"path": d, "mode": "040000", "type": "tree", "sha": "d" * 40, "url": ""})
        for path, sha in sorted(files.items()):
            entries.append({"path": path, "mode": "100644", "type": "blob", "sha": sha, "size": 10, "url": ""})
        self.trees[(full, ref)] = entries

    def count(self, fragment: str, method: str | None = None) -> int:
        return sum(1 for e in self.log if fragment in e.path and (method is None or e.method == method))

    def served(self, status: int) -> int:
        return sum(1 for e in self.log if e.status == status)

    # ------------------------------------------------------------------ serving

    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def date_time_string(self, timestamp: float | None = None) -> str:  # `Date`: the server's clock
                return email.utils.formatdate(fake.clock(), usegmt=True)

            def do_GET(self) -> None:
                fake.handle(self, "GET")

            def do_POST(self) -> None:
                fake.handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str | None = None,
    ) -> None:
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        entry: Logged = h.entry  # type: ignore[attr-defined]
        entry.status = status
        cut = getattr(h, "cut", None)
        h.send_response(status)
        if content_type is None:
            content_type = "application/zip" if raw is not None else "application/json; charset=utf-8"
        h.send_header("Content-Type", content_type)
        extra = dict(headers or {})
        if getattr(h, "api", False):
            with self.lock:
                used = 5000 - self.remaining
            base = {
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": str(self.remaining),
                "x-ratelimit-reset": str(self.window_reset()),
                "x-ratelimit-used": str(used),
                "x-ratelimit-resource": "core",
                "x-github-api-version-selected": "2022-11-28",
            }
            extra = {**base, **extra}
        for k, v in extra.items():
            h.send_header(k, v)
        if cut == "chunked-cut" and data:
            h.send_header("Transfer-Encoding", "chunked")
            h.send_header("Connection", "close")
            h.end_headers()
            half = data[: len(data) // 2]
            h.wfile.write(f"{len(half):x}\r\n".encode() + half + b"\r\n")  # no terminating 0-chunk
            h.wfile.flush()
            h.close_connection = True
            return
        h.send_header("Content-Length", str(len(data)))
        if cut == "truncate" and data:
            h.send_header("Connection", "close")
            h.end_headers()
            h.wfile.write(data[: len(data) // 2])
            h.wfile.flush()
            h.close_connection = True
            return
        h.end_headers()
        h.wfile.write(data)

    def _not_found(self, h: BaseHTTPRequestHandler) -> None:
        self._send(h, 404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})

    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        url = urllib.parse.urlsplit(h.path)
        path, query = url.path, dict(urllib.parse.parse_qsl(url.query))
        host = h.headers.get("Host", "")
        auth = h.headers.get("Authorization")
        length = int(h.headers.get("Content-Length") or 0)
        body = json.loads(h.rfile.read(length) or b"null") if length else None
        entry = Logged(method, path, auth, host, query, body=body)
        h.entry = entry  # type: ignore[attr-defined]
        with self.lock:
            self.log.append(entry)
            canned = self.failures.get(path)
            failure = canned.pop(0) if canned else None
        h.cut = failure if failure in ("truncate", "chunked-cut") else None  # type: ignore[attr-defined]

        if path.startswith("/storage/"):
            if auth is not None or not host.startswith("localhost"):
                return self._send(h, 400, {"message": "storage got an Authorization header"})
            if float(query.get("se", "0")) < self.clock():
                return self._send(
                    h,
                    403,
                    raw=b'<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed'
                    b"</Code><Message>Server failed to authenticate the request. Signed expiry time "
                    b"has passed.</Message></Error>",
                    content_type="application/xml",
                )
            aid = int(path.rsplit("/", 1)[1])
            return self._send(h, 200, raw=self.blobs[aid])
        if self.api_prefix:
            if not path.startswith(self.api_prefix + "/"):
                return self._send(h, 200, raw=WEB_PAGE, content_type="text/html; charset=utf-8")
            path = path[len(self.api_prefix) :]
        h.api = True  # type: ignore[attr-defined]
        if auth != f"Bearer {self.token}":
            return self._send(h, 401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"})
        with self.lock:
            if self.remaining <= 0 and self.clock() >= self.window_reset():
                self.remaining, self.reset_at = 5000, None  # a new window
            if self.remaining <= 0:
                self.remaining = 5000  # the client ignored the used-up budget: it gets the 403 (then a new window)
                failure = "reset"
            else:
                self.remaining -= 1
        if failure == "reset":
            return self._send(
                h,
                403,
                {
                    "message": "API rate limit exceeded for user ID 1. If you reach out to GitHub "
                    "Support for help, please include the request ID.",
                    "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api",
                },
                {
                    "x-ratelimit-remaining": "0",
                    "x-ratelimit-used": "5000",
                    "x-ratelimit-reset": str(int(self.clock()) + 90),
                },
            )
        if failure == "retry-after":
            return self._send(h, 429, {"message": SECONDARY, "documentation_url": DOCS}, {"retry-after": "7"})
        if failure == "secondary":
            return self._send(h, 403, {"message": SECONDARY, "documentation_url": DOCS})
        if failure == "secondary-retry-after":
            return self._send(h, 403, {"message": SECONDARY, "documentation_url": DOCS}, {"retry-after": "7"})
        if failure == "500":
            return self._send(h, 500, {"message": "Server Error"})
        if failure in ("301", "307"):
            target = self.api_url + path + (f"?{url.query}" if url.query else "")
            # a hop through an alias path that redirects back: the client must follow it
            return self._send(h, int(failure), {"message": "Moved", "url": target}, {"Location": target})

        m = re.fullmatch(r"/repositories/(\d+)(/.*)?", path)
        if m:  # where a renamed repository's old name redirects to
            repo = next((r for r in self.repos if r["id"] == int(m.group(1))), None)
            if repo is None:
                return self._not_found(h)
            path = f"/repos/{repo['full_name']}{m.group(2) or ''}"
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)?", path)
        if m and m.group(1).lower() in self.renamed:
            rid = self.renamed[m.group(1).lower()]
            target = f"{self.api_url}/repositories/{rid}{m.group(2) or ''}" + (f"?{url.query}" if url.query else "")
            code = 301 if method == "GET" else 307
            return self._send(
                h,
                code,
                {"message": "Moved Permanently", "url": target, "documentation_url": DOCS},
                {"Location": target},
            )
        return self.route(h, method, path, query, body)

    def _listed(self) -> None:
        """The class has been listed (a listing's last page was read): run the `after_listing` changes, once."""
        with self.lock:
            hooks, self.after_listing[:] = self.after_listing[:], []
        for hook in hooks:
            hook()

    def _accepted(self, h: BaseHTTPRequestHandler, assignment_id: int, path: str, query: dict[str, str]) -> None:
        """GitHub Classroom's "List accepted assignments for an assignment", in its documented shape."""
        if assignment_id not in self.accepted:
            return self._not_found(h)
        page = int(query.get("page", "1"))
        size = min(int(query.get("per_page", "30")), self.page_size)
        with self.lock:
            items = []
            for n, (rid, logins) in enumerate(self.accepted[assignment_id], 1):
                repo = next((r for r in self.repos if r["id"] == rid), None)
                if repo is None:  # deleted: Classroom's record no longer names it
                    continue
                items.append(
                    {
                        "id": 40_000 + n,
                        "submitted": False,
                        "passing": False,
                        "commit_count": 1,
                        "grade": "",
                        "students": [
                            {
                                "id": 7_000 + sum(map(ord, login)),
                                "login": login,
                                "name": login.title(),
                                "avatar_url": f"https://avatars.githubusercontent.com/{login}",
                                "html_url": f"https://github.com/{login}",
                            }
                            for login in logins
                        ],
                        "repository": {
                            "id": repo["id"],
                            "full_name": repo["full_name"],
                            "html_url": repo["html_url"],
                            "node_id": repo["node_id"],
                            "private": repo["private"],
                            "default_branch": repo["default_branch"],
                        },
                        "assignment": {"id": assignment_id, "title": "LAB04", "type": "individual"},
                    }
                )
        last = max(1, -(-len(items) // size))
        if page >= last:  # as after the organization's listing: a change once the class was listed
            self._listed()
        links = []
        if page < last:
            links.append(f'<{self.api_url}{path}?per_page={size}&page={page + 1}>; rel="next"')
            links.append(f'<{self.api_url}{path}?per_page={size}&page={last}>; rel="last"')
        return self._send(h, 200, items[(page - 1) * size : page * size], {"Link": ", ".join(links)} if links else {})

    def route(self, h: BaseHTTPRequestHandler, method: str, path: str, query: dict[str, str], body: Any) -> None:
        api = self.api_url
        failure_after = None
        with self.lock:
            canned = self.failures.get("after:" + path)
            failure_after = canned.pop(0) if canned else None

        m = re.fullmatch(r"/(?:orgs/([^/]+)|organizations/1)/repos", path)
        if m and method == "GET":
            if m.group(1) and m.group(1).lower() != self.org.lower():
                return self._not_found(h)
            page = int(query.get("page", "1"))
            size = min(int(query.get("per_page", "30")), self.page_size)
            with self.lock:
                owned = [
                    {**r, **self.listed_as.get(r["id"], {})}
                    for r in self.repos
                    if r["owner"]["login"].lower() == self.org.lower()
                ]
                items = owned[(page - 1) * size : page * size]
                last = max(1, -(-len(owned) // size))
            if page >= last:  # after this page was read from the class, before the client has it
                self._listed()
            links = []
            if page < last:
                links.append(f'<{api}/organizations/1/repos?type=all&per_page={size}&page={page + 1}>; rel="next"')
                links.append(f'<{api}/organizations/1/repos?type=all&per_page={size}&page={last}>; rel="last"')
            if page > 1:
                links.append(f'<{api}/organizations/1/repos?type=all&per_page={size}&page=1>; rel="first"')
            return self._send(h, 200, items, {"Link": ", ".join(links)} if links else {})
        m = re.fullmatch(r"/assignments/(\d+)/accepted_assignments", path)
        if m and method == "GET":
            return self._accepted(h, int(m.group(1)), path, query)
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)", path)
        if m:
            repo = self.repo(m.group(1))
            return self._send(h, 200, repo) if repo else self._not_found(h)
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/branches/([^/]+)", path)
        if m:
            branch = self.branches.get(m.group(1))
            if branch is None or branch["name"] != urllib.parse.unquote(m.group(2)):
                return self._send(h, 404, {"message": "Branch not found", "documentation_url": DOCS, "status": "404"})
            return self._send(h, 200, branch)
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/collaborators", path)
        if m:
            return self._send(h, 200, self.collaborators.get(m.group(1), []))
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/contents/(.+)", path)
        if m:
            text = self.files.get((m.group(1), query.get("ref", "main"), urllib.parse.unquote(m.group(2))))
            if text is None:
                return self._not_found(h)
            return self._send(h, 200, raw=text.encode(), content_type="application/vnd.github.raw; charset=utf-8")
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/actions/workflows/([^/]+)/runs", path)
        if m:
            runs = self.runs.get(m.group(1))
            if runs is None or m.group(2) != "classroom.yml":
                return self._not_found(h)
            runs = [
                r
                for r in runs
                if r["head_branch"] == query.get("branch", r["head_branch"])
                and r["status"] == query.get("status", r["status"])
                and r["event"] == query.get("event", r["event"])
            ]
            per = min(int(query.get("per_page", "30")), 100)
            page = int(query.get("page", "1"))
            items = runs[(page - 1) * per : page * per]
            links = {}
            if page * per < len(runs):
                nxt = dict(query, page=str(page + 1))
                links = {"Link": f'<{api}{path}?{urllib.parse.urlencode(nxt)}>; rel="next"'}
            return self._send(h, 200, {"total_count": len(runs), "workflow_runs": items}, links)
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/actions/runs/(\d+)", path)
        if m:
            run = next((r for r in self.runs.get(m.group(1), []) if r["id"] == int(m.group(2))), None)
            return self._send(h, 200, run) if run else self._not_found(h)
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/actions/runs/(\d+)/artifacts", path)
        if m:
            arts = [
                json.loads(json.dumps(a).replace("{api}", api))
                for a in self.artifacts.get(int(m.group(2)), [])
                if a["name"] == query.get("name", a["name"])
            ]
            return self._send(h, 200, {"total_count": len(arts), "artifacts": arts})
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/actions/artifacts/(\d+)/zip", path)
        if m:
            aid = int(m.group(2))
            art = next((a for arts in self.artifacts.values() for a in arts if a["id"] == aid), None)
            if art is None:
                return self._not_found(h)
            if art["expired"]:
                return self._send(
                    h, 410, {"message": "Artifact has expired", "documentation_url": DOCS, "status": "410"}
                )
            expiry = self.clock() + (-5 if failure_after == "expired-url" else 60)  # "This URL expires after 1 minute"
            return self._send(
                h, 302, None, {"Location": f"http://localhost:{self.port}/storage/{aid}?sig=SAS-SECRET&se={expiry:.0f}"}
            )
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/git/trees/([^/]+)", path)
        if m:
            entries = self.trees.get((m.group(1), urllib.parse.unquote(m.group(2))))
            if entries is None:
                return self._not_found(h)
            return self._send(h, 200, {"sha": "e" * 40, "url": "", "tree": entries, "truncated": False})
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/actions/workflows/([^/]+)/dispatches", path)
        if m and method == "POST":
            full = m.group(1)
            if full not in self.runs or m.group(2) != "classroom.yml":
                return self._not_found(h)
            body = body if isinstance(body, dict) else {}
            if "return_run_details" in body and not self.run_details_supported:
                return self._send(
                    h,
                    422,
                    {
                        "message": 'Invalid request.\n\n"return_run_details" is not a permitted key.',
                        "documentation_url": DOCS,
                        "status": "422",
                    },
                )
            if full in self.no_dispatch:
                return self._send(
                    h,
                    422,
                    {
                        "message": "Workflow does not have 'workflow_dispatch' trigger",
                        "documentation_url": DOCS,
                        "status": "422",
                    },
                )
            self.dispatches.append((full, m.group(2), body))
            run_id = self.add_run(
                full,
                self.branches[full]["commit"]["sha"] if full in self.branches else "0" * 40,
                iso(self.clock()),
                None,
                event="workflow_dispatch",
                actor="instructor",
                status="queued",
                head_branch=body.get("ref", "main"),
            )
            if failure_after == "502":
                return self._send(h, 502, {"message": "Server Error"})
            if body.get("return_run_details"):
                return self._send(
                    h,
                    200,
                    {
                        "workflow_run_id": run_id,
                        "run_url": f"{api}/repos/{full}/actions/runs/{run_id}",
                        "html_url": f"https://github.com/{full}/actions/runs/{run_id}",
                    },
                )
            return self._send(h, 204)
        return self._not_found(h)
