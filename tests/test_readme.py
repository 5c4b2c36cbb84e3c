"""The README tells the truth: its rubric table is the rubric, and CI runs its test command."""
from __future__ import annotations

import re
import subprocess
import sys

from autograde.rubric import Rubric
from support import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def between(marker: str) -> str:
    m = re.search(rf"<!-- {marker} -->\n(.*?)<!-- /{marker} -->", README, re.S)
    assert m, marker
    return m.group(1)


def test_rubric_table_matches_autograde_rubric():
    rows = re.findall(r"^\| `([a-z_.]+)` \| ([^|]*) \|[^|]*\| (\d+) \|$", between("rubric-table"), re.M)
    assert [(i, int(p)) for i, _, p in rows] == [(i.id, i.points) for i in Rubric().items]
    out = subprocess.run([sys.executable, "-m", "autograde", "rubric"], capture_output=True, text=True, check=True)
    for check_id, _, points in rows:
        assert re.search(rf"^{re.escape(check_id)}\s+{points}\s", out.stdout, re.M), check_id
    assert f"**{Rubric().possible}**" in between("rubric-table")


def test_exactly_two_setup_commands_and_ci_runs_the_test_one():
    blocks = re.findall(r"<!-- (grade|test)-command -->\n```sh\n(.+?)\n```", README)
    assert [b[0] for b in blocks] == ["grade", "test"]
    ci = (REPO / ".ci" / "run").read_text()
    extracted = subprocess.run(
        ["bash", "-c", "sed -n '/<!-- test-command -->/,/<!-- \\/test-command -->/p' README.md"
                       " | sed -n '/^```/,/^```/{/^```/d;p}'"], cwd=REPO, capture_output=True, text=True, check=True)
    assert extracted.stdout.strip() == blocks[1][1]
    assert "test-command" in ci and 'bash -euo pipefail -c "$cmd"' in ci
