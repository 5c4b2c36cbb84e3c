"""Tamper check: the grader's own files in a student repository vs the template, by git blob SHA."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any

from autograde.github_api import GitHubClient
from autograde.integrity import protected, workflow


def watched(workflow_name: str) -> tuple[str, ...]:
    """Paths a student must not change: the template's given files (`integrity.protected()`, the lab pack's one
    list for both checks), with the grading workflow under its name in this assignment.

    Entries ending in `/` are folders (everything under them).
    """
    given = workflow()
    return tuple(f".github/workflows/{workflow_name}" if p == given else p for p in protected())


@dataclass
class Tree:
    blobs: dict[str, str]  # path -> blob sha, watched paths only
    truncated: bool


def is_watched(path: str, paths: tuple[str, ...]) -> bool:
    return any(path.startswith(p) if p.endswith("/") else path == p for p in paths)


def select(entries: list[dict[str, Any]], paths: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for e in entries:
        if (
            isinstance(e, dict)
            and e.get("type") != "tree"
            and isinstance(e.get("path"), str)
            and is_watched(e["path"], paths)
        ):
            out[e["path"]] = f"{e.get('mode', '')}:{e.get('sha', '')}"
    return out


def fetch_tree(client: GitHubClient, repo: str, ref: str, paths: tuple[str, ...]) -> Tree:
    """The watched part of repo's tree at ref (commit SHA, branch or tag)."""
    quoted = urllib.parse.quote(ref, safe="")
    data = client.get_json(f"/repos/{repo}/git/trees/{quoted}", {"recursive": "1"})
    entries = data.get("tree") if isinstance(data, dict) else None
    return Tree(select(entries if isinstance(entries, list) else [], paths), bool(data.get("truncated")))


def diff(template: dict[str, str], student: dict[str, str]) -> list[str]:
    """Paths added, removed or changed (content or mode) in the student's tree."""
    return sorted(p for p in set(template) | set(student) if template.get(p) != student.get(p))


def closest(templates: list[Tree], student: Tree) -> Tree:
    """The template version the student's tree differs least from (the later one given on a tie):
    the version they accepted, when the template changed after some students accepted it."""
    return min(reversed(templates), key=lambda t: len(diff(t.blobs, student.blobs)))


def is_classroom_autograding(workflow_text: str) -> bool:
    """True for the workflow GitHub Classroom writes when tests are added in the assignment's settings.

    Classroom's generated `classroom.yml` ("Autograding Tests", job `run-autograding-tests`) runs
    its own graders (`classroom-resources/autograding-*-grader`) and never `autograde grade`.
    """
    text = workflow_text.lower()
    if "autograde grade" in text:
        return False
    graders = (
        "classroom-resources/autograding-command-grader",
        "classroom-resources/autograding-io-grader",
        "classroom-resources/autograding-python-grader",
        "education/autograding",
    )
    return "run-autograding-tests" in text or any(g in text for g in graders)
