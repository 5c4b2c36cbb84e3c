"""A small GitHub REST client on urllib: pagination, rate limits, artifact downloads.

The token goes only into the Authorization header of requests to the API host. It is never
put in a message, and redirects (artifact downloads go to a storage host) are followed by
hand so that the header is not forwarded.
"""
from __future__ import annotations

import json
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol

from autograde import __version__

API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"


class GitHubError(Exception):
    """An API call failed; `status` is the HTTP status (0 for network errors)."""

    def __init__(self, status: int, message: str, url: str = "") -> None:
        super().__init__(f"{message} (HTTP {status}, {url})" if status else f"{message} ({url})")
        self.status = status
        self.message = message
        self.url = url


class NotFound(GitHubError):
    pass


class Gone(GitHubError):
    pass


class WaitListener(Protocol):
    def waiting(self, remaining: float, total: float, reason: str) -> None: ...


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    url: str

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise GitHubError(self.status, "the API answered with something that is not JSON", self.url) from None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None  # surface 3xx as responses; we follow them ourselves


_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


MAX_BODY = 16 * 1024 * 1024


def _bare(url: str) -> str:
    """A URL without its query: signed storage URLs carry credentials there."""
    return url.split("?", 1)[0]


def _scrub(text: str, token: str | None) -> str:
    return text.replace(token, "***") if token else text


class GitHubClient:
    def __init__(
        self,
        token: str | None,
        api_url: str = API_URL,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        listener: WaitListener | None = None,
        timeout: float = 30.0,
        max_retries: int = 4,
        max_waits: int = 20,
    ) -> None:
        self._token = token
        self.api_url = api_url.rstrip("/")
        self._api_host = urllib.parse.urlsplit(self.api_url).netloc
        self.sleep = sleep
        self.clock = clock
        self.listener = listener
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_waits = max_waits
        self.requests = 0
        self.waited = 0.0
        self.remaining: int | None = None  # x-ratelimit-remaining, as last seen
        self._opener = urllib.request.build_opener(_NoRedirect())

    def __repr__(self) -> str:  # never show the token
        return f"GitHubClient({self.api_url!r})"

    # ------------------------------------------------------------------ plumbing

    def _url(self, path: str, params: dict[str, Any] | None = None) -> str:
        url = path if path.startswith(("http://", "https://")) else self.api_url + path
        if params:
            query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
            url += ("&" if "?" in url else "?") + query
        return url

    def _open(self, method: str, url: str, data: bytes | None, headers: dict[str, str], limit: int) -> Response:
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        self.requests += 1
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                return Response(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read(limit + 1), url)
        except urllib.error.HTTPError as e:
            try:
                body = e.read(64 * 1024)
            except OSError:
                body = b""
            return Response(e.code, {k.lower(): v for k, v in (e.headers or {}).items()}, body, url)

    def _headers(self, url: str, accept: str) -> dict[str, str]:
        headers = {"Accept": accept, "User-Agent": f"autograde/{__version__}", "X-GitHub-Api-Version": API_VERSION}
        if self._token and urllib.parse.urlsplit(url).netloc == self._api_host:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _message(self, resp: Response) -> str:
        try:
            data = json.loads(resp.body)
            msg = data.get("message") if isinstance(data, dict) else None
        except (ValueError, UnicodeDecodeError):
            msg = None
        return _scrub(str(msg or resp.body[:120].decode("utf-8", "replace") or "no message"), self._token)[:200]

    def rate_limit_wait(self, resp: Response) -> float | None:
        """Seconds to wait before retrying, if resp is a rate-limit answer; else None."""
        if resp.status not in (403, 429):
            return None
        h = resp.headers
        retry_after = h.get("retry-after")
        if retry_after:
            try:
                return max(float(retry_after), 1.0)
            except ValueError:
                return 60.0
        if h.get("x-ratelimit-remaining") == "0" and h.get("x-ratelimit-reset"):
            try:
                return max(float(h["x-ratelimit-reset"]) - self.clock(), 0.0) + 1.0
            except ValueError:
                return 60.0
        if resp.status == 429 or "rate limit" in self._message(resp).lower():
            return 60.0  # secondary rate limit without headers: GitHub says wait at least a minute
        return None

    def wait(self, seconds: float, reason: str) -> None:
        """Sleep in short steps, telling the listener how long is left."""
        remaining = seconds
        while remaining > 0:
            if self.listener:
                self.listener.waiting(remaining, seconds, reason)
            step = min(remaining, 5.0)
            self.sleep(step)
            remaining -= step
        self.waited += seconds

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        accept: str = "application/vnd.github+json",
        max_body: int = MAX_BODY,
    ) -> Response:
        """One API call with retries for rate limits, 5xx and network errors. 2xx/3xx returned, errors raised."""
        url = self._url(path, params)
        data = None if json_body is None else json.dumps(json_body).encode()
        headers = self._headers(url, accept)
        if data is not None:
            headers["Content-Type"] = "application/json"
        retries = waits = 0
        while True:
            try:
                resp = self._open(method, url, data, headers, max_body)
            except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as e:
                reason = getattr(e, "reason", e)
                if retries >= self.max_retries:
                    raise GitHubError(0, f"network error: {_scrub(str(reason), self._token)}", _bare(url)) from None
                retries += 1
                self.wait(2.0 ** retries, "network error, retrying")
                continue
            if "x-ratelimit-remaining" in resp.headers:
                try:
                    self.remaining = int(resp.headers["x-ratelimit-remaining"])
                except ValueError:
                    pass
            if resp.status < 400:
                if len(resp.body) > max_body:
                    raise GitHubError(resp.status, f"answer larger than {max_body} bytes", _bare(url))
                return resp
            pause = self.rate_limit_wait(resp)
            if pause is not None and waits < self.max_waits:
                waits += 1
                self.wait(pause, "rate limited by GitHub")
                continue
            if resp.status >= 500 and retries < self.max_retries:
                retries += 1
                self.wait(2.0 ** retries, f"GitHub answered {resp.status}, retrying")
                continue
            cls = NotFound if resp.status == 404 else Gone if resp.status == 410 else GitHubError
            raise cls(resp.status, self._message(resp), _bare(url))

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params).json()

    def paginate(self, path: str, params: dict[str, Any] | None = None, key: str | None = None) -> Iterator[Any]:
        """Items of a list endpoint, following `Link: rel="next"` across pages."""
        url: str | None = self._url(path, {"per_page": 100, **(params or {})})
        while url:
            resp = self.request("GET", url)
            data = resp.json()
            items = data.get(key, []) if key and isinstance(data, dict) else data
            if not isinstance(items, list):
                raise GitHubError(resp.status, "expected a list from a paginated endpoint", url)
            yield from items
            match = _LINK_NEXT.search(resp.headers.get("link", ""))
            url = match.group(1) if match else None

    def download(self, path: str, max_bytes: int) -> bytes:
        """GET with redirects followed by hand (no Authorization to other hosts); capped size."""
        url = self._url(path)
        for _ in range(5):
            resp = self.request("GET", url, max_body=max_bytes)
            if resp.status in (301, 302, 303, 307, 308) and resp.headers.get("location"):
                url = urllib.parse.urljoin(url, resp.headers["location"])
                continue
            return resp.body
        raise GitHubError(0, "too many redirects", _bare(url))
