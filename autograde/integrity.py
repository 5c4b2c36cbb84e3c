"""Which of the lab's given files a checkout changed, against every template version this grader knows.

Students complete the files their lab pack names (LAB04: Dockerfile.prod and docker-compose.prod.yml);
everything the pack lists as `protected` comes complete. A change there (a bigger dev image, edited tests, a different
workflow) is reported in `modified_files` for the instructor, never graded.

The rule, so that neither the way the grader is installed nor a template fixed after students
accepted it makes an untouched copy look changed:

- The lab's given files (LAB: the app, its tests, the dev files, the workflow) are compared with
  every version of them the template has had (`lab_versions`, oldest first, the newest being this
  grader's own): the closest version is the one the student started from, and the paths that
  differ from it are reported, exactly those.
- The grader's own files (`autograde/`) are compared with this grader's fingerprints only when the
  checkout carries this grader's fingerprint file byte for byte (the grader is the checkout's own
  copy, installed or not, or one of the same template version). A checkout of another template
  version holds another grader, which is not the one grading: its files are not compared. A
  checkout whose fingerprint file is gone is compared (and the file is reported).
- The fingerprint file is never fingerprinted (it cannot hold its own digest), wherever the
  grader runs from: it is recognised by its path in the checkout.

After changing a given file, record it: `python -m autograde.integrity --write` appends the lab
files as a new version when they changed (earlier versions stay: students may hold any of them)
and replaces the grader's fingerprints.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from autograde import labs

GRADER = "autograde/"
DATA_NAME = "autograde/data/template-files.json"  # where the fingerprint file sits in a checkout that holds the grader
DATA = Path(__file__).parent / "data" / "template-files.json"  # LAB04's, this repository's own, wherever installed


def protected() -> tuple[str, ...]:
    """The one list of files a student receives complete (folders end in `/`), the lab pack's: fingerprinted here
    for `modified_files`, and compared by git blob with the template by `collect`'s tamper check."""
    return labs.current().protected


def workflow() -> str:
    """The lab's Classroom workflow, in its template."""
    return labs.current().workflow


def lab_files() -> tuple[str, ...]:
    """The given files of the lab itself (the grader's own files, where a template holds them, aside)."""
    return tuple(p for p in protected() if p != GRADER)


def fingerprints_path() -> Path:
    """The fingerprints of the lab pack in effect (every template version of its given files)."""
    pack = labs.current()
    return pack.resource(pack.fingerprints, must_exist=False) or DATA


def __getattr__(name: str) -> object:
    """`PROTECTED`, `LAB`, `WORKFLOW`: the lab pack's, read when asked (the pack is chosen after import)."""
    if name == "PROTECTED":
        return protected()
    if name == "LAB":
        return lab_files()
    if name == "WORKFLOW":
        return workflow()
    raise AttributeError(name)


FORMAT = 2
MAX_FILES = 200


@dataclass
class Fingerprints:
    lab_versions: list[dict[str, str]] = field(default_factory=list)  # oldest first; the last is this grader's
    grader: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        doc = {"format": FORMAT, "lab_versions": self.lab_versions, "grader": self.grader}
        return json.dumps(doc, indent=1, sort_keys=True) + "\n"


def _is_digests(value: Any) -> TypeGuard[dict[str, str]]:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def parse(text: str) -> Fingerprints:
    """A fingerprint file: this format, or the single flat list of earlier graders (one version)."""
    doc = json.loads(text)
    if isinstance(doc, dict) and doc.get("format") == FORMAT:
        versions, grader = doc.get("lab_versions"), doc.get("grader")
        if isinstance(versions, list) and versions and all(map(_is_digests, versions)) and _is_digests(grader):
            return Fingerprints([dict(v) for v in versions], dict(grader))
        raise ValueError("lab_versions must be a non-empty list of path -> digest maps, grader one such map")
    if _is_digests(doc) and "format" not in doc:
        return Fingerprints([_part(doc, lab=True)], _part(doc, lab=False))
    raise ValueError(f"not a fingerprint file of format {FORMAT}")


def load(path: Path = DATA) -> Fingerprints:
    return parse(path.read_text(encoding="utf-8"))


def _part(prints: dict[str, str], *, lab: bool) -> dict[str, str]:
    return {p: d for p, d in prints.items() if p.startswith(GRADER) != lab}


def fingerprint(root: Path) -> dict[str, str]:
    """sha256 of every given file in the checkout at root (the fingerprint file itself excluded)."""
    out: dict[str, str] = {}
    top = root.resolve()
    for name in protected():
        path = root / name.rstrip("/")
        if path.is_symlink() or not path.resolve().is_relative_to(top):
            continue  # a link (or one in a parent, `app -> /`) in place of a given file: not read, reported
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
            rel = f.relative_to(root).as_posix()
            if rel != DATA_NAME and f.is_file() and not f.is_symlink():
                if rel == workflow() and labs.current().template and f.stat().st_size < 1 << 20:
                    out[rel] = hashlib.sha256(pinned_as_template(f.read_bytes())).hexdigest()
                    continue
                with f.open("rb") as fh:  # streamed: a student's file may be of any size
                    out[rel] = hashlib.file_digest(fh, "sha256").hexdigest()
    return out


_PINNED = re.compile(
    rb'(echo "Installing the grader this template was made with"\n\s*python -m pip install '
    rb'--disable-pip-version-check )"[^"\n]*"'
)


