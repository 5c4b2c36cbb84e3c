from __future__ import annotations

import json
import subprocess
import sys

import pytest

from autograde.checks import load_rubric
from autograde.rubric import RubricError


def test_override_points_and_threshold(tmp_path):
    f = tmp_path / "r.yml"
    f.write_text("points:\n  images.size_ratio: 20\nthresholds:\n  size_ratio_max: 0.4\n")
    r = load_rubric(f)
    assert r.item("images.size_ratio").points == 20 and r.possible == load_rubric().possible + 5
    assert r.thresholds["size_ratio_max"] == 0.4


@pytest.mark.parametrize(
    "text, words",
    [
        ("points:\n  images.size_ration: 3\n", "did you mean 'images.size_ratio'"),
        ("points:\n  runtime.up: -1\n", "whole number >= 0"),
        ("points:\n  runtime.up: 2.5\n", "whole number >= 0"),
        ("thresholds:\n  size_ratio_max: 3\n", "in (0, 1]"),
        ("pointz: {}\n", "did you mean 'points'"),
        ("- a\n", "must be a mapping"),
        ("points: [\n", "not valid YAML"),
    ],
)
def test_bad_rubric_files_are_refused_clearly(tmp_path, text, words):
    f = tmp_path / "r.yml"
    f.write_text(text)
    with pytest.raises(RubricError, match=None) as e:
        load_rubric(f)
    assert words in str(e.value) and str(f) in str(e.value)


def test_cli_reports_a_bad_rubric_without_traceback(tmp_path):
    f = tmp_path / "r.yml"
    f.write_text("points:\n  nope: 1\n")
    for verb in (["rubric"], ["grade", str(tmp_path), "--static-only"]):
        p = subprocess.run(
            [sys.executable, "-m", "autograde", *verb, "--rubric", str(f)], capture_output=True, text=True
        )
        assert p.returncode == 2 and "unknown check id 'nope'" in p.stderr and "Traceback" not in p.stderr


def test_thresholds_in_effect_are_written_into_passes_when(tmp_path):
    """`autograde rubric` shows the limit an instructor set, not a placeholder or the default."""
    f = tmp_path / "r.yml"
    f.write_text("thresholds:\n  size_ratio_max: 0.4\n")
    text = subprocess.run(
        [sys.executable, "-m", "autograde", "rubric", "--rubric", str(f)], capture_output=True, text=True, check=True
    ).stdout
    assert "prod image size <= 0.4 x dev image size" in text and "{" not in text
    as_json = subprocess.run(
        [sys.executable, "-m", "autograde", "rubric", "--rubric", str(f), "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    check = next(c for c in json.loads(as_json)["checks"] if c["id"] == "images.size_ratio")
    assert check["passes_when"] == "prod image size <= 0.4 x dev image size"
    default = load_rubric(None)
    assert default.passes_when(default.item("images.size_ratio")) == "prod image size <= 0.5 x dev image size"
