"""The job summary as Markdown renders it (markdown-it-py, CommonMark with GFM tables), not as text.

GitHub renders $GITHUB_STEP_SUMMARY as GitHub Flavored Markdown; what a student sees is the
rendered structure: a "Fix first" paragraph, the table, a list of what to do, log blocks.
"""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from autograde.report import github
from autograde.results import CheckResult, GradingResults

SHA = "0123456789abcdef0123456789abcdef01234567"
ENV = {"GITHUB_SERVER_URL": "https://github.example", "GITHUB_REPOSITORY": "org/lab04-ann", "GITHUB_SHA": SHA}
BLOB = f"https://github.example/org/lab04-ann/blob/{SHA}"
BUILD_HINT = "Build it yourself with `docker compose -f docker-compose.prod.yml build` and read the failing step."
PROGRESS = "\n".join(
    f"#8 0.143   Downloading pkg-{i}.whl (1.2 MB)\n#8 0.143      ━━━━━━━━ 1.2/1.2 MB 3.1 MB/s eta 0:00:00"
    for i in range(40)
)
BUILD_LOG = (
    PROGRESS
    + """
#8 DONE 0.1s

#9 [web_prod builder 5/6] RUN python -m pytest -q tests/
#9 0.358 collected 3 items
#9 0.358 tests/test_app.py F..
#9 0.358 E   AssertionError: assert 1 == 2
#9 0.358 FAILED tests/test_app.py::test_hits - AssertionError
#9 ERROR: process "/bin/sh -c python -m pytest -q tests/" did not complete successfully: exit code: 1
------
 > [web_prod builder 5/6] RUN python -m pytest -q tests/:
0.358 E   AssertionError: assert 1 == 2
------
failed to solve: process "/bin/sh -c python -m pytest -q tests/" did not complete successfully: exit code: 1
"""
)


def failed_build() -> GradingResults:
    """A build that fails at Dockerfile.prod:25 takes three checks with it: 45 of 50 lost points."""
    return GradingResults(
        checks=[
            CheckResult("dockerfile.stages", "Stages", "pass", 5, 5, "2 stages", file="Dockerfile.prod", line=1),
            CheckResult(
                "dockerfile.builder_tests",
                "Tests",
                "fail",
                0,
                5,
                "Dockerfile.prod:25: the app's tests failed during the build",
                hint=BUILD_HINT,
                file="Dockerfile.prod",
                line=25,
                log_tail=BUILD_LOG,
            ),
            CheckResult(
                "dockerfile.final_slim",
                "Slim",
                "fail",
                0,
                5,
                "the final stage is FROM python:3.13",
                hint="Use `python:3.13-slim`.",
                file="Dockerfile.prod",
                line=27,
            ),
            CheckResult(
                "compose.web_prod", "web_prod", "pass", 10, 10, "publishes 5005", file="docker-compose.prod.yml", line=8
            ),
            CheckResult(
                "runtime.up",
                "Up",
                "fail",
                0,
                10,
                "building the prod image failed at Dockerfile.prod:25 (`RUN python -m pytest -q tests/`)",
                hint=BUILD_HINT,
                file="Dockerfile.prod",
                line=25,
                log_tail=BUILD_LOG,
            ),
            CheckResult("runtime.counter", "Counter", "skip", 0, 15, "the prod stack did not come up (see runtime.up)"),
            CheckResult("images.size_ratio", "Ratio", "skip", 0, 15, "the prod image did not build (see runtime.up)"),
        ]
    )


def tokens(md: str):
    return MarkdownIt("commonmark").enable("table").parse(md)


def inline_after(toks, i: int):
    return next(t for t in toks[i:] if t.type == "inline")


def links(inline) -> list[tuple[str, str]]:
    out, href, text = [], None, ""
    for child in inline.children:
        if child.type == "link_open":
            href, text = child.attrs["href"], ""
        elif child.type == "link_close":
            out.append((href, text))
            href = None
        elif href is not None:
            text += child.content
    return out


def codes(inline) -> list[str]:
    return [c.content for c in inline.children if c.type == "code_inline"]


def plain(inline) -> str:
    return "".join(c.content for c in inline.children if c.type in ("text", "code_inline"))


def paragraphs(toks) -> list:
    return [toks[i + 1] for i, t in enumerate(toks) if t.type == "paragraph_open"]


def table(toks) -> list[list]:
    rows, row, inside = [], None, False
    for i, t in enumerate(toks):
        if t.type == "table_open":
            inside = True
        elif t.type == "table_close":
            return rows
        elif inside and t.type == "tr_open":
            row = []
        elif inside and t.type == "tr_close":
            rows.append(row)
        elif inside and t.type in ("th_open", "td_open"):
            row.append(toks[i + 1])
    raise AssertionError("no table")


