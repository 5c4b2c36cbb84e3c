"""Layers only point down: model <- runtime <- checks <- report, instructor <- commands (imports inside functions too).

Labs are given to the grader, not part of it: `autograde/labs/__init__.py` is the registry (a leaf that
imports nothing of the grader), and each pack (`autograde/labs/<id>/`) declares a lab with its checks
(checks layer) and its probes (runtime layer). No core module imports a pack: the core asks the
registry for the pack in effect.

`report/` and `instructor/` are side by side: neither is below the other, and `report/` never imports
`instructor/`. What both need (the GitHub client, `github_api.py`) is a module of the package itself, below
every layer, like `errors.py`, `results.py` and `util.py`.
"""

from __future__ import annotations

import ast

import pytest

from support import REPO

PACKAGE = REPO / "autograde"
FORBIDDEN = {
    "model": ("runtime", "checks", "report", "commands", "instructor"),
    "runtime": ("checks", "report", "commands", "instructor"),
    "checks": ("report", "commands", "instructor"),
    "report": ("commands", "instructor"),
    "instructor": ("commands",),
}


def imports_of(path, package: str = "") -> list[tuple[int, str]]:
    """(line, module) of every import; `from autograde import x` is `autograde.x`, and a relative import
    is resolved against the module's package (`from ..instructor import y` in autograde/report/)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if not package and path.resolve().is_relative_to(PACKAGE):
        package = ".".join(path.resolve().relative_to(REPO).parent.parts)
    parts = package.split(".") if package else []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level and not parts:
                continue
            base = ".".join([*parts[: len(parts) - node.level + 1], node.module or ""]).strip(".")
            if node.level == 0:
                base = node.module or ""
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{a.name}") for a in node.names if a.name != "*"]
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_down(layer):
    wrong = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for line, module in imports_of(path):
            parts = module.split(".")
            if parts[0] == "autograde" and len(parts) > 1 and parts[1] in FORBIDDEN[layer]:
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    assert not wrong, "\n".join(wrong)


LAYERS = ("model", "runtime", "checks", "report", "instructor", "commands")
ENTRY_POINTS = {"cli.py", "__main__.py"}  # `autograde`'s command line: the only modules above the layers


def test_the_package_s_own_modules_are_below_every_layer():
    """autograde/*.py (the GitHub client, errors, results, util, ...) are what every layer may use: they import none."""
    wrong = []
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name in ENTRY_POINTS:
            continue
        for line, module in imports_of(path):
            parts = module.split(".")
            if parts[0] == "autograde" and len(parts) > 1 and parts[1] in LAYERS:
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    assert not wrong, "\n".join(wrong)


PACKS = sorted(p.name for p in (PACKAGE / "labs").iterdir() if (p / "__init__.py").is_file())
# the names LAB04's checks had before packs: kept as aliases of the pack's modules for instructors' plugins
ALIASES = {
    f"autograde/checks/{m}.py" for m in ("dockerfile", "compose", "runtime", "images", "build_diagnosis", "hints")
}


def test_the_lab_registry_is_a_leaf():
    found = [m for _, m in imports_of(PACKAGE / "labs" / "__init__.py") if m.startswith("autograde")]
    assert not found, found


@pytest.mark.parametrize("pack", PACKS)
def test_the_core_imports_no_lab_pack(pack):
    """The engine, builds, the session, the reports, the GitHub code and the commands know no lab."""
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith("autograde/labs/") and not rel.startswith("autograde/labs/template.py"):
            continue  # the packs themselves (a pack may use another's shared code) and the registry
        if rel in ALIASES or "/template/" in rel:
            continue
        for line, module in imports_of(path):
            if module == f"autograde.labs.{pack}" or module.startswith(f"autograde.labs.{pack}."):
                wrong.append(f"{rel}:{line} imports {module}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("pack", PACKS)
def test_a_pack_points_down_too(pack):
    """A pack's checks and probes use the grader's layers; they never reach the reports, commands or instructor side."""
    wrong = []
    for path in sorted((PACKAGE / "labs" / pack).rglob("*.py")):
        if "/template/" in path.as_posix():
            continue
        for line, module in imports_of(path):
            parts = module.split(".")
            if parts[0] == "autograde" and len(parts) > 1 and parts[1] in ("report", "commands", "instructor"):
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_the_github_client_is_shared_below_report_and_instructor():
    assert (PACKAGE / "github_api.py").is_file()
    assert not (PACKAGE / "instructor" / "github_api.py").exists()
    assert set(LAYERS) == {*FORBIDDEN, "commands"}


def test_the_rule_sees_lazy_imports(tmp_path):
    f = tmp_path / "x.py"
    f.write_text("def f():\n    from autograde.checks.dockerfile import split_image\n")
    assert imports_of(f)[0] == (2, "autograde.checks.dockerfile")


def test_the_rule_sees_every_spelling_of_an_import_of_the_instructor_layer(tmp_path):
    """`from autograde import instructor` and `from ..instructor import x` count as imports of instructor/."""
    spellings = (
        "from autograde.instructor.github_setup import connect",
        "from autograde.instructor import github_setup",
        "from autograde import instructor",
        "import autograde.instructor.github_setup",
        "from ..instructor import github_setup",
        "from .. import instructor",
    )
    probe = tmp_path / "probe.py"
    for text in spellings:
        probe.write_text(f"def f():\n    {text}\n", encoding="utf-8")
        seen = [m for _, m in imports_of(probe, package="autograde.report")]
        assert any(m.split(".")[:2] == ["autograde", "instructor"] for m in seen), (text, seen)


def test_the_rubric_is_data_and_loading_only():
    """autograde/rubric.py imports nothing of the grader's (no circle with checks/, which import it)."""
    found = [f"line {line}: {m}" for line, m in imports_of(PACKAGE / "rubric.py") if m.startswith("autograde")]
    assert not found, found


# Where an instructor module may write to the terminal itself: the progress display, the class
# workflow's annotations, and the chunk splitter's own `python -m` entry point.
MAY_PRINT = {"progress.py", "workflow.py", "chunks.py"}


def test_instructor_modules_take_no_command_line_and_print_nothing():
    """Commands (autograde/commands/) parse arguments and print; instructor/ returns values or raises UserError."""
    wrong = []
    for path in sorted((PACKAGE / "instructor").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, module in imports_of(path):
            if module == "argparse":
                wrong.append(f"{path.relative_to(REPO)}:{line} imports argparse")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "print"
                and path.name not in MAY_PRINT
            ):
                wrong.append(f"{path.relative_to(REPO)}:{node.lineno} prints")
            own_error = isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id in ("Exception", "ValueError") for b in node.bases
            )
            if own_error and path.name != "reports.py":  # ReportError
                wrong.append(f"{path.relative_to(REPO)}:{node.lineno} defines its own error type")
    assert not wrong, "\n".join(wrong)


def test_each_gradebook_concern_has_one_home():
    """One GitHub set-up, one gradebook writer, one progress display: the commands use them, not copies."""
    commands = PACKAGE / "commands"
    for name in ("collect.py", "export.py", "grade_all.py"):
        text = (commands / name).read_text(encoding="utf-8")
        assert "write_gradebook(" in text and "save_csv(" not in text and "merge_roster(" not in text, name
        assert "rich.progress" not in text and 'GITHUB_TOKEN")' not in text, name
    for name in ("collector.py", "deadline.py", "workflow.py"):
        text = (PACKAGE / "instructor" / name).read_text(encoding="utf-8")
        assert "GitHubClient(" not in text and "rich.progress" not in text, name
