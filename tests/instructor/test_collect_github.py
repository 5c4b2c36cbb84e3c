"""`autograde collect` against a fake GitHub that behaves like the real one where it hurts.

One test per way the real API differs from a polite server (runs of other events, cut-off
transfers, redirects, clock skew, Classroom's repository names, re-runs, secondary limits,
Classroom's own workflow, GitHub Enterprise Server), then all of them at once.
"""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime

import pytest
from fake_github import FakeGitHub
from instructor_fixtures import MAX, artifact_zip, both, results
from test_collect import (
    EXPECTED,
    GRADER_FILES,
    HEADER,
    ORG,
    ROSTER,
    STUDENT_ONLY,
    T0,
    TEMPLATE,
    TOKEN,
    assert_cells,
    build_class,
    expected,
    read_csv,
    run_collect,
    sha,
)

from autograde import cli

CLASSROOM_WORKFLOW = """name: Autograding Tests
'on':
- push
- repository_dispatch
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    steps:
    - name: Checkout code
      uses: actions/checkout@v4
    - name: build
      id: build
      uses: classroom-resources/autograding-command-grader@v1
      with:
        test-name: build
        command: docker build -f Dockerfile.prod .
        timeout: 10
        max-score: 10
    - name: Autograding Reporter
      uses: classroom-resources/autograding-grading-reporter@v1
      env:
        BUILD_RESULTS: "${{steps.build.outputs.result}}"
      with:
        runners: build
"""


@pytest.fixture
def fake():
    server = FakeGitHub(TOKEN, org=ORG).start()
    yield server
    server.stop()


@pytest.fixture
def sleeps(monkeypatch):
    from autograde.commands import collect as collect_cmd

    slept: list[float] = []
    monkeypatch.setattr(collect_cmd, "_sleep", slept.append)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    return slept


def student(fake: FakeGitHub, login: str, head: str, *, lost=None, tree=None, report_commit=None, **run) -> str:
    full = fake.add_repo(f"lab04-{login}") if fake.repo(f"{ORG}/lab04-{login}") is None else f"{ORG}/lab04-{login}"
    fake.set_head(full, head, "2024-05-01T09:30:00Z")
    res = results(full, report_commit or head, T0, lost)
    fake.add_run(full, head, T0, artifact_zip(both(res)), **run)
    fake.set_tree(full, head, {**(tree or GRADER_FILES), **STUDENT_ONLY})
    return full


def template(fake: FakeGitHub) -> None:
    fake.add_repo("lab04-template", is_template=True)
    fake.set_tree(TEMPLATE, "main", {**GRADER_FILES, "README.md": "0" * 40})


def collect(tmp_path, fake, *extra, roster: str | None = None, template_args=("--template", TEMPLATE)) -> int:
    args = [
        "collect",
        "--org",
        ORG,
        "--prefix",
        "lab04",
        *template_args,
        "--api-url",
        fake.api_url,
        "-o",
        str(tmp_path / "g.csv"),
        *extra,
    ]
    if roster is not None:
        (tmp_path / "roster.csv").write_text(roster)
        args += ["--roster", str(tmp_path / "roster.csv")]
    return cli.main(args)


def rows(tmp_path) -> dict[str, dict[str, str]]:
    got = read_csv(tmp_path / "g.csv")
    return {r[got[0].index("login")]: dict(zip(got[0], r)) for r in got[1:]}


# ----------------------------------------------------------------------------- 1. which run, which commit


