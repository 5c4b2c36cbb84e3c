"""The habits of the project: one version everywhere, a licence, lint and types clean."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

from autograde import __version__
from support import REPO


def test_one_version_everywhere():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    newest = re.search(r"^## (\d+\.\d+\.\d+)", (REPO / "CHANGELOG.md").read_text(), re.M)
    assert newest and newest.group(1) == project == __version__


def test_licence_is_stated():
    assert (REPO / "LICENSE").read_text().startswith("MIT License")
    assert "MIT" in (REPO / "README.md").read_text()


def test_ruff_lint_is_clean():
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "autograde", "tests", "bench"], cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_format_is_applied():
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "autograde", "tests", "bench"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, "run `ruff format autograde tests bench`:\n" + out.stdout + out.stderr


def test_mypy_strict_is_clean():
    out = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr


# The contributor guide's example of adding a check is tested in tests/test_contributing.py.
