"""The GitHub set-up every instructor command shares: token, API URL, and what a failed call means.

`collect` and `grade-all` (and grade-all's reading of its own workflow run) find the token and the
API base URL the same way, list an assignment's repositories the same way, and say a failed API
call the same way:

- token: `--token`, else `$GITHUB_TOKEN`;
- API URL: `--api-url`, else `$GITHUB_API_URL` (set by GitHub Actions, also on GitHub Enterprise
  Server), else https://api.github.com; one that cannot be a REST API base URL is refused;
- git host (grade-all's clones): `--git-url`, else `$GITHUB_SERVER_URL`, else https://github.com;
- an API status: 401 bad credentials, 403 not allowed, 404 not found; a web page instead of the
  API says which URL to use.
"""

from __future__ import annotations

import os
import urllib.parse
from typing import Any

from autograde.errors import UserError
from autograde.github_api import API_URL, GitHubClient, GitHubError, NotTheAPI

TOKEN_HELP = "GitHub token (default: $GITHUB_TOKEN; prefer the variable, a command line is visible to other users)"
API_URL_HELP = (
    f"GitHub API base URL (default: $GITHUB_API_URL, else {API_URL}; GitHub Enterprise Server: https://HOST/api/v3)"
)
ASSIGNMENT_ID_HELP = (
    "GitHub Classroom's id of the assignment: its accepted assignments name each student's repository, "
    "also one the student renamed (default: the organization's repositories named <prefix>-*)"
)
GIT_URL = "https://github.com"
STATUS_WORDS = {401: "bad credentials", 403: "not allowed", 404: "not found"}


def find_token(given: str | None) -> str:
    """The token to use: `given` (--token), else $GITHUB_TOKEN.

    Raises UserError when there is none.
    """
    token = given or os.environ.get("GITHUB_TOKEN") or None
    if not token:
        raise UserError("no token: set GITHUB_TOKEN (or pass --token)")
    return token


def api_url_problem(url: str) -> str | None:
    """A clear message for an --api-url that cannot be a REST API base URL, else None."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"--api-url {url!r} is not a URL: use {API_URL}, or https://HOST/api/v3 for GitHub Enterprise Server"
    if parts.hostname.lower() in ("github.com", "www.github.com"):
        return f"--api-url {url!r} is GitHub's web site: the API is {API_URL} (the default)"
    return None


def find_api_url(given: str | None) -> str:
    """The API base URL: `given` (--api-url), else $GITHUB_API_URL, else https://api.github.com.

    Raises UserError when it cannot be a REST API base URL (not a URL, or GitHub's web site).
    """
    url = given or os.environ.get("GITHUB_API_URL") or API_URL
    problem = api_url_problem(url)
    if problem:
        raise UserError(problem)
    return url


def find_git_url(given: str | None) -> str:
    """The git host to clone from: `given` (--git-url), else $GITHUB_SERVER_URL, else https://github.com."""
    return given or os.environ.get("GITHUB_SERVER_URL") or GIT_URL


def connect(token: str | None, api_url: str | None, **options: Any) -> GitHubClient:
    """A client for the API at `find_api_url(api_url)`; `options` go to GitHubClient (sleep, retries...).

    Raises UserError for an unusable API URL. The caller closes the client.
    """
    return GitHubClient(token, find_api_url(api_url), **options)


def explain(e: GitHubError, doing: str = "") -> str:
    """One line for a failed API call: what it means (bad credentials, not allowed, not found), then
    GitHub's own words; `doing` (e.g. "listing cs's repositories") is said first."""
    if isinstance(e, NotTheAPI):
        text = e.message
    else:
        text = f"{STATUS_WORDS.get(e.status, 'failed')}: {e}"
    return f"{doing}: {text}" if doing else text


def failure(e: GitHubError, doing: str = "") -> UserError:
    """The UserError to raise for a GitHub call the command cannot go on without (see `explain`)."""
    return UserError(explain(e, doing))


def list_all(client: GitHubClient, org: str) -> list[dict[str, Any]]:
    """Every repository of the organization (one listing, paginated).

    Raises GitHubError (github_api) when it cannot be listed; `failure` turns it into a UserError.
    """
    return [
        r for r in client.paginate(f"/orgs/{urllib.parse.quote(org)}/repos", {"type": "all"}) if isinstance(r, dict)
    ]


def of_assignment(repos: list[dict[str, Any]], prefix: str, template: str | None = None) -> list[dict[str, Any]]:
    """The repositories named `<prefix>-...` (GitHub Classroom's naming), by name; templates (and the
    repository `template`, owner/name, when given) left out."""
    want = prefix.lower() + "-"
    mine = [
        r
        for r in repos
        if str(r.get("name", "")).lower().startswith(want)
        and not r.get("is_template")
        and str(r.get("full_name", "")).lower() != (template or "").lower()
    ]
    return sorted(mine, key=lambda r: str(r["name"]).lower())