@pytest.mark.slow
def test_the_run_not_the_report_says_which_commit_was_graded(tmp_path, fake, sleeps):
    template(fake)
    tampered = {**GRADER_FILES, "autograde/checks/dockerfile.py": "5" * 40}
    # a push run of the tampered commit whose report claims an older, clean commit
    full = student(fake, "alice", sha("a"), tree=tampered, report_commit=sha("0"))
    fake.set_tree(full, sha("0"), {**GRADER_FILES, **STUDENT_ONLY})
    # then a pull request from a fork whose branch is also called main: a merge commit, full marks
    pr = results(full, sha("7"), "2024-05-02T10:00:00+00:00")
    fake.add_run(
        full,
        sha("7"),
        "2024-05-02T10:00:00Z",
        artifact_zip(both(pr)),
        event="pull_request",
        head_repository="mallory/lab04-alice",
    )
    fake.set_tree(full, sha("7"), {**GRADER_FILES, **STUDENT_ONLY})
    for i in range(35):  # and a burst of pull-request runs: the push run is on the second page
        fake.add_run(full, sha("7"), "2024-05-03T10:00:00Z", None, event="pull_request")
    assert collect(tmp_path, fake) == 0
    row = rows(tmp_path)["alice"]
    assert row["commit"] == sha("a")
    assert row["flags"] == "mismatch;tampered:autograde/checks/dockerfile.py"
    assert f"report says commit {sha('0')[:12]}, its push run" in row["notes"]
    assert fake.count(f"/git/trees/{sha('a')}") == 1 and fake.count(f"/git/trees/{sha('0')}") == 0
    assert fake.count(f"/repos/{full}/actions/workflows/classroom.yml/runs") == 2


@pytest.mark.slow
def test_a_template_fixed_after_students_accepted_flags_only_real_changes(tmp_path, fake, sleeps):
    """v1 was accepted; v2 fixed the grader and a test after. Compared with both, nobody untouched is
    flagged and a changed test is named alone; compared with v2 only, the v1 copy is all changes."""
    template(fake)
    v2 = {**GRADER_FILES, "autograde/checks/dockerfile.py": "8" * 40, "app/tests/test_app.py": "9" * 40}
    fake.set_tree(TEMPLATE, "v1", dict(GRADER_FILES))
    fake.set_tree(TEMPLATE, "v2", v2)
    student(fake, "alice", sha("a"))  # untouched v1
    student(fake, "bob", sha("b"), tree=v2)  # untouched v2
    student(fake, "carol", sha("c"), tree={**GRADER_FILES, "app/tests/test_app.py": "1" * 40})  # v1, test edited
    refs = ("--template", TEMPLATE, "--template-ref", "v1", "--template-ref", "v2")
    assert collect(tmp_path, fake, template_args=refs) == 0
    got = rows(tmp_path)
    assert (got["alice"]["flags"], got["bob"]["flags"]) == ("", "")
    assert got["carol"]["flags"] == "tampered:app/tests/test_app.py"
    assert fake.count(f"/repos/{TEMPLATE}/git/trees/v1") == 1 and fake.count(f"/repos/{TEMPLATE}/git/trees/v2") == 1

    only_v2 = tmp_path / "v2"
    only_v2.mkdir()
    assert collect(only_v2, fake, template_args=("--template", TEMPLATE, "--template-ref", "v2")) == 0
    assert rows(only_v2)["alice"]["flags"] == "tampered:app/tests/test_app.py,autograde/checks/dockerfile.py"


# ----------------------------------------------------------------------------- 2. cut-off transfers


@pytest.mark.slow
def test_cut_off_downloads_are_retried_and_never_saved_as_done(tmp_path, fake, sleeps, capsys):
    bob = student(fake, "bob", sha("b"))
    carol = student(fake, "carol", sha("c"))
    aid_bob = fake.artifacts[fake.runs[bob][0]["id"]][0]["id"]
    aid_carol = fake.artifacts[fake.runs[carol][0]["id"]][0]["id"]
    fake.failures[f"/storage/{aid_bob}"] = ["truncate"] * 5  # every try of this run is cut off
    fake.failures[f"/storage/{aid_carol}"] = ["chunked-cut"] * 2  # cut off twice, then whole
    assert collect(tmp_path, fake, template_args=()) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "lab04-bob: not collected" in err and "rerun" in err
    assert rows(tmp_path)["carol"]["total"] == str(MAX) and rows(tmp_path)["carol"]["flags"] == ""
    assert "bob" not in rows(tmp_path)  # not collected yet, not a bad report
    assert collect(tmp_path, fake, template_args=()) == 0  # the rerun finishes it
    assert (rows(tmp_path)["bob"]["total"], rows(tmp_path)["bob"]["flags"]) == (str(MAX), "")
    assert fake.count(f"/storage/{aid_carol}") == 3


