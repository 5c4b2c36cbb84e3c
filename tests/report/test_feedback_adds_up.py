"""What a student sees on GitHub adds up, on real grades: the solution, the untouched starter, one
mistake (the final stage on python:3.13), a solution whose unit test fails, and `COPY app/* .`.

Each is graded once on the real engine as the workflow runs it (GITHUB_ACTIONS, a step summary file),
and read back the way GitHub shows it: the step summary rendered as Markdown, the annotations as the
runner parses them from the log, the JSON report and the JUnit file as the check's action reads it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from autograde.report import junit
from support import REPO, leftovers, make_checkout, solution_files

from .junit_action import parse as junit_check_run
from .models import runner_commands

pytestmark = pytest.mark.docker
SHA = "0123456789abcdef0123456789abcdef01234567"
DF = solution_files()["Dockerfile.prod"]
TEST_MAIN = (REPO / "app/tests/test_main.py").read_text(encoding="utf-8")
FAILING_ASSERT = "assert numbers_in(second.get_data(as_text=True)) == [2]"
FAILING_LINE = TEST_MAIN.splitlines().index("    " + FAILING_ASSERT) + 1

PUSHES: dict[str, dict] = {
    "solution": {},
    "starter": {"solution": False},
    "one mistake": {"files": {"Dockerfile.prod": DF.replace("FROM python:3.13-slim", "FROM python:3.13")}},
    "failing test": {
        "files": {"app/tests/test_main.py": TEST_MAIN.replace(FAILING_ASSERT, FAILING_ASSERT.replace("[2]", "[3]"))}
    },
    "flattened": {"files": {"Dockerfile.prod": DF.replace("COPY app/ .", "COPY app/* .")}},
    "tests ignored": {"files": {".dockerignore": (REPO / ".dockerignore").read_text(encoding="utf-8") + "app/tests\n"}},
}


class Graded:
    def __init__(self, root: Path, code: int, out: str, summary: str) -> None:
        self.root, self.code, self.out, self.summary = root, code, out, summary
        self.report = json.loads((root / "autograde-report.json").read_text(encoding="utf-8"))
        self.annotations = [(props, data) for name, props, data in runner_commands(out) if name in ("error", "warning")]
        self.lost = {c["id"] for c in self.report["checks"] if c["max_score"] > c["score"]}

    def check(self, check_id: str) -> dict:
        return next(c for c in self.report["checks"] if c["id"] == check_id)


_graded: dict[str, Graded] = {}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grades each push once, one at a time (the engine is shared), on first use."""

    def get(name: str) -> Graded:
        if name not in _graded:
            root = make_checkout(tmp_path_factory.mktemp(name.replace(" ", "-")) / "repo", **PUSHES[name])
            summary = root.parent / "summary.md"
            env = {
                **{k: v for k, v in __import__("os").environ.items() if not k.startswith("GITHUB_")},
                "GITHUB_ACTIONS": "true",
                "GITHUB_STEP_SUMMARY": str(summary),
                "GITHUB_SERVER_URL": "https://github.com",
                "GITHUB_REPOSITORY": "cs-class/lab04-ann",
                "GITHUB_SHA": SHA,
            }
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "autograde",
                    "grade",
                    "--json",
                    "autograde-report.json",
                    "--junit",
                    "autograde-report.xml",
                    "--host-port",
                    "auto",
                    "--build-timeout",
                    "300",
                ],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
            )
            assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
            g = Graded(root, proc.returncode, proc.stdout, summary.read_text(encoding="utf-8"))
            assert leftovers(g.report["grader"]["project"]) == []
            _graded[name] = g
        return _graded[name]

    return get


# --- reading the summary page as Markdown -------------------------------------------------------


def _tokens(md: str):
    return MarkdownIt("commonmark").enable("table").parse(md)


def _text(inline) -> str:
    return "".join(c.content for c in inline.children if c.type in ("text", "code_inline"))


