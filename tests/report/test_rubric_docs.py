"""README's rubric table and the workflow's reporter block are the checks' declarations, generated."""

from __future__ import annotations

import shutil

from autograde.checks import default_rubric
from autograde.report.rubric_docs import README, WORKFLOW, regenerated, reporter_env, rubric_table
from support import REPO

REGENERATE = "python -m autograde.report.rubric_docs --write"


def test_generated_parts_are_up_to_date():
    stale = regenerated(REPO)
    assert not stale, f"{', '.join(stale)} out of date with the checks' @check declarations: run `{REGENERATE}`"


def test_a_stale_part_is_found_and_rewritten(tmp_path):
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(REPO / README, tmp_path / README)
    shutil.copy(REPO / WORKFLOW, tmp_path / WORKFLOW)
    readme = (tmp_path / README).read_text().replace("| 15 |", "| 16 |", 1)
    (tmp_path / README).write_text(readme)
    workflow = (tmp_path / WORKFLOW).read_text()
    line = next(ln for ln in workflow.splitlines() if "RUNTIMEUP_RESULTS" in ln)
    (tmp_path / WORKFLOW).write_text(workflow.replace(line + "\n", ""))
    assert set(regenerated(tmp_path)) == {README, WORKFLOW}
    from autograde.report.rubric_docs import main

    assert main(["--root", str(tmp_path), "--write"]) == 0
    assert regenerated(tmp_path) == {}


def test_every_check_has_a_row_and_a_reporter_line():
    ids = [i.id for i in default_rubric().items]
    table, env = rubric_table(), reporter_env()
    assert all(f"| `{i}` |" in table for i in ids)
    assert env.count("_RESULTS:") == len(ids)
