"""A small GitHub REST client on `requests`: redirects, pagination, rate limits, downloads.

Public surface (for `collect` and any other instructor command):

- `GitHubClient.get(path, params) -> JSON` (`get_json` is the same)
- `GitHubClient.paginate(path, params, key=None) -> iterator of items` (follows `Link: rel="next"`)
- `GitHubClient.download(url, limit) -> bytes` (artifact zips: the 302 to storage gets no token)
- `GitHubClient.post(path, json) -> requests.Response` (never sent twice once GitHub may have acted on it)
- `GitHubClient.request(method, path, params=...) -> requests.Response` and `.json(resp)`, when the
  headers matter too (`Link`, `Date`: see `server_time`)
- `GitHubError` (`.status`, `.message`, `.url`; `.transient` when a rerun may succeed), `NotFound`, `Gone`,
  `Uncertain` (a mutating request whose outcome is unknown), `NotTheAPI` (the URL is not a REST API).

How it follows GitHub's REST documentation:

- Redirects (301 for renamed or transferred repositories, 302/307 elsewhere) are followed. The token
  goes only to the API's own origin (scheme, host, port): the session's auth adds it there only,
  `rebuild_auth` drops it on a redirect to any other host (such as the blob storage an artifact
  download redirects to), and `.netrc` credentials are never used instead.
  A POST is re-sent to the new location only on the API's origin, with its body.
- Idempotent requests (GET) are retried on network errors and 5xx by urllib3's `Retry`
  (exponential back-off, `Retry-After` respected on 503). A POST is retried only when it provably
  never reached GitHub (the connection could not be made); after a 5xx, a timeout or a dropped
  connection it raises `Uncertain` instead, so a workflow is never dispatched twice by a retry.
- Mutating requests are at least `mutation_interval` (1 s) apart.
- Primary rate limit (`x-ratelimit-remaining: 0`): wait until `x-ratelimit-reset`, measured on
  GitHub's clock (the answer's `Date`), also before the next request when a normal answer says 0.
  Secondary rate limit (403/429 with `retry-after`, or the "secondary rate limit" message): wait
  `retry-after` or 60 s, doubled for each further secondary limit in a row, and give up after
  `max_secondary` of them.
- Bodies are read to the end and checked: shorter than `Content-Length`, or a chunked body cut off,
  is retried and never returned as if whole.

Every wait goes through the injected `sleep` (and is announced to `listener`), so tests do not wait.
"""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import requests
import requests.adapters
import requests.auth
import urllib3.exceptions
from urllib3.util.retry import Retry

from autograde import __version__

API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
JSON = "application/vnd.github+json"
MAX_BODY = 16 * 1024 * 1024
REDIRECTS = (301, 302, 303, 307, 308)


class GitHubError(Exception):
    """An API call failed; `status` is the HTTP status (0 for network errors).

    `transient` is True when the same call may well succeed later (network, 5xx, rate limits,
    cut-off or refused downloads): callers must not record such a failure as a final result.
    """

    def __init__(self, status: int, message: str, url: str = "", *, transient: bool | None = None) -> None:
        super().__init__(f"{message} (HTTP {status}, {url})" if status else f"{message} ({url})")
        self.status = status
        self.message = message
        self.url = url
        self.transient = (status == 0 or status >= 500 or status == 429) if transient is None else transient


class NotFound(GitHubError):
    pass


class Gone(GitHubError):
    pass


class Uncertain(GitHubError):
    """A mutating request that GitHub may or may not have carried out (5xx, timeout, lost answer)."""


class NotTheAPI(GitHubError):
    """The server answered with a web page: `api_url` does not point at a REST API."""


class WaitListener(Protocol):
    def waiting(self, remaining: float, total: float, reason: str) -> None: ...


def _bare(url: str) -> str:
    """A URL without its query: signed storage URLs carry credentials there."""
    return url.split("?", 1)[0]


_QUERY = re.compile(r"""(/[^\s?'"<>]*)\?[^\s'"<>)]*=[^\s'"<>)]*""")  # a path's `?key=value...`


