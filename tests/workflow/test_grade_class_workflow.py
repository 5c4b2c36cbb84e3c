"""instructor/grade-class.yml: linted, checked for policy, and its `run:` steps run locally in order.

As for the Classroom workflow, the `run:` steps are taken from the YAML and executed with bash the
way the runner does (`bash --noprofile --norc -eo pipefail`), with each step's `env:` given the
values its expressions would have, GITHUB_OUTPUT / GITHUB_STEP_SUMMARY as temp files, and
GITHUB_API_URL / GITHUB_SERVER_URL pointing at the fake GitHub (tests/instructor/fake_github_class.py)
as a runner points them at its GitHub. The `uses:` steps are stood in for: checkout and
setup-python by this checkout's venv, upload-artifact + download-artifact (merge-multiple) by
copying each chunk's reports folder into one (not for a job that was cut off: `!cancelled()`).
Each grade job's outcome is recorded in the fake's jobs API for the run, as GitHub records it,
and a re-run of failed jobs is a new attempt of those jobs.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "instructor"))
from fake_github_class import FakeClassGitHub, StudentRepo, git

from support import make_checkout, solution_files, template_copy

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / "instructor" / "grade-class.yml"
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
TOKEN = "ghs_instructor_token_42"
DEADLINE = "2026-12-01T23:59:00Z"
RUN_ID = 4242  # the class workflow's run
ASSIGNMENT = 81_234  # GitHub Classroom's id of the assignment (the `assignment-id` input)


def load() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    if True in data:  # YAML 1.1 reads the key `on` as True
        data["on"] = data.pop(True)
    return data


def tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(found).exists():
        pytest.fail(f"{name} is not installed in the dev venv (see pyproject.toml [test])", pytrace=False)
    return found


# --- static: lint and policy ---------------------------------------------------------------


def test_actionlint_reports_nothing() -> None:
    proc = subprocess.run(
        [tool("actionlint"), "-no-color", "-oneline", str(WORKFLOW)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout + proc.stderr


def test_zizmor_offline_reports_nothing() -> None:
    proc = subprocess.run(
        [tool("zizmor"), "--offline", "--no-config", "--persona", "pedantic", "--format", "plain", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout, proc.stdout


def test_policy_dispatch_only_least_permissions_pinned_token_only_where_needed() -> None:
    wf = load()
    assert list(wf["on"]) == ["workflow_dispatch"]
    assert set(wf["on"]["workflow_dispatch"]["inputs"]) >= {"org", "prefix", "deadline", "max-parallel"}
    assert wf["permissions"] == {}
    assert not WORKFLOW.is_relative_to(REPO / ".github")  # never runs in a student repository
    for name, job in wf["jobs"].items():
        # merge reads the run's artifacts through the REST API (also those of an earlier attempt)
        assert job["permissions"] == {"contents": "read", **({"actions": "read"} if name == "merge" else {})}, name
        for step in job["steps"]:
            if "uses" in step:
                assert SHA_PIN.match(step["uses"]), step["uses"]
                if step["uses"].startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False
            if "run" in step:
                assert "${{" not in step["run"], f"{step['name']}: expressions go through env:"
            uses_token = "secrets.CLASSROOM_TOKEN" in json.dumps(step)
            assert uses_token == (step.get("name") in ("List the repositories", "Grade the chunk at the deadline"))
    assert wf["jobs"]["grade"]["strategy"]["fail-fast"] is False
    assert "fromJSON(inputs.max-parallel)" in wf["jobs"]["grade"]["strategy"]["max-parallel"]


def test_chunks_stay_within_the_matrix_limit() -> None:
    from autograde.instructor.chunks import split

    assert split(["a", "b", "c"], 2) == ["a b", "c"]
    many = [f"lab04-s{i}" for i in range(1000)]
    assert len(split(many, 1)) <= 256 and sum(len(c.split()) for c in split(many, 1)) == 1000
    assert split([], 5) == []
    with pytest.raises(ValueError):
        split(["ok", "$(rm -rf /)"], 2)


# --- running the steps ---------------------------------------------------------------------


def run_step(
    step: dict, cwd: Path, env: dict[str, str], tmp: Path, *, ok: bool = True, kill_after: float | None = None
) -> tuple[dict[str, str], subprocess.CompletedProcess[str]]:
    """Run one `run:` step as the runner does; returns what it wrote to GITHUB_OUTPUT, and the process.

    ok: the step must succeed. kill_after: the job is cut off that many seconds in (its timeout-minutes,
    a cancelled or lost runner): the step's processes are killed and nothing after it runs.
    """
    out = tmp / f"output-{os.urandom(4).hex()}"
    out.write_text("")
    full = {
        **os.environ,
        **env,
        "GITHUB_OUTPUT": str(out),
        "GITHUB_ACTIONS": "true",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    argv = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]]
    with subprocess.Popen(
        argv, cwd=cwd, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=kill_after or 1500)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            if not kill_after:
                raise
    done = subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)
    if ok:
        assert done.returncode == 0, f"{step['name']}: {stdout[-2000:]}{stderr[-3000:]}"
    assert TOKEN not in stdout + stderr
    return dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line), done


def step_env(step: dict, values: dict[str, str]) -> dict[str, str]:
    """The step's env:, with each `${{ expr }}` replaced by its value from `values`."""
    env = {}
    for key, expr in (step.get("env") or {}).items():
        m = re.fullmatch(r"\$\{\{\s*(.*?)\s*\}\}", str(expr))
        env[key] = values[m.group(1)] if m else str(expr)
    return env


