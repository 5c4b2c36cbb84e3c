from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from autograde.checks import default_rubric, run_check
from autograde.checks.base import Context
from autograde.model import load_submission
from autograde.results import CheckResult
from support import make_checkout, solution_files

SOLUTION = solution_files()


@pytest.fixture(scope="session")
def solution() -> dict[str, str]:
    return dict(SOLUTION)


@pytest.fixture
def grade_static(tmp_path: Path) -> Callable[..., CheckResult]:
    """Grade one static check on a solved checkout with some files replaced."""
    counter = iter(range(10_000))

    def grade(check_id: str, files: dict[str, str | None] | None = None) -> CheckResult:
        root = make_checkout(tmp_path / f"c{next(counter)}", files=files or {})
        return run_check(check_id, Context(load_submission(root), default_rubric(), None))

    return grade
