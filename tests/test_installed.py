"""The grader as users install it, not as its developers do.

The workflow runs `python -m pip install .` in the student's checkout; instructors install a
pinned commit or their own copy. Here the package is built and installed the same way (`pip
install .`, not editable) into a fresh virtual environment outside the source tree, and
`autograde grade` and `autograde export` run from a folder outside it, on copies of the whole
template: untouched, with real changes, and graded by a grader one template commit newer. The
data files the package ships (the template fingerprints) are read from the installed package.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import REPO, leftovers, solution_files, template_copy

pytestmark = pytest.mark.slow  # a package build and a fresh environment: half a minute or more

TEST = "app/tests/test_main.py"
WORKFLOW = ".github/workflows/classroom.yml"
DATA_NAME = "autograde/data/template-files.json"


@dataclass
class Installed:
    base: Path  # outside the source tree: the working directory of every command
    venv: Path
    source: Path  # the copy the package was installed from

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
        env = {k: v for k, v in env.items() if not k.startswith("GITHUB_")}  # not a workflow run
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return env

    def run(self, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / "autograde"), *argv],
            cwd=self.base,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def grade(self, checkout: Path, reports: Path, *extra: str, timeout: float = 300) -> tuple[int, dict, str]:
        """Grade checkout; its report goes to reports/<checkout name>/ as the workflow's artifact would."""
        out = reports / checkout.name / "autograde-report.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        ran = self.run("grade", *extra, "--json", str(out), str(checkout), timeout=timeout)
        assert out.is_file(), ran.stdout[-2000:] + ran.stderr[-2000:]
        return ran.returncode, json.loads(out.read_text()), ran.stdout + ran.stderr

    def export(self, reports: Path) -> dict[str, dict[str, str]]:
        grades = self.base / f"{reports.name}.csv"
        ran = self.run("export", str(reports), "-o", str(grades))
        assert ran.returncode == 0, ran.stderr
        with open(grades, newline="", encoding="utf-8") as fh:
            return {row["repository"]: row for row in csv.DictReader(fh)}


def install(base: Path, source: Path, requirement: str = ".") -> Installed:
    """`python -m pip install .` in source (or pip install requirement), into a new virtual
    environment at base/venv."""
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
    it = Installed(base, venv, source)
    ran = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", requirement],
        cwd=source if requirement == "." else base,
        env=it.env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import autograde.integrity as i; print(i.__file__); print(i.DATA)"],
        cwd=base,
        env=it.env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    module, data = Path(where[0]), Path(where[1])
    # installed, not linked: the code and its data live in the environment's site-packages
    assert "site-packages" in module.parts and module.is_relative_to(venv), module
    assert data.is_file() and data.is_relative_to(venv) and not data.is_symlink()
    assert data.read_bytes() == (source / DATA_NAME).read_bytes()
    return it


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("installed")
    assert not base.is_relative_to(REPO)
    # the workflow's way: the student's checkout installs its own copy of the grader
    return install(base, template_copy(base / "lab04-untouched"))