def row_for(rows, check_id: str):
    return next(r for r in rows if check_id in codes(r[1]))


def test_fix_first_names_the_place_the_command_what_to_do_and_the_points():
    toks = tokens(github.step_summary(failed_build(), env=ENV))
    assert toks[0].type == "heading_open"
    first = paragraphs(toks)[0]
    shown = [c for c in first.children if c.content or c.type != "text"]
    assert shown[0].type == "strong_open" and shown[1].content == "Fix first:"
    assert links(first) == [(f"{BLOB}/Dockerfile.prod#L25", "Dockerfile.prod:25")]
    assert codes(first)[0] == "RUN python -m pytest -q tests/"
    assert "docker compose -f docker-compose.prod.yml build" in codes(first)  # what to do: the hint
    points = plain(paragraphs(toks)[1])
    assert points.startswith("45 of the 50 lost points depend on it")
    assert {"runtime.up", "dockerfile.builder_tests", "runtime.counter", "images.size_ratio"} == set(
        codes(paragraphs(toks)[1])
    )
    # the Fix first block comes before the table
    assert toks.index(first) < next(i for i, t in enumerate(toks) if t.type == "table_open")


def test_no_fix_first_when_no_failure_takes_others_with_it():
    r = failed_build()
    r.checks = [c for c in r.checks if c.id in ("dockerfile.stages", "dockerfile.final_slim")]
    toks = tokens(github.step_summary(r, env=ENV))
    assert not any("Fix first" in plain(p) for p in paragraphs(toks))


def test_table_rows_link_the_place_once_and_passing_rows_have_none():
    rows = table(tokens(github.step_summary(failed_build(), env=ENV)))
    assert [plain(c) for c in rows[0]] == ["", "Check", "Points", "Result"]
    passing = row_for(rows, "dockerfile.stages")[3]
    assert links(passing) == [] and plain(passing) == "2 stages"
    up = row_for(rows, "runtime.up")[3]
    assert links(up) == [(f"{BLOB}/Dockerfile.prod#L25", "Dockerfile.prod:25")]
    assert "(Dockerfile.prod:25)" not in plain(up) and plain(up).count("Dockerfile.prod:25") == 1
    tests = row_for(rows, "dockerfile.builder_tests")[3]  # the message starts with its place: not repeated
    assert links(tests) == [(f"{BLOB}/Dockerfile.prod#L25", "Dockerfile.prod:25")]
    assert plain(tests) == "Dockerfile.prod:25: the app's tests failed during the build"
    slim = row_for(rows, "dockerfile.final_slim")[3]  # a message without its place gets it in front
    assert links(slim) == [(f"{BLOB}/Dockerfile.prod#L27", "Dockerfile.prod:27")]
    assert plain(slim) == "Dockerfile.prod:27: the final stage is FROM python:3.13"
    assert all(len(r) == 4 for r in rows)  # no hint column squeezed at the right


def test_hints_are_a_list_with_duplicates_merged():
    toks = tokens(github.step_summary(failed_build(), env=ENV))
    items = list_items(toks, "What to do")
    assert len(items) == 2
    build = next(it for it in items if "runtime.up" in codes(it))
    assert {"dockerfile.builder_tests", "runtime.up"} <= set(codes(build))
    assert "45 of the 50 lost points depend on it" in plain(
        build
    ) and "docker compose -f docker-compose.prod.yml build" in codes(build)
    assert sum(BUILD_HINT.split("`")[0] in plain(it) for it in items) == 1  # said once
    slim = next(it for it in items if "dockerfile.final_slim" in codes(it))
    assert links(slim) == [(f"{BLOB}/Dockerfile.prod#L27", "Dockerfile.prod:27")] and "python:3.13-slim" in codes(slim)


def test_the_graders_local_url_is_a_code_span_not_a_link():
    r = GradingResults(
        checks=[
            CheckResult(
                "runtime.counter",
                "Counter",
                "fail",
                0,
                15,
                "GET http://localhost:49213/ answered 500, then http://127.0.0.1:49213/x",
            )
        ]
    )
    row = row_for(table(tokens(github.step_summary(r, env=ENV))), "runtime.counter")[3]
    assert links(row) == []
    assert codes(row) == ["http://localhost:49213/", "http://127.0.0.1:49213/x"]


def test_without_repository_and_commit_places_are_plain_text():
    toks = tokens(github.step_summary(failed_build(), env={}))
    assert all(links(p) == [] for p in paragraphs(toks))
    assert "Dockerfile.prod:25" in plain(paragraphs(toks)[0])


