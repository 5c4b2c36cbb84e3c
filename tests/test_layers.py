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
