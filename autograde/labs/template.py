"""Making an assignment from a pack: `autograde lab init ID DIR` writes the pack's template repository.

What DIR receives: the pack's template files (the lab's text, its app, the files a student completes,
solutions.md), its Classroom workflow with the grader pinned and the pack selected, the checkout's own
declaration of its pack (`.autograde/lab.yml`), and the template's fingerprints
(`.autograde/template-files.json`: every version of its given files, so that a changed given file is
reported, never graded).

The workflow of a pack whose template does not carry the grader installs it from a pinned source: a
pip requirement written into the workflow at the `GRADER_PLACEHOLDER`. Library code: returns values or
raises LabError.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from autograde.labs import DECLARATION, LabError, LabPack

GRADER_PLACEHOLDER = (
    "__AUTOGRADE_GRADER__"  # in a pack's workflow: where `lab init` writes the grader's pip requirement
)
FINGERPRINTS = ".autograde/template-files.json"
# LAB04's template is the grader's own repository: these are its files a student receives (the grader, in
# autograde/, comes with them, and its workflow installs the grader from the checkout)
LAB04_FILES = (
    "README.md",
    "solutions.md",
    "Dockerfile.prod",
    "docker-compose.prod.yml",
    "docker-compose.yml",
    ".dockerignore",
    ".gitignore",
    "app/",
    ".github/workflows/classroom.yml",
)


@dataclass(frozen=True)
class Made:
    """What `init` wrote."""

    files: list[str]  # paths written, relative to the new template
    grader: str  # the pip requirement its workflow installs ("" when the template carries the grader)
    note: str = ""  # something the instructor should check (an unpinned grader)


def grader_repository() -> Path | None:
    """The grader's own repository, when this grader runs from a checkout of it (None when installed)."""
    repo = Path(__file__).resolve().parents[2]
    return repo if (repo / ".github" / "workflows" / "classroom.yml").is_file() else None


def template_root(pack: LabPack) -> Path:
    """The folder holding the pack's template files. Raises LabError when it is not there."""
    if pack.template:
        found = pack.resource(pack.template)
        if found is None or not found.is_dir():
            raise LabError(f"the lab pack {pack.id} has no template folder ({pack.template})")
        return found
    repo = grader_repository()  # a pack whose template is the grader's repository (LAB04)
    if repo is None:
        raise LabError(
            f"the template of {pack.id} is the grader's own repository, which this installed grader does not "
            "carry: use that repository as the Classroom template (GitHub: `Use this template`)"
        )
    return repo


def grader_requirement(given: str | None = None) -> tuple[str, str]:
    """(pip requirement of this grader, note): `given` if any; else this installation's own source when pip
    recorded a commit of a git repository (PEP 610); else the released version, with a note to check it."""
    if given:
        return given, ""
    try:
        dist = metadata.distribution("autograde")
        raw = dist.read_text("direct_url.json")
        version = dist.version
    except metadata.PackageNotFoundError:
        return "autograde", "this grader is not installed as a package: pass --grader with a pinned requirement"
    if raw:
        try:
            info = json.loads(raw)
        except ValueError:
            info = {}
        vcs = info.get("vcs_info") or {}
        url = str(info.get("url") or "")
        if vcs.get("vcs") == "git" and vcs.get("commit_id") and not url.startswith("file:"):
            return f"autograde @ git+{url}@{vcs['commit_id']}", ""
    return (
        f"autograde=={version}",
        f"the workflow installs autograde=={version} from the package index; if it is not published there, pass "
        "--grader 'autograde @ git+https://github.com/ORG/REPO@<commit>'",
    )


def workflow_text(pack: LabPack, root: Path, grader: str) -> str:
    """The pack's workflow with the grader's requirement written in (and, for a template that carries the grader,
    as it is)."""
    try:
        text = (root / pack.workflow).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise LabError(f"{pack.id}'s template has no readable workflow {pack.workflow} ({e})") from None
    if pack.template and GRADER_PLACEHOLDER not in text:
        raise LabError(f"{pack.id}'s workflow has no {GRADER_PLACEHOLDER} line for the grader's requirement")
    return text.replace(GRADER_PLACEHOLDER, grader.replace('"', ""))