# ----------------------------------------------------------------------------- 3. redirects


@pytest.mark.slow
def test_renamed_template_and_repositories_are_followed(tmp_path, fake, sleeps):
    template(fake)
    fake.rename(TEMPLATE, "lab04-starter")  # 301 for GETs of the old name
    full = student(fake, "dan", sha("d"))
    assert collect(tmp_path, fake) == 0  # --template still names the old repository
    assert (rows(tmp_path)["dan"]["total"], rows(tmp_path)["dan"]["flags"]) == (str(MAX), "")
    assert fake.served(301) >= 2
    fake.failures[f"/repos/{full}/actions/workflows/classroom.yml/dispatches"] = ["307"]  # "repeat it there"
    assert collect(tmp_path, fake, "--regrade", "--restart") == 0
    assert [d[0] for d in fake.dispatches] == [full]
    assert [e.status for e in fake.log if e.method == "POST"] == [307, 200]


# ----------------------------------------------------------------------------- 4. regrade and clock skew


@pytest.mark.slow
@pytest.mark.parametrize("run_details", [True, False])
def test_regrade_uses_githubs_clock(tmp_path, fake, sleeps, capsys, run_details):
    fake.run_details_supported = run_details
    github_now = datetime(2024, 5, 2, 12, 0, tzinfo=UTC).timestamp()  # two years behind our clock
    fake.now = github_now
    full = student(fake, "erin", sha("e"), lost={"runtime.up": 10})
    assert collect(tmp_path, fake, template_args=()) == 0
    assert rows(tmp_path)["erin"]["total"] == str(MAX - 10)
    assert collect(tmp_path, fake, "--regrade", template_args=()) == 0
    run = fake.runs[full][0]
    assert run["event"] == "workflow_dispatch" and run["status"] == "queued"
    assert collect(tmp_path, fake, template_args=()) == 1  # the run is still queued
    assert "regrade run has not completed yet" in capsys.readouterr().err
    fake.finish_run(full, run["id"], artifact_zip(both(results(full, sha("e"), "2024-05-02T12:05:00+00:00"))))
    assert collect(tmp_path, fake, template_args=()) == 0
    assert rows(tmp_path)["erin"]["total"] == str(MAX)
    bodies = [e.body for e in fake.log if e.method == "POST"]
    assert bodies == (
        [{"ref": "main", "return_run_details": True}]
        if run_details
        else [{"ref": "main", "return_run_details": True}, {"ref": "main"}]
    )


# ----------------------------------------------------------------------------- 5. the assignment's repositories


