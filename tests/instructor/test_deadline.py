"""`grade-all --org --prefix --deadline`: push times from the activity API, clones at the chosen commit."""

from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fake_github_class import FakeClassGitHub, StudentRepo, git

from autograde.checks import default_rubric
from autograde.commands import grade_all
from autograde.instructor import deadline as dl
from support import make_checkout, solution_files, template_copy

TOKEN = "ghs_classtoken123456"
DEADLINE = "2026-12-01T23:59:00Z"
D = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
A, B, C = "a" * 40, "b" * 40, "c" * 40


def act(after: str, when: str, kind: str = "push", ref: str = "refs/heads/main") -> dict:
    return {"after": after, "timestamp": when, "activity_type": kind, "ref": ref, "before": "0" * 40}


# ------------------------------------------------------------------------------------------ policy


def test_pick_takes_the_last_ref_update_before_the_deadline_by_push_time() -> None:
    acts = [act(B, "2026-12-02T08:00:00Z"), act(A, "2026-11-30T10:00:00Z"), act(C, "2026-11-29T10:00:00Z")]
    p = dl.pick(acts, "main", D, include_late=False)
    assert (p.sha, p.pushed_at, p.late) == (A, "2026-11-30T10:00:00Z", True)
    assert "after the deadline" in p.note and B[:10] in p.note
    late = dl.pick(acts, "main", D, include_late=True)
    assert (late.sha, late.late) == (B, True)
    on_time = dl.pick(acts[1:], "main", D, include_late=False)
    assert (on_time.sha, on_time.late, on_time.note) == (A, False, "")


def test_pick_ignores_other_branches_deletions_and_counts_force_pushes() -> None:
    acts = [
        act(B, "2026-11-30T12:00:00Z", ref="refs/heads/feature"),
        act("0" * 40, "2026-11-30T13:00:00Z", kind="branch_deletion"),
        act(C, "2026-11-30T11:00:00Z", kind="force_push"),
        act(A, "2026-11-30T10:00:00Z", ref="main"),
    ]
    assert dl.pick(acts, "main", D, include_late=False).sha == C


def test_pick_with_nothing_before_the_deadline() -> None:
    p = dl.pick([act(A, "2026-12-03T10:00:00Z")], "main", D, include_late=False)
    assert p.sha is None and p.late and "first push came 2026-12-03T10:00:00Z" in p.note
    assert dl.pick([act(A, "2026-12-03T10:00:00Z")], "main", D, include_late=True).sha == A
    none = dl.pick([], "main", D, include_late=False)
    assert none.sha is None and not none.late and "no push" in none.note


BOT = {"login": "github-classroom[bot]", "id": 98, "type": "Bot"}


def test_a_starter_only_the_classroom_bot_put_there_is_no_submission() -> None:
    created = {**act(A, "2026-11-20T10:00:00Z", kind="branch_creation"), "actor": BOT}
    late = act(B, "2026-12-03T10:00:00Z")
    p = dl.pick([late, created], "main", D, include_late=False)
    assert (p.sha, p.late, p.no_submission, p.pushed_at) == (A, True, True, "2026-11-20T10:00:00Z")
    assert "nothing of the student's before the deadline" in p.note and "first push came 2026-12-03" in p.note
    graded_late = dl.pick([late, created], "main", D, include_late=True)
    assert (graded_late.sha, graded_late.late, graded_late.no_submission) == (B, True, False)
    never = dl.pick([created], "main", D, include_late=False)
    assert (never.sha, never.late, never.no_submission) == (A, False, True)
    on_time = dl.pick([created, act(C, "2026-11-30T10:00:00Z")], "main", D, include_late=False)
    assert (on_time.sha, on_time.late, on_time.no_submission) == (C, False, False)
    # a bot's own later update of the branch is no late push; a branch created after the deadline is missing
    bot_after = {**act(C, "2026-12-04T10:00:00Z"), "actor": BOT}
    assert dl.pick([created, bot_after], "main", D, include_late=False).late is False
    after = dl.pick([{**created, "timestamp": "2026-12-02T10:00:00Z"}], "main", D, include_late=False)
    assert (after.sha, after.late, after.no_submission) == (None, False, False)


