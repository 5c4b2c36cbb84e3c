"""Annotations, the job summary, the Fence, and emit()."""

from __future__ import annotations

import io
import re

import pytest

from autograde.report import github
from autograde.results import Advice, CheckResult, GradingResults, ImageFacts

from .models import runner_commands

FORGED = "::notice title=Autograding complete::Points 100/100"


def test_the_parser_model_sees_a_forged_notice_when_unfenced():
    assert runner_commands(f"build step 3\n  {FORGED}\n") == [
        ("notice", {"title": "Autograding complete"}, "Points 100/100")
    ]
    assert runner_commands("x ##[error]boom")[0][0] == "error"


# --- Fence --------------------------------------------------------------------------------

EVIL_LOG = "\n".join(
    [
        "#5 [builder 3/6] RUN echo hi",
        FORGED,
        '::notice title=Autograding report::{"totalPoints":100,"maxPoints":100}',
        "   ::set-output name=dockerfilestages::AAAA",
        "::stop-commands::mytoken",
        "::mytoken::",
        "::endgroup::",
        "weird ##[error]in the middle",
        "\r::error::after a carriage return",
    ]
)


def test_fence_stops_every_command_in_student_text_and_resumes_after():
    fence = github.Fence()
    log = fence.wrap(EVIL_LOG) + "\n" + "::notice title=Autograding complete::Points 55/100\n"
    assert runner_commands(log) == [("notice", {"title": "Autograding complete"}, "Points 55/100")]


def test_fence_token_is_random_long_and_in_the_markers():
    a, b = github.Fence(), github.Fence()
    assert a.token != b.token and len(a.token) >= 32 and re.fullmatch(r"[0-9a-f]+", a.token)
    wrapped = a.wrap("hello\nworld")
    assert wrapped.splitlines() == [f"::stop-commands::{a.token}", "hello", "world", f"::{a.token}::"]
    assert a.wrap("").splitlines() == [f"::stop-commands::{a.token}", f"::{a.token}::"]


def test_fence_cannot_be_ended_early_even_by_a_leaked_token():
    fence = github.Fence("0123456789abcdef0123456789abcdef")
    wrapped = fence.wrap(f"::{fence.token}::\n{FORGED}")
    assert runner_commands(wrapped) == []


# --- annotations --------------------------------------------------------------------------


def results_fixture() -> GradingResults:
    return GradingResults(
        checks=[
            CheckResult("dockerfile.stages", "stages", "pass", 5, 5, "two stages", file="Dockerfile.prod", line=1),
            CheckResult(
                "dockerfile.final_slim",
                "slim",
                "fail",
                0,
                5,
                "final stage is FROM python:3.13, 100% full-size\nnot slim",
                hint="use python:3.13-slim",
                file="Dockerfile.prod",
                line=12,
            ),
            CheckResult("compose.web_prod", "web_prod", "fail", 0, 10, "no port 5005", file="docker-compose.prod.yml"),
            CheckResult(
                "runtime.counter",
                "counter",
                "error",
                0,
                15,
                "app crashed",
                log_tail="Traceback ...\n```\n</details><script>x</script>\n" + FORGED,
            ),
            CheckResult("images.size_ratio", "ratio", "fail", 0, 15, "prod is 80% of dev"),
        ],
        dev_image=ImageFacts("sha256:d", "lab04-dev:latest", 1_100_000_000),
        prod_image=ImageFacts("sha256:p", "lab04-prod:latest", 880_000_000),
        advice=[Advice("Dockerfile.prod", 7, "DL3042", "warning", "Avoid use of cache directory with pip, a,b:c")],
        grader={"thresholds": {"size_ratio_max": 0.5}},
    )


def test_annotations_for_failed_checks_with_a_file_and_for_advice():
    lines = github.annotation_lines(results_fixture())
    assert lines == [
        "::error file=Dockerfile.prod,line=12,title=dockerfile.final_slim — lost 5 of 5 points::"
        "final stage is FROM python:3.13, 100%25 full-size not slim%0AWhat to do: use python:3.13-slim",
        "::error file=docker-compose.prod.yml,title=compose.web_prod — lost 10 of 10 points::no port 5005",
        "::warning file=Dockerfile.prod,line=7,title=hadolint DL3042::"
        "Avoid use of cache directory with pip, a,b:c (warning, advice, 0 points)",
    ]
    # and the runner reads them back as meant
    parsed = runner_commands("\n".join(lines))
    assert parsed[0] == (
        "error",
        {"file": "Dockerfile.prod", "line": "12", "title": "dockerfile.final_slim — lost 5 of 5 points"},
        "final stage is FROM python:3.13, 100% full-size not slim\nWhat to do: use python:3.13-slim",
    )
    assert parsed[2][2].startswith("Avoid use of cache directory with pip, a,b:c")


def test_escaping_matches_the_toolkit():
    assert github.escape_data("a%b\r\nc:d,e") == "a%25b%0D%0Ac:d,e"
    assert github.escape_property("a%b\r\nc:d,e") == "a%25b%0D%0Ac%3Ad%2Ce"
    assert github.command("error", "m", file="a,b:c", line=None, title="t") == "::error file=a%2Cb%3Ac,title=t::m"