@pytest.fixture(scope="module")
def newer(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The instructor's grader, one template commit newer than what students accepted: a bug fixed
    in autograde/, a test and the workflow reworded, the fingerprints recorded as the docs say;
    installed the recommended way, as AUTOGRADE_SOURCE does: a pip requirement pinned to a commit."""
    base = tmp_path_factory.mktemp("newer")
    source = template_copy(base / "template")
    for rel, extra in (
        ("autograde/checks/hints.py", "\n# a better hint\n"),
        (TEST, "\n# a clearer assertion message\n"),
        (WORKFLOW, "\n# a step renamed\n"),
    ):
        (source / rel).write_text((source / rel).read_text() + extra)
    ran = subprocess.run(
        [sys.executable, "-m", "autograde.integrity", "--write", "."], cwd=source, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    env = {"PATH": os.environ["PATH"], "HOME": str(base), "GIT_AUTHOR_NAME": "I", "GIT_AUTHOR_EMAIL": "i@example.com"}
    env |= {"GIT_COMMITTER_NAME": "I", "GIT_COMMITTER_EMAIL": "i@example.com"}
    for argv in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-qm", "template fixed")):
        subprocess.run(["git", *argv], cwd=source, env=env, check=True, capture_output=True)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=source, env=env, check=True, capture_output=True, text=True)
    return install(base, source, f"git+file://{source}@{sha.stdout.strip()}")


CHANGES: dict[str, dict[str, str | None]] = {
    "lab04-tests": {TEST: "def test_nothing():\n    pass\n"},
    "lab04-app": {"app/main.py": "print('no counter')\n"},
    "lab04-dev": {"app/Dockerfile": "FROM python:3.13-slim\n", "docker-compose.yml": "services: {}\n"},
    "lab04-workflow": {WORKFLOW: "on: push\njobs: {}\n"},
    "lab04-grader": {"autograde/checks/hints.py": "HINTS = {}\n"},
}


def test_installed_grader_flags_nothing_in_the_untouched_template_and_exactly_the_changes(installed: Installed):
    reports = installed.base / "reports"
    code, report, console = installed.grade(installed.source, reports, "--static-only")
    assert code == 1 and report["modified_files"] == [], report["modified_files"]
    assert "differ from the template" not in console
    for name, changes in CHANGES.items():
        code, report, console = installed.grade(template_copy(installed.base / name, changes), reports, "--static-only")
        assert code == 1 and report["modified_files"] == sorted(changes), name
        assert f"these lab files differ from the template: {', '.join(sorted(changes))}" in console
    rows = installed.export(reports)
    assert rows["lab04-untouched"]["flags"] == "static-only"
    for name, changes in CHANGES.items():
        assert rows[name]["flags"] == "static-only;tampered:" + ",".join(sorted(changes)), name


def test_a_newer_installed_grader_flags_only_what_students_changed(newer: Installed):
    reports = newer.base / "reports"
    old = {"lab04-untouched": {}, "lab04-tests": CHANGES["lab04-tests"], "lab04-app": CHANGES["lab04-app"]}
    for name, changes in old.items():
        code, report, _ = newer.grade(template_copy(newer.base / name, changes), reports, "--static-only")
        assert code == 1 and report["modified_files"] == sorted(changes), name
    # a student who accepted after the fix: the same version as the grader, its own files compared
    fixed = newer.base / "lab04-fixed"
    subprocess.run(["cp", "-a", str(newer.source), str(fixed)], check=True)
    (fixed / "autograde/checks/dockerfile.py").write_text("# always pass\n")
    code, report, _ = newer.grade(fixed, reports, "--static-only")
    assert report["modified_files"] == ["autograde/checks/dockerfile.py"]
    rows = newer.export(reports)
    assert rows["lab04-untouched"]["flags"] == "static-only"
    assert rows["lab04-tests"]["flags"] == f"static-only;tampered:{TEST}"
    assert rows["lab04-app"]["flags"] == "static-only;tampered:app/main.py"
    assert rows["lab04-fixed"]["flags"] == "static-only;tampered:autograde/checks/dockerfile.py"


@pytest.mark.docker
def test_installed_grader_grades_a_class_on_the_engine(installed: Installed):
    """Real grades by the installed package, as an instructor's own installation runs them under
    `grade-all`: the solved template scores 100, the untouched starter almost nothing, neither is
    flagged; every container, network and volume is removed."""
    klass = installed.base / "class"
    template_copy(klass / "lab04-solved", dict(solution_files()))
    template_copy(klass / "lab04-starter")
    reports, grades = installed.base / "class-reports", installed.base / "class.csv"
    ran = installed.run(
        "grade-all", str(klass), "--reports-dir", str(reports), "-o", str(grades), "--jobs", "1", timeout=1800
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    with open(grades, newline="", encoding="utf-8") as fh:
        rows = {row["repository"]: row for row in csv.DictReader(fh)}
    assert (rows["lab04-solved"]["total"], rows["lab04-solved"]["flags"]) == (rows["lab04-solved"]["max"], "")
    assert int(rows["lab04-starter"]["total"]) < 50 and rows["lab04-starter"]["flags"] == ""
    for name in rows:
        report = json.loads((reports / f"{name}.json").read_text())
        assert report["modified_files"] == [] and report["error"] is None, name
        assert leftovers(report["grader"]["project"]) == [], name
    exported = installed.export(reports)
    assert {name: row["flags"] for name, row in exported.items()} == {"lab04-solved": "", "lab04-starter": ""}


# --------------------------------------------------------------------------- a second lab, as instructors make it


def _grade_step(template: Path) -> str:
    """The Grade step's command, as the template's own workflow runs it."""
    import yaml

    workflow = yaml.safe_load((template / WORKFLOW).read_text(encoding="utf-8"))
    steps = next(iter(workflow["jobs"].values()))["steps"]
    return next(s["run"] for s in steps if s.get("id") == "grade")


@pytest.mark.docker
def test_a_lab06_template_made_by_lab_init_grades_the_solution_100_and_the_starter_0(installed, tmp_path):
    """`autograde lab init lab06 DIR` from the installed grader; the template's own workflow command, run in a
    student's checkout as the workflow runs it, gives the solution 100 and the starter 0."""
    import shutil

    sys.path.insert(0, str(REPO / "tests" / "packs" / "lab06"))
    from lab06_support import solution_files as lab06_solution

    template = tmp_path / "lab06-template"
    made = installed.run("lab", "init", "lab06", str(template), "--grader", "autograde==9.9.9")
    assert made.returncode == 0, made.stdout + made.stderr
    assert "autograde==9.9.9" in (template / WORKFLOW).read_text()
    command = _grade_step(template)
    assert command.startswith("autograde grade --lab lab06 "), command
    listed = installed.run("lab", "list")
    assert "lab04" in listed.stdout and "lab06" in listed.stdout

    results = {}
    for name, solved in (("lab06-starter", False), ("lab06-solved", True)):
        checkout = tmp_path / name
        shutil.copytree(template, checkout)
        if solved:
            for rel, text in lab06_solution((template / "solutions.md").read_text(encoding="utf-8")).items():
                (checkout / rel).write_text(text, encoding="utf-8")
        outputs = tmp_path / f"{name}.outputs"
        outputs.touch()
        env = {**installed.env(), "GITHUB_OUTPUT": str(outputs)}
        ran = subprocess.run(
            ["bash", "-c", command], cwd=checkout, env=env, capture_output=True, text=True, timeout=900
        )
        report = json.loads((checkout / "autograde-report.json").read_text())
        results[name] = (ran.returncode, report, outputs.read_text(), ran.stdout + ran.stderr)
        assert not leftovers(report["grader"]["project"]), name
        assert report["grader"]["lab"]["id"] == "lab06"
        assert report["modified_files"] == [], "an untouched template is not reported as changed"

    code, report, outputs, said = results["lab06-solved"]
    assert (code, report["score"], report["max_score"]) == (0, 100, 100), said[-3000:]
    assert "runners<<" in outputs and "composewebhealthcheck<<" in outputs
    code, report, _, said = results["lab06-starter"]
    assert (code, report["score"]) == (1, 0), said[-3000:]
    lost = [c for c in report["checks"] if c["status"] != "pass"]
    assert len(lost) == 6 and all(c["message"] for c in lost), "every lost point is explained"
    assert len({c["message"] for c in lost}) == len(lost), "each explained once"
