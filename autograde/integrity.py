"""Which of the lab's given files a checkout changed, against the template this grader shipped with.

Students complete Dockerfile.prod and docker-compose.prod.yml; everything listed in
PROTECTED comes complete. A change there (a bigger dev image, edited tests, a different
workflow) is reported in `modified_files` for the instructor, never graded.
Regenerate the fingerprints after changing the template: `python -m autograde.integrity --write`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

WORKFLOW = ".github/workflows/classroom.yml"
# The one list of files a student receives complete (folders end in `/`): fingerprinted here for
# `modified_files`, and compared by git blob with the template by `collect`'s tamper check.
PROTECTED = (
    "app/Dockerfile",
    "app/main.py",
    "app/requirements.txt",
    "app/requirements-dev.txt",
    "app/tests/",
    "docker-compose.yml",
    WORKFLOW,
    "autograde/",
)
DATA = Path(__file__).parent / "data" / "template-files.json"
MAX_FILES = 200


def fingerprint(root: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in PROTECTED:
        path = root / name.rstrip("/")
        files = (
            sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and ".pytest_cache" not in p.parts
            )
            if path.is_dir()
            else [path]
        )
        for f in files[:MAX_FILES]:
            if f.is_file() and not f.is_symlink() and f.resolve() != DATA.resolve():  # not the list itself
                out[f.relative_to(root).as_posix()] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def modified(root: Path) -> list[str]:
    try:
        expected: dict[str, str] = json.loads(DATA.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    try:
        actual = fingerprint(root)
    except OSError:
        return sorted(expected)
    return sorted(p for p in set(expected) | set(actual) if expected.get(p) != actual.get(p))


if __name__ == "__main__":
    prints = fingerprint(Path(sys.argv[2] if len(sys.argv) > 2 else "."))
    text = json.dumps(prints, indent=2, sort_keys=True) + "\n"
    if "--write" in sys.argv:
        DATA.write_text(text, encoding="utf-8")
    else:
        print(text, end="")
