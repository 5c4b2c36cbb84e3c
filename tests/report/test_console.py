"""The console table: code spans in hints are never wrapped, and the Fix first line."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograde.report import console
from autograde.results import CheckResult, GradingResults

from .test_summary_markdown import failed_build

HINT = (
    "pytest is in app/requirements-dev.txt, not app/requirements.txt, so the venv has no pytest. Install the dev "
    "requirements with the image's own pip and run the tests with it: `RUN pip install -r requirements-dev.txt "
    "&& python -m pytest tests/` (this keeps pytest out of the venv that the final stage copies)."
)


def test_a_long_hint_wraps_outside_its_code_span():
    lines = console.wrap(HINT, 96)
    assert "`RUN pip install -r requirements-dev.txt && python -m pytest tests/`" in lines[2] + lines[1] + lines[0]
    assert all(line.count("`") % 2 == 0 for line in lines)  # every span opens and closes on one line
    assert " ".join(lines) == HINT


words = st.text(alphabet="abcdefgh-/.", min_size=1, max_size=12)
spans = st.lists(words, min_size=1, max_size=12).map(lambda ws: "`" + " ".join(ws) + "`")


@pytest.mark.slow
@given(st.lists(st.one_of(words, spans), min_size=1, max_size=40), st.integers(min_value=10, max_value=100))
def test_no_code_span_is_ever_broken(parts, width):
    text = " ".join(parts)
    lines = console.wrap(text, width)
    assert " ".join(lines) == text
    for line in lines:
        assert line.count("`") % 2 == 0, line
        assert len(line) <= width or re.fullmatch(r"`[^`]*`|[^ `]+", line), line  # too long: one span alone


def test_the_table_in_a_terminal_keeps_the_command_whole():
    r = GradingResults(
        checks=[
            CheckResult(
                "dockerfile.builder_tests",
                "Tests",
                "fail",
                0,
                5,
                "pytest missing",
                hint=HINT,
                file="Dockerfile.prod",
                line=25,
            )
        ]
    )
    out = io.StringIO()
    console.write(r, out)
    joined = [line.strip() for line in out.getvalue().splitlines()]
    assert any("`RUN pip install -r requirements-dev.txt && python -m pytest tests/`" in line for line in joined)


def test_fix_first_line_in_the_console():
    out = io.StringIO()
    console.write(failed_build(), out)
    line = next(x for x in out.getvalue().splitlines() if x.startswith("Fix first:"))
    assert line.startswith("Fix first: Dockerfile.prod:25 `RUN python -m pytest -q tests/` failed — 45 of the 50")


def test_the_console_shows_the_lines_that_explain_a_failed_build_once():
    out = io.StringIO()
    console.write(failed_build(), out)
    text = out.getvalue()
    logged = [line.strip()[2:] for line in text.splitlines() if line.strip().startswith("| ")]
    assert "E   AssertionError: assert 1 == 2" in logged
    assert not any("Downloading" in line for line in logged)
    assert text.count("failed step: RUN python -m pytest -q tests/") == 1  # shared log, shown once
    assert "at Dockerfile.prod:25" not in [line.strip() for line in text.splitlines()]  # named in both messages
