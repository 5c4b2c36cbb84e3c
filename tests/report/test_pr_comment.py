"""The grade as one comment on the pushed branch's open pull request, against a fake GitHub that
paginates and refuses like the real API."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from autograde.report import pr_comment

from .fake_github_pr import FakeGitHubPulls
from .test_summary_markdown import failed_build

TOKEN = "ghs_" + "a" * 36


@pytest.fixture
def gh():
    fake = FakeGitHubPulls(TOKEN).start()
    yield fake
    fake.stop()


def env_for(gh: FakeGitHubPulls, branch: str = "main", **extra: str) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": gh.repo,
        "GITHUB_API_URL": gh.api_url,
        "GITHUB_REF": f"refs/heads/{branch}",
        "GITHUB_REF_NAME": branch,
        "GITHUB_REF_TYPE": "branch",
        "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
        "GITHUB_RUN_ID": "4242",
        **extra,
    }


def quick(token: str, api: str):
    from autograde.github_api import GitHubClient

    return GitHubClient(token, api, sleep=lambda s: None, mutation_interval=0, backoff=0)


@pytest.mark.slow
def test_posts_the_summary_on_the_branchs_open_pull_request_and_updates_it_in_place(gh):
    gh.add_pull(1, "main")
    gh.add_pull(2, "other-branch")
    for i in range(5):  # the grader's comment is on the third page: the client must follow Link headers
        gh.add_comment(1, f"a remark {i}", "teacher")
    results = failed_build()
    first = pr_comment.post(results, env_for(gh), quick)
    assert first.done == "created", first.note
    mine = [c for c in gh.comments[1] if c["body"].startswith(pr_comment.MARKER)]
    assert len(mine) == 1 and gh.comments[2] == []
    text = mine[0]["body"]
    assert f"## ❌ Autograde: {results.total} / {results.possible} points" in text
    assert "**Fix first:**" in text and "### What to do" in text
    assert "/org/lab04-ann/" not in text and f"{gh.repo}/actions/runs/4242" in text
    assert "| | Check |" not in text  # the score, Fix first and What to do; the table stays on the summary page
    for i in range(3):  # every further push edits the same comment
        results.checks[0].score = i
        again = pr_comment.post(results, env_for(gh), quick)
        assert again.done == "updated", again.note
    assert len([c for c in gh.comments[1] if c["body"].startswith(pr_comment.MARKER)]) == 1
    assert gh.count("POST") == 1 and gh.count("PATCH") == 3
    assert any("page=3" in p for _, p, _ in gh.log), "the comments were read across pages"


def test_a_persons_comment_with_the_marker_is_not_taken_for_the_graders(gh):
    gh.add_pull(7, "main")
    gh.add_comment(7, pr_comment.MARKER + "\nI copied this", "student")
    outcome = pr_comment.post(failed_build(), env_for(gh), quick)
    assert outcome.done == "created"
    assert gh.comments[7][0]["body"].endswith("I copied this") and gh.count("PATCH") == 0


def test_no_open_pull_request_means_no_comment(gh):
    gh.add_pull(3, "main", state="closed")
    outcome = pr_comment.post(failed_build(), env_for(gh), quick)
    assert outcome.done == "none" and "no open pull request for the branch main" in outcome.note
    assert gh.count("POST") == 0


def test_a_token_without_pull_requests_write_is_only_noted(gh):
    gh.add_pull(1, "main")
    gh.writable = False
    outcome = pr_comment.post(failed_build(), env_for(gh), quick)
    assert outcome.done == "skipped"
    assert "HTTP 403" in outcome.note and "Resource not accessible by integration" in outcome.note
    assert "pull-requests: write" in outcome.note
    assert TOKEN not in outcome.note


@pytest.mark.slow
def test_the_command_never_fails_the_run(gh, tmp_path):
    gh.add_pull(1, "main")
    gh.writable = False
    report = tmp_path / "autograde-report.json"
    report.write_text(json.dumps(failed_build().to_dict()))
    env = {**env_for(gh), "PATH": os.environ["PATH"]}
    proc = subprocess.run(
        [sys.executable, "-m", "autograde", "comment", "--json", str(report)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "pull-requests: write" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "autograde", "comment", "--json", str(tmp_path / "none.json")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 0 and "cannot read" in missing.stderr


def test_outside_a_branch_push_nothing_is_sent(gh):
    outcome = pr_comment.post(failed_build(), env_for(gh, GITHUB_REF_TYPE="tag"), quick)
    assert outcome.done == "skipped" and gh.log == []


def test_the_body_is_cut_below_githubs_limit():
    results = failed_build()
    results.checks[1].hint = "x " * 40_000
    assert len(pr_comment.body(results, {})) <= 65_536


def test_the_workflow_grants_the_permission_and_never_fails_on_the_comment():
    import yaml

    from support import REPO

    wf = yaml.safe_load((REPO / ".github/workflows/classroom.yml").read_text())
    job = next(iter(wf["jobs"].values()))
    assert job["permissions"].get("pull-requests") == "write"
    step = next(s for s in job["steps"] if "autograde comment" in (s.get("run") or ""))
    assert step.get("continue-on-error") is True
    assert "github.token" in step["env"]["GITHUB_TOKEN"]
    names = [s.get("name") for s in job["steps"]]
    assert names.index(step["name"]) > names.index("Grade")
