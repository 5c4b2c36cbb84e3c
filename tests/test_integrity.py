"""`modified_files`: the given files a student changed, whatever grader version and installation compares."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograde.integrity import (
    DATA,
    DATA_NAME,
    WORKFLOW,
    Fingerprints,
    fingerprint,
    known_digests,
    load,
    modified,
    read_history,
    record,
)
from support import REPO, make_checkout, template_copy

TEST = "app/tests/test_main.py"


def test_shipped_fingerprints_match_the_template():
    """Fails when a given lab file changes without `python -m autograde.integrity --write`."""
    known = load()
    current = fingerprint(REPO)
    assert known.lab_versions[-1] == {p: d for p, d in current.items() if not p.startswith("autograde/")}
    assert known.grader == {p: d for p, d in current.items() if p.startswith("autograde/")}
    assert DATA_NAME not in current
    assert modified(REPO) == []


def test_an_installed_grader_finds_nothing_changed_in_the_untouched_template(tmp_path: Path):
    """The grader's own fingerprint file elsewhere (site-packages) and the checkout's copy of it."""
    installed = tmp_path / "site-packages" / "autograde" / "data" / "template-files.json"
    installed.parent.mkdir(parents=True)
    shutil.copy2(DATA, installed)
    student = template_copy(tmp_path / "student")
    assert modified(student, installed) == []
    assert modified(REPO, installed) == []


def test_changed_given_files_are_reported(tmp_path):
    root = make_checkout(
        tmp_path / "c",
        files={
            "app/tests/test_main.py": "def test_nothing():\n    pass\n",
            "app/Dockerfile": "FROM python:3.13\nRUN head -c 900000000 /dev/zero > /x\n",
        },
    )
    changed = modified(root)
    assert "app/tests/test_main.py" in changed and "app/Dockerfile" in changed
    assert "app/main.py" not in changed and "docker-compose.yml" not in changed


@pytest.mark.slow
def test_same_version_reports_exactly_the_files_changed(tmp_path: Path):
    hints = (REPO / "autograde/checks/hints.py").read_text() + "\n# always pass\n"
    student = template_copy(
        tmp_path / "s", {TEST: "def test_x():\n    assert True\n", "autograde/checks/hints.py": hints}
    )
    assert modified(student) == [TEST, "autograde/checks/hints.py"]
    extra = template_copy(tmp_path / "e", {"autograde/checks/always_pass.py": "X = 1\n", "app/tests/conftest.py": None})
    assert modified(extra) == ["app/tests/conftest.py", "autograde/checks/always_pass.py"]
    gone = template_copy(tmp_path / "g", {DATA_NAME: None})
    assert modified(gone) == [DATA_NAME]
    outside = template_copy(tmp_path / "o")
    shutil.rmtree(outside / "app/tests")
    (outside / "app/tests").symlink_to("/", target_is_directory=True)  # never walked
    assert modified(outside) == ["app/tests/conftest.py", "app/tests/test_main.py"]
    linked = template_copy(tmp_path / "l", {DATA_NAME: None, "autograde/checks/hints.py": hints})
    (linked / DATA_NAME).symlink_to(DATA)
    assert modified(linked) == ["autograde/checks/hints.py", DATA_NAME]


@pytest.fixture
def newer_grader(tmp_path: Path) -> Path:
    """The fingerprint file of a grader one template commit newer than the student's copy: the
    instructor fixed a bug in autograde/, reworded a test and the workflow after students accepted."""
    newer = template_copy(tmp_path / "newer")
    for rel, extra in (
        ("autograde/checks/hints.py", "\n# a better hint\n"),
        ("app/tests/test_main.py", "\n# a clearer assertion message\n"),
        (WORKFLOW, "\n# a step renamed\n"),
    ):
        (newer / rel).write_text((newer / rel).read_text() + extra)
    ran = subprocess.run(
        [sys.executable, "-m", "autograde.integrity", "--write", str(newer)], cwd=newer, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    data = newer / DATA_NAME
    history = load(data)
    assert history.lab_versions[:-1] == load().lab_versions and history.lab_versions[-1] != load().lab_versions[-1]
    return data


def test_a_newer_grader_does_not_flag_an_untouched_older_copy(tmp_path: Path, newer_grader: Path):
    assert modified(template_copy(tmp_path / "untouched"), newer_grader) == []


@pytest.mark.parametrize(
    "changes",
    [
        {TEST: "def test_x():\n    assert True\n"},
        {"app/main.py": "print('hi')\n"},
        {"docker-compose.yml": "services: {}\n", "app/requirements-dev.txt": "pytest\n"},
        {WORKFLOW: "on: push\njobs: {}\n"},
        {"app/tests/conftest.py": None},
    ],
    ids=["tests", "app", "dev-files", "workflow", "deleted-test-file"],
)
def test_a_newer_grader_names_exactly_what_the_student_changed(
    tmp_path: Path, newer_grader: Path, changes: dict[str, str | None]
):
    student = template_copy(tmp_path / "student", changes)
    assert modified(student, newer_grader) == sorted(changes)


def test_a_copy_of_the_newer_template_is_not_flagged_either(tmp_path: Path, newer_grader: Path):
    newer = newer_grader.parents[2]
    assert modified(newer, newer_grader) == []
    student = template_copy(tmp_path / "s", {TEST: "def test_x():\n    assert True\n"})
    shutil.copytree(newer / "autograde", student / "autograde", dirs_exist_ok=True)
    (student / WORKFLOW).write_bytes((newer / WORKFLOW).read_bytes())
    # the student's test file is the old template's, changed: compared with the closest version
    assert modified(student, newer_grader) == [TEST]


def _git(repo: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "T"}
    env |= {"GIT_COMMITTER_EMAIL": "t@example.com", "PATH": os.environ["PATH"], "HOME": str(repo)}
    return subprocess.run(["git", *argv], cwd=repo, env=env, capture_output=True, text=True)


@pytest.mark.slow
def test_write_keeps_every_version_and_reads_both_sides_of_a_merge_conflict(tmp_path: Path):
    """Two branches recorded different versions (one of them still in an earlier grader's flat
    format); git's merge leaves the file with markers mixing them: --write keeps both sides' versions."""
    one, two, three = ({"app/main.py": c * 64, "docker-compose.yml": "d" * 64} for c in "123")
    repo = template_copy(tmp_path / "t")
    data = repo / DATA_NAME
    for argv in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-qm", "template")):
        assert _git(repo, *argv).returncode == 0
    data.write_text(Fingerprints([one, two], {"autograde/a.py": "a" * 64}).to_json())
    assert _git(repo, "commit", "-qam", "ours").returncode == 0
    assert _git(repo, "checkout", "-qb", "other", "HEAD~1").returncode == 0
    data.write_text(json.dumps({**three, "autograde/a.py": "b" * 64, "autograde/b.py": "c" * 64}, indent=2))
    assert _git(repo, "commit", "-qam", "theirs").returncode == 0
    assert _git(repo, "checkout", "-q", "main").returncode == 0
    assert _git(repo, "merge", "-q", "other").returncode != 0
    assert "<<<<<<< " in data.read_text()
    assert read_history(data).lab_versions == [one, two, three]
    ran = subprocess.run(
        [sys.executable, "-m", "autograde.integrity", "--write"], cwd=repo, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    written = load(data)
    assert written.lab_versions[:3] == [one, two, three] and len(written.lab_versions) == 4
    assert written.lab_versions[-1] == {p: d for p, d in fingerprint(repo).items() if not p.startswith("autograde/")}
    # recording the same template again adds nothing
    assert record(repo, written).lab_versions == written.lab_versions
    # markers without a merge in progress: a clear refusal, not a guess
    stray = tmp_path / "stray.json"
    stray.write_text("<<<<<<< HEAD\n{}\n=======\n{}\n>>>>>>> x\n")
    with pytest.raises(ValueError, match="conflict markers"):
        read_history(stray)


def test_shared_dev_builds_accept_every_template_version_of_the_compose_file():
    assert known_digests("docker-compose.yml") >= {load().lab_versions[-1]["docker-compose.yml"]}
    assert len(known_digests("docker-compose.yml")) >= 1 and known_digests("no/such/file") == set()