def init(pack: LabPack, dest: Path, *, grader: str | None = None, force: bool = False) -> Made:
    """Write the pack's template repository into `dest` (created; it must be empty unless `force`)."""
    if dest.exists() and any(dest.iterdir()) and not force:
        raise LabError(f"{dest} is not empty; choose a new folder (or --force to write over it)")
    root = template_root(pack)
    names = LAB04_FILES if not pack.template else tuple(_all(root))
    requirement, note = ("", "") if not pack.template else grader_requirement(grader)
    written: list[str] = []
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        src = root / name.rstrip("/")
        if not src.exists():
            continue
        target = dest / name.rstrip("/")
        if src.is_dir():
            shutil.copytree(
                src, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache")
            )
            written += [p.relative_to(dest).as_posix() for p in sorted(target.rglob("*")) if p.is_file()]
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
            written.append(name)
    workflow = dest / pack.workflow
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(workflow_text(pack, root, requirement), encoding="utf-8")
    declaration = dest / DECLARATION
    declaration.parent.mkdir(parents=True, exist_ok=True)
    declaration.write_text(f"# The lab pack that grades this repository (autograde lab list)\nlab: {pack.id}\n")
    prints = pack.resource(pack.fingerprints)
    if prints is not None:
        shutil.copy2(prints, dest / FINGERPRINTS)
        written.append(FINGERPRINTS)
    written += [DECLARATION] if DECLARATION not in written else []
    return Made(sorted(set(written) | {pack.workflow}), requirement, note)


def _all(root: Path) -> list[str]:
    return [
        p.relative_to(root).as_posix()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and ".pytest_cache" not in p.parts
    ]


def derived_workflow(grader_workflow: str, pack: LabPack, reporter_block: str) -> str:
    """A pack's workflow, derived from the grader's own (LAB04's, which installs the grader from the checkout):
    the pack's title and label, the grader installed from the requirement `lab init` writes in, `--lab` on the
    Grade step, and the reporter block of the pack's rubric (`reporter_block`, from rubric_docs). Raises
    LabError when the grader's workflow no longer has a part this rewrites."""
    text = grader_workflow
    swaps = [
        (
            "# Autograding for LAB04 (multi-stage Dockerfile builds), for GitHub Classroom.",
            f"# Autograding for {pack.title}, for GitHub Classroom (lab pack `{pack.id}`).",
        ),
        ("name: Autograde LAB04\n", f"name: Autograde {pack.label}\n"),
        (
            '            echo "Installing the grader from this repository"\n'
            "            python -m pip install --disable-pip-version-check .\n",
            '            echo "Installing the grader this template was made with"\n'
            f'            python -m pip install --disable-pip-version-check "{GRADER_PLACEHOLDER}"\n',
        ),
        (
            "        run: autograde grade --json autograde-report.json",
            f"        run: autograde grade --lab {pack.id} --json autograde-report.json",
        ),
        (
            "# requirement pinned to a commit of the template, e.g.\n"
            "#   git+https://github.com/ORG/TEMPLATE@0123456789abcdef0123456789abcdef01234567\n"
            "# to grade with that grader instead of the copy in the student's repository.",
            "# requirement pinned to a commit of the grader, e.g.\n"
            "#   git+https://github.com/ORG/GRADER@0123456789abcdef0123456789abcdef01234567\n"
            "# to grade with that grader instead of the one this template was made with.",
        ),
    ]
    for old, new in swaps:
        if old not in text:
            raise LabError(f"the grader's workflow no longer holds {old.splitlines()[0].strip()!r}")
        text = text.replace(old, new, 1)
    import re

    env = re.compile(
        r"(?P<indent>[ \t]+)[A-Z0-9]+_RESULTS: \$\{\{ steps\.grade\.outputs\.[a-z0-9]+ \}\}\n"
        r"(?:(?P=indent)[A-Z0-9]+_RESULTS: \$\{\{ steps\.grade\.outputs\.[a-z0-9]+ \}\}\n)*"
    )
    if env.search(text) is None:
        raise LabError("the grader's workflow has no Classroom reporter block")
    return env.sub(lambda m: reporter_block, text, count=1)
