"""Reading a student's file safely: inside the checkout, bounded in size, text only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Problem:
    """Why a file could not be used; `line` is 1-based when known."""

    file: str
    message: str
    hint: str = ""
    line: int | None = None


class FileProblem(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def read_text(root: Path, name: str, *, what: str) -> str:
    """Text of `root/name`, or FileProblem saying exactly what is wrong with it."""
    path = root / name
    if not path.exists() and not path.is_symlink():
        raise FileProblem(Problem(name, f"{name} is missing", f"Create {name} in the repository root ({what})."))
    if not inside(root, path):
        raise FileProblem(
            Problem(
                name,
                f"{name} points outside the repository; the grader does not follow it",
                f"Make {name} a regular file in the repository.",
            )
        )
    if not path.is_file():
        raise FileProblem(Problem(name, f"{name} is not a regular file", f"Make {name} a regular file ({what})."))
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise FileProblem(
            Problem(
                name,
                f"{name} is {size / 1e6:.1f} MB; the grader reads files up to 1 MiB",
                f"{name} should be a short text file ({what}).",
            )
        )
    data = path.read_bytes()
    if b"\0" in data:
        raise FileProblem(Problem(name, f"{name} is a binary file, not text", f"Save {name} as plain text."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise FileProblem(
            Problem(name, f"{name} is not UTF-8 text (line {line})", f"Save {name} as UTF-8 plain text.", line)
        ) from None
    if not text.strip():
        raise FileProblem(Problem(name, f"{name} is empty", f"Fill in {name} ({what})."))
    return text