@pytest.mark.slow
def test_roster_decides_which_repositories_are_the_assignments(tmp_path, fake, sleeps, capsys):
    fake.add_repo("lab04-alice", created_at="2024-04-01T09:00:00Z")
    student(fake, "alice", sha("1"), lost={"runtime.up": 10})  # the first accept
    fake.add_repo("lab04-alice-1", created_at="2024-04-10T09:00:00Z")
    student(fake, "alice-1", sha("2"))  # a re-accept: Classroom appended -1
    student(fake, "bob", sha("3"))
    student(fake, "extra-bob", sha("4"))  # another assignment, prefix lab04-extra
    student(fake, "zed", sha("5"))  # last term's student
    old = student(fake, "olduser", sha("6"))  # the student renamed the account since
    fake.collaborators[old] = [{"login": "newuser", "id": 77, "type": "User"}]
    fake.collaborators[f"{ORG}/lab04-extra-bob"] = [{"login": "bob", "id": 2, "type": "User"}]
    roster = (
        "identifier,github_username,github_id,name\n"
        "a@uni,alice,1,A\nb@uni,bob,2,B\nn@uni,newuser,77,N\nc@uni,carol,3,C\n"
    )
    assert collect(tmp_path, fake, roster=roster, template_args=()) == 0
    got = rows(tmp_path)
    assert {k: (v["repository"], v["total"], v["flags"]) for k, v in got.items()} == {
        "alice": (f"{ORG}/lab04-alice-1", str(MAX), ""),
        "bob": (f"{ORG}/lab04-bob", str(MAX), ""),
        "newuser": (f"{ORG}/lab04-olduser", str(MAX), ""),
        "carol": ("", "0", "missing"),
    }
    assert got["alice"]["identifier"] == "a@uni" and got["newuser"]["identifier"] == "n@uni"
    err = capsys.readouterr().err
    assert "2 repositories named lab04-* match no student" in err
    assert "lab04-extra-bob, lab04-zed" in err and "alice: using lab04-alice-1, not the older lab04-alice" in err
    assert collect(tmp_path, fake, "--regrade", roster=roster, template_args=()) == 0
    assert sorted(d[0] for d in fake.dispatches) == [f"{ORG}/lab04-alice-1", f"{ORG}/lab04-bob", old]


# ----------------------------------------------------------------------------- 6. re-runs


@pytest.mark.slow
def test_the_newest_artifact_of_a_rerun_wins(tmp_path, fake, sleeps):
    full = student(fake, "frank", sha("f"), lost={"runtime.up": 10, "runtime.counter": 15})
    run = fake.runs[full][0]
    rerun = results(full, sha("f"), "2024-05-01T11:00:00+00:00")
    fake.add_artifact(full, run["id"], artifact_zip(both(rerun)), "2024-05-01T11:00:00Z")
    run.update(run_attempt=2, run_started_at="2024-05-01T10:55:00Z")
    # another run re-run once more, whose second attempt uploaded nothing (409): its report is older
    gina = student(fake, "gina", sha("9"), lost={"runtime.up": 10})
    fake.runs[gina][0].update(run_attempt=2, run_started_at="2024-05-01T12:00:00Z")
    assert collect(tmp_path, fake, template_args=()) == 0
    got = rows(tmp_path)
    assert (got["frank"]["total"], got["frank"]["flags"]) == (str(MAX), "")
    assert (got["gina"]["total"], got["gina"]["flags"]) == (str(MAX - 10), "stale")
    assert "attempt 2 uploaded none" in got["gina"]["notes"]


def test_workflow_upload_overwrites_its_artifact():
    from pathlib import Path

    import yaml

    wf = yaml.safe_load((Path(__file__).resolve().parents[2] / ".github/workflows/classroom.yml").read_text())
    upload = next(s for s in wf["jobs"]["autograde"]["steps"] if "upload-artifact" in str(s.get("uses")))
    assert upload["with"]["overwrite"] is True and upload["with"]["name"] == "autograde-report"


# ----------------------------------------------------------------------------- 7. secondary limits, paced POSTs


@pytest.mark.slow
def test_secondary_limits_back_off_and_budget_is_respected(tmp_path, fake, sleeps, capsys):
    base = time.time()
    fake.now = lambda: base + sum(sleeps)  # GitHub's clock moves on while we wait
    full = student(fake, "hank", sha("8"))
    fake.failures[f"/repos/{full}/branches/main"] = ["secondary", "secondary", "secondary"]
    fake.remaining = 6  # the budget runs out during the collection: wait for the reset, not for a 403
    assert collect(tmp_path, fake, template_args=()) == 0
    assert sleeps[:84] == [5.0] * 84  # 60 + 120 + 240 s, in steps the progress display can show
    assert sum(sleeps) >= 1790  # the budget's reset came 30 minutes after the first answer
    assert fake.served(403) == 3  # the three secondary limits; no primary-limit 403
    err = capsys.readouterr().err
    for wait in ("1m00s", "2m00s", "4m00s"):
        assert f"rate limited by GitHub (secondary limit): waiting {wait}" in err
    assert "GitHub rate limit used up until its reset: waiting" in err