def test_deadline_needs_a_time_zone() -> None:
    assert dl.parse_deadline("2026-12-02T00:59:00+01:00") == D
    with pytest.raises(dl.DeadlineError, match="no time zone"):
        dl.parse_deadline("2026-12-01T23:59:00")
    with pytest.raises(dl.DeadlineError, match="not an ISO 8601"):
        dl.parse_deadline("next friday")


# ------------------------------------------------------------------------------------------ fake GitHub


@pytest.fixture
def fake(tmp_path: Path):
    server = FakeClassGitHub(TOKEN, git_root=tmp_path / "git").start()
    yield server
    server.stop()


def student(fake: FakeClassGitHub, tmp_path: Path, name: str, *, template: bool = False) -> StudentRepo:
    """A student's repository: the lab's files solved, or (template) the whole template as received."""
    repo = StudentRepo(fake, tmp_path / "students", name)
    if template:
        template_copy(repo.work)
    else:
        make_checkout(repo.work)
    return repo


def build_class(fake: FakeClassGitHub, tmp_path: Path) -> dict[str, str]:
    """alice: on time, then a late push with a forged commit date; bob: force push after the deadline
    drops the graded commit from the branch; carol: only late; dave: no git repository; others: not ours."""
    shas: dict[str, str] = {}
    alice = student(fake, tmp_path, "lab04-alice")
    alice.commit({}, date="2026-11-30T09:00:00Z")
    shas["alice1"] = alice.push("2026-11-30T10:00:00Z")
    alice.commit({"Dockerfile.prod": "FROM scratch\n"}, date="2026-11-30T09:30:00Z")  # commit date before the deadline
    shas["alice2"] = alice.push("2026-12-02T08:00:00Z")

    bob = student(fake, tmp_path, "lab04-bob")
    bob.commit({}, date="2026-11-29T09:00:00Z")
    shas["bob1"] = bob.push("2026-11-29T10:00:00Z")
    git(bob.work, "commit", "--quiet", "--amend", "-m", "rewritten", date="2026-12-03T09:00:00Z")
    shas["bob2"] = bob.push("2026-12-03T10:00:00Z", force=True)

    carol = student(fake, tmp_path, "lab04-carol")
    carol.commit({}, date="2026-11-01T09:00:00Z")
    shas["carol1"] = carol.push("2026-12-05T10:00:00Z")

    dave = fake.add_repo("lab04-dave")
    fake.add_activity(dave, "d" * 40, "2026-11-30T10:00:00Z")
    fake.add_repo("lab05-erin")
    fake.add_repo("lab04-template", is_template=True)
    return shas


