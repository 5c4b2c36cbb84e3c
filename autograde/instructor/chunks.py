"""Split a class's repositories into matrix chunks for the class-grading workflow.

    python -m autograde.instructor.chunks LIST_FILE CHUNK_SIZE   ->   chunks=["a@1 b@2 c@3", "d@4 e@5"]

The list job's file holds what `grade-all --org --list` prints: one repository identity per line,
`name@id` (identity.py: the listed name, from which the login is read, and GitHub's repository id);
a bare repository name is accepted too. GitHub runs at most 256 jobs from one matrix, so the chunk
size grows when the class needs it. Each chunk is one string of such tokens separated by spaces
(letters, digits, `.`, `_`, `-`, `@`: safe to split in a shell), which the chunk gives to
`grade-all --repos`. The same JSON, given to `grade-all --merge-only --expect`, tells the merge
which repositories must have a row and which chunk (the matrix job `Grade chunk <n>`, n from 0)
was to grade each.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from autograde.instructor.identity import TOKEN, parse

MAX_MATRIX_JOBS = 256


def split(names: list[str], size: int) -> list[str]:
    """Tokens (`name@id` or names) in chunks of `size` (larger when more than 256 chunks would be needed),
    each one space-separated string. Raises ValueError naming the first that is not a repository's token.
    """
    bad = [n for n in names if not TOKEN.match(n)]
    if bad:
        raise ValueError(f"not a repository name: {bad[0]!r}")
    if not names:
        return []
    size = max(1, size, math.ceil(len(names) / MAX_MATRIX_JOBS))
    return [" ".join(names[i : i + size]) for i in range(0, len(names), size)]


def expected(text: str) -> dict[str, tuple[str, int | None]]:
    """Repositories that must have a row: lower-case listed name -> (name, chunk index or None).

    `text` is the JSON list of chunks `main` prints, or what `grade-all --list` prints (`name@id` or
    names, one per line). Raises ValueError when it is neither.
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
        pairs = [(line, None) for line in text.splitlines() if line.strip()]
    out: dict[str, tuple[str, int | None]] = {}
    for token, chunk in pairs:
        name = parse(token, None).name  # ValueError for what is not a repository's token
        out[name.lower()] = (name, chunk)
    return out


def main(argv: list[str]) -> int:
    """The list job's step: prints `chunks=[...]` for $GITHUB_OUTPUT; returns the exit code (2 after a message)."""
    if len(argv) != 2:
        print("usage: python -m autograde.instructor.chunks LIST_FILE CHUNK_SIZE", file=sys.stderr)
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
