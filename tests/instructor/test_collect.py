"""`autograde collect` end to end against a local fake of the GitHub REST API."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from fake_github import FakeGitHub
from instructor_fixtures import CHECK_IDS, artifact_zip, both, junit_report, results

from autograde import cli
from autograde.checks import default_items
from autograde.commands import collect as collect_cmd

TOKEN = "ghp_S3cretT0kenThatMustNeverLeak0123456789"
ORG = "cs-class"
TEMPLATE = f"{ORG}/lab04-template"
GRADER_FILES = {
    ".github/workflows/classroom.yml": "1" * 40,
    "autograde/__init__.py": "2" * 40,
    "autograde/checks/dockerfile.py": "3" * 40,
    "app/tests/test_app.py": "4" * 40,
}
STUDENT_ONLY = {"Dockerfile.prod": "9" * 40, "docker-compose.prod.yml": "8" * 40}  # what students write
T0 = "2024-05-01T10:00:00+00:00"


def sha(c: str) -> str:
    return c * 40


def build_class(fake: FakeGitHub) -> None:
    """Ten repositories over five pages, plus the template and an unrelated repository."""
    fake.add_repo("lab04-template", is_template=True)
    fake.set_tree(TEMPLATE, "main", {**GRADER_FILES, "README.md": "0" * 40})
    fake.set_tree(TEMPLATE, "v1", {**GRADER_FILES})
    fake.add_repo("website")

    def student(login: str, *, head: str, res=None, members=None, expired=False, tree=None, runs=True) -> str:
        full = fake.add_repo(f"lab04-{login}")
        fake.set_head(full, head, "2024-05-01T09:30:00Z")
        if runs:
            fake.runs.setdefault(full, [])
        if res is not None or members is not None:
            zip_bytes = artifact_zip(members if members is not None else both(res))
            fake.add_run(full, res.source["commit"] if res else head, T0, zip_bytes, expired=expired)
            fake.set_tree(full, res.source["commit"] if res else head, {**(tree or GRADER_FILES), **STUDENT_ONLY})
        return full

    a = results(f"{ORG}/lab04-alice", sha("a"), T0)
    student("alice", head=sha("a"), res=a)
    b = results(f"{ORG}/lab04-bob", sha("b"), T0, {"runtime.counter": 15, "images.size_ratio": 15})
    fake.failures[f"/repos/{ORG}/lab04-bob/actions/workflows/classroom.yml/runs"] = ["retry-after"]
    student("bob", head=sha("c"), res=b)  # pushed after grading: stale
    c = results(f"{ORG}/lab04-carol", sha("d"), T0, {"dockerfile.builder_tests": 5})
    fake.failures[f"/repos/{ORG}/lab04-carol/branches/main"] = ["reset"]
    student("carol", head=sha("d"), res=c, members={"autograde-report.xml": junit_report(c)})
    student("dave", head=sha("e"), runs=False)  # workflow deleted: runs endpoint 404
    e = results(f"{ORG}/lab04-erin", sha("f"), T0)
    student("erin", head=sha("f"), res=e, expired=True)
    f = results(f"{ORG}/lab04-frank", sha("1"), T0, modified_files=["app/tests/test_app.py"])
    tampered = dict(GRADER_FILES)
    tampered["autograde/checks/dockerfile.py"] = "5" * 40
    del tampered["app/tests/test_app.py"]
    tampered["autograde/checks/always_pass.py"] = "6" * 40
    student("frank", head=sha("1"), res=f, tree=tampered)
    student("grace", head=sha("2"))  # no completed run yet
    full = fake.add_repo("lab04-heidi")  # empty repository: no branch
    fake.runs[full] = []
    i = results(
        f"{ORG}/lab04-ivan",
        sha("3"),
        T0,
        {"runtime.up": 10, "runtime.counter": 15},
        static_only=True,
        error="docker daemon not reachable",
    )
    student("ivan", head=sha("3"), res=i)
    j = results(f"{ORG}/lab04-Judy-K", sha("4"), T0, {"compose.web_build": 5})
    student("Judy-K", head=sha("4"), res=j)


ROSTER = """identifier,github_username,github_id,name
alice@uni.edu,alice,1,Alice
bob@uni.edu,bob,2,Bob
carol@uni.edu,carol,3,Carol
dave@uni.edu,dave,4,Dave
erin@uni.edu,erin,5,Erin
frank@uni.edu,frank,6,Frank
grace@uni.edu,grace,7,Grace
heidi@uni.edu,heidi,8,Heidi
ivan@uni.edu,ivan,9,Ivan
judy@uni.edu,judy-k,10,Judy
mallory@uni.edu,mallory,11,Mallory
nobody@uni.edu,,,Not Linked
"""

# The rubric's points, from the registry: a new check changes them, not this file.
FULL = {i.id: i.points for i in default_items()}
MAX = str(sum(FULL.values()))


def pts(**lost: int) -> list[str]:
    return [str(FULL[c] - lost.get(c.replace(".", "__"), 0)) for c in CHECK_IDS]


def scored(**lost: int) -> list[str]:
    """total, max and the points per check of a report that lost these points."""
    return [str(int(MAX) - sum(lost.values())), MAX, *pts(**lost)]


BLANK = [""] * len(CHECK_IDS)
HEADER = ["identifier", "login", "repository", "commit", "graded_at", "total", "max", *CHECK_IDS, "flags", "notes"]
EXPECTED = [
    ["alice@uni.edu", "alice", f"{ORG}/lab04-alice", sha("a"), T0, *scored(), "", ""],
    [
        "bob@uni.edu",
        "bob",
        f"{ORG}/lab04-bob",
        sha("b"),
        T0,
        *scored(runtime__counter=15, images__size_ratio=15),
        "stale",
        "graded bbbbbbb, branch main is at ccccccc",
    ],
    [
        "carol@uni.edu",
        "carol",
        f"{ORG}/lab04-carol",
        sha("d"),
        T0,
        *scored(dockerfile__builder_tests=5),
        "",
        "from the JUnit report (no JSON report)",
    ],
    [
        "dave@uni.edu",
        "dave",
        f"{ORG}/lab04-dave",
        "",
        "",
        "0",
        MAX,
        *BLANK,
        "missing",
        "workflow classroom.yml not found",
    ],
    [
        "erin@uni.edu",
        "erin",
        f"{ORG}/lab04-erin",
        "",
        "",
        "0",
        MAX,
        *BLANK,
        "missing;expired",
        "artifact of run {erin_run} expired 2024-07-30T10:00:00Z",
    ],
    [
        "frank@uni.edu",
        "frank",
        f"{ORG}/lab04-frank",
        sha("1"),
        T0,
        *scored(),
        "tampered:app/tests/test_app.py,autograde/checks/always_pass.py,autograde/checks/dockerfile.py",
        "",
    ],
    [
        "grace@uni.edu",
        "grace",
        f"{ORG}/lab04-grace",
        "",
        "",
        "0",
        MAX,
        *BLANK,
        "missing",
        "no completed run of classroom.yml on main",
    ],
    [
        "heidi@uni.edu",
        "heidi",
        f"{ORG}/lab04-heidi",
        "",
        "",
        "0",
        MAX,
        *BLANK,
        "missing",
        "repository or branch main not found (deleted, empty or no access)",
    ],
    [
        "ivan@uni.edu",
        "ivan",
        f"{ORG}/lab04-ivan",
        sha("3"),
        T0,
        *scored(runtime__up=10, runtime__counter=15),
        "error;static-only",
        "grading error: docker daemon not reachable",
    ],
    ["judy@uni.edu", "judy-k", f"{ORG}/lab04-Judy-K", sha("4"), T0, *scored(compose__web_build=5), "", ""],
    ["mallory@uni.edu", "mallory", "", "", "", "0", MAX, *BLANK, "missing", "no repository"],
    ["nobody@uni.edu", "", "", "", "", "0", MAX, *BLANK, "missing", "no GitHub account linked in the roster"],
]


@pytest.fixture
def fake():
    server = FakeGitHub(TOKEN, org=ORG).start()
    build_class(server)
    yield server
    server.stop()


@pytest.fixture
def sleeps(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(collect_cmd, "_sleep", slept.append)
    return slept


def expected(fake: FakeGitHub) -> list[list[str]]:
    erin_run = fake.runs[f"{ORG}/lab04-erin"][0]["id"]
    return [[c.replace("{erin_run}", str(erin_run)) for c in row] for row in EXPECTED]


def run_collect(tmp_path: Path, fake: FakeGitHub, *extra: str) -> int:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    return cli.main(
        [
            "collect",
            "--org",
            ORG,
            "--prefix",
            "lab04",
            "--template",
            TEMPLATE,
            "--template-ref",
            "v1",
            "--api-url",
            fake.api_url,
            "--roster",
            str(roster),
            "-o",
            str(tmp_path / "grades.csv"),
            *extra,
        ]
    )


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def assert_cells(got: list[list[str]], want: list[list[str]]) -> None:
    assert got[0] == HEADER
    assert len(got) - 1 == len(want), [r[2] for r in got[1:]]
    for r, (g, w) in enumerate(zip(got[1:], want), start=1):
        for col, (gc, wc) in enumerate(zip(g, w)):
            assert gc == wc, f"row {r} ({w[1]}), column {HEADER[col]}: {gc!r} != {wc!r}"
        assert len(g) == len(w)


@pytest.mark.slow
def test_collect_end_to_end(tmp_path, fake, sleeps, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    assert run_collect(tmp_path, fake) == 0
    err = capsys.readouterr().err
    assert_cells(read_csv(tmp_path / "grades.csv"), expected(fake))

    # pagination: the 12 org repositories came over 6 pages of 2
    assert fake.count("/organizations/1/repos") == 5 and fake.count(f"/orgs/{ORG}/repos") == 1
    # rate limits: a 429 with retry-after: 7, and a 403 with x-ratelimit-reset ~90 s ahead
    assert sum(sleeps) >= 7 + 85
    assert "rate limited by GitHub (secondary limit): waiting 7s (until" in err
    assert "rate limited by GitHub (primary limit): waiting 1m3" in err
    # the artifact storage host never saw the token; the template was neither listed nor graded
    storage = [e for e in fake.log if e.path.startswith("/storage/")]
    assert storage and all(e.authorization is None for e in storage)
    assert fake.count("/repos/cs-class/lab04-template/branches") == 0
    assert fake.count("/repos/cs-class/website") == 0
    # artifacts are kept for `autograde export`
    assert (tmp_path / "grades.csv.reports" / "lab04-alice" / "autograde-report.zip").is_file()


@pytest.mark.slow
def test_token_never_leaks(tmp_path, fake, sleeps, monkeypatch, capsys):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    fake.failures[f"/repos/{ORG}/lab04-alice/branches/main"] = ["500"] * 10  # errors are printed, token is not
    assert run_collect(tmp_path, fake, "--token", TOKEN) == 1
    out = capsys.readouterr()
    assert TOKEN not in out.out and TOKEN not in out.err
    assert "lab04-alice" in out.err and "Server Error" in out.err
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert TOKEN.encode() not in data, path
            if path.suffix == ".zip":
                import zipfile

                with zipfile.ZipFile(path) as zf:
                    assert all(TOKEN.encode() not in zf.read(n) for n in zf.namelist())


@pytest.mark.slow
def test_resume_after_interruption(tmp_path, fake, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt  # the instructor presses Ctrl-C during the first rate-limit wait

    monkeypatch.setattr(collect_cmd, "_sleep", interrupt)
    assert run_collect(tmp_path, fake) == 130
    assert not (tmp_path / "grades.csv").exists()
    assert (tmp_path / "grades.csv.state.json").is_file()
    assert fake.count("/repos/cs-class/lab04-alice/branches") == 1

    monkeypatch.setattr(collect_cmd, "_sleep", lambda s: None)
    assert run_collect(tmp_path, fake) == 0
    assert "already collected" in capsys.readouterr().err
    assert fake.count("/repos/cs-class/lab04-alice/branches") == 1  # alice was done: not asked again
    assert fake.count("/repos/cs-class/lab04-dave/branches") == 1
    assert_cells(read_csv(tmp_path / "grades.csv"), expected(fake))

    # --restart forgets the state
    assert run_collect(tmp_path, fake, "--restart") == 0
    assert fake.count("/repos/cs-class/lab04-alice/branches") == 2


@pytest.mark.slow
def test_failed_repo_is_retried_on_rerun(tmp_path, fake, sleeps, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    fake.failures[f"/repos/{ORG}/lab04-bob/branches/main"] = ["500"] * 5  # one try + 4 retries
    assert run_collect(tmp_path, fake) == 1
    rows = {r[1]: r for r in read_csv(tmp_path / "grades.csv")[1:]}
    assert rows["bob"][HEADER.index("flags")] == "missing"  # rostered, not collected yet
    assert "rerun the same command" in capsys.readouterr().err
    assert run_collect(tmp_path, fake) == 0
    assert_cells(read_csv(tmp_path / "grades.csv"), expected(fake))
    assert fake.count("/repos/cs-class/lab04-alice/branches") == 1


@pytest.mark.slow
def test_template_default_branch_and_export_of_kept_artifacts(tmp_path, fake, sleeps, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    assert (
        cli.main(
            [
                "collect",
                "--org",
                ORG,
                "--prefix",
                "lab04",
                "--template",
                TEMPLATE,
                "--api-url",
                fake.api_url,
                "-o",
                str(tmp_path / "g.csv"),
            ]
        )
        == 0
    )
    assert fake.count(f"/repos/{TEMPLATE}/git/trees/main") == 1
    rows = {r[0]: r for r in read_csv(tmp_path / "g.csv")[1:]}
    assert "identifier" not in read_csv(tmp_path / "g.csv")[0]
    assert set(rows) == {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "Judy-K"}
    # the kept artifacts export to the same points (export knows neither stale nor the API tamper check)
    assert (
        cli.main(["export", str(tmp_path / "g.csv.reports"), "-o", str(tmp_path / "e.csv"), "--prefix", "lab04"]) == 0
    )
    exported = {r[0]: r for r in read_csv(tmp_path / "e.csv")[1:]}
    assert set(exported) == {"alice", "bob", "carol", "frank", "ivan", "Judy-K"}
    for login, row in exported.items():
        assert row[1:-2] == rows[login][1:-2]
    assert exported["frank"][-2] == "tampered:app/tests/test_app.py"


@pytest.mark.slow
def test_regrade_dispatches_and_resumes(tmp_path, fake, sleeps, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    dispatches = f"/repos/{ORG}/lab04-%s/actions/workflows/classroom.yml/dispatches"
    fake.failures[dispatches % "ivan"] = ["500"]  # refused before acting: must be sent again, by the rerun
    fake.failures["after:" + dispatches % "alice"] = ["502"]  # acted on, then a 502: must never be sent again
    assert run_collect(tmp_path, fake, "--regrade") == 1
    got = sorted(r for r, _, _ in fake.dispatches)
    assert len(got) == 8 and f"{ORG}/lab04-dave" not in got and f"{ORG}/lab04-ivan" not in got
    assert f"{ORG}/lab04-alice" in got
    assert all(
        wf == "classroom.yml" and body == {"ref": "main", "return_run_details": True} for _, wf, body in fake.dispatches
    )
    assert fake.count(dispatches % "ivan", "POST") == 1  # a POST that got a 5xx is not retried
    assert fake.count(dispatches % "alice", "POST") == 1
    err = capsys.readouterr().err
    assert "lab04-ivan: unknown whether triggered" in err and "looks for its run before sending again" in err
    assert not (tmp_path / "grades.csv").exists()
    assert run_collect(tmp_path, fake, "--regrade") == 1  # dave still 404s; ivan is sent again, alice is not
    assert len(fake.dispatches) == 9 and fake.count(dispatches % "ivan", "POST") == 2
    assert fake.count(dispatches % "alice", "POST") == 1
    assert "lab04-alice: already triggered (the unanswered request did start run" in capsys.readouterr().err


@pytest.mark.slow
def test_fatal_errors(tmp_path, fake, sleeps, monkeypatch, capsys):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    assert cli.main(["collect", "--org", ORG, "--prefix", "lab04", "--api-url", fake.api_url]) == 2
    assert "GITHUB_TOKEN" in capsys.readouterr().err
    assert (
        cli.main(
            [
                "collect",
                "--org",
                ORG,
                "--prefix",
                "lab04",
                "--api-url",
                fake.api_url,
                "--token",
                "wrong",
                "-o",
                str(tmp_path / "x.csv"),
            ]
        )
        == 2
    )
    assert "bad credentials" in capsys.readouterr().err
    assert (
        cli.main(
            [
                "collect",
                "--org",
                "nope",
                "--prefix",
                "lab04",
                "--api-url",
                fake.api_url,
                "--token",
                TOKEN,
                "-o",
                str(tmp_path / "x.csv"),
            ]
        )
        == 2
    )
    assert "not found" in capsys.readouterr().err
    assert (
        cli.main(
            [
                "collect",
                "--org",
                ORG,
                "--prefix",
                "lab04",
                "--api-url",
                fake.api_url,
                "--token",
                TOKEN,
                "--template",
                f"{ORG}/missing",
                "-o",
                str(tmp_path / "x.csv"),
            ]
        )
        == 2
    )
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.slow
def test_an_unwritable_resume_file_is_a_message_not_a_traceback(tmp_path, fake, sleeps, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    state = tmp_path / "no-such-folder" / "grades.state.json"
    assert run_collect(tmp_path, fake, "--state", str(state)) == 2
    err = capsys.readouterr().err
    assert f"cannot write {state}.tmp: No such file or directory" in err and "Traceback" not in err