def steps(job: str) -> dict[str, dict]:
    return {s["name"]: s for s in load()["jobs"][job]["steps"]}


class Run:
    """One run of the workflow, job by job, as the runner would run them (tmp/<job>/ is each job's checkout)."""

    def __init__(self, fake: FakeClassGitHub, tmp: Path, chunk_size: str, **inputs: str) -> None:
        self.fake, self.tmp = fake, tmp
        declared = load()["on"]["workflow_dispatch"]["inputs"]
        self.inputs = {
            **{f"inputs.{k}": str(v["default"]) for k, v in declared.items() if "default" in v},  # the form's defaults
            "inputs.org": fake.org,
            "inputs.prefix": "lab04",
            "inputs.deadline": DEADLINE,
            "inputs.chunk-size": chunk_size,
            "inputs.include-late": "false",
            "inputs.allow-empty": "false",
            "inputs.roster": "",
            "secrets.CLASSROOM_TOKEN": TOKEN,
            **{f"inputs.{k.replace('_', '-')}": v for k, v in inputs.items()},
        }
        self.runner = {"GITHUB_API_URL": fake.api_url, "GITHUB_SERVER_URL": f"http://127.0.0.1:{fake.port}/git"}
        self.artifacts = tmp / "artifacts"  # reports-<n>: each chunk's uploaded reports/
        self.attempt = 1  # "Re-run failed jobs" starts attempt 2
        self.grading_repo = f"{fake.org}/grading"  # where the workflow runs ($GITHUB_REPOSITORY)
        fake.add_job(self.grading_repo, RUN_ID, "List the assignment's repositories", "success")
        self.chunks: list[str] = []
        self.chunks_output = ""

    def list(self, *, ok: bool = True) -> subprocess.CompletedProcess[str]:
        work = self.tmp / "list"
        work.mkdir(exist_ok=True)
        s = steps("list")
        listing = s["List the repositories"]
        _, done = run_step(listing, work, {**self.runner, **step_env(listing, self.inputs)}, self.tmp, ok=ok)
        if done.returncode != 0:
            return done
        split = s["Split them into chunks"]
        self.chunks_output = run_step(split, work, step_env(split, self.inputs), self.tmp)[0]["chunks"]
        self.chunks = json.loads(self.chunks_output)
        return done

    def grade(
        self, index: int, *, ok: bool = True, kill_after: float | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The matrix job `Grade chunk <index>`, on a fresh runner (also when re-run)."""
        work = self.tmp / f"chunk{index}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        g = steps("grade")["Grade the chunk at the deadline"]
        env = {**self.runner, **step_env(g, {**self.inputs, "matrix.chunk": self.chunks[index]})}
        _, done = run_step(g, work, env, self.tmp, ok=ok and kill_after is None, kill_after=kill_after)
        ended = "cancelled" if kill_after is not None else "success" if done.returncode == 0 else "failure"
        self.fake.add_job(self.grading_repo, RUN_ID, f"Grade chunk {index}", ended, attempt=self.attempt)
        upload = steps("grade")["Upload the chunk's reports"]
        assert upload["with"]["path"] == "reports/" and upload["with"]["overwrite"] is True
        if kill_after is None and (work / "reports").is_dir():  # if: !cancelled(); overwrite: true
            shutil.rmtree(self.artifacts / f"reports-{index}", ignore_errors=True)
            shutil.copytree(work / "reports", self.artifacts / f"reports-{index}")
        return done

    def merge(self, *, ok: bool = True) -> tuple[dict[str, dict[str, str]], str, subprocess.CompletedProcess[str]]:
        """The merge job: download-artifact (pattern reports-*, merge-multiple) into reports/, then the merge."""
        work = self.tmp / "merge"
        shutil.rmtree(work / "reports", ignore_errors=True)
        (work / "reports").mkdir(parents=True)
        for artifact in sorted(self.artifacts.glob("reports-*")):
            shutil.copytree(artifact, work / "reports", dirs_exist_ok=True)
        summary = self.tmp / "summary.md"
        summary.write_text("")
        m = steps("merge")["Write the gradebook and the summary"]
        values = {**self.inputs, "needs.list.outputs.chunks": self.chunks_output, "github.token": TOKEN}
        runner = {
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_RUN_ID": str(RUN_ID),
            "GITHUB_REPOSITORY": self.grading_repo,
            "GITHUB_API_URL": self.fake.api_url,
        }
        _, done = run_step(m, work, {**step_env(m, values), **runner}, self.tmp, ok=ok)
        return read_gradebook(self.tmp), summary.read_text(), done


def read_gradebook(tmp: Path) -> dict[str, dict[str, str]]:
    with open(tmp / "merge" / "lab04-grades.csv", newline="", encoding="utf-8") as fh:
        return {r["login"]: r for r in csv.DictReader(fh)}


def run_workflow(fake: FakeClassGitHub, tmp: Path, chunk_size: str) -> tuple[dict[str, dict[str, str]], str]:
    run = Run(fake, tmp, chunk_size)
    run.list()
    for i in range(len(run.chunks)):
        run.grade(i)
    rows, summary, _ = run.merge()
    return rows, summary


@pytest.fixture
def fake(tmp_path: Path):
    server = FakeClassGitHub(TOKEN, git_root=tmp_path / "git").start()
    yield server
    server.stop()


def student(
    fake: FakeClassGitHub, tmp: Path, name: str, files: dict[str, str | None] | None = None, solution: bool = True
) -> StudentRepo:
    repo = StudentRepo(fake, tmp / "students", name)
    make_checkout(repo.work, solution=solution, files=files)
    return repo


@pytest.mark.slow
def test_steps_list_split_grade_and_merge_a_class_without_gradable_work(fake: FakeClassGitHub, tmp_path: Path) -> None:
    """No engine needed: every repository is a bad input, so the pipeline itself is what is tested."""
    late = student(fake, tmp_path, "lab04-ann")
    late.commit({}, date="2026-11-30T09:00:00Z")  # dated before the deadline, pushed after it
    late.push("2026-12-03T10:00:00Z")
    empty = student(fake, tmp_path, "lab04-ben", files={"Dockerfile.prod": None, "docker-compose.prod.yml": None})
    empty.commit({}, date="2026-11-30T09:00:00Z")
    empty.push("2026-11-30T10:00:00Z")
    fake.add_repo("lab04-cat")  # never pushed
    rows, summary = run_workflow(fake, tmp_path, chunk_size="2")
    assert set(rows) == {"ann", "ben", "cat"}
    assert rows["ann"]["flags"] == "missing;late"
    assert rows["ben"]["flags"] == "no-lab-files" and rows["ben"]["pushed_at"] == "2026-11-30T10:00:00Z"
    assert rows["cat"]["flags"] == "missing" and "no push" in rows["cat"]["notes"]
    assert "## Class summary" in summary and "0 repositories graded" in summary


@pytest.mark.docker
def test_steps_grade_a_class_end_to_end(fake: FakeClassGitHub, tmp_path: Path) -> None:
    good = student(fake, tmp_path, "lab04-ann")
    good.commit(solution_files(), date="2026-11-30T09:00:00Z")
    sha = good.push("2026-11-30T10:00:00Z")
    broken = student(fake, tmp_path, "lab04-ben", solution=False)
    broken.commit({}, date="2026-11-30T09:00:00Z")
    broken.push("2026-11-30T11:00:00Z")
    rows, summary = run_workflow(fake, tmp_path, chunk_size="1")
    assert rows["ann"]["total"] == rows["ann"]["max"] and rows["ann"]["commit"] == sha
    assert int(rows["ben"]["total"]) < 100
    assert "```mermaid" in summary and "xychart-beta" in summary and "2 repositories graded" in summary


# --- a failed chunk, a roster, an empty class (no engine needed: nothing gradable) -------------


def ungradable_class(fake: FakeClassGitHub, tmp: Path, names: list[str]) -> None:
    """Repositories without the lab's files (no-lab-files); a name ending in `-nopush` is never pushed."""
    for name in names:
        if name.endswith("-nopush"):
            fake.add_repo(name)
            continue
        repo = student(fake, tmp, name, files={"Dockerfile.prod": None, "docker-compose.prod.yml": None})
        repo.commit({}, date="2026-11-30T09:00:00Z")
        repo.push("2026-11-30T10:00:00Z")


@pytest.mark.slow
def test_a_failed_chunk_gets_error_rows_and_a_failed_merge_until_it_is_rerun(
    fake: FakeClassGitHub, tmp_path: Path
) -> None:
    ungradable_class(fake, tmp_path, ["lab04-ann", "lab04-ben", "lab04-cat"])
    run = Run(fake, tmp_path, chunk_size="1")
    run.list()
    ids = {r["name"]: r["id"] for r in fake.repos}
    assert run.chunks == [f"{n}@{ids[n]}" for n in ("lab04-ann", "lab04-ben", "lab04-cat")]  # name@id
    run.grade(0)
    run.grade(1, kill_after=0.2)  # cut off (timeout-minutes, runner lost): no artifact
    bare = fake.git_root / fake.org / "lab04-cat.git"
    bare.rename(bare.with_suffix(".away"))  # the git host fails for this one: the step fails, reports still upload
    assert run.grade(2, ok=False).returncode == 1
    bare.with_suffix(".away").rename(bare)
    assert not (run.artifacts / "reports-1").exists() and (run.artifacts / "reports-2").is_dir()
    merge = load()["jobs"]["merge"]
    assert "list" in merge["needs"] and "!cancelled()" in merge["if"] and "needs.list.result" in merge["if"]
    assert steps("merge")["Upload the gradebook"]["if"] == "${{ !cancelled() }}"

    rows, summary, done = run.merge(ok=False)
    assert done.returncode == 1
    assert set(rows) == {"ann", "ben", "cat"}  # a row for every listed repository
    assert rows["ben"]["flags"] == "error" and rows["ben"]["repository"] == f"{fake.org}/lab04-ben"
    job = next(j for j in fake.run_jobs[RUN_ID] if j["name"] == "Grade chunk 1")
    assert (
        f"no report from chunk 1: its job `Grade chunk 1` ended `cancelled` ({job['html_url']})" in rows["ben"]["notes"]
    )  # as the run's jobs API says
    assert "Re-run failed jobs" in rows["ben"]["notes"]
    assert rows["ann"]["flags"] == "no-lab-files"
    assert rows["cat"]["flags"] == "clone-failed" and "git clone failed" in rows["cat"]["notes"]
    assert "**Incomplete: 2 of 3 rows have no grade yet**" in summary
    assert "- `lab04-ben`: no report from chunk 1" in summary and "- `lab04-cat`: clone-failed" in summary
    assert "::error title=Gradebook incomplete::2 of 3 rows have no grade yet" in done.stderr
    assert "autograde: gradebook incomplete: 2 of 3 rows" in done.stderr
    assert "1 repositories have no report (chunk 1): lab04-ben" in done.stderr

    jobs = fake.run_jobs.pop(RUN_ID)  # the jobs API answers 404: the gradebook is still written, less precise
    _, _, done = run.merge(ok=False)
    assert "--run-id 4242: the run's jobs could not be read" in done.stderr and done.returncode == 1
    bare_rows = read_gradebook(tmp_path)
    assert (
        "no report from chunk 1 (job `Grade chunk 1`): that job failed, timed out or was cancelled"
        in bare_rows["ben"]["notes"]
    )

    fake.run_jobs[RUN_ID] = jobs
    run.attempt = 2  # "Re-run failed jobs": the failed chunks, then the merge that depends on them
    run.grade(1)
    run.grade(2)
    rows, summary, done = run.merge()
    assert rows["ben"]["flags"] == rows["cat"]["flags"] == "no-lab-files" and "chunk" not in rows["ben"]["notes"]
    assert "Incomplete" not in summary and "::error" not in done.stderr
    assert fake.count(f"/orgs/{fake.org}/repos") == 1  # listed once per run, by the list job only


ROSTER = (
    "identifier,github_username,github_id,name\n"
    "ann@example.edu,ann,11,Ann\n"
    "ben@example.edu,lab-ben,12,Ben\n"  # matched by no repository: a missing row
    "dora@example.edu,,,Dora\n"  # no GitHub account linked yet
)


@pytest.mark.slow
def test_a_roster_as_text_or_as_a_path_gives_students_without_a_repository_a_missing_row(
    fake: FakeClassGitHub, tmp_path: Path
) -> None:
    ungradable_class(fake, tmp_path, ["lab04-ann", "lab04-cat-nopush"])
    run = Run(fake, tmp_path, chunk_size="5", roster=ROSTER)
    run.list()
    run.grade(0)
    rows, summary, _ = run.merge()
    by_id = {r["identifier"]: r for r in rows.values()}
    assert by_id["ann@example.edu"]["flags"] == "no-lab-files"
    assert by_id["ben@example.edu"]["flags"] == "missing" and by_id["ben@example.edu"]["notes"] == "no repository"
    assert by_id["ben@example.edu"]["repository"] == "" and by_id["ben@example.edu"]["login"] == "lab-ben"
    assert by_id["dora@example.edu"]["flags"] == "missing"
    assert "no GitHub account" in by_id["dora@example.edu"]["notes"]
    assert rows["cat-nopush"]["flags"] == "missing;not-in-roster"

    (tmp_path / "merge" / "rosters").mkdir()
    (tmp_path / "merge" / "rosters" / "lab04.csv").write_text(ROSTER, encoding="utf-8")  # in the grading repository
    run.inputs["inputs.roster"] = "rosters/lab04.csv"
    by_path, _, _ = run.merge()
    assert by_path == rows

    run.inputs["inputs.roster"] = "rosters/lab-04.csv"
    _, _, done = run.merge(ok=False)
    assert done.returncode == 2 and "rosters/lab-04.csv: cannot read the roster" in done.stderr


@pytest.mark.slow
def test_an_unknown_prefix_fails_the_list_job_unless_an_empty_class_is_allowed(
    fake: FakeClassGitHub, tmp_path: Path
) -> None:
    for name in ("lab05-ann", "lab05-ben", "project-x"):
        fake.add_repo(name)
    run = Run(fake, tmp_path, chunk_size="5")
    done = run.list(ok=False)
    assert done.returncode == 2
    assert f"no repository of the organization '{fake.org}' is named lab04-*" in done.stderr
    assert "lab05-* (2)" in done.stderr and "--allow-empty" in done.stderr
    assert "::error title=No repository for this prefix::" in done.stderr
    before = len(fake.log)
    typo = Run(fake, tmp_path, chunk_size="5", deadline="2026-12-01 23:59")  # no time zone: refused by list
    done = typo.list(ok=False)
    assert done.returncode == 2 and "has no time zone" in done.stderr and len(fake.log) == before

    empty = Run(fake, tmp_path, chunk_size="5", allow_empty="true", roster=ROSTER)
    empty.list()
    assert empty.chunks == [] and empty.chunks_output == "[]"
    assert load()["jobs"]["grade"]["if"] == "needs.list.outputs.chunks != '[]'"  # no grade job runs
    rows, summary, done = empty.merge()
    assert {r["flags"] for r in rows.values()} == {"missing"} and len(rows) == 3  # the roster's students
    assert "0 repositories graded" in summary and "Incomplete" not in summary


# --- one gradebook, whichever path wrote it ---------------------------------------------------

WHOLE_ROSTER = "identifier,github_username,github_id,name\n" + "".join(
    f"{login}@example.edu,{login},{20 + i},{login.title()}\n"
    for i, login in enumerate(["ann", "bob", "carol", "dave", "erin", "frank", "gina", "hank", "ivy"])
)
MOVED_TO = "elsewhere"  # the account ivy's repository is transferred to


def whole_range_class(fake: FakeClassGitHub, tmp: Path, gradable: bool, classroom: bool = False) -> dict[str, str]:
    """Every case the two paths must agree on; returns the commits that matter.

    Each repository is created by GitHub Classroom's bot with the starter (`branch_creation`), then:
    ann pushes on time; bob force-pushes on time (rewriting his first push) and again after the
    deadline; carol pushes on time and again late; dave pushes on time, then renames his repository
    to `dave-docker-lab` (the organization's listing still says `lab04-dave`; the API and git answer
    301 to the new name); erin pushes exactly at the deadline; frank never pushes (the starter:
    no-submission); gina is on the roster without a repository; zed's repository is not on the
    roster; hank's repository is deleted and ivy's transferred between the listing and the grading
    (`after_listing`). Pages of two: the listing and the push activity are paginated.
    gradable: the starter is the template and pushes are solutions (graded on the engine); else no
    lab files at all (no-lab-files rows: nothing runs on the engine).
    classroom: every repository is recorded as its student's accepted assignment ASSIGNMENT, and the
    listing gives dave's new name, as GitHub's does (the prefix alone would not find it).
    """
    shas: dict[str, str] = {}
    solution = solution_files() if gradable else {"notes.txt": "my work\n"}

    def repo(login: str) -> StudentRepo:
        r = StudentRepo(fake, tmp / "students", f"lab04-{login}")
        if gradable and login != "zed":
            template_copy(r.work)
        else:
            make_checkout(r.work, files={"Dockerfile.prod": None, "docker-compose.prod.yml": None})
        shas[f"{login}-starter"] = r.accept("2026-11-20T10:00:00Z")
        if classroom:
            fake.accept(ASSIGNMENT, r.full, login)
        return r

    for login in ("ann", "hank", "ivy", "zed"):
        r = repo(login)
        r.commit(solution if login != "zed" else {"notes.txt": "not this lab\n"}, date="2026-11-30T09:00:00Z")
        shas[login] = r.push("2026-11-30T10:00:00Z")
    bob = repo("bob")
    bob.commit(solution, date="2026-11-28T09:00:00Z")
    shas["bob-first"] = bob.push("2026-11-28T10:00:00Z")
    git(bob.work, "commit", "--quiet", "--amend", "-m", "rewritten", date="2026-11-29T09:00:00Z")
    shas["bob"] = bob.push("2026-11-29T10:00:00Z", force=True)  # graded: on no branch after the next one
    (bob.work / "Dockerfile.prod").write_text("FROM scratch\n", encoding="utf-8")
    git(bob.work, "add", "-A")
    git(bob.work, "commit", "--quiet", "--amend", "-m", "late rewrite", date="2026-11-29T09:30:00Z")
    shas["bob-late"] = bob.push("2026-12-03T10:00:00Z", force=True)
    carol = repo("carol")
    carol.commit(solution, date="2026-11-30T09:00:00Z")
    shas["carol"] = carol.push("2026-11-30T11:00:00Z")
    carol.commit({"late.txt": "more\n"}, date="2026-11-30T09:30:00Z")  # dated in time, pushed late
    shas["carol-late"] = carol.push("2026-12-02T08:00:00Z")
    dave = repo("dave")
    dave.commit(solution, date="2026-11-30T09:00:00Z")
    shas["dave"] = dave.push("2026-11-30T12:00:00Z")
    fake.rename(dave.full, "dave-docker-lab", listing_lags=not classroom)
    erin = repo("erin")
    erin.commit(solution, date="2026-12-01T23:58:00Z")
    shas["erin"] = erin.push(DEADLINE)  # exactly at the deadline: on time
    repo("frank")
    fake.add_repo("lab05-ann")  # another assignment
    fake.add_repo("lab04-template", is_template=True)
    return shas


def between_listing_and_grading(fake: FakeClassGitHub) -> None:
    """hank's repository is deleted, ivy's transferred, once the organization has been listed."""
    fake.after_listing.append(
        lambda: (fake.delete(f"{fake.org}/lab04-hank"), fake.transfer(f"{fake.org}/lab04-ivy", MOVED_TO))
    )


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        header, *rows = list(csv.reader(fh))
    return header, rows


@pytest.mark.parametrize(
    ("gradable", "classroom"),
    [
        pytest.param(False, False, marks=pytest.mark.slow),
        pytest.param(True, False, marks=pytest.mark.docker),
        pytest.param(False, True, marks=pytest.mark.slow, id="classroom-assignment-id"),
    ],
)
def test_the_class_workflow_writes_the_gradebook_grade_all_org_writes(
    fake: FakeClassGitHub, tmp_path: Path, gradable: bool, classroom: bool
) -> None:
    shas = whole_range_class(fake, tmp_path, gradable, classroom)
    ids = {r["name"]: r["id"] for r in fake.repos}
    by_classroom = {"assignment_id": str(ASSIGNMENT)} if classroom else {}

    between_listing_and_grading(fake)
    run = Run(fake, tmp_path, chunk_size="3", roster=WHOLE_ROSTER, **by_classroom)
    run.list()
    assert len(run.chunks) == 3 and f"lab04-dave@{ids['dave-docker-lab']}" in run.chunks[1].split()
    warnings = ""
    for i in range(len(run.chunks)):
        warnings += run.grade(i).stderr
    assert "::warning title=Repository gone::" in warnings
    _, summary, merged = run.merge()
    workflow_header, workflow_rows = read_csv(tmp_path / "merge" / "lab04-grades.csv")

    # the same GitHub for grade-all --org on one machine: hank and ivy back, gone again once listed
    fake.undelete(f"{fake.org}/lab04-hank")
    fake.transfer(f"{MOVED_TO}/lab04-ivy", fake.org)
    between_listing_and_grading(fake)
    single = tmp_path / "single"
    single.mkdir()
    (single / "roster.csv").write_text(WHOLE_ROSTER, encoding="utf-8")
    step = {
        "name": "grade-all --org",
        "run": 'autograde grade-all --org "${ORG}" --prefix lab04 --deadline "${DEADLINE}" --roster roster.csv '
        "--clone-dir checkouts --reports-dir reports -o lab04-grades.csv"
        + (f" --assignment-id {ASSIGNMENT}" if classroom else ""),
    }
    env = {**run.runner, "GITHUB_TOKEN": TOKEN, "ORG": fake.org, "DEADLINE": DEADLINE}
    _, one = run_step(step, single, env, tmp_path)
    header, rows = read_csv(single / "lab04-grades.csv")

    # row for row, column for column, but graded_at
    assert workflow_header == header
    at = header.index("graded_at")
    assert [r[:at] + r[at + 1 :] for r in workflow_rows] == [r[:at] + r[at + 1 :] for r in rows]

    book = {r[header.index("login")]: dict(zip(header, r, strict=True)) for r in rows}
    assert set(book) == {"ann", "bob", "carol", "dave", "erin", "frank", "gina", "hank", "ivy", "zed"}
    dave = book["dave"]  # the renamed repository: its student's rostered row, its points, no flag of its own
    assert (dave["identifier"], dave["repository"], dave["commit"]) == (
        "dave@example.edu",
        f"{fake.org}/lab04-dave",
        shas["dave"],
    )
    assert f"renamed on GitHub to {fake.org}/dave-docker-lab" in dave["notes"]
    assert not any("dave-docker-lab" in r[header.index("repository")] for r in rows)
    bob, carol, erin, frank = book["bob"], book["carol"], book["erin"], book["frank"]
    assert (bob["commit"], bob["pushed_at"]) == (shas["bob"], "2026-11-29T10:00:00Z")  # force-pushed away since
    assert (carol["commit"], carol["pushed_at"]) == (shas["carol"], "2026-11-30T11:00:00Z")
    assert "late: 1 push(es) after the deadline" in carol["notes"]
    assert (erin["commit"], erin["pushed_at"]) == (shas["erin"], DEADLINE)
    assert (frank["commit"], frank["pushed_at"]) == (shas["frank-starter"], "2026-11-20T10:00:00Z")
    assert "no push by the student" in frank["notes"]
    assert book["gina"]["flags"] == "missing" and book["gina"]["notes"] == "no repository"
    hank, ivy = book["hank"], book["ivy"]
    assert hank["flags"] == ivy["flags"] == "error" and hank["total"] == ivy["total"] == "0"
    assert f"{fake.org}/lab04-hank (repository id {ids['lab04-hank']}) is not found any more" in hank["notes"]
    assert f"was transferred to {MOVED_TO}/lab04-ivy after the organization was listed" in ivy["notes"]
    if gradable:
        top = book["ann"]["max"]
        for login in ("ann", "bob", "carol", "dave", "erin"):  # the solution, whichever way it came
            assert book[login]["total"] == top, (login, book[login]["notes"])
        assert int(frank["total"]) < int(top)
        flags = {login: book[login]["flags"] for login in book}
        assert flags == {
            **dict.fromkeys(("ann", "dave", "erin"), ""),
            **dict.fromkeys(("bob", "carol"), "late"),
            "frank": "no-submission",
            "gina": "missing",
            **dict.fromkeys(("hank", "ivy"), "error"),
            "zed": "no-lab-files;not-in-roster",
        }
    else:
        flags = {login: book[login]["flags"] for login in book}
        assert flags == {
            **dict.fromkeys(("ann", "dave", "erin"), "no-lab-files"),
            **dict.fromkeys(("bob", "carol"), "no-lab-files;late"),
            "frank": "no-submission;no-lab-files",
            "gina": "missing",
            **dict.fromkeys(("hank", "ivy"), "error"),
            "zed": "no-lab-files;not-in-roster",
        }

    # each path listed the organization (or read the assignment) once, page by page, and read push activity
    # page by page
    if classroom:
        assert fake.count(f"/orgs/{fake.org}/repos") == fake.count("/organizations/1/repos") == 0
        assert fake.count(f"/assignments/{ASSIGNMENT}/accepted_assignments") == 2 * 5  # 9 accepted, pages of 2
    else:
        assert fake.count(f"/orgs/{fake.org}/repos") == 2 and fake.count("/organizations/1/repos") >= 8
    assert any(e.path.endswith("/activity") and e.query.get("after") for e in fake.log)
    assert fake.count(f"/repositories/{ids['dave-docker-lab']}") == 2  # found by id, once per path
    assert merged.returncode == one.returncode == 0 and "Incomplete" not in summary


def test_the_instructors_guide_describes_this_workflow() -> None:
    doc = (REPO / "docs" / "instructors.md").read_text(encoding="utf-8")
    section = doc.split("### On GitHub Actions, for classes that outgrow one machine", 1)[1].split("\n## ", 1)[0]
    wf = load()
    for name in wf["on"]["workflow_dispatch"]["inputs"]:
        assert f"`{name}`" in section, name
    assert "`list`" in section and "`grade`" in section and "`merge`" in section
    assert "Grade chunk <n>" in section and wf["jobs"]["grade"]["name"] == "Grade chunk ${{ strategy.job-index }}"
    assert "Re-run failed jobs" in section and "flagged `error`" in section and "Incomplete: N of M rows" in section
    merge = steps("merge")
    assert "--expect chunks.json --run-id" in merge["Write the gradebook and the summary"]["run"]
    assert "--merge-only --expect --run-id" in section and "jobs API" in section
    assert merge["Write the gradebook and the summary"]["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
    download = merge["Download every chunk's reports"]["with"]
    assert download["github-token"] == "${{ github.token }}" and download["run-id"] == "${{ github.run_id }}"
    assert "`actions: read`" in section and wf["jobs"]["merge"]["permissions"]["actions"] == "read"
    assert "`overwrite: true`" in section
    assert all(
        s["with"].get("overwrite") is True
        for j in wf["jobs"].values()
        for s in j["steps"]
        if "upload-artifact" in s.get("uses", "")
    )
    ghes = section.split("**GitHub Enterprise Server:**", 1)[1]
    assert "needs github.com" in ghes and "does not support" in ghes and "--merge-only" in ghes and "--expect" in ghes
    assert "docs/instructors.md" in WORKFLOW.read_text(encoding="utf-8")
    for option in ("--expect", "--allow-empty", "--merge-only", "--repos"):
        assert f"`{option}" in doc, option
