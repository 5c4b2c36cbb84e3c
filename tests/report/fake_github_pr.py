"""A local stand-in for the GitHub REST endpoints of pull request comments.

Shapes follow GitHub's REST documentation (API version 2022-11-28):
- GET /repos/{owner}/{repo}/pulls?state=open&head=owner:branch -> pull requests whose `head.label` is
  `owner:branch` (an unknown `head` gives an empty list, not an error), paginated;
- GET /repos/{owner}/{repo}/issues/{number}/comments -> issue comments (`id`, `body`, `user.login`,
  `user.type`, `html_url`), oldest first, paginated with `Link: <...>; rel="next"` (page size
  `page_size`, small on purpose: the client must follow the links);
- POST .../issues/{number}/comments {"body"} -> 201 with the comment; PATCH
  .../issues/comments/{id} {"body"} -> 200 with the comment;
- a token without `pull-requests: write` (`writable=False`) gets what GitHub answers a workflow token
  lacking the permission: 403 {"message": "Resource not accessible by integration", ...} with an
  `X-Accepted-GitHub-Permissions` header; a wrong token gets 401 "Bad credentials".
Every answer carries `Date` and the `x-ratelimit-*` headers.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DOCS = "https://docs.github.com/rest"


@dataclass
class FakeGitHubPulls:
    token: str
    repo: str = "cs-class/lab04-ann"
    page_size: int = 2
    writable: bool = True
    bot: str = "github-actions[bot]"
    pulls: list[dict[str, Any]] = field(default_factory=list)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # pull number -> comments
    log: list[tuple[str, str, int]] = field(default_factory=list)  # method, path?query, status
    server: ThreadingHTTPServer | None = None
    _next: int = 500

    @property
    def api_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add_pull(self, number: int, branch: str, *, state: str = "open", owner: str | None = None) -> None:
        owner = owner or self.repo.split("/")[0]
        self.pulls.append(
            {
                "number": number,
                "state": state,
                "title": "Feedback",
                "html_url": f"https://github.com/{self.repo}/pull/{number}",
                "head": {"label": f"{owner}:{branch}", "ref": branch, "sha": "0" * 40},
                "base": {"label": f"{owner}:feedback", "ref": "feedback"},
            }
        )
        self.comments.setdefault(number, [])

    def add_comment(self, number: int, body: str, login: str, user_type: str = "User") -> dict[str, Any]:
        self._next += 1
        comment = {
            "id": self._next,
            "body": body,
            "user": {"login": login, "id": self._next + 10_000, "type": user_type},
            "html_url": f"https://github.com/{self.repo}/pull/{number}#issuecomment-{self._next}",
            "issue_url": f"{self.api_url}/repos/{self.repo}/issues/{number}",
            "created_at": "2026-11-29T23:00:00Z",
            "updated_at": "2026-11-29T23:00:00Z",
        }
        self.comments.setdefault(number, []).append(comment)
        return comment

    def start(self) -> FakeGitHubPulls:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake.handle(self, "GET")

            def do_POST(self) -> None:
                fake.handle(self, "POST")

            def do_PATCH(self) -> None:
                fake.handle(self, "PATCH")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def count(self, method: str, fragment: str = "") -> int:
        return sum(1 for m, p, _ in self.log if m == method and fragment in p)

    # ------------------------------------------------------------------ serving

    def _send(self, h: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.log.append((h.command, h.path, status))
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        for k, v in {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4990",
            "x-ratelimit-reset": "4102444800",
            "x-ratelimit-used": "10",
            "x-ratelimit-resource": "core",
            "x-github-api-version-selected": "2022-11-28",
            **(headers or {}),
        }.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _page(self, h: BaseHTTPRequestHandler, path: str, query: dict[str, str], items: list[Any]) -> None:
        per_page = min(int(query.get("per_page", "30")), 100, self.page_size)
        page = int(query.get("page", "1"))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            nxt = urllib.parse.urlencode({**query, "page": str(page + 1)})
            last = urllib.parse.urlencode({**query, "page": str((len(items) + per_page - 1) // per_page)})
            headers["Link"] = f'<{self.api_url}{path}?{nxt}>; rel="next", <{self.api_url}{path}?{last}>; rel="last"'
        self._send(h, 200, chunk, headers)

    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        url = urllib.parse.urlsplit(h.path)
        path, query = url.path, dict(urllib.parse.parse_qsl(url.query))
        length = int(h.headers.get("Content-Length") or 0)
        body = json.loads(h.rfile.read(length) or b"null") if length else None
        if h.headers.get("Authorization") != f"Bearer {self.token}":
            return self._send(h, 401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"})
        repo = re.escape(self.repo)
        if method == "GET" and re.fullmatch(rf"/repos/{repo}/pulls", path):
            state = query.get("state", "open")
            head = query.get("head")
            found = [
                p
                for p in self.pulls
                if (state == "all" or p["state"] == state) and (head is None or p["head"]["label"] == head)
            ]
            return self._page(h, path, query, found)
        m = re.fullmatch(rf"/repos/{repo}/issues/(\d+)/comments", path)
        if m and int(m.group(1)) in self.comments:
            number = int(m.group(1))
            if method == "GET":
                return self._page(h, path, query, self.comments[number])
            if method == "POST":
                if not self.writable:
                    return self._refuse(h, "issues/comments#create-an-issue-comment")
                if not isinstance(body, dict) or not isinstance(body.get("body"), str):
                    return self._send(h, 422, {"message": "Invalid request.", "documentation_url": DOCS})
                return self._send(h, 201, self.add_comment(number, body["body"], self.bot, "Bot"))
        m = re.fullmatch(rf"/repos/{repo}/issues/comments/(\d+)", path)
        if m and method == "PATCH":
            comment = next((c for cs in self.comments.values() for c in cs if c["id"] == int(m.group(1))), None)
            if comment is None:
                return self._send(h, 404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
            if not self.writable:
                return self._refuse(h, "issues/comments#update-an-issue-comment")
            comment["body"] = body["body"]
            comment["updated_at"] = "2026-11-29T23:30:00Z"
            return self._send(h, 200, comment)
        return self._send(h, 404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})

    def _refuse(self, h: BaseHTTPRequestHandler, doc: str) -> None:
        self._send(
            h,
            403,
            {
                "message": "Resource not accessible by integration",
                "documentation_url": f"{DOCS}/{doc}",
                "status": "403",
            },
            {"X-Accepted-GitHub-Permissions": "issues=write; pull_requests=write"},
        )
