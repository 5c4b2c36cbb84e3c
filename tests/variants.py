"""Submissions for class-grading tests and benchmarks: the solution and typical broken variants.

Each variant is (solution?, file edits) for tests.support.make_checkout. The broken ones lose
points in different checks, so a class of them exercises every phase of a grade.
"""

from __future__ import annotations

from pathlib import Path

try:  # as the tests import it (tests/ on sys.path) and as the benchmarks do (the repository root)
    from support import make_checkout, solution_files
except ImportError:
    from tests.support import make_checkout, solution_files

SINGLE_STAGE = """FROM python:3.13
WORKDIR /app
COPY app/requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY app/main.py .
EXPOSE 5000
CMD ["python", "main.py"]
"""


def _solution_with(old: str, new: str, name: str = "Dockerfile.prod") -> dict[str, str | None]:
    text = solution_files()[name]
    assert old in text, f"{old!r} not in the solution's {name}"
    return {name: text.replace(old, new, 1)}


def variants() -> dict[str, tuple[bool, dict[str, str | None]]]:
    """name -> (start from the solution?, edits)."""
    return {
        "solution": (True, {}),
        "single-stage": (True, {"Dockerfile.prod": SINGLE_STAGE}),
        "no-redis-host": (
            True,
            _solution_with("    environment:\n      - REDIS_HOST=redis_prod\n", "", "docker-compose.prod.yml"),
        ),
        "failing-build": (
            True,
            _solution_with("FROM python:3.13-slim AS final\n", "FROM python:3.13-slim AS final\nRUN exit 3\n"),
        ),
        "tampered-dev": (
            True,
            {
                "app/Dockerfile": "FROM python:3.13-slim\nWORKDIR /app\nCOPY . .\n"
                "RUN pip install --no-cache-dir -r requirements-dev.txt\n"
                'CMD ["python", "main.py"]\n'
            },
        ),
        "starter": (False, {}),
    }


def make_variant(dest: Path, name: str) -> Path:
    solution, files = variants()[name]
    return make_checkout(dest, solution=solution, files=files)


def make_class(root: Path, names: list[str], prefix: str = "lab04") -> list[Path]:
    """One folder per submission, named like Classroom names repositories: <prefix>-<student>."""
    out = []
    for i, name in enumerate(names):
        out.append(make_variant(root / f"{prefix}-s{i:02d}-{name}", name))
    return out
