"""A local stand-in for the few GitHub REST endpoints `autograde collect` uses.

Response bodies and headers follow GitHub's REST documentation (repos, branches, workflow
runs, artifacts, git trees, workflow dispatch, rate limits, Link pagination). Artifact
downloads redirect to a "storage" host (`localhost` instead of `127.0.0.1`) like GitHub's
302 to blob storage; requests there must not carry the Authorization header.
"""
from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DOCS = "https://docs.github.com/rest"


@dataclass
class Logged:
    method: str
    path: str
    authorization: str | None
    host: str


@dataclass
class FakeGitHub:
    token: str
    org: str = "cs-class"
    page_size: int = 2  # the server's page size: the client must follow Link headers
    repos: list[dict[str, Any]] = field(default_factory=list)
    branches: dict[str, dict[str, Any]] = field(default_factory=dict)  # full name -> branch JSON
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # full name -> runs; absent: 404
    artifacts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # run id -> artifacts
    blobs: dict[int, bytes] = field(default_factory=dict)  # artifact id -> zip
    trees: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)  # (full, ref) -> entries
    # path -> list of canned failures served (once each) before the real answer: "reset", "retry-after", "500"
    failures: dict[str, list[str]] = field(default_factory=dict)
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
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_repo(self, name: str, *, default_branch: str = "main", is_template: bool = False) -> str:
        full = f"{self.org}/{name}"
        rid = self.new_id()
        self.repos.append({
            "id": rid, "node_id": f"R_{rid}", "name": name, "full_name": full, "private": True,
            "owner": {"login": self.org, "id": 1, "type": "Organization"},
            "html_url": f"https://github.com/{full}", "description": None, "fork": False,
            "url": f"https://api.github.com/repos/{full}", "default_branch": default_branch,
            "is_template": is_template, "archived": False, "disabled": False, "visibility": "private",
            "pushed_at": "2024-05-01T09:00:00Z", "created_at": "2024-04-01T09:00:00Z",
            "updated_at": "2024-05-01T09:00:00Z", "size": 120,
        })
        return full

    def set_head(self, full: str, sha: str, date: str, branch: str = "main") -> None:
        self.branches[full] = {
            "name": branch,
            "commit": {
                "sha": sha, "node_id": f"C_{sha[:8]}",
                "commit": {
                    "author": {"name": "Student", "email": "s@example.com", "date": date},
                    "committer": {"name": "Student", "email": "s@example.com", "date": date},
                    "message": "work", "tree": {"sha": "f" * 40, "url": ""}, "comment_count": 0,
                },
                "url": f"https://api.github.com/repos/{full}/commits/{sha}", "parents": [],
            },
            "_links": {"self": "", "html": ""}, "protected": False,
        }

    def add_run(self, full: str, head_sha: str, created_at: str, zip_bytes: bytes | None,
                *, expired: bool = False, conclusion: str = "success") -> int:
        run_id = self.new_id()
        self.runs.setdefault(full, []).insert(0, {
            "id": run_id, "name": "GitHub Classroom Workflow", "node_id": f"WFR_{run_id}",
            "head_branch": "main", "head_sha": head_sha, "path": ".github/workflows/classroom.yml",
            "run_number": len(self.runs.get(full, [])) + 1, "event": "push", "status": "completed",
            "conclusion": conclusion, "workflow_id": 7, "url": f"https://api.github.com/repos/{full}/actions/runs/{run_id}",
            "html_url": f"https://github.com/{full}/actions/runs/{run_id}", "created_at": created_at,
            "updated_at": created_at, "run_attempt": 1, "run_started_at": created_at,
        })
        arts = []
        if zip_bytes is not None:
            aid = self.new_id()
            self.blobs[aid] = zip_bytes
            arts.append({
                "id": aid, "node_id": f"MDg6QXJ0aWZhY3Q{aid}", "name": "autograde-report",
                "size_in_bytes": len(zip_bytes), "url": f"{{api}}/repos/{full}/actions/artifacts/{aid}",
                "archive_download_url": f"{{api}}/repos/{full}/actions/artifacts/{aid}/zip",
                "expired": expired, "created_at": created_at, "expires_at": "2024-07-30T10:00:00Z",
                "updated_at": created_at,
                "workflow_run": {"id": run_id, "repository_id": 1, "head_repository_id": 1,
                                 "head_branch": "main", "head_sha": head_sha},
            })
        self.artifacts[run_id] = arts
        return run_id

    def set_tree(self, full: str, ref: str, files: dict[str, str]) -> None:
        """files: path -> blob sha."""
        entries: list[dict[str, Any]] = []
        dirs = sorted({"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)})
        for d in dirs:
            entries.append({"path": d, "mode": "040000", "type": "tree", "sha": "d" * 40, "url": ""})
        for path, sha in sorted(files.items()):
            entries.append({"path": path, "mode": "100644", "type": "blob", "sha": sha, "size": 10, "url": ""})
        self.trees[(full, ref)] = entries

    def count(self, fragment: str) -> int:
        return sum(1 for e in self.log if fragment in e.path)

    # ------------------------------------------------------------------ serving

    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake.handle(self, "GET")

            def do_POST(self) -> None:
                fake.handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def _send(self, h: BaseHTTPRequestHandler, status: int, body: Any = None, headers: dict[str, str] | None = None,
              raw: bytes | None = None) -> None:
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        h.send_response(status)
        h.send_header("Content-Type", "application/zip" if raw is not None else "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        h.send_header("x-ratelimit-limit", "5000")
        h.send_header("x-ratelimit-resource", "core")
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _not_found(self, h: BaseHTTPRequestHandler) -> None:
        self._send(h, 404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})

    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        url = urllib.parse.urlsplit(h.path)
        path, query = url.path, dict(urllib.parse.parse_qsl(url.query))
        host = h.headers.get("Host", "")
        auth = h.headers.get("Authorization")
        with self.lock:
            self.log.append(Logged(method, path, auth, host))
            canned = self.failures.get(path)
            failure = canned.pop(0) if canned else None
        api = self.api_url
        if path.startswith("/storage/"):
            if auth is not None or not host.startswith("localhost"):
                return self._send(h, 400, {"message": "storage got an Authorization header"})
            aid = int(path.rsplit("/", 1)[1])
            return self._send(h, 200, raw=self.blobs[aid])
        if auth != f"Bearer {self.token}":
            return self._send(h, 401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"})
        if failure == "reset":
            return self._send(h, 403, {"message": "API rate limit exceeded for user ID 1. If you reach out to GitHub "
                                                  "Support for help, please include the request ID.",
                                       "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api"},
                              {"x-ratelimit-remaining": "0", "x-ratelimit-used": "5000",
                               "x-ratelimit-reset": str(int(time.time()) + 90)})
        if failure == "retry-after":
            return self._send(h, 429, {"message": "You have exceeded a secondary rate limit. Please wait a few "
                                                  "minutes before you try again.",
                                       "documentation_url": DOCS}, {"retry-after": "7"})
        if failure == "500":
            return self._send(h, 500, {"message": "Server Error"})

        m = re.fullmatch(r"/(?:orgs/([^/]+)|organizations/1)/repos", path)
        if m and method == "GET":
            if m.group(1) and m.group(1) != self.org:
                return self._not_found(h)
            page = int(query.get("page", "1"))
            size = min(int(query.get("per_page", "30")), self.page_size)
            items = self.repos[(page - 1) * size: page * size]
            last = max(1, -(-len(self.repos) // size))
            links = []
            if page < last:
                links.append(f'<{api}/organizations/1/repos?type=all&per_page={size}&page={page + 1}>; rel="next"')
                links.append(f'<{api}/organizations/1/repos?type=all&per_page={size}&page={last}>; rel="last"')
            if page > 1:
                links.append(f'<{api}/organizations/1/repos?type=all&per_page={size}&page=1>; rel="first"')
            return self._send(h, 200, items, {"Link": ", ".join(links)} if links else {})
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)", path)
        if m:
            repo = next((r for r in self.repos if r["full_name"] == m.group(1)), None)
            return self._send(h, 200, repo) if repo else self._not_found(h)
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/branches/([^/]+)", path)
        if m:
            branch = self.branches.get(m.group(1))
            if branch is None or branch["name"] != urllib.parse.unquote(m.group(2)):
                return self._send(h, 404, {"message": "Branch not found", "documentation_url": DOCS, "status": "404"})
            return self._send(h, 200, branch)
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/actions/workflows/([^/]+)/runs", path)
        if m:
            runs = self.runs.get(m.group(1))
            if runs is None or m.group(2) != "classroom.yml":
                return self._not_found(h)
            runs = [r for r in runs if r["head_branch"] == query.get("branch", r["head_branch"])
                    and r["status"] == query.get("status", r["status"])]
            per = int(query.get("per_page", "30"))
            return self._send(h, 200, {"total_count": len(runs), "workflow_runs": runs[:per]})
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/actions/runs/(\d+)/artifacts", path)
        if m:
            arts = [json.loads(json.dumps(a).replace("{api}", api)) for a in self.artifacts.get(int(m.group(2)), [])
                    if a["name"] == query.get("name", a["name"])]
            return self._send(h, 200, {"total_count": len(arts), "artifacts": arts})
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/actions/artifacts/(\d+)/zip", path)
        if m:
            aid = int(m.group(2))
            art = next((a for arts in self.artifacts.values() for a in arts if a["id"] == aid), None)
            if art is None:
                return self._not_found(h)
            if art["expired"]:
                return self._send(h, 410, {"message": "Artifact has expired", "documentation_url": DOCS, "status": "410"})
            return self._send(h, 302, None, {"Location": f"http://localhost:{self.port}/storage/{aid}?sig=SAS&se=soon"})
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/git/trees/([^/]+)", path)
        if m:
            entries = self.trees.get((m.group(1), urllib.parse.unquote(m.group(2))))
            if entries is None:
                return self._not_found(h)
            return self._send(h, 200, {"sha": "e" * 40, "url": "", "tree": entries, "truncated": False})
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/actions/workflows/([^/]+)/dispatches", path)
        if m and method == "POST":
            if m.group(1) not in self.runs:
                return self._not_found(h)
            length = int(h.headers.get("Content-Length", "0"))
            body = json.loads(h.rfile.read(length) or b"{}")
            self.dispatches.append((m.group(1), m.group(2), body))
            return self._send(h, 204)
        return self._not_found(h)
