"""action.yml: the grader as a composite GitHub Action pinned by commit (`uses: ORG/REPO@SHA`).

Static: its inputs, outputs and steps, no expression expanded inside a script, zizmor finds nothing.
Dynamic: its steps run as the runner would (bash, the inputs and github.action_path evaluated,
GITHUB_OUTPUT per step) in a fresh virtualenv, on a checkout of the solution, with a rubric given as
an input: the report, the step outputs and the Classroom notices agree on the rubric's total.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import venv
from pathlib import Path

import pytest
import yaml

from support import REPO, make_checkout

from .test_workflow import EXPR, notices_seen, parse_github_output, venv_bin

ACTION = REPO / "action.yml"


def action() -> dict:
    return yaml.safe_load(ACTION.read_text(encoding="utf-8"))


def test_inputs_outputs_and_steps():
    a = action()
    assert a["runs"]["using"] == "composite"
    assert set(a["inputs"]) == {"rubric", "plugins"} and all(i["default"] == "" for i in a["inputs"].values())
    assert set(a["outputs"]) == {"points", "total", "possible"}
    steps = a["runs"]["steps"]
    assert all(s["shell"] == "bash" for s in steps)
    grade = next(s for s in steps if s.get("id") == "grade")
    assert grade["env"]["AUTOGRADE_RUBRIC"] == "${{ inputs.rubric }}"
    assert "--classroom-notice" in grade["run"]
    install = steps[0]
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"  # the grader of the pinned commit


def test_no_expression_is_expanded_inside_a_script():
    for s in action()["runs"]["steps"]:
        assert "${{" not in s["run"], f"step {s['name']!r}: pass values through env, never into the script"


def test_zizmor_finds_nothing():
    out = subprocess.run(
        [venv_bin("zizmor"), "--offline", "--no-config", "--persona", "pedantic", "--format", "plain", str(ACTION)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert out.returncode == 0, out.stdout + out.stderr


def run_action(checkout: Path, action_path: Path, bin_dir: Path, tmp: Path, inputs: dict[str, str]):
    """The composite's steps as the runner runs them; returns (log, outputs of `grade`, its exit code)."""
    a = action()
    values = {**{k: v["default"] for k, v in a["inputs"].items()}, **inputs}

    def evaluate(text: str) -> str:
        def one(m: re.Match) -> str:
            expr = m.group(1)
            if expr == "github.action_path":
                return str(action_path)
            if expr.startswith("inputs."):
                return values[expr[7:]]
            raise AssertionError(f"the test does not know the expression {expr!r}")

        return EXPR.sub(one, str(text))

    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "VIRTUAL_ENV", "PYTHON", "AUTOGRADE_"))}
    base |= {"GITHUB_ACTIONS": "true", "CI": "true", "PATH": os.pathsep.join([str(bin_dir), os.environ["PATH"]])}
    log, outputs, code = "", {}, None
    for i, s in enumerate(a["runs"]["steps"]):
        condition = s.get("if")
        if condition == "inputs.plugins != ''" and not values["plugins"]:
            continue
        assert condition is None or condition == "inputs.plugins != ''", condition
        out = tmp / f"output-{i}"
        out.write_text("")
        env = {**base, **{k: evaluate(v) for k, v in (s.get("env") or {}).items()}, "GITHUB_OUTPUT": str(out)}
        p = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", s["run"]],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=1500,
        )
        log += p.stdout + p.stderr
        if s.get("id") == "grade":
            outputs, code = parse_github_output(out.read_text()), p.returncode
        else:
            assert p.returncode == 0, f"step {s['name']!r} failed:\n{p.stdout}\n{p.stderr}"
    return log, outputs, code


@pytest.mark.docker
@pytest.mark.slow
def test_the_action_grades_with_the_rubric_given_as_input(tmp_path):
    bin_dir = tmp_path / "py"
    venv.EnvBuilder(with_pip=True, clear=True).create(bin_dir)
    source = tmp_path / "action"  # the action's commit, as the runner checks it out
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".venv", ".git", "tests", "*.egg-info", "build"))
    checkout = make_checkout(tmp_path / "repo")
    rubric = "points:\n  dockerfile.stages: 20\n  images.prod_lean: 0\n"
    log, outputs, code = run_action(checkout, source, bin_dir / "bin", tmp_path, {"rubric": rubric})
    report = json.loads((checkout / "autograde-report.json").read_text(encoding="utf-8"))
    assert code == 0, log[-4000:]
    assert report["rubric"]["source"] == "env AUTOGRADE_RUBRIC"
    assert "images.prod_lean" not in [c["id"] for c in report["checks"]]
    total, possible = report["score"], report["max_score"]
    assert total == possible and outputs["points"] == f"{total}/{possible}"
    assert notices_seen(log, "Autograding complete") == [f"Points {total}/{possible}"]
    assert (checkout / "autograde-report.xml").is_file()