def what_to_do(summary: str) -> list[str]:
    """Every item (nested ones too) of the "What to do" list, as text."""
    toks = _tokens(summary)
    start = next(
        (i for i, t in enumerate(toks) if t.type == "heading_open" and toks[i + 1].content == "What to do"), None
    )
    if start is None:
        return []
    outer = toks[start + 3]
    items = []
    for i in range(start + 4, len(toks)):
        if toks[i].type == "bullet_list_close" and toks[i].level == outer.level:
            break
        if toks[i].type == "inline" and toks[i - 1].type == "paragraph_open":
            items.append(_text(toks[i]))
    return items


def ids_in(text: str, ids: set[str]) -> list[str]:
    return [i for i in re.findall(r"\b[a-z_]+\.[a-z_]+\b", text) if i in ids]


def first_fix_figures(g: Graded) -> list[str]:
    """Every statement of what depends on the first fix: top of the page, the list, the check's summary."""
    figure = re.compile(r"(all \d+ lost points|\d+ of the \d+ lost points) depend on it", re.I)
    said = [m.group(1).lower() for m in figure.finditer(g.summary)]
    said += [m.group(1).lower() for m in figure.finditer(junit.check_summary(_results(g)))]
    return said


def _results(g: Graded):
    from autograde.results import GradingResults

    return GradingResults.from_dict(g.report)


# --- the points add up --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PUSHES))
def test_every_lost_point_is_in_what_to_do_exactly_once(graded, name):
    g = graded(name)
    items = what_to_do(g.summary)
    named = [i for item in items for i in ids_in(item.removeprefix("Fix first: ").split(" — ")[0], g.lost)]
    assert sorted(named) == sorted(g.lost), (items, g.lost)
    heading = re.search(r"^## .* Autograde: (\d+) / (\d+) points$", g.summary, re.M)
    assert heading and (int(heading.group(1)), int(heading.group(2))) == (g.report["score"], g.report["max_score"])
    figures = first_fix_figures(g)
    assert len(set(figures)) <= 1, figures
    if figures:
        assert len(figures) == 3, figures  # the top, the list and the check's summary all say it


@pytest.mark.parametrize("name", list(PUSHES))
def test_annotations_are_plain_text_one_line_seen_one_line_to_do(graded, name):
    g = graded(name)
    for props, data in g.annotations:
        assert "`" not in data and "**" not in data and "](" not in data, data
        assert "`" not in props.get("title", ""), props
    errors = [(p, d) for p, d in g.annotations if "hadolint" not in p.get("title", "")]
    for props, data in errors:
        lines = data.split("\n")
        assert len(lines) <= 2 and all(line.strip() for line in lines), data
        if len(lines) == 2:
            assert lines[1].startswith("What to do: ")
    annotated = {i for p, _ in errors for i in re.findall(r"[a-z_]+\.[a-z_]+", p.get("title", ""))}
    in_files = {c["id"] for c in g.report["checks"] if c["id"] in g.lost}
    skipped_with_root = {c for c in in_files if g.check(c)["status"] == "skip"}
    for c in skipped_with_root:  # a skipped check that lost points is annotated on its root cause's line
        assert c in annotated, (c, [p for p, _ in errors])


def test_the_solution_has_nothing_to_do_and_names_its_images(graded):
    g = graded("solution")
    assert g.report["score"] == g.report["max_score"] and g.code == 0
    assert (what_to_do(g.summary) == [] and g.annotations == []) or all(
        "hadolint" in p["title"] for p, _ in g.annotations
    )
    _sizes_as_the_student_names_them(g)


def test_the_starters_skipped_checks_are_told_under_their_cause(graded):
    g = graded("starter")
    assert {"runtime.up", "runtime.counter", "images.size_ratio", "images.prod_lean"} <= g.lost
    runtime_items = [i for i in what_to_do(g.summary) if "runtime.counter" in i]
    assert len(runtime_items) == 1 and "skipped:" in runtime_items[0] and "first" in runtime_items[0]


def test_one_mistake_loses_its_points_with_a_hint_each(graded):
    g = graded("one mistake")
    assert g.lost == {"dockerfile.final_slim", "images.size_ratio"}, g.lost
    items = what_to_do(g.summary)
    assert any("dockerfile.final_slim" in i and "python:3.13-slim" in i for i in items), items
    _sizes_as_the_student_names_them(g)


