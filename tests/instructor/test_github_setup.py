"""The GitHub set-up `collect` and `grade-all` share: token, API URL, listing, what a failed call means."""

from __future__ import annotations

import pytest

from autograde.errors import UserError
from autograde.github_api import GitHubError, NotTheAPI
from autograde.instructor import github_setup as gs


def test_the_token_is_the_option_else_the_variable_else_a_clear_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "from-env")
    assert gs.find_token("given") == "given"
    assert gs.find_token(None) == "from-env"
    monkeypatch.delenv("GITHUB_TOKEN")
    with pytest.raises(UserError, match=r"no token: set GITHUB_TOKEN \(or pass --token\)"):
        gs.find_token(None)


def test_one_api_url_default_for_every_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_API_URL", raising=False)
    assert gs.find_api_url(None) == "https://api.github.com"
    monkeypatch.setenv("GITHUB_API_URL", "https://ghe.example.edu/api/v3")  # what a GitHub Actions runner sets
    assert gs.find_api_url(None) == "https://ghe.example.edu/api/v3"
    assert gs.find_api_url("http://127.0.0.1:9/api") == "http://127.0.0.1:9/api"
    with pytest.raises(UserError, match=r"is GitHub.s web site: the API is https://api\.github\.com"):
        gs.find_api_url("https://github.com")
    with pytest.raises(UserError, match="is not a URL"):
        gs.find_api_url("api.github.com")


def test_collect_and_grade_all_offer_the_same_github_options() -> None:
    import argparse

    from autograde.commands import collect, grade_all

    def options(module: object) -> dict[str, tuple[object, str | None]]:
        parser = argparse.ArgumentParser()
        module.add_arguments(parser)  # type: ignore[attr-defined]
        return {a.dest: (a.default, a.help) for a in parser._actions if a.dest in ("token", "api_url")}

    assert (
        options(collect)
        == options(grade_all)
        == {
            "token": (None, gs.TOKEN_HELP),
            "api_url": (None, gs.API_URL_HELP),
        }
    )


def test_a_failed_call_is_said_by_its_status() -> None:
    assert gs.explain(GitHubError(401, "Bad credentials", "/orgs/x/repos")).startswith(
        "bad credentials: Bad credentials"
    )
    assert gs.explain(GitHubError(403, "Resource not accessible", "/x")).startswith("not allowed: ")
    assert gs.explain(GitHubError(404, "Not Found", "/x"), "listing cs's repositories").startswith(
        "listing cs's repositories: not found: Not Found"
    )
    assert gs.explain(GitHubError(0, "network error: refused", "/x")).startswith("failed: network error")
    page = NotTheAPI(200, "https://ghe.example.edu answered with a web page, not the GitHub REST API", "/x")
    assert gs.explain(page) == page.message
    assert isinstance(gs.failure(GitHubError(401, "Bad credentials", "/x")), UserError)


def test_an_assignment_is_its_prefix_without_templates_sorted_by_name() -> None:
    repos = [
        {"name": "lab04-Bob", "full_name": "cs/lab04-Bob"},
        {"name": "lab04-template", "full_name": "cs/lab04-template", "is_template": True},
        {"name": "lab04-starter", "full_name": "cs/lab04-starter"},
        {"name": "lab045-x", "full_name": "cs/lab045-x"},
        {"name": "LAB04-alice", "full_name": "cs/LAB04-alice"},
    ]
    assert [r["name"] for r in gs.of_assignment(repos, "lab04")] == ["LAB04-alice", "lab04-Bob", "lab04-starter"]
    assert [r["name"] for r in gs.of_assignment(repos, "lab04", "CS/lab04-starter")] == ["LAB04-alice", "lab04-Bob"]
