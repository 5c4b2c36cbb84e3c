"""The README tells the truth: its rubric table is the rubric, and CI runs its test command."""

from __future__ import annotations

import re
import subprocess
import sys

from autograde.checks import default_rubric
from support import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def between(marker: str) -> str:
    m = re.search(rf"<!-- {marker} -->\n(.*?)<!-- /{marker} -->", README, re.S)
    assert m, marker
    return m.group(1)


def test_rubric_table_matches_autograde_rubric():
    rows = re.findall(r"^\| `([a-z_.]+)` \| ([^|]*) \| ([^|]*) \| (\d+) \|$", between("rubric-table"), re.M)
    rubric = default_rubric()
    assert [(i, c, w, int(p)) for i, c, w, p in rows] == [
        (i.id, i.checklist, rubric.passes_when(i), i.points) for i in rubric.items
    ]
    out = subprocess.run([sys.executable, "-m", "autograde", "rubric"], capture_output=True, text=True, check=True)
    for check_id, checklist, passes_when, points in rows:
        assert re.search(
            rf"^{re.escape(check_id)}\s+{points}\s+{re.escape(checklist)}\s+{re.escape(passes_when)}$", out.stdout, re.M
        ), check_id
    assert f"**{rubric.possible}**" in between("rubric-table")


LAB = README.split("## How grading works", 1)[0]  # the part students work from


def section(title: str) -> str:
    return LAB.split(f"\n## {title}", 1)[1].split("\n## ", 1)[0]


def test_size_limit_is_stated_where_students_read_it():
    limit = f"{default_rubric().thresholds['size_ratio_max']:g}"
    assert f"<= {limit}" in section("Part 3")
    item = next(line for line in section("Validation checklist").split("- [ ]") if "docker images" in line)
    assert f"<= {limit}" in item
    assert f"<= {limit} x dev image size" in between("rubric-table")


def test_tests_step_is_required_as_it_earns_points():
    assert default_rubric().item("dockerfile.builder_tests").points > 0
    assert "bonus" not in LAB.lower() and "bonus" not in default_rubric().item("dockerfile.builder_tests").name.lower()
    item = next(line for line in section("Validation checklist").split("- [ ]") if "pytest" in line)
    assert "required" in item and "optional" not in item
    todo7 = (REPO / "Dockerfile.prod").read_text(encoding="utf-8").split("# TODO 7", 1)[1].split("# TODO 8")[0]
    assert "required" in todo7 and "optional" not in todo7
    assert "python -m pytest tests/" in todo7 and "python -m pytest tests/" in section("Part 1")


def test_exactly_two_setup_commands_and_ci_runs_the_test_one():
    blocks = re.findall(r"<!-- (grade|test)-command -->\n```sh\n(.+?)\n```", README)
    assert [b[0] for b in blocks] == ["grade", "test"]
    ci = (REPO / ".ci" / "run").read_text()
    extracted = subprocess.run(
        [
            "bash",
            "-c",
            "sed -n '/<!-- test-command -->/,/<!-- \\/test-command -->/p' README.md"
            " | sed -n '/^```/,/^```/{/^```/d;p}'",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert extracted.stdout.strip() == blocks[1][1]
    assert "test-command" in ci and 'bash -euo pipefail -c "$cmd"' in ci


def test_every_relative_link_in_the_docs_resolves():
    """README.md and the documents it sends readers to link only to files that exist."""
    docs = [
        REPO / "README.md",
        REPO / "CONTRIBUTING.md",
        REPO / "bench" / "README.md",
        *sorted((REPO / "docs").glob("*.md")),
    ]
    broken = []
    for doc in docs:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (doc.parent / target).exists():
                broken.append(f"{doc.relative_to(REPO)} -> {target}")
    assert not broken, broken
    for name in ("instructors", "grading-rules", "untrusted-submissions", "offline-images"):
        assert f"docs/{name}.md" in README, f"README.md does not link docs/{name}.md"


def test_readme_stays_the_students_document_under_500_lines():
    lines = len(README.splitlines())
    assert lines < 500, (
        f"README.md has {lines} lines: it is the students' document; move instructor material to "
        "docs/instructors.md and contributor material to CONTRIBUTING.md"
    )