def parse(tmp_path: Path, fake: FakeClassGitHub, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    grade_all.add_arguments(parser)
    return parser.parse_args(
        [
            "--org",
            fake.org,
            "--prefix",
            "lab04",
            "--deadline",
            DEADLINE,
            "--api-url",
            fake.api_url,
            "--git-url",
            f"http://127.0.0.1:{fake.port}/git",
            "--clone-dir",
            str(tmp_path / "clones"),
            "--reports-dir",
            str(tmp_path / "reports"),
            *extra,
        ]
    )


@pytest.mark.slow
def test_clones_each_repository_at_its_last_push_before_the_deadline(
    fake: FakeClassGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    shas = build_class(fake, tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    argvs: list[list[str]] = []
    real_run = subprocess.run

    def recording_run(argv, *a, **kw):  # type: ignore[no-untyped-def]
        argvs.append(list(argv))
        return real_run(argv, *a, **kw)

    monkeypatch.setattr(dl.subprocess, "run", recording_run)
    entries = {e.name: e for e in grade_all.entries_from_github(parse(tmp_path, fake))}
    assert set(entries) == {"lab04-alice", "lab04-bob", "lab04-carol", "lab04-dave"}

    alice = entries["lab04-alice"]
    assert (alice.kind, alice.commit, alice.pushed_at, alice.flags) == (
        "ok",
        shas["alice1"],
        "2026-11-30T10:00:00Z",
        ["late"],
    )
    assert git(alice.path, "rev-parse", "HEAD") == shas["alice1"]
    assert "FROM scratch" not in (alice.path / "Dockerfile.prod").read_text()
    assert alice.repository == f"{fake.org}/lab04-alice"

    bob = entries["lab04-bob"]  # the graded commit is on no branch any more: fetched by its sha
    assert (bob.kind, bob.commit, bob.flags) == ("ok", shas["bob1"], ["late"])
    assert git(bob.path, "rev-parse", "HEAD") == shas["bob1"]

    carol = entries["lab04-carol"]
    assert (carol.kind, carol.flags, carol.commit) == ("missing", ["late"], "")
    assert not carol.path.exists()
    assert entries["lab04-dave"].kind == "clone-failed" and "git clone failed" in entries["lab04-dave"].note

    # the token went in a header, never on a command line or in a message
    basic = "basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert fake.git_auth and all(a is not None and a.lower() == basic.lower() for a in fake.git_auth)
    assert argvs and not any(TOKEN in " ".join(a) or basic.split()[1] in " ".join(a) for a in argvs)
    out, err = capfd.readouterr()
    assert TOKEN not in out + err and basic.split()[1] not in out + err
    assert fake.count("/activity") >= 4  # paginated: page size 2

    late = {e.name: e for e in grade_all.entries_from_github(parse(tmp_path, fake, "--include-late"))}
    assert late["lab04-alice"].commit == shas["alice2"]
    assert git(late["lab04-alice"].path, "rev-parse", "HEAD") == shas["alice2"]
    assert late["lab04-carol"].commit == shas["carol1"] and late["lab04-carol"].flags == ["late"]


@pytest.mark.slow
def test_git_gets_the_token_only_through_its_configuration_and_no_other_variable(
    fake: FakeClassGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A git on PATH that writes down its environment, then runs the real git: every git process the
    clones start is read, as started, with the instructor's shell full of secrets."""
    build_class(fake, tmp_path)
    dumps, bin_dir = tmp_path / "git-env", tmp_path / "bin"
    dumps.mkdir()
    bin_dir.mkdir()
    real = shutil.which("git")
    assert real
    (bin_dir / "git").write_text(
        f"#!{sys.executable} -I\n"
        "import json, os, sys, uuid\n"
        f"open(os.path.join({str(dumps)!r}, uuid.uuid4().hex), 'w').write(json.dumps([sys.argv[1:], dict(os.environ)]))\n"
        f"os.execv({real!r}, [{real!r}, *sys.argv[1:]])\n"
    )
    (bin_dir / "git").chmod(0o755)
    secrets = {
        "GITHUB_TOKEN": TOKEN,
        "GH_TOKEN": "gho_other",
        "AWS_SECRET_ACCESS_KEY": "aws-secret",
        "NPM_TOKEN": "npm-secret",
        "DOCKER_AUTH_CONFIG": "docker-secret",
        "SSH_AUTH_SOCK": "/tmp/agent.sock",
        "GIT_ASKPASS": "/usr/local/bin/my-askpass",
        "GIT_CONFIG_PARAMETERS": "'credential.helper'='store'",
    }
    for k, v in secrets.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    entries = {e.name: e for e in grade_all.entries_from_github(parse(tmp_path, fake))}
    assert entries["lab04-alice"].kind == "ok" and entries["lab04-bob"].kind == "ok"  # the clones worked
    started = [json.loads(f.read_text()) for f in dumps.iterdir()]
    started = [(argv, env) for argv, env in started if argv[:1] != ["http-backend"]]  # the fake host's own git
    assert {argv[0] for argv, _ in started} >= {"clone", "-C"}
    assert any("fetch" in argv for argv, _ in started)  # bob's commit, gone from the branch, fetched by its sha
    assert len(started) >= 5  # two clones with checkouts, bob's fetch by sha, dave's failed clone
    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    for argv, env in started:
        assert not set(env) & set(secrets) - {"GIT_ASKPASS"}, argv
        assert env["GIT_ASKPASS"] == "true" and env["GIT_TERMINAL_PROMPT"] == "0"
        extra = {k for k in env if k not in dl.GIT_ENV_KEEP and not k.startswith("LC_")}
        config = {f"GIT_CONFIG_{kind}_{i}" for i in range(int(env["GIT_CONFIG_COUNT"])) for kind in ("KEY", "VALUE")}
        assert extra == {"GIT_ASKPASS", "GIT_TERMINAL_PROMPT", "GIT_LFS_SKIP_SMUDGE", "GIT_CONFIG_COUNT", *config}
        assert env["PATH"].startswith(str(bin_dir)) and env["LC_ALL"] == "C.UTF-8" and "HOME" in env
        values = " ".join(env.values())
        assert not any(v in values for v in secrets.values() if v != "/tmp/agent.sock" and "askpass" not in v)
        keys = [env[f"GIT_CONFIG_KEY_{i}"] for i in range(int(env["GIT_CONFIG_COUNT"]))]
        header = f"http.http://127.0.0.1:{fake.port}/git/.extraheader"
        assert keys == ["credential.helper", header]
        assert env[f"GIT_CONFIG_VALUE_{keys.index(header)}"] == f"AUTHORIZATION: basic {basic}"


@pytest.mark.slow
def test_a_classroom_repository_pushed_to_only_after_the_deadline_is_graded_as_the_starter(
    fake: FakeClassGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frank = student(fake, tmp_path, "lab04-frank", template=True)
    starter = frank.accept("2026-11-20T10:00:00Z")
    frank.commit(solution_files(), date="2026-11-30T09:00:00Z")  # committed in time, pushed late
    frank.push("2026-12-03T10:00:00Z")
    gina = student(fake, tmp_path, "lab04-gina", template=True)
    gina_starter = gina.accept("2026-11-21T10:00:00Z")  # accepted, never pushed
    fake.add_repo("lab04-hank")  # created, nothing on its branch: no activity at all
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    entries = {e.name: e for e in grade_all.entries_from_github(parse(tmp_path, fake))}
    f, g, h = entries["lab04-frank"], entries["lab04-gina"], entries["lab04-hank"]
    assert (f.kind, f.commit, f.flags) == ("ok", starter, ["late", "no-submission"])
    assert git(f.path, "rev-parse", "HEAD") == starter and "first push came 2026-12-03" in f.note
    assert (g.kind, g.commit, g.flags) == ("ok", gina_starter, ["no-submission"])
    assert (h.kind, h.flags, h.commit) == ("missing", [], "")
    late = {e.name: e for e in grade_all.entries_from_github(parse(tmp_path, fake, "--include-late"))}
    assert late["lab04-frank"].flags == ["late"] and late["lab04-frank"].commit != starter


@pytest.mark.slow
def test_list_prints_the_assignment_and_a_bad_token_is_refused(
    fake: FakeClassGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build_class(fake, tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    assert grade_all.entries_from_github(parse(tmp_path, fake, "--list")) == 0
    ids = {r["name"]: r["id"] for r in fake.repos}
    names = ["lab04-alice", "lab04-bob", "lab04-carol", "lab04-dave"]
    assert capsys.readouterr().out.split() == [f"{n}@{ids[n]}" for n in names]  # identity.Identity.token
    monkeypatch.setenv("GITHUB_TOKEN", "wrong")
    assert grade_all.entries_from_github(parse(tmp_path, fake)) == 2
    assert "bad credentials" in capsys.readouterr().err
    monkeypatch.delenv("GITHUB_TOKEN")
    assert grade_all.entries_from_github(parse(tmp_path, fake)) == 2


@pytest.mark.docker
def test_grade_all_from_github_end_to_end(fake: FakeClassGitHub, tmp_path: Path) -> None:
    """alice: the whole template, solved in time, a late push; frank: accepted, pushed only after the
    deadline (the starter is graded); carol: a repository whose branch was empty at the deadline."""
    alice = student(fake, tmp_path, "lab04-alice", template=True)
    alice.accept("2026-11-20T10:00:00Z")
    alice.commit(solution_files(), date="2026-11-30T09:00:00Z")
    good = alice.push("2026-11-30T10:00:00Z")
    alice.commit({"Dockerfile.prod": "FROM python:3.13\n"}, date="2026-11-30T09:30:00Z")
    alice.push("2026-12-02T08:00:00Z")
    frank = student(fake, tmp_path, "lab04-frank", template=True)
    starter = frank.accept("2026-11-20T10:00:00Z")
    frank.commit(solution_files(), date="2026-11-30T09:00:00Z")
    frank.push("2026-12-03T10:00:00Z")
    carol = student(fake, tmp_path, "lab04-carol")
    carol.commit({}, date="2026-11-01T09:00:00Z")
    carol.push("2026-12-05T10:00:00Z")
    out = tmp_path / "grades.csv"
    argv = [
        sys.executable,
        "-m",
        "autograde",
        "grade-all",
        "--org",
        fake.org,
        "--prefix",
        "lab04",
        "--deadline",
        DEADLINE,
        "--api-url",
        fake.api_url,
        "--git-url",
        f"http://127.0.0.1:{fake.port}/git",
        "--clone-dir",
        str(tmp_path / "clones"),
        "--reports-dir",
        str(tmp_path / "reports"),
        "-o",
        str(out),
        "--jobs",
        "2",
    ]
    ran = subprocess.run(
        argv, capture_output=True, text=True, timeout=1200, env={**__import__("os").environ, "GITHUB_TOKEN": TOKEN}
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert TOKEN not in ran.stdout + ran.stderr
    with open(out, newline="", encoding="utf-8") as fh:
        rows = {r["login"]: r for r in csv.DictReader(fh)}
    assert rows["alice"]["repository"] == f"{fake.org}/lab04-alice"
    assert (rows["alice"]["commit"], rows["alice"]["pushed_at"], rows["alice"]["total"]) == (
        good,
        "2026-11-30T10:00:00Z",
        str(default_rubric().possible),
    )
    assert rows["alice"]["flags"] == "late"  # the installation's grader flags nothing in an untouched template
    assert (rows["frank"]["commit"], rows["frank"]["flags"]) == (starter, "no-submission;late")
    assert int(rows["frank"]["total"]) < 50 and "nothing of the student's before the deadline" in rows["frank"]["notes"]
    assert rows["carol"]["flags"] == "missing;late" and rows["carol"]["total"] == "0"
    assert "first push came" in rows["carol"]["notes"]


@pytest.mark.slow
def test_a_chunk_finds_its_repositories_by_id_without_listing_the_organization(
    fake: FakeClassGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shas = build_class(fake, tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    assert grade_all.entries_from_github(parse(tmp_path, fake, "--list")) == 0
    listed = capsys.readouterr().out.split()  # what the list job hands the chunks
    bob_id = next(r["id"] for r in fake.repos if r["name"] == "lab04-bob")
    fake.rename(f"{fake.org}/lab04-bob", "bobs-lab")  # renamed after the list job named it
    fake.delete(f"{fake.org}/lab04-carol")  # deleted after it
    chunk = tmp_path / "chunk.txt"
    chunk.write_text("\n".join([*listed[:3], "cs-class/lab04-gone", "lab04-alice"]) + "\n", encoding="utf-8")
    listings = fake.count(f"/orgs/{fake.org}/repos") + fake.count("/organizations/")  # the list job's pages
    entries = {e.name: e for e in grade_all.entries_from_github(parse(tmp_path, fake, "--repos", str(chunk)))}
    assert fake.count(f"/orgs/{fake.org}/repos") + fake.count("/organizations/") == listings
    assert fake.count(f"/repositories/{bob_id}") == 1  # found by id, its activity read where it is now
    assert fake.count(f"/repos/{fake.org}/bobs-lab/activity") >= 1 and fake.count("/lab04-bob/activity") == 0
    assert set(entries) == {"lab04-alice", "lab04-bob", "lab04-carol", "lab04-gone"}
    assert entries["lab04-alice"].commit == shas["alice1"] and entries["lab04-alice"].login == "alice"
    bob = entries["lab04-bob"]  # keyed by the listed name, its student and its id; cloned from its new name
    assert (bob.kind, bob.commit, bob.repository, bob.login, bob.repository_id) == (
        "ok",
        shas["bob1"],
        f"{fake.org}/lab04-bob",
        "bob",
        bob_id,
    )
    assert git(bob.path, "rev-parse", "HEAD") == shas["bob1"]
    assert f"renamed on GitHub to {fake.org}/bobs-lab; graded as {fake.org}/lab04-bob" in bob.note
    carol = entries["lab04-carol"]  # deleted between the list job and the chunk: said, never dropped
    assert carol.kind == "gone" and carol.repository == f"{fake.org}/lab04-carol"
    assert "is not found any more: deleted, or transferred out of cs-class" in carol.note
    gone = entries["lab04-gone"]  # a name given by hand (no id) that is no repository
    assert gone.kind == "gone" and gone.repository == f"{fake.org}/lab04-gone" and gone.repository_id is None
    err = capsys.readouterr().err
    assert f"{fake.org}/lab04-carol (repository id" in err and "not graded" in err
    monkeypatch.setenv("GITHUB_TOKEN", "wrong")
    assert grade_all.entries_from_github(parse(tmp_path, fake, "--repos", str(chunk))) == 2
    assert "bad credentials" in capsys.readouterr().err
    chunk.write_text("lab04-alice\n$(rm -rf ~)\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    assert grade_all.entries_from_github(parse(tmp_path, fake, "--repos", str(chunk))) == 2
    assert f"--repos {chunk}:2: not a repository name: '$(rm -rf ~)'" in capsys.readouterr().err


@pytest.mark.slow
def test_git_follows_the_redirect_of_a_renamed_or_transferred_repository(fake: FakeClassGitHub, tmp_path: Path) -> None:
    """As github.com: the old path answers 301 to the new one, which git follows (the fake's own behaviour)."""
    shas = build_class(fake, tmp_path)
    fake.rename(f"{fake.org}/lab04-alice", "alice-lab")
    fake.transfer(f"{fake.org}/lab04-bob", "elsewhere")
    env = dl.git_env(TOKEN, f"http://127.0.0.1:{fake.port}/git")
    for name, sha in (("lab04-alice", shas["alice1"]), ("lab04-bob", shas["bob1"])):
        url = f"http://127.0.0.1:{fake.port}/git/{fake.org}/{name}.git"
        assert dl.clone_at(url, tmp_path / "by-old-name" / name, sha, env, (TOKEN,)) == ""
    moved = [e for e in fake.log if e.path.startswith("/git/") and e.status == 301]
    assert {e.path.split("/")[3] for e in moved} == {"lab04-alice.git", "lab04-bob.git"}


@pytest.mark.slow
def test_an_unknown_prefix_is_refused_naming_it_and_the_organization(
    fake: FakeClassGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build_class(fake, tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    args = parse(tmp_path, fake, "--list")
    args.prefix = "lab4"
    assert grade_all.entries_from_github(args) == 2
    err = capsys.readouterr().err
    assert f"no repository of the organization '{fake.org}' is named lab4-*" in err
    assert "lab04-* (4)" in err and "lab05-* (1)" in err and "::error" not in err
    args.allow_empty = True
    assert grade_all.entries_from_github(args) == 0 and capsys.readouterr().out == ""


def test_expected_rows_from_the_chunks_or_from_names() -> None:
    from autograde.instructor.chunks import expected, split

    assert expected(json.dumps(split(["lab04-a", "lab04-B", "lab04-c"], 2))) == {
        "lab04-a": ("lab04-a", 0),
        "lab04-b": ("lab04-B", 0),
        "lab04-c": ("lab04-c", 1),
    }
    assert expected("cs/lab04-a\n\nlab04-b\n") == {"lab04-a": ("lab04-a", None), "lab04-b": ("lab04-b", None)}
    assert expected("[]") == {}
    for bad in ('["a $(x)"]', "[1, 2]", "[oops"):
        with pytest.raises(ValueError):
            expected(bad)


@pytest.mark.slow
def test_a_repository_renamed_before_the_listing_is_its_students_given_the_classroom_assignment(
    fake: FakeClassGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """GitHub lists a renamed repository under its new name; Classroom's accepted assignments still say whose it is."""
    shas = build_class(fake, tmp_path)
    bob_id = next(r["id"] for r in fake.repos if r["name"] == "lab04-bob")
    fake.rename(f"{fake.org}/lab04-bob", "bobs-docker-lab")  # before the listing: it lists the new name
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    assert grade_all.entries_from_github(parse(tmp_path, fake, "--list")) == 0
    by_prefix = capsys.readouterr().out.split()
    assert not any(t.startswith(("lab04-bob", "bobs-docker-lab")) for t in by_prefix)  # the prefix cannot find it
    for name in ("lab04-alice", "bobs-docker-lab", "lab04-carol", "lab04-dave"):
        fake.accept(31_337, f"{fake.org}/{name}", "bob" if name.startswith("bobs") else name.split("-", 1)[1])
    listings = fake.count(f"/orgs/{fake.org}/repos") + fake.count("/organizations/")
    assert grade_all.entries_from_github(parse(tmp_path, fake, "--list", "--assignment-id", "31337")) == 0
    tokens = capsys.readouterr().out.split()
    assert tokens == sorted(tokens) and f"lab04-bob@{bob_id}" in tokens and len(tokens) == 4
    assert fake.count(f"/orgs/{fake.org}/repos") + fake.count("/organizations/") == listings  # Classroom's record only
    assert fake.count("/assignments/31337/accepted_assignments") == 2  # two pages of two, Link followed
    entries = {e.name: e for e in grade_all.entries_from_github(parse(tmp_path, fake, "--assignment-id", "31337"))}
    bob = entries["lab04-bob"]
    assert (bob.kind, bob.commit, bob.login, bob.repository, bob.repository_id) == (
        "ok",
        shas["bob1"],
        "bob",
        f"{fake.org}/lab04-bob",
        bob_id,
    )
    assert f"renamed on GitHub to {fake.org}/bobs-docker-lab" in bob.note
    assert "31337" in capsys.readouterr().err  # what is graded names the assignment
    assert grade_all.entries_from_github(parse(tmp_path, fake, "--list", "--assignment-id", "404")) == 2
    err = capsys.readouterr().err
    assert "GitHub Classroom assignment 404 was not found" in err and "administrator of its classroom" in err
    fake.accepted[505] = []
    assert grade_all.entries_from_github(parse(tmp_path, fake, "--list", "--assignment-id", "505")) == 2
    assert "assignment 505 has no accepted assignment with a repository yet" in capsys.readouterr().err
