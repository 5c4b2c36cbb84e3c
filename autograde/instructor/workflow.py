"""grade-all inside the class workflow (instructor/grade-class.yml): annotations and the run's jobs.

An `::error::` annotation puts the reason for a red job on the run's summary page instead of only
"Process completed with exit code 2". The jobs API says how each `Grade chunk <n>` job ended, the
reason a chunk left no report.
"""

from __future__ import annotations

import os
import re
import sys
import urllib.parse
from typing import Any


def _escape(text: str, *, prop: bool = False) -> str:
    # GitHub's workflow command escaping (data: % CR LF; properties also : and ,)
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def annotate(title: str, message: str, level: str = "error") -> None:
    """Print an annotation (on stderr, which the runner reads like stdout) when on GitHub Actions."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(f"::{level} title={_escape(title, prop=True)}::{_escape(message)}", file=sys.stderr, flush=True)


CHUNK_JOB = re.compile(r"^Grade chunk (\d+)$")  # the class workflow's matrix job, named by strategy.job-index


def chunk_outcomes(client: Any, repository: str, run_id: str) -> dict[int, str]:
    """Chunk index -> how its `Grade chunk <n>` job of this run ended (conclusion or status), with its link.

    From GitHub's jobs API (GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs, the latest attempt).

    Raises GitHubError when the run's jobs cannot be read.
    """
    out: dict[int, str] = {}
    path = f"/repos/{repository}/actions/runs/{urllib.parse.quote(run_id)}/jobs"
    for job in client.paginate(path, {"filter": "latest"}, key="jobs"):
        if not isinstance(job, dict):
            continue
        m = CHUNK_JOB.match(str(job.get("name", "")))
        if m:
            state = str(job.get("conclusion") or job.get("status") or "unknown")
            url = str(job.get("html_url") or "")
            out[int(m.group(1))] = f"`{state}`" + (f" ({url})" if url else "")
    return out


def run_outcomes(run_id: str, api_url: str | None) -> tuple[dict[int, str], str]:
    """chunk_outcomes for the current repository ($GITHUB_REPOSITORY, $GITHUB_TOKEN), or ({}, why not).

    Raises nothing: a run whose jobs cannot be read (no repository, unusable API URL, API error)
    gives an empty answer and the reason, and the gradebook is written all the same.
    """
    from autograde.errors import UserError
    from autograde.github_api import GitHubError
    from autograde.instructor.github_setup import connect

    repository, token = os.environ.get("GITHUB_REPOSITORY", ""), os.environ.get("GITHUB_TOKEN") or None
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
        return {}, "GITHUB_REPOSITORY is not set"
    try:
        client = connect(token, api_url, max_retries=2)
    except UserError as e:
        return {}, str(e)
    try:
        return chunk_outcomes(client, repository, run_id), ""
    except GitHubError as e:
        return {}, f"the run's jobs could not be read: {e}"
    finally:
        client.close()