def _scrub(text: str, token: str | None) -> str:
    """No token, and no URL query (a signed storage URL's signature), in a message."""
    text = _QUERY.sub(r"\1", text)
    return text.replace(token, "***") if token else text


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def server_time(resp: requests.Response) -> datetime | None:
    """GitHub's clock at the time of the answer (its `Date` header), if it sent one."""
    date = resp.headers.get("date")
    if not date:
        return None
    try:
        when = parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class _Retry(Retry):
    """urllib3's Retry with an injectable sleep; 429 is left to the client's rate-limit rules."""

    RETRY_AFTER_STATUS_CODES = frozenset({503})
    sleeper: Callable[[float], None] = staticmethod(time.sleep)

    def new(self, **kw: Any) -> _Retry:
        fresh = super().new(**kw)
        fresh.sleeper = self.sleeper
        return fresh

    def sleep(self, response: Any = None) -> None:
        wait = self.get_retry_after(response) if (self.respect_retry_after_header and response is not None) else None
        if wait is None:
            wait = self.get_backoff_time()
        if wait and wait > 0:
            self.sleeper(min(wait, 300.0))


class _Session(requests.Session):
    """A session whose redirects keep the token only on the API's origin, and add no `.netrc` login."""

    def __init__(self, api_origin: tuple[str, str, int | None]) -> None:
        super().__init__()
        self.api_origin = api_origin

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        if _origin(prepared_request.url or "") != self.api_origin:
            prepared_request.headers.pop("Authorization", None)


class _Bearer(requests.auth.AuthBase):
    """The token, for the API's origin only. Being the session's auth, it also keeps requests from
    putting `.netrc` credentials in its place."""

    def __init__(self, token: str | None, api_origin: tuple[str, str, int | None]) -> None:
        self.token = token
        self.api_origin = api_origin

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers.pop("Authorization", None)
        if self.token and _origin(r.url or "") == self.api_origin:
            r.headers["Authorization"] = f"Bearer {self.token}"
        return r


def _never_connected(e: Exception) -> bool:
    """True when the connection itself failed, so the request was never sent."""
    inner = e.args[0] if e.args else None
    reason = getattr(inner, "reason", inner)
    return isinstance(reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError))


class _Truncated(Exception):
    pass


class _TooLarge(Exception):
    pass