def test_a_failed_build_shows_the_lines_that_explain_it_and_folds_the_full_tail():
    md = github.step_summary(failed_build(), env=ENV)
    toks = tokens(md)
    fences = [t for t in toks if t.type == "fence"]
    excerpt = fences[0].content.splitlines()
    assert len(excerpt) <= 15
    assert excerpt[0] == "failed step: RUN python -m pytest -q tests/"
    assert "E   AssertionError: assert 1 == 2" in excerpt
    assert any("did not complete successfully: exit code: 1" in line for line in excerpt)
    assert not any("Downloading" in line or "━" in line for line in excerpt)
    # one log section for both checks that share the build log
    assert len([t for t in toks if t.type == "heading_open" and "Log of" in toks[toks.index(t) + 1].content]) == 1
    # the full tail is folded: inside <details>, after the excerpt
    details = next(i for i, t in enumerate(toks) if t.type == "html_block" and "<details>" in t.content)
    assert toks.index(fences[0]) < details < toks.index(fences[1])
    assert "Downloading pkg-39.whl" in fences[1].content
    assert (
        toks[toks.index(fences[1]) + 1].type == "html_block" and "</details>" in toks[toks.index(fences[1]) + 1].content
    )


@pytest.mark.parametrize(
    "message",
    [
        "Dockerfile.prod:25 runs pytest where it is not installed",
        "building failed at Dockerfile.prod:25 (`RUN x`): boom",
    ],
)
def test_a_place_in_the_message_is_linked_where_it_stands(message):
    r = GradingResults(
        checks=[CheckResult("runtime.up", "Up", "fail", 0, 10, message, file="Dockerfile.prod", line=25)]
    )
    cell = row_for(table(tokens(github.step_summary(r, env=ENV))), "runtime.up")[3]
    assert links(cell) == [(f"{BLOB}/Dockerfile.prod#L25", "Dockerfile.prod:25")]
    assert plain(cell).count("Dockerfile.prod:25") == 1


def list_items(toks, heading_text: str, nested: bool = False) -> list:
    """The items of the list under a heading: the top level only, or with the items nested in them."""
    heading = next(i for i, t in enumerate(toks) if t.type == "heading_open" and toks[i + 1].content == heading_text)
    outer = toks[heading + 3]
    assert outer.type == "bullet_list_open"
    items = []
    for i in range(heading + 4, len(toks)):
        if toks[i].type == "bullet_list_close" and toks[i].level == outer.level:
            break
        if toks[i].type == "list_item_open" and (nested or toks[i].level == outer.level + 1):
            items.append(inline_after(toks, i))
    return items


def test_checks_failing_with_the_fix_first_failure_share_one_item_even_with_other_wording():
    r = failed_build()
    tests = next(c for c in r.checks if c.id == "dockerfile.builder_tests")
    tests.hint = "pytest is not in the venv. Before the test run, install it outside the venv."
    items = list_items(tokens(github.step_summary(r, env=ENV)), "What to do")
    assert len(items) == 2
    first = items[0]
    assert plain(first).startswith("Fix first:") and {"runtime.up", "dockerfile.builder_tests"} <= set(codes(first))
    assert "docker compose -f docker-compose.prod.yml build" in codes(first)
    assert not any("Before the test run" in plain(it) for it in items)  # the same problem, told once
    toks = tokens(github.step_summary(r, env=ENV))
    assert plain(paragraphs(toks)[1]).startswith("45 of the 50 lost points depend on it")


def test_all_lost_points_depending_on_one_failure_say_so():
    r = failed_build()
    r.checks = [c for c in r.checks if c.id != "dockerfile.final_slim"]
    toks = tokens(github.step_summary(r, env=ENV))
    assert plain(paragraphs(toks)[1]).startswith("All 45 lost points depend on it")


def test_the_machines_trouble_is_never_a_fix_first():
    r = failed_build()
    for c in r.checks:
        if c.id in ("runtime.up", "dockerfile.builder_tests"):
            c.status, c.message, c.hint = "error", "the registry did not answer (not your fault)", "Grade again later."
    toks = tokens(github.step_summary(r, env=ENV))
    assert not any("Fix first" in plain(p) for p in paragraphs(toks))


def test_every_line_of_a_named_file_is_linked_and_other_text_is_not():
    r = GradingResults(
        checks=[
            CheckResult(
                "dockerfile.final_copies",
                "Copies",
                "fail",
                0,
                10,
                "Dockerfile.prod:30 copies main.py, but Dockerfile.prod:12 never made it; "
                "see Dockerfile.prod.bak and x/Dockerfile.prod:3",
                file="Dockerfile.prod",
                line=30,
            )
        ]
    )
    cell = row_for(table(tokens(github.step_summary(r, env=ENV))), "dockerfile.final_copies")[3]
    assert links(cell) == [
        (f"{BLOB}/Dockerfile.prod#L30", "Dockerfile.prod:30"),
        (f"{BLOB}/Dockerfile.prod#L12", "Dockerfile.prod:12"),
    ]
