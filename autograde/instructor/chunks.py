"""Split a class's repository names into matrix chunks for the class-grading workflow.

    python -m autograde.instructor.chunks NAMES_FILE CHUNK_SIZE   ->   chunks=["a b c", "d e"]

GitHub runs at most 256 jobs from one matrix, so the chunk size grows when the class needs it.
Names must be repository names (letters, digits, `.`, `_`, `-`): each chunk is one string of
names separated by spaces, safe to split in a shell.
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
    bad = [n for n in names if not NAME.match(n)]
    if bad:
        raise ValueError(f"not a repository name: {bad[0]!r}")
    if not names:
        return []
    size = max(1, size, math.ceil(len(names) / MAX_MATRIX_JOBS))
    return [" ".join(names[i : i + size]) for i in range(0, len(names), size)]


def main(argv: list[str]) -> int:
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
