"""The worked example of an instructor's plugin (examples/autograde-nonroot-check), installed into a
fresh virtual environment beside the grader, as docs/instructors.md tells instructors to; then a
real grade of the solution, its gradebook, and plugins that fail.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

from support import REPO, make_checkout

EXAMPLE = REPO / "examples" / "autograde-nonroot-check"
CHECK = "nonroot.final_user"
POINTS = 5

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env_bin(tmp_path_factory) -> Path:
    """A fresh venv with the grader (from this repository) and the example plugin, nothing else."""
    where = tmp_path_factory.mktemp("plugin-venv") / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(where)
    py = where / "bin" / "python"
    for target in (REPO, EXAMPLE):
        src = tmp_path_factory.mktemp("src") / target.name  # build from a copy: no build/ left in the repository
        shutil.copytree(target, src, ignore=shutil.ignore_patterns(".venv", ".git", "tests", "*.egg-info", "build"))
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(src)],
            check=True,
            capture_output=True,
            text=True,
            timeout=900,
        )
    return where / "bin"


def run(env_bin: Path, *args: str, extra_env: dict[str, str] | None = None, cwd: Path | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADE_", "GITHUB_", "VIRTUAL_ENV"))}
    env.pop("PYTHONPATH", None)
    env["PATH"] = os.pathsep.join([str(env_bin), env.get("PATH", "")])
    env |= extra_env or {}
    return subprocess.run(
        [str(env_bin / "autograde"), *args], capture_output=True, text=True, env=env, cwd=cwd or "/", timeout=1500
    )


def test_the_plugin_is_in_the_rubric(env_bin):
    p = run(env_bin, "rubric")
    assert p.returncode == 0, p.stderr
    assert CHECK in p.stdout and "plugin nonroot (autograde-nonroot-check 1.0.0): nonroot.final_user" in p.stdout
    data = json.loads(run(env_bin, "rubric", "--json").stdout)
    assert data["checks"][-1]["id"] == CHECK and data["checks"][-1]["points"] == POINTS


def test_the_workflow_is_rewritten_with_the_plugins_runner(env_bin, tmp_path):
    workflow = tmp_path / "classroom.yml"
    shutil.copy(REPO / ".github" / "workflows" / "classroom.yml", workflow)
    assert run(env_bin, "workflow", "--check", "--file", str(workflow)).returncode == 1
    p = run(env_bin, "workflow", "--write", "--file", str(workflow))
    assert p.returncode == 0, p.stderr
    assert "NONROOTFINALUSER_RESULTS: ${{ steps.grade.outputs.nonrootfinaluser }}" in workflow.read_text()
    assert run(env_bin, "workflow", "--check", "--file", str(workflow)).returncode == 0


@pytest.mark.docker
def test_a_real_grade_of_the_solution_carries_the_plugins_check(env_bin, tmp_path):
    """Everywhere a built-in check is: console, JSON (with its points), JUnit, summary, the Classroom
    runners, and the gradebook's column."""
    root = make_checkout(tmp_path / "lab04-alice")
    out = tmp_path / "out"
    out.mkdir()
    github = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(out / "output"),
        "GITHUB_STEP_SUMMARY": str(out / "summary"),
        "GITHUB_REPOSITORY": "course/lab04-alice",
    }
    p = run(
        env_bin,
        *("grade", str(root), "--host-port", "auto", "--classroom"),
        *("--json", str(out / "alice.json"), "--junit", str(out / "alice.xml")),
        extra_env=github,
    )
    report = json.loads((out / "alice.json").read_text())
    checks = {c["id"]: c for c in report["checks"]}
    mine = checks[CHECK]
    # the solution runs as root: the plugin's check fails, worth its points; every built-in check passes
    assert (mine["status"], mine["score"], mine["max_score"]) == ("fail", 0, POINTS), p.stdout
    assert all(c["status"] == "pass" for i, c in checks.items() if i != CHECK), p.stdout
    assert report["max_score"] == report["score"] + POINTS and p.returncode == 1
    assert CHECK in p.stdout and "the final stage runs as root" in p.stdout
    assert f'name="{CHECK}"' in (out / "alice.xml").read_text()
    summary = (out / "summary").read_text()
    assert f"`{CHECK}`" in summary and f"{report['score']} / {report['max_score']} points" in summary
    outputs = (out / "output").read_text()
    assert "nonrootfinaluser<<" in outputs and "nonrootfinaluser" in outputs.split("runners<<", 1)[1]
    # the gradebook
    book = tmp_path / "grades.csv"
    (out / "output").unlink()
    (out / "summary").unlink()
    e = run(env_bin, "export", str(out), "-o", str(book))
    assert e.returncode == 0, e.stderr
    rows = list(csv.DictReader(book.open()))
    assert rows[0][CHECK] == "0" and rows[0]["max"] == str(report["max_score"]), rows


BROKEN = {
    "broken-import": ("broken_import_check", "raise RuntimeError('the plugin is broken')\n"),
    "raising-check": (
        "raising_check",
        "from autograde.checks.base import check\n\n"
        "@check('raising.boom', name='Boom', points=3, checklist='-', phase='static', passes_when='never')\n"
        "def boom(ctx):\n    raise ValueError('boom')\n",
    ),
}


def test_a_plugin_that_fails_costs_the_student_nothing_and_is_named(env_bin, tmp_path):
    """One plugin cannot be imported, another raises in its check: each is `error` for its own checks,
    naming the plugin; the built-in and the example's checks are graded as usual."""
    site = tmp_path / "site"
    for name, (module, code) in BROKEN.items():
        pkg = tmp_path / name
        (pkg / module).mkdir(parents=True)
        (pkg / module / "__init__.py").write_text(code)
        (pkg / "pyproject.toml").write_text(
            '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
            f'[project]\nname = "{name}"\nversion = "0.1"\n'
            f'[project.entry-points."autograde.checks"]\n{name.replace("-", "_")} = "{module}"\n'
            f'[tool.setuptools]\npackages = ["{module}"]\n'
        )
        subprocess.run(
            [str(env_bin / "python"), "-m", "pip", "install", "-q", "--target", str(site), str(pkg)],
            check=True,
            capture_output=True,
            timeout=300,
        )
    root = make_checkout(tmp_path / "sub")
    p = run(
        env_bin,
        "grade",
        str(root),
        "--static-only",
        "--json",
        str(tmp_path / "r.json"),
        extra_env={"PYTHONPATH": str(site)},
    )
    report = json.loads((tmp_path / "r.json").read_text())
    checks = {c["id"]: c for c in report["checks"]}
    boom = checks["raising.boom"]
    assert boom["status"] == "error" and "the plugin raising_check (raising-check 0.1)" in boom["message"]
    assert "ValueError: boom" in boom["message"] and "not of your files" in boom["hint"]
    broken = checks["plugin.broken_import"]
    assert broken["status"] == "error" and broken["max_score"] == 0
    assert "broken-import 0.1" in broken["message"] and "the plugin is broken" in broken["message"]
    assert checks[CHECK]["status"] == "fail"  # the example plugin still works beside them
    plain = run(env_bin, "grade", str(root), "--static-only", "--json", str(tmp_path / "plain.json"))
    assert plain.returncode in (0, 1), plain.stderr
    graded = json.loads((tmp_path / "plain.json").read_text())
    without = {c["id"]: (c["status"], c["score"]) for c in graded["checks"]}
    assert {i: (c["status"], c["score"]) for i, c in checks.items() if i in without} == without
    assert report["max_score"] == graded["max_score"] + 3
    assert p.returncode == 2 and "Traceback" not in p.stderr  # a grader error, said, not a crash