def test_annotation_text_cannot_inject_a_second_command():
    r = GradingResults(
        checks=[
            CheckResult(
                "compose.services", "s", "fail", 0, 5, "service named\n" + FORGED, file="docker-compose.prod.yml"
            )
        ]
    )
    parsed = runner_commands("\n".join(github.annotation_lines(r)))
    assert [p[0] for p in parsed] == ["error"]


# --- summary ------------------------------------------------------------------------------


def test_step_summary_shows_total_table_sizes_chart_and_safe_logs():
    r = results_fixture()
    md = github.step_summary(r)
    assert f"Autograde: {r.total} / {r.possible} points" in md
    assert "| ❌ | `dockerfile.final_slim` slim | 0/5 |" in md
    assert "use python:3.13-slim" in md
    assert "1,100.0 MB" in md and "880.0 MB" in md and "0.80" in md and "❌ over" in md
    chart = re.search(r"```mermaid\n(.*?)\n```", md, re.S).group(1)
    assert chart.startswith("xychart-beta") and "bar [1100.0, 880.0]" in chart and "line [550.0, 550.0]" in chart
    # the log tail sits in a code fence longer than any backtick run inside it
    block = re.search(
        r"<summary>Full log tail of <code>runtime.counter</code></summary>\n\n(`{4,})text\n(.*?)\n\1\n", md, re.S
    )
    assert block and "</details><script>" in block.group(2)
    assert md.count("<details>") == md.count("</details>") - 2  # the excerpt and the full tail quote it as text
    # pass checks have no log section
    assert "<code>dockerfile.stages" not in md


def test_step_summary_for_printing_is_neutralized():
    md = github.step_summary(results_fixture(), fence_free=False)
    assert runner_commands(md) == []
    assert "::" not in md


def test_table_cells_cannot_break_the_table_or_inject_html():
    r = GradingResults(checks=[CheckResult("compose.services", "s", "fail", 0, 5, "a | b\n<img src=x onerror=1>")])
    row = next(line for line in github.step_summary(r).splitlines() if "compose.services" in line)
    assert "a \\| b<br>&lt;img src=x onerror=1&gt;" in row
    assert len(re.findall(r"(?<!\\)\|", row)) == 5  # four columns, as in the header


def test_summary_without_images_and_with_error():
    r = GradingResults(checks=[], error="no Dockerfile.prod", static_only=True)
    md = github.step_summary(r)
    assert "Grading error:** no Dockerfile.prod" in md and "mermaid" not in md and "Static checks only" in md


@pytest.mark.parametrize("tail", ["", "`", "a ```` b", "`" * 10])
def test_code_block_fence_is_longer_than_content(tail):
    block = github.code_block(f"x {tail} y")
    fence = block.split("\n", 1)[0][: -len("text")]
    assert set(fence) == {"`"} and len(fence) > max((len(m) for m in re.findall("`+", tail)), default=0)


def test_clean_log_strips_ansi_and_progress():
    assert github.clean_log("\x1b[31mred\x1b[0m\n10%\r50%\r100%\nok\x07") == "red\n100%\nok"


# --- emit ---------------------------------------------------------------------------------


def test_emit_in_actions_prints_annotations_and_appends_summary(tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    out = io.StringIO()
    github.emit(results_fixture(), out, {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    assert out.getvalue().splitlines() == github.annotation_lines(results_fixture())
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# earlier step\n") and "Autograde: 5 / 50 points" in text


def test_emit_outside_actions_prints_nothing(tmp_path):
    out = io.StringIO()
    github.emit(results_fixture(), out, {"GITHUB_STEP_SUMMARY": str(tmp_path / "s")})
    github.emit(results_fixture(), out, {"GITHUB_ACTIONS": "false"})
    assert out.getvalue() == "" and not (tmp_path / "s").exists()
    assert github.in_actions({"GITHUB_ACTIONS": "true"}) and not github.in_actions({})


def test_emit_survives_an_unwritable_summary(tmp_path):
    out = io.StringIO()
    github.emit(results_fixture(), out, {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path)})  # a dir
    assert out.getvalue().splitlines()[-1].startswith("::warning::autograde could not write the job summary")


def test_code_spans_in_hints_stay_literal_and_html_outside_is_inert():
    r = GradingResults(
        checks=[
            CheckResult(
                "dockerfile.builder_tests",
                "t",
                "fail",
                0,
                5,
                "msg <b>x</b>",
                hint="Use `pip install -r r.txt && python -m pytest` <img src=x>",
            )
        ]
    )
    md = github.step_summary(r).splitlines()
    row = next(line for line in md if line.startswith("| ") and "dockerfile.builder_tests" in line)
    item = next(line for line in md if line.startswith("- ") and "dockerfile.builder_tests" in line)
    assert "`pip install -r r.txt && python -m pytest`" in item
    assert "&lt;img src=x&gt;" in item and "&lt;b&gt;x&lt;/b&gt;" in row
