"""The habits of the project: one version everywhere, a licence, lint and types clean."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

from autograde import __version__
from support import REPO


def test_one_version_everywhere():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    newest = re.search(r"^## (\d+\.\d+\.\d+)", (REPO / "CHANGELOG.md").read_text(), re.M)
    assert newest and newest.group(1) == project == __version__


def test_licence_is_stated():
    assert (REPO / "LICENSE").read_text().startswith("MIT License")
    assert "MIT" in (REPO / "README.md").read_text()


def test_ruff_lint_is_clean():
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "autograde", "tests", "bench"], cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_format_is_applied():
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "autograde", "tests", "bench"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, "run `ruff format autograde tests bench`:\n" + out.stdout + out.stderr


def test_mypy_strict_is_clean():
    out = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_contributing_example_of_adding_a_check_works(tmp_path):
    """The contributor notes' example, run as written: declared once, it is in the rubric and grades."""
    block = re.search(
        r"```python\n# autograde/checks/dockerfile.py\n(.*?)```", (REPO / "CONTRIBUTING.md").read_text(), re.S
    )
    assert block, "CONTRIBUTING.md lost its example of adding a check"
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(REPO / 'tests')!r})\n"
        "import autograde.checks.dockerfile as m\n"
        "from autograde.checks import run_check\n"
        "from autograde.checks.base import Context\n"
        "from autograde.model import load_submission\n"
        "from autograde.rubric import Rubric\n"
        "from support import make_checkout, solution_files\n"
        f"exec({block.group(1)!r}, vars(m))\n"
        "rubric = Rubric()\n"
        "assert 'dockerfile.final_user' in [i.id for i in rubric.items], 'not in the rubric'\n"
        "df = solution_files()['Dockerfile.prod']\n"
        f"root = make_checkout({str(tmp_path / 'a')!r})\n"
        "print(run_check('dockerfile.final_user', Context(load_submission(root), rubric, None)).status)\n"
        f"root = make_checkout({str(tmp_path / 'b')!r}, files={{'Dockerfile.prod': df.replace('EXPOSE 5000', "
        "'RUN useradd app\\nUSER app\\nEXPOSE 5000')})\n"
        "print(run_check('dockerfile.final_user', Context(load_submission(root), rubric, None)).status)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["fail", "pass"], out.stdout