def test_a_failing_unit_test_is_told_in_pytests_words_on_the_students_test_file(graded):
    g = graded("failing test")
    up = g.check("runtime.up")
    assert "1 failed, 5 passed" in up["message"], up["message"]
    assert {k: v for k, v in up["places"][0].items() if k in ("file", "line")} == {
        "file": "app/tests/test_main.py",
        "line": FAILING_LINE,
    }
    on_test = [(p, d) for p, d in g.annotations if p.get("file") == "app/tests/test_main.py"]
    assert [p.get("line") for p, _ in on_test] == [str(FAILING_LINE)], g.annotations
    assert f"https://github.com/cs-class/lab04-ann/blob/{SHA}/app/tests/test_main.py#L{FAILING_LINE}" in g.summary
    assert "tests/test_main.py:" not in up["message"].replace("app/tests/test_main.py:", "")
    assert "| `docker-cd-lab04-web-prod` | Dockerfile.prod (docker-compose.prod.yml) | not built |" in g.summary
    items = what_to_do(g.summary)
    assert items[0].startswith("Fix first:") and "runtime.up" in items[0]
    assert any("skipped:" in i and "images.prod_lean" in i for i in items)


def test_copy_app_star_is_told_as_the_copy_that_flattened_app(graded):
    g = graded("flattened")
    copy_line = DF.replace("COPY app/ .", "COPY app/* .").splitlines().index("COPY app/* .") + 1
    up = g.check("runtime.up")
    assert f"pytest found no tests/ — the COPY at Dockerfile.prod:{copy_line} flattened app/" in up["message"]
    assert (up["file"], up["line"]) == ("Dockerfile.prod", copy_line)
    tests = g.check("dockerfile.builder_tests")
    assert "fix the code or the test" not in (tests["message"] + tests["hint"]).lower()
    top = re.search(r"^\*\*Fix first:\*\* \[Dockerfile\.prod:(\d+)\]", g.summary, re.M)
    assert top and int(top.group(1)) == copy_line, g.summary[:600]


@pytest.mark.parametrize("name", ["one mistake", "failing test"])
def test_junit_cases_and_their_titles_are_check_ids(graded, name, tmp_path):
    g = graded(name)
    run = junit_check_run(
        g.root / "autograde-report.xml",
        g.root,
        include_passed=True,
        check_annotations=True,
        check_title_template="{{TEST_NAME}}",
    )
    ids = {c["id"] for c in g.report["checks"]}
    assert {a.title for a in run.parsed} == ids
    assert {a.title for a in run.parsed if a.status == "failure"} == g.lost


def _sizes_as_the_student_names_them(g: Graded) -> None:
    section = g.summary.split("### Image sizes", 1)[1]
    assert "`docker-cd-lab04-web-prod`" in section and "`docker-cd-lab04-web-dev`" in section
    tags = [g.report["images"][k]["tag"] for k in ("dev", "prod")]
    assert all(t and t not in g.summary for t in tags), tags  # the grader's tags only in the JSON report
    words = re.search(r"of dev = ([\d,.]+) MB\)", section)
    chart = re.search(r"line \[([\d.]+), ", section)
    assert words and chart and float(words.group(1).replace(",", "")) == float(chart.group(1))
    table = dict(re.findall(r"\| `([^`]+)` \| [^|]+ \| ([\d,.]+) MB \|", section))
    bar = re.search(r"bar \[([\d.]+), ([\d.]+)\]", section)
    assert bar and [
        float(table[n].replace(",", "")) for n in ("docker-cd-lab04-web-dev", "docker-cd-lab04-web-prod")
    ] == [
        float(bar.group(1)),
        float(bar.group(2)),
    ]


def test_tests_kept_out_by_dockerignore_are_told_by_the_pattern(graded):
    g = graded("tests ignored")
    up = g.check("runtime.up")
    ignore = (g.root / ".dockerignore").read_text(encoding="utf-8").splitlines()
    line = ignore.index("app/tests") + 1
    assert (up["file"], up["line"]) == (".dockerignore", line), up
    assert "pytest found no tests/" in up["message"] and f".dockerignore:{line} (`app/tests`)" in up["message"]
    assert "/opt/app_builder/tests" not in up["message"]
    assert any(p.get("file") == ".dockerignore" and p.get("line") == str(line) for p, _ in g.annotations)