def test_regrade_posts_are_a_second_apart(tmp_path, fake, sleeps):
    for login in ("a1", "a2", "a3"):
        fake.runs[student(fake, login, sha("1"))] = fake.runs.get(f"{ORG}/lab04-{login}", [])
    assert collect(tmp_path, fake, "--regrade", template_args=()) == 0
    assert len(fake.dispatches) == 3
    assert len([s for s in sleeps if 0.5 < s <= 1.0]) == 2  # before the 2nd and 3rd POST


# ----------------------------------------------------------------------------- 8. Classroom's own workflow


@pytest.mark.slow
def test_classroom_autograding_workflow_is_recognised(tmp_path, fake, sleeps, capsys):
    template(fake)
    full = fake.add_repo("lab04-ivy")
    fake.set_head(full, sha("3"), "2024-05-01T09:30:00Z")
    fake.add_run(full, sha("3"), T0, None, name="Autograding Tests")  # Classroom's run: no report artifact
    fake.set_tree(full, sha("3"), {**GRADER_FILES, ".github/workflows/classroom.yml": "c" * 40, **STUDENT_ONLY})
    fake.files[(full, sha("3"), ".github/workflows/classroom.yml")] = CLASSROOM_WORKFLOW
    fake.no_dispatch.add(full)
    assert collect(tmp_path, fake) == 0
    row = rows(tmp_path)["ivy"]
    assert row["flags"] == "missing"
    assert "GitHub Classroom replaced .github/workflows/classroom.yml with its own autograding workflow" in row["notes"]
    err = capsys.readouterr().err
    assert "1 repositories run GitHub Classroom's own autograding workflow" in err
    fake.files[(full, "main", ".github/workflows/classroom.yml")] = CLASSROOM_WORKFLOW
    assert collect(tmp_path, fake, "--regrade") == 1  # 422: no workflow_dispatch trigger
    err = capsys.readouterr().err
    assert "lab04-ivy: not triggered (GitHub Classroom replaced" in err and "Traceback" not in err


# ----------------------------------------------------------------------------- 9. GitHub Enterprise Server


def test_enterprise_server_needs_api_v3(tmp_path, sleeps, capsys):
    fake = FakeGitHub(TOKEN, org=ORG, api_prefix="/api/v3").start()
    try:
        student(fake, "jo", sha("4"))
        args = ["collect", "--org", ORG, "--prefix", "lab04", "-o", str(tmp_path / "g.csv")]
        assert cli.main([*args, "--api-url", fake.host_url]) == 2
        err = capsys.readouterr().err
        assert "answered with a web page, not the GitHub REST API" in err
        assert f"for GitHub Enterprise Server use --api-url {fake.host_url}/api/v3" in err and "Traceback" not in err
        assert cli.main([*args, "--api-url", "https://github.com"]) == 2
        assert "the API is https://api.github.com" in capsys.readouterr().err
        assert cli.main([*args, "--api-url", fake.api_url]) == 0
        assert rows(tmp_path)["jo"]["total"] == str(MAX)
    finally:
        fake.stop()


# ----------------------------------------------------------------------------- all of it at once


