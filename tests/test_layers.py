"""Layers only point down: model <- runtime <- checks <- report <- commands (imports inside functions too)."""

from __future__ import annotations

import ast

import pytest

from support import REPO

PACKAGE = REPO / "autograde"
FORBIDDEN = {
    "model": ("runtime", "checks", "report", "commands", "instructor"),
    "runtime": ("checks", "report", "commands", "instructor"),
    "checks": ("report", "commands", "instructor"),
    "report": ("commands",),
    "instructor": ("commands",),
}


def imports_of(path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
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


def test_the_rule_sees_lazy_imports(tmp_path):
    f = tmp_path / "x.py"
    f.write_text("def f():\n    from autograde.checks.dockerfile import split_image\n")
    assert imports_of(f) == [(2, "autograde.checks.dockerfile")]


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
            if own_error and path.name not in ("github_api.py", "reports.py"):  # GitHubError, ReportError
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
