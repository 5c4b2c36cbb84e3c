"""The grade as one comment on the pushed branch's open pull request (GitHub Classroom's "Feedback"
pull request), updated in place on every push.

The comment holds what the job summary leads with: the score, Fix first and What to do, and a link
to the run. It is found again by a hidden marker at its start, written by a bot (the workflow's
token), so a push edits it instead of adding another. Creating or editing it needs the workflow
permission `pull-requests: write`; without it GitHub answers 403 ("Resource not accessible by
integration") and the grader only says so in the log: a missing comment never fails the run.

REST endpoints (GitHub's REST documentation, API version 2022-11-28):
  GET   /repos/{owner}/{repo}/pulls?state=open&head={owner}:{branch}   the branch's open pull requests
  GET   /repos/{owner}/{repo}/issues/{number}/comments                 its comments (paginated)
  POST  /repos/{owner}/{repo}/issues/{number}/comments                 {"body"} -> 201
  PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}             {"body"} -> 200
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from autograde.report import github
from autograde.results import GradingResults

MARKER = "<!-- autograde:feedback -->"
MAX_BODY = 65_000  # GitHub refuses comment bodies over 65,536 characters


def body(results: GradingResults, env: Mapping[str, str]) -> str:
    """The comment: the marker, the score, Fix first, What to do and where the full report is."""
    lines = [MARKER, *github.feedback(results, env)]
    server = (env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    repo, run = env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_RUN_ID", "")
    sha = (env.get("GITHUB_SHA") or results.source.get("commit", ""))[:7]
    if repo and run.isdigit():
        lines.append(
            f"Graded commit {sha or '(unknown)'}; the full report (every check, the logs, the image sizes) is on "
            f"[the run's summary page]({server}/{repo}/actions/runs/{run}). This comment is updated on every push."
        )
    text = "\n".join(lines).rstrip() + "\n"
    if len(text) > MAX_BODY:
        text = text[: MAX_BODY - 40].rsplit("\n", 1)[0] + "\n\n… (cut; see the run's summary page)\n"
    return text


@dataclass
class Outcome:
    done: str  # "created", "updated", "none" (nothing to comment on) or "skipped" (could not)
    note: str  # one line for the log
    url: str = ""


def _branch(env: Mapping[str, str]) -> str:
    if env.get("GITHUB_REF_TYPE", "branch") != "branch":
        return ""
    ref = env.get("GITHUB_REF", "")
    return env.get("GITHUB_REF_NAME") or (ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else "")


def _own(comment: Any) -> bool:
    """A comment this grader wrote: a bot's (the workflow's token), starting with the marker. A person's
    comment quoting the marker is never edited."""
    if not isinstance(comment, dict):
        return False
    user = comment.get("user") or {}
    text = comment.get("body") or ""
    return isinstance(text, str) and text.startswith(MARKER) and isinstance(user, dict) and user.get("type") == "Bot"


def post(
    results: GradingResults,
    env: Mapping[str, str],
    client_factory: Callable[[str, str], Any] | None = None,
) -> Outcome:
    """Create or update the comment on each open pull request of the pushed branch. Never raises for
    GitHub's answers: a refusal (403: the token lacks `pull-requests: write`) or any other failure is
    told in the returned note."""
    from autograde.github_api import API_URL, GitHubClient, GitHubError

    token, repo, branch = env.get("GITHUB_TOKEN", ""), env.get("GITHUB_REPOSITORY", ""), _branch(env)
    if not token or not re.fullmatch(r"[\w.-]+/[\w.-]+", repo) or not branch:
        missing = [
            n for n, v in (("GITHUB_TOKEN", token), ("GITHUB_REPOSITORY", repo), ("a branch ref", branch)) if not v
        ]
        return Outcome("skipped", f"no pull request comment: {', '.join(missing) or 'GITHUB_REPOSITORY'} not set")
    api = (env.get("GITHUB_API_URL") or API_URL).rstrip("/")
    client = (
        client_factory(token, api)
        if client_factory
        else GitHubClient(token, api, max_retries=2, max_waits=2, max_secondary=1, secondary_wait=10)
    )
    owner = repo.split("/")[0]
    text = body(results, env)
    done: list[str] = []
    try:
        pulls = [
            p
            for p in client.paginate(f"/repos/{repo}/pulls", {"state": "open", "head": f"{owner}:{branch}"})
            if isinstance(p, dict) and isinstance(p.get("number"), int)
        ]
        if not pulls:
            return Outcome("none", f"no open pull request for the branch {branch}: no comment posted")
        url = ""
        for pull in pulls:
            number = pull["number"]
            mine = next(
                (c for c in client.paginate(f"/repos/{repo}/issues/{number}/comments") if _own(c)),
                None,
            )
            if mine is not None:
                resp = client.request("PATCH", f"/repos/{repo}/issues/comments/{mine['id']}", json_body={"body": text})
                done.append(f"updated the grade comment on pull request #{number}")
            else:
                resp = client.post(f"/repos/{repo}/issues/{number}/comments", {"body": text})
                done.append(f"posted the grade as a comment on pull request #{number}")
            answer = client.json(resp)
            url = answer.get("html_url", "") if isinstance(answer, dict) else ""
        kind = "updated" if all(d.startswith("updated") for d in done) else "created"
        return Outcome(kind, "; ".join(done), url)
    except GitHubError as e:
        so_far = "; ".join(done) + "; then " if done else ""
        if e.status in (403, 404):
            return Outcome(
                "skipped",
                f"{so_far}no pull request comment: GitHub refused (HTTP {e.status}: {e.message}); the workflow's "
                "token needs `permissions: pull-requests: write` for it. The grade itself is unaffected.",
            )
        return Outcome("skipped", f"{so_far}no pull request comment: {e}. The grade itself is unaffected.")
    finally:
        close = getattr(client, "close", None)
        if callable(close):
            close()