def pinned_as_template(workflow_bytes: bytes) -> bytes:
    """A pack's workflow with the grader requirement `lab init` wrote back to the template's placeholder: every
    template made from the pack is the same template version, whatever grader it pins. (That a student changed
    the pin is for `collect`'s tamper check, which compares the workflow with the template repository's.)"""
    from autograde.labs.template import GRADER_PLACEHOLDER

    return _PINNED.sub(rb'\1"' + GRADER_PLACEHOLDER.encode() + rb'"', workflow_bytes)


def diff(expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    """Paths added, removed or changed."""
    return sorted(p for p in set(expected) | set(actual) if expected.get(p) != actual.get(p))


def closest(versions: list[dict[str, str]], actual: dict[str, str]) -> dict[str, str]:
    """The version actual differs least from (the newer one on a tie)."""
    return min(reversed(versions), key=lambda v: len(diff(v, actual)))


def _their_fingerprints(path: Path, size: int) -> bytes | None:
    """The checkout's fingerprint file; None when it is not there (or a link in its place), b"" when
    it cannot be this grader's (another size)."""
    if path.is_symlink() or not path.is_file():
        return None
    return path.read_bytes() if path.stat().st_size == size else b""


def modified(root: Path, data: Path | None = None) -> list[str]:
    """The given files the checkout at root changed from the template version it started from."""
    data = data or fingerprints_path()
    try:
        ours_text = data.read_bytes()
        known = parse(ours_text.decode("utf-8"))
    except (OSError, ValueError):
        print(
            f"autograde: warning: this grader's fingerprint file {data} is unreadable; changed files not checked",
            file=sys.stderr,
        )
        return []
    try:
        actual = fingerprint(root)
        theirs = _their_fingerprints(root / DATA_NAME, len(ours_text))
    except OSError:
        return sorted({*known.lab_versions[-1], *known.grader})
    lab = _part(actual, lab=True)
    changed = set(diff(closest(known.lab_versions, lab), lab))
    if GRADER not in protected():  # a template without the grader in it (installed from a pinned source)
        return sorted(changed)
    if theirs is None:
        changed.add(DATA_NAME)
    if theirs is None or theirs == ours_text:
        changed.update(diff(known.grader, _part(actual, lab=False)))
    return sorted(changed)


def known_digests(path: str, data: Path | None = None) -> set[str]:
    """Every digest the given file `path` had in a template version this grader knows."""
    try:
        known = load(data or fingerprints_path())
    except (OSError, ValueError):
        return set()
    found = {v[path] for v in known.lab_versions if path in v}
    if path in known.grader:
        found.add(known.grader[path])
    return found


def record(root: Path, previous: Fingerprints | None) -> Fingerprints:
    """The fingerprint file after a change to the template at root: a new lab version if the lab changed."""
    actual = fingerprint(root)
    lab = _part(actual, lab=True)
    versions = [v for v in (previous.lab_versions if previous else []) if v != lab]
    return Fingerprints([*versions, lab], _part(actual, lab=False))


def _sides(path: Path) -> list[str]:
    """The file's text, or, while git has it in a merge conflict, both sides as git's index holds
    them (stages 2 and 3: ours and theirs, whole; the text with markers mixes them)."""
    text = path.read_text(encoding="utf-8")
    if not any(line.startswith("<<<<<<< ") for line in text.splitlines()):
        return [text]
    sides = []
    for stage in (2, 3):
        ran = subprocess.run(
            ["git", "show", f":{stage}:./{path.name}"],
            cwd=path.parent,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if ran.returncode != 0:
            raise ValueError(f"it has conflict markers and git has no side {stage} of it: {ran.stderr.strip()}")
        sides.append(ran.stdout)
    return sides


def read_history(path: Path) -> Fingerprints:
    """The versions recorded in path, also one left in a merge conflict (the versions of both sides)."""
    merged = Fingerprints()
    for side in _sides(path):
        prints = parse(side)
        merged.lab_versions += [v for v in prints.lab_versions if v not in merged.lab_versions]
        merged.grader = prints.grader
    return merged


def main(argv: list[str]) -> int:
    """`python -m autograde.integrity [--lab ID] [--write] [DIR]`: print the fingerprints of the template at DIR,
    or record them as a new version (`--write`). DIR defaults to the pack's template folder (LAB04: `.`, this
    repository); LAB04's fingerprints go to DIR/autograde/data/template-files.json, another pack's to its own
    file in the grader's source."""
    args = list(argv)
    if "--lab" in args:
        i = args.index("--lab")
        labs.select(args[i + 1] if i + 1 < len(args) else "")
        del args[i : i + 2]
    elif "--write" in args and not [a for a in args if not a.startswith("-")]:
        # the grader's own fingerprints cover every file under autograde/, the other packs' fingerprint
        # files included: those are written first
        for other in labs.BUILTIN:
            if labs.get(other).template and main(["--lab", other, "--write"]) != 0:
                return 2
        labs.select(labs.DEFAULT)
    pack = labs.current()
    given = next((a for a in args if not a.startswith("-")), None)
    template = pack.resource(pack.template) if pack.template else None
    root = Path(given) if given else (template or Path("."))
    if "--write" not in args:
        print(json.dumps(fingerprint(root), indent=2, sort_keys=True))
        return 0
    target = root / DATA_NAME if GRADER in protected() else fingerprints_path()
    previous = None
    if target.exists():
        try:
            previous = read_history(target)
        except (OSError, ValueError) as e:
            print(
                f"{target}: cannot read the recorded versions ({e}). Restore it from git "
                f"(`git checkout HEAD -- {target}`) and run this again.",
                file=sys.stderr,
            )
            return 2
    target.write_text(record(root, previous).to_json(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
