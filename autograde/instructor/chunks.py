"""Split a class's repository names into matrix chunks for the class-grading workflow.

    python -m autograde.instructor.chunks NAMES_FILE CHUNK_SIZE   ->   chunks=["a b c", "d e"]

GitHub runs at most 256 jobs from one matrix, so the chunk size grows when the class needs it.
Names must be repository names (letters, digits, `.`, `_`, `-`): each chunk is one string of
names separated by spaces, safe to split in a shell. The same JSON, given to
`grade-all --merge-only --expect`, tells the merge which repositories must have a row and which
chunk (the matrix job `Grade chunk <n>`, n from 0) was to grade each.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

MAX_MATRIX_JOBS = 256
NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def split(names: list[str], size: int) -> list[str]:
    """Names in chunks of `size` (larger when more than 256 chunks would be needed), each one space-separated string.
    Raises ValueError naming the first name that is not a repository name.
    """
    bad = [n for n in names if not NAME.match(n)]
    if bad:
        raise ValueError(f"not a repository name: {bad[0]!r}")
    if not names:
        return []
    size = max(1, size, math.ceil(len(names) / MAX_MATRIX_JOBS))
    return [" ".join(names[i : i + size]) for i in range(0, len(names), size)]


def expected(text: str) -> dict[str, tuple[str, int | None]]:
    """Repositories that must have a row: lower-case name -> (name, chunk index or None).

    `text` is the JSON list of chunks `main` prints, or plain names, one per line.
    """
    if text.lstrip().startswith("["):
        try:
            chunks = json.loads(text)
        except ValueError as e:
            raise ValueError(f"not the JSON list of chunks the list job wrote ({e})") from None
        if not isinstance(chunks, list) or not all(isinstance(c, str) for c in chunks):
            raise ValueError("not the JSON list of chunks the list job wrote (a list of strings)")
        pairs: list[tuple[str, int | None]] = [(n, i) for i, c in enumerate(chunks) for n in c.split()]
    else:
        pairs = [(line.strip().rsplit("/", 1)[-1], None) for line in text.splitlines() if line.strip()]
    bad = [n for n, _ in pairs if not NAME.match(n)]
    if bad:
        raise ValueError(f"not a repository name: {bad[0]!r}")
    return {n.lower(): (n, i) for n, i in pairs}


def main(argv: list[str]) -> int:
    """The list job's step: prints `chunks=[...]` for $GITHUB_OUTPUT; returns the exit code (2 after a message)."""
    if len(argv) != 2:
        print("usage: python -m autograde.instructor.chunks NAMES_FILE CHUNK_SIZE", file=sys.stderr)
        return 2
    try:
        names = [line.strip() for line in Path(argv[0]).read_text(encoding="utf-8").splitlines() if line.strip()]
        chunks = split(names, int(argv[1]))
    except (OSError, ValueError) as e:
        print(f"autograde: {e}", file=sys.stderr)
        return 2
    print(f"chunks={json.dumps(chunks)}")
    print(f"{len(names)} repositories in {len(chunks)} chunks", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