class GitHubClient:
    def __init__(
        self,
        token: str | None,
        api_url: str = API_URL,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        listener: WaitListener | None = None,
        timeout: float = 30.0,
        max_retries: int = 4,
        max_waits: int = 20,
        max_secondary: int = 6,
        secondary_wait: float = 60.0,
        mutation_interval: float = 1.0,
        backoff: float = 1.0,
    ) -> None:
        self._token = token
        self.api_url = api_url.rstrip("/")
        self._api_origin = _origin(self.api_url)
        self.sleep = sleep
        self.clock = clock
        self.monotonic = monotonic
        self.listener = listener
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_waits = max_waits
        self.max_secondary = max_secondary
        self.secondary_wait = secondary_wait
        self.mutation_interval = mutation_interval
        self.backoff = backoff
        self.requests = 0  # HTTP answers received (redirect hops included)
        self.remaining: int | None = None  # x-ratelimit-remaining, as last seen
        self._resume_at: float | None = None  # monotonic time when the primary limit resets
        self._secondary_streak = 0  # secondary-limit answers in a row
        self._last_mutation: float | None = None
        self._server_offset: float | None = None  # GitHub's clock minus ours, from the last `Date`

        retry = _Retry(
            total=max_retries,
            connect=max_retries,
            read=max_retries,
            status=max_retries,
            other=0,
            backoff_factor=backoff,
            status_forcelist=(500, 502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD"}),
            raise_on_status=False,
            raise_on_redirect=False,
            respect_retry_after_header=True,
        )
        retry.sleeper = sleep
        self.session = _Session(self._api_origin)
        self.session.max_redirects = 10
        self.session.auth = _Bearer(token, self._api_origin)
        adapter = requests.adapters.HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": f"autograde/{__version__}", "X-GitHub-Api-Version": API_VERSION})
        self.session.hooks["response"].append(self._count)

    def __repr__(self) -> str:  # never show the token
        return f"GitHubClient({self.api_url!r})"

    def close(self) -> None:
        """Close the connections. Raises nothing."""
        self.session.close()

    # ------------------------------------------------------------------ public API

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET an API path (or absolute URL on the API) and return its JSON.

        Raises GitHubError (NotFound, Gone, NotTheAPI, ...) for anything but a 2xx answer of JSON.
        """
        return self._json(self.request("GET", path, params=params))

    get_json = get

    def paginate(self, path: str, params: dict[str, Any] | None = None, key: str | None = None) -> Iterator[Any]:
        """Items of a list endpoint, following `Link: rel="next"` across pages (page or cursor based).

        `key` names the list inside an object answer (e.g. `workflow_runs`, `artifacts`).

        Raises GitHubError as `get` does, also for a page that holds no list.
        """
        url: str | None = path
        query: dict[str, Any] | None = {"per_page": 100, **(params or {})}
        while url:
            resp = self.request("GET", url, params=query)
            data = self._json(resp)
            items = data.get(key, []) if key and isinstance(data, dict) else data
            if not isinstance(items, list):
                raise GitHubError(resp.status_code, "expected a list from a paginated endpoint", _bare(resp.url))
            yield from items
            url = (resp.links.get("next") or {}).get("url")
            query = None  # the next link carries the query

    def post(self, path: str, json: Any = None) -> requests.Response:
        """POST JSON; returns the answer (2xx). Paced, never retried once GitHub may have acted on it.

        Raises GitHubError; `Uncertain` when GitHub may have acted on it all the same.
        """
        return self.request("POST", path, json_body=json)

    def download(self, url: str, limit: int, *, attempts: int = 3) -> bytes:
        """GET a file (e.g. an artifact's `archive_download_url`), following its redirect to storage.

        The storage host never gets the token. A body cut off or a refused (e.g. expired) signed
        URL is retried from the API URL, which hands out a fresh signed URL; if it keeps failing,
        a transient `GitHubError` is raised. More than `limit` bytes raises a non-transient one.
        """
        last: GitHubError | None = None
        for attempt in range(attempts):
            if attempt:
                self._pause(self.backoff * 2**attempt, "download failed, retrying")
            try:
                return self.request("GET", url, accept=JSON, max_body=limit, raw=True).content
            except _StorageRefused as e:
                last = e
        assert last is not None
        raise GitHubError(last.status, f"{last.message} ({attempts} tries)", last.url, transient=True)

    # ------------------------------------------------------------------ plumbing

    def _count(self, resp: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.requests += 1

    def _url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.api_url + path

    def _headers(self, url: str, accept: str) -> dict[str, str]:
        return {"Accept": accept}  # the token is added by the session's auth, for the API's origin only

    def json(self, resp: requests.Response) -> Any:
        """The JSON of an answer from `request` (None when empty); a GitHubError if it is not JSON."""
        return self._json(resp)

    def _json(self, resp: requests.Response) -> Any:
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise (
                self._not_api(resp)
                if self._looks_like_web_page(resp)
                else GitHubError(resp.status_code, "the API answered with something that is not JSON", _bare(resp.url))
            ) from None

    @staticmethod
    def _looks_like_web_page(resp: requests.Response) -> bool:
        kind = resp.headers.get("content-type", "").lower()
        return "text/html" in kind or resp.content[:200].lstrip().lower().startswith((b"<!doctype html", b"<html"))

    def _not_api(self, resp: requests.Response) -> NotTheAPI:
        hint = ""
        if (
            not urllib.parse.urlsplit(self.api_url).path.rstrip("/").endswith("/api/v3")
            and self._api_origin[1] != "api.github.com"
        ):
            parts = urllib.parse.urlsplit(self.api_url)
            hint = f"; for GitHub Enterprise Server use --api-url {parts.scheme}://{parts.netloc}/api/v3"
        return NotTheAPI(
            resp.status_code,
            f"{self.api_url} answered with a web page, not the GitHub REST API{hint}",
            _bare(resp.url),
            transient=False,
        )

    def _message(self, resp: requests.Response) -> str:
        try:
            data = resp.json()
            msg = data.get("message") if isinstance(data, dict) else None
        except ValueError:
            msg = None
        text = msg or resp.content[:120].decode("utf-8", "replace") or resp.reason or "no message"
        return _scrub(str(text), self._token)[:200]

    def rate_limit_wait(self, resp: requests.Response) -> tuple[float, str] | None:
        """(seconds, "primary" or "secondary") if resp is a rate-limit answer, else None.

        The secondary wait is the first one; `request` doubles it for each further one in a row.
        """
        if resp.status_code not in (403, 429):
            return None
        h = resp.headers
        retry_after = h.get("retry-after")
        if retry_after:
            try:
                return max(float(retry_after), 1.0), "secondary"
            except ValueError:
                return self.secondary_wait, "secondary"
        if h.get("x-ratelimit-remaining") == "0" and h.get("x-ratelimit-reset"):
            return self._until_reset(resp), "primary"
        if resp.status_code == 429 or "secondary rate limit" in self._message(resp).lower():
            return self.secondary_wait, "secondary"
        if "rate limit" in self._message(resp).lower():
            return self.secondary_wait, "primary"
        return None

    def _until_reset(self, resp: requests.Response) -> float:
        """Seconds until x-ratelimit-reset, on GitHub's clock when the answer has a Date."""
        try:
            reset = float(resp.headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return self.secondary_wait
        now = server_time(resp)
        base = now.timestamp() if now else self.clock()
        return max(reset - base, 0.0) + 1.0

    def server_now(self) -> datetime:
        """GitHub's current time as far as we know it (our clock corrected by the last `Date` seen)."""
        return datetime.fromtimestamp(self.clock() + (self._server_offset or 0.0), UTC)

    def _note_limits(self, resp: requests.Response) -> None:
        when = server_time(resp)
        if when is not None and _origin(resp.url) == self._api_origin:
            self._server_offset = when.timestamp() - self.clock()
        if _origin(resp.url) != self._api_origin or "x-ratelimit-remaining" not in resp.headers:
            return
        try:
            self.remaining = int(resp.headers["x-ratelimit-remaining"])
        except ValueError:
            return
        if self.remaining == 0 and resp.status_code < 400 and resp.headers.get("x-ratelimit-reset"):
            self._resume_at = self.monotonic() + self._until_reset(resp)

    def wait(self, seconds: float, reason: str) -> None:
        """Sleep in short steps, telling the listener how long is left."""
        remaining = seconds
        while remaining > 0:
            if self.listener:
                self.listener.waiting(remaining, seconds, reason)
            step = min(remaining, 5.0)
            self.sleep(step)
            remaining -= step

    def _pause(self, seconds: float, reason: str) -> None:
        if seconds > 0:
            self.sleep(seconds)

    def _pace(self) -> None:
        """At least `mutation_interval` seconds between mutating requests (GitHub's guidance)."""
        if self._last_mutation is not None:
            gap = self.mutation_interval - (self.monotonic() - self._last_mutation)
            if gap > 0:
                self.sleep(gap)

    def _read(self, resp: requests.Response, limit: int) -> None:
        """Read the whole body into resp._content, checking its length. Raises _Truncated or _TooLarge."""
        chunks = []
        total = 0
        try:
            for chunk in resp.iter_content(64 * 1024):
                total += len(chunk)
                if total > limit:
                    raise _TooLarge(total)
                chunks.append(chunk)
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ConnectionError,
            requests.exceptions.ContentDecodingError,
        ) as e:
            raise _Truncated(f"the transfer was cut off after {total} bytes ({type(e).__name__})") from None
        finally:
            resp.close()
        declared = resp.headers.get("content-length")
        if declared and not resp.headers.get("content-encoding") and declared.isdigit() and int(declared) != total:
            raise _Truncated(f"got {total} of {declared} bytes")
        resp._content = b"".join(chunks)  # what requests does itself; `.content` and `.json()` work

    def _send(
        self, method: str, url: str, params: dict[str, Any] | None, json_body: Any, accept: str
    ) -> requests.Response:
        """One request; a POST's redirects are followed by hand (same origin, same method and body)."""
        mutating = method not in ("GET", "HEAD")
        for _ in range(10):
            resp = self.session.request(
                method,
                url,
                params=params,
                json=json_body,
                headers=self._headers(url, accept),
                timeout=self.timeout,
                stream=True,
                allow_redirects=not mutating,
            )
            if not (mutating and resp.status_code in REDIRECTS and resp.headers.get("location")):
                return resp
            resp.close()
            url, params = urllib.parse.urljoin(resp.url, resp.headers["location"]), None
            if _origin(url) != self._api_origin:
                raise GitHubError(
                    resp.status_code, f"{method} redirected away from the API to {_bare(url)}", url, transient=False
                )
        raise GitHubError(0, "too many redirects", _bare(url), transient=False)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        accept: str = JSON,
        max_body: int = MAX_BODY,
        raw: bool = False,
    ) -> requests.Response:
        """One API call, body read and verified; 2xx returned, everything else raised as GitHubError."""
        url = self._url(path)
        mutating = method not in ("GET", "HEAD")
        params = {k: v for k, v in (params or {}).items() if v is not None} or None
        retries = waits = 0
        while True:
            if self._resume_at is not None:
                left, self._resume_at = self._resume_at - self.monotonic(), None
                if left > 0:
                    self.wait(left, "GitHub rate limit used up until its reset")
            if mutating:
                self._pace()
            try:
                try:
                    resp = self._send(method, url, params, json_body, accept)
                    self._read(resp, max_body)
                finally:
                    if mutating:
                        self._last_mutation = self.monotonic()
            except _TooLarge:
                raise GitHubError(200, f"answer larger than {max_body} bytes", _bare(url), transient=False) from None
            except requests.exceptions.TooManyRedirects:
                raise GitHubError(0, "too many redirects", _bare(url), transient=False) from None
            except (_Truncated, requests.exceptions.RequestException) as e:
                reason = _scrub(str(e), self._token)
                if mutating:
                    never_sent = isinstance(e, requests.exceptions.ConnectTimeout) or (
                        isinstance(e, requests.exceptions.ConnectionError) and _never_connected(e)
                    )
                    if never_sent:
                        raise GitHubError(0, f"network error: {reason[:200]}", _bare(url)) from None
                    raise Uncertain(
                        0, f"no complete answer, GitHub may have acted on it: {reason[:160]}", _bare(url)
                    ) from None
                if retries >= self.max_retries:
                    raise GitHubError(0, f"network error: {reason[:200]}", _bare(url)) from None
                retries += 1
                self._pause(self.backoff * 2**retries, "network error, retrying")
                continue

            api_answer = _origin(resp.url) == self._api_origin
            self._note_limits(resp)
            if resp.status_code < 300:
                self._secondary_streak = 0
                if not raw and resp.content and self._looks_like_web_page(resp):
                    raise self._not_api(resp)
                return resp
            if not api_answer:  # storage refused: expired signed URL, or the like
                raise _StorageRefused(
                    resp.status_code,
                    f"the artifact storage refused the download ({self._message(resp)[:80]})",
                    _bare(resp.url),
                    transient=True,
                )
            if resp.status_code < 500 and self._looks_like_web_page(resp):  # GitHub's own 5xx pages are HTML too
                raise self._not_api(resp)
            limit = self.rate_limit_wait(resp)
            if limit is not None:
                seconds, kind = limit
                if kind == "secondary":
                    self._secondary_streak += 1
                    if self._secondary_streak > self.max_secondary:
                        self._secondary_streak = 0
                        raise GitHubError(
                            resp.status_code,
                            "GitHub's secondary rate limit persists: " + self._message(resp),
                            _bare(url),
                            transient=True,
                        )
                    seconds = min(seconds * 2 ** (self._secondary_streak - 1), 3600.0)
                if waits < self.max_waits:
                    waits += 1
                    self.wait(seconds, f"rate limited by GitHub ({kind} limit)")
                    continue
                raise GitHubError(resp.status_code, self._message(resp), _bare(url), transient=True)
            self._secondary_streak = 0
            if resp.status_code in REDIRECTS:
                raise GitHubError(resp.status_code, "redirect without a usable Location", _bare(url), transient=False)
            message = self._message(resp)
            if mutating and resp.status_code >= 500:
                raise Uncertain(resp.status_code, f"{message}; GitHub may have acted on it", _bare(url))
            cls = NotFound if resp.status_code == 404 else Gone if resp.status_code == 410 else GitHubError
            raise cls(resp.status_code, message, _bare(url))


class _StorageRefused(GitHubError):
    """The storage host (not the API) refused a download, e.g. an expired signed URL."""