def misbehave(fake: FakeGitHub) -> tuple[str, list[list[str]]]:
    """The class of test_collect, served the way GitHub may serve it on a bad day; (bob, expected CSV)."""
    build_class(fake)
    want = expected(fake)
    c = lambda login: f"{ORG}/lab04-{login}"  # noqa: E731
    art = lambda login, i=0: fake.artifacts[fake.runs[c(login)][0]["id"]][i]["id"]  # noqa: E731
    fake.rename(TEMPLATE, "lab04-starter")  # 301s for the template
    fake.failures[f"/repos/{ORG}/lab04-alice/branches/main"] = ["301", "secondary"]
    fake.failures[f"/repos/{ORG}/lab04-carol/actions/workflows/classroom.yml/runs"] = ["secondary-retry-after", "500"]
    fake.failures[f"/storage/{art('bob')}"] = ["truncate"] * 5  # bob: cut off on every try of the first run
    fake.failures[f"/storage/{art('Judy-K')}"] = ["chunked-cut"]
    fake.failures[f"/storage/{art('ivan')}"] = ["truncate"]
    fake.failures[f"after:/repos/{c('frank')}/actions/artifacts/{art('frank')}/zip"] = ["expired-url"]
    fake.failures[f"/repos/{c('frank')}/git/trees/{sha('1')}"] = ["307"]
    # alice's job was re-run: the newest artifact of the run has the report that counts
    worse = results(c("alice"), sha("a"), "2024-05-01T09:00:00+00:00", {"runtime.up": 10})
    first = fake.runs[c("alice")][0]
    fake.artifacts[first["id"]].insert(
        0, {**copy.deepcopy(fake.artifacts[first["id"]][0]), "id": 1, "created_at": "2024-05-01T09:00:00Z"}
    )
    fake.blobs[1] = artifact_zip(both(worse))
    first.update(run_attempt=2, run_started_at="2024-05-01T09:30:00Z")  # the second attempt's upload is newer
    # newer runs that must not count: a fork's pull request, Classroom's bot
    fake.add_run(
        c("erin"),
        sha("7"),
        "2024-05-03T10:00:00Z",
        artifact_zip(both(results(c("erin"), sha("7"), "2024-05-03T10:00:00+00:00"))),
        event="pull_request",
        head_repository="fork/lab04-erin",
    )
    fake.add_run(
        c("grace"),
        sha("2"),
        "2024-05-01T08:00:00Z",
        None,
        actor="github-classroom[bot]",
        conclusion="skipped",
        event="repository_dispatch",
    )
    # repositories that are not the assignment's, and a re-accept
    fake.add_repo("lab04-extra-alice")
    fake.add_repo("lab04-zed")
    # mallory has a repository, but Classroom's own workflow replaced the lab's
    mal = fake.add_repo("lab04-mallory")
    fake.set_head(mal, sha("5"), "2024-05-01T09:30:00Z")
    fake.add_run(mal, sha("5"), T0, None, name="Autograding Tests")
    fake.files[(mal, sha("5"), ".github/workflows/classroom.yml")] = CLASSROOM_WORKFLOW
    fake.remaining = 40  # and the hourly budget runs out on the way
    return c("bob"), want


@pytest.mark.slow
def test_collect_survives_a_misbehaving_github(tmp_path, fake, monkeypatch, capsys):
    from autograde.commands import collect as collect_cmd

    slept: list[float] = []
    monkeypatch.setattr(collect_cmd, "_sleep", slept.append)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    base = time.time()
    fake.now = lambda: base + sum(slept)  # GitHub's clock moves on while we wait
    bob, want = misbehave(fake)
    mallory = next(r for r in want if r[1] == "mallory")
    mallory[2] = f"{ORG}/lab04-mallory"
    mallory[-1] = (
        "no autograde-report artifact in the last 1 usable runs; GitHub Classroom replaced "
        ".github/workflows/classroom.yml with its own autograding workflow (tests were added in the "
        "assignment's settings): remove them there and restore the lab's workflow (see docs/instructors.md)"
    )

    assert run_collect(tmp_path, fake) == 1  # bob could not be downloaded whole: not collected yet
    out = capsys.readouterr()
    assert "Traceback" not in out.err and TOKEN not in out.err + out.out
    assert f"autograde: {bob}: " in out.err and "rerun the same command" in out.err
    assert "2 repositories named lab04-* match no student in the roster" in out.err
    first = read_csv(tmp_path / "grades.csv")
    bob_row = next(r for r in first[1:] if r[1] == "bob")
    assert bob_row[HEADER.index("flags")] == "missing" and bob_row[2] == ""  # a roster row, not a bad report

    assert run_collect(tmp_path, fake) == 0  # the rerun finishes the rest
    err = capsys.readouterr().err
    assert "9 already collected, 1 to go" in err or "10 already collected, 1 to go" in err
    assert_cells(read_csv(tmp_path / "grades.csv"), want)
    assert fake.served(403) == 4  # the secondary limits only: the used-up budget was waited out
    storage = [e for e in fake.log if e.path.startswith("/storage/")]
    assert storage and all(e.authorization is None for e in storage)
    assert fake.count("/repos/cs-class/lab04-zed") == 0 and fake.count("/repos/cs-class/lab04-extra-alice") == 0
    assert ROSTER and EXPECTED  # the shared expectations were not modified in place
    assert next(r for r in EXPECTED if r[1] == "mallory")[2] == ""


@pytest.mark.slow
def test_reports_graded_under_another_rubric_or_workflow_are_flagged(tmp_path, fake, sleeps):
    """collect reads the rubric each report was graded under: another rubric than the class's is
    `rubric-mismatch`, a workflow that did not list the rubric's runners is `workflow-mismatch`."""
    from autograde.checks import default_rubric, load_rubric

    template(fake)
    usual, other = default_rubric(), load_rubric(text="points:\n  runtime.up: 20\n", source="env AUTOGRADE_RUBRIC")
    for login, head, rubric, mismatch in (
        ("amy", sha("1"), usual, False),
        ("ben", sha("2"), usual, True),
        ("cat", sha("3"), other, False),
    ):
        full = fake.add_repo(f"lab04-{login}")
        fake.set_head(full, head, "2024-05-01T09:30:00Z")
        res = results(full, head, T0)
        res.rubric = rubric.to_dict()
        if mismatch:
            res.grader["workflow_mismatch"] = {"missing": ["runtimeup"], "extra": []}
        fake.add_run(full, head, T0, artifact_zip(both(res)))
        fake.set_tree(full, head, {**GRADER_FILES, **STUDENT_ONLY})
    assert collect(tmp_path, fake) == 0
    got = rows(tmp_path)
    assert (got["amy"]["flags"], got["ben"]["flags"], got["cat"]["flags"]) == (
        "",
        "workflow-mismatch",
        "rubric-mismatch",
    )
    assert f"graded under rubric {other.fingerprint()} (env AUTOGRADE_RUBRIC)" in got["cat"]["notes"]


@pytest.mark.slow
def test_a_repository_its_student_renamed_keeps_its_row_given_the_classroom_assignment(tmp_path, fake, sleeps, capsys):
    """GitHub lists a renamed repository under its new name: the prefix misses it, Classroom's record does not."""
    dan = student(fake, "dan", sha("d"))
    ann = student(fake, "ann", sha("a"))
    fake.accept(77, ann, "ann")
    fake.accept(77, dan, "dan")
    fake.rename(dan, "dans-docker-lab")
    assert collect(tmp_path, fake, template_args=()) == 0
    assert set(rows(tmp_path)) == {"ann"}  # by the prefix: dan's repository is not named lab04-* any more
    assert collect(tmp_path, fake, "--assignment-id", "77", template_args=()) == 0
    got = rows(tmp_path)
    assert {k: (v["repository"], v["total"], v["flags"]) for k, v in got.items()} == {
        "ann": (f"{ORG}/lab04-ann", str(MAX), ""),
        "dan": (f"{ORG}/dans-docker-lab", str(MAX), ""),  # its student's row, read where it is now
    }
    assert fake.count("/assignments/77/accepted_assignments") == 1
    assert collect(tmp_path, fake, "--assignment-id", "5", template_args=()) == 2
    assert "GitHub Classroom assignment 5 was not found" in capsys.readouterr().err
