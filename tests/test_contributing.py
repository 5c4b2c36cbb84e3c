"""CONTRIBUTING.md's "Adding a check" and "Adding a lab", followed to the letter on a copy of the repository.

The example check is appended where the guide says, the commands it gives are run as written, and the
fast test layer of the copy passes: "add a check" is one declaration (and its test), nothing else. The
example lab is written where the guide says, registered with its one line, and after the guide's
commands the copy's grader lists it, writes its template and grades a checkout of it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from support import REPO, template_copy

GUIDE = REPO / "CONTRIBUTING.md"
NESTED = "AUTOGRADE_CONTRIBUTING_COPY"  # set in the copy's test run: the copy does not copy itself again


def section(title: str = "Adding a check") -> str:
    text = GUIDE.read_text(encoding="utf-8")
    m = re.search(rf"^## {title}\n(.*?)(?=^## )", text, re.S | re.M)
    assert m, f"CONTRIBUTING.md lost its section `## {title}`"
    return m.group(1)


def example() -> tuple[str, str]:
    """(file the example goes into, its code) from the guide's python block."""
    m = re.search(r"```python\n# (\S+)\n(.*?)```", section(), re.S)
    assert m, "the section lost its example (a ```python block whose first line names the file)"
    return m.group(1), m.group(2)


def commands() -> list[str]:
    m = re.search(r"```sh\n(.*?)```", section(), re.S)
    assert m, "the section lost the commands to run after adding a check"
    return [line.strip() for line in m.group(1).splitlines() if line.strip()]


def copy_repository(dest: Path) -> Path:
    template_copy(dest)
    # a clone, as a newcomer has: some tests read the repository's own history
    who = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t"}
    env = {**os.environ, **who, "GIT_COMMITTER_EMAIL": "t@example.org"}
    for argv in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "copy"]):
        subprocess.run(["git", *argv], cwd=dest, env=env, check=True, capture_output=True)
    return dest


def test_the_guide_gives_an_example_and_commands():
    path, code = example()
    assert path.startswith("autograde/labs/lab04/") and "@check(" in code
    assert any("rubric_docs --write" in c for c in commands())
    assert any(c.startswith("python -m pytest") and "not docker" in c for c in commands())


@pytest.mark.slow
@pytest.mark.skipif(bool(os.environ.get(NESTED)), reason="inside the copy the example is already declared")
def test_the_example_is_declared_once_and_graded(tmp_path):
    """In a fresh interpreter: the example's check is in the rubric where its module says, the solution
    passes it, a shell-form CMD fails it."""
    path, code = example()
    module = path.removesuffix(".py").replace("/", ".")
    new = re.search(r'@check\(\s*"([^"]+)"', code).group(1)
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(REPO / 'tests')!r})\n"
        f"import {module} as m\n"
        "from autograde.checks import default_rubric, run_check\n"
        "from autograde.checks.base import Context\n"
        "from autograde.model import load_submission\n"
        "from support import make_checkout, solution_files\n"
        f"exec({code!r}, vars(m))\n"
        "rubric = default_rubric()\n"
        f"new = {new!r}\n"
        "ids = [i.id for i in rubric.items]\n"
        "mine = [i for i in ids if i.startswith(new.split('.')[0] + '.')]\n"
        "assert mine[-1] == new, ids  # declared last in its module: last of its module in the rubric\n"
        "df = solution_files()['Dockerfile.prod']\n"
        f"root = make_checkout({str(tmp_path / 'a')!r})\n"
        "print(run_check(new, Context(load_submission(root), rubric, None)).status)\n"
        f"root = make_checkout({str(tmp_path / 'b')!r}, files={{'Dockerfile.prod': df.replace("
        "'CMD [\"python\", \"main.py\"]', 'CMD python main.py')})\n"
        "print(run_check(new, Context(load_submission(root), rubric, None)).status)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["pass", "fail"], out.stdout


@pytest.mark.slow
@pytest.mark.skipif(bool(os.environ.get(NESTED)), reason="already inside the copy")
def test_adding_the_example_keeps_the_fast_layer_green(tmp_path):
    root = copy_repository(tmp_path / "repo")
    path, code = example()
    with (root / path).open("a", encoding="utf-8") as f:
        f.write("\n\n" + code)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADE_", "GITHUB_"))}
    env |= {NESTED: "1", "PYTHONDONTWRITEBYTECODE": "1"}
    log = []
    for command in commands():
        argv = shlex.split(command)
        assert argv[0] == "python", f"the guide's command {command!r}: the test runs `python -m ...` commands"
        if argv[1:3] == ["-m", "pytest"]:
            argv += ["-q", "-p", "no:cacheprovider"]
        p = subprocess.run([sys.executable, *argv[1:]], cwd=root, env=env, capture_output=True, text=True, timeout=1500)
        log.append(f"$ {command}\n{p.stdout[-6000:]}\n{p.stderr[-3000:]}")
        assert p.returncode == 0, "\n".join(log)
    # the generated parts now list the new check, and the copy's own grader sees it
    new = re.search(r'@check\(\s*"([^"]+)"', code).group(1)
    assert new in (root / "README.md").read_text(encoding="utf-8")
    runner = re.sub(r"[^a-z0-9]", "", new).upper() + "_RESULTS"
    assert runner in (root / ".github" / "workflows" / "classroom.yml").read_text(encoding="utf-8")


def lab_example() -> tuple[dict[str, str], list[str], str]:
    """({file: code} of the example pack, the commands, the registry line) from "Adding a lab"."""
    text = section("Adding a lab")
    files = {m.group(1): m.group(2) for m in re.finditer(r"```python\n# (\S+)\n(.*?)```", text, re.S)}
    m = re.search(r"```sh\n(.*?)```", text, re.S)
    assert files and m, "the section lost its example files or its commands"
    line = re.search(r'\(`("lab\w+": "[\w.]+:PACK")`\)', text)
    assert line, "the section lost the registry line"
    return files, [c.strip() for c in m.group(1).splitlines() if c.strip()], line.group(1)


@pytest.mark.slow
@pytest.mark.skipif(bool(os.environ.get(NESTED)), reason="already inside the copy")
def test_adding_the_example_lab_makes_a_pack_the_grader_lists_writes_and_grades(tmp_path):
    import json
    import shutil

    root = copy_repository(tmp_path / "repo")
    files, steps, registry_line = lab_example()
    for rel, code in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(code, encoding="utf-8")
    lab_id = registry_line.split('"')[1]
    pack_dir = root / "autograde" / "labs" / lab_id
    shutil.copytree(root / "autograde" / "labs" / "lab06" / "template", pack_dir / "template")  # the guide's template
    registry = root / "autograde" / "labs" / "__init__.py"
    text = registry.read_text(encoding="utf-8")
    registry.write_text(
        text.replace('"lab06": "autograde.labs.lab06:PACK"', f'"lab06": "autograde.labs.lab06:PACK", {registry_line}')
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADE_", "GITHUB_"))}
    env |= {NESTED: "1", "PYTHONDONTWRITEBYTECODE": "1"}

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *argv], cwd=root, env=env, capture_output=True, text=True, timeout=600)

    log = []
    for command in steps:
        argv = shlex.split(command)
        assert argv[0] == "python", command
        p = run(*argv[1:])
        log.append(f"$ {command}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
        assert p.returncode == 0, "\n".join(log)
    assert lab_id in log[-1], "lab list names the new pack"
    assert "compose.web_restart" in (pack_dir / "template" / "README.md").read_text(encoding="utf-8")
    assert "--lab " + lab_id in (pack_dir / "template" / ".github" / "workflows" / "classroom.yml").read_text()
    assert (pack_dir / "template-files.json").is_file()

    made = tmp_path / "made"
    p = run("-m", "autograde", "lab", "init", lab_id, str(made), "--grader", "autograde==1.0")
    assert p.returncode == 0, p.stdout + p.stderr
    report = tmp_path / "report.json"
    p = run("-m", "autograde", "grade", str(made), "--static-only", "--json", str(report))  # its own declaration
    rows = {c["id"]: c for c in json.loads(report.read_text())["checks"]}
    assert list(rows) == ["compose.web_restart"] and rows["compose.web_restart"]["status"] == "fail", p.stdout
    compose = made / "docker-compose.yml"
    compose.write_text(
        compose.read_text().replace(
            "    image: docker-cd-lab06-web\n", "    image: docker-cd-lab06-web\n    restart: unless-stopped\n"
        )
    )
    p = run("-m", "autograde", "grade", str(made), "--static-only", "--json", str(report))
    assert json.loads(report.read_text())["checks"][0]["status"] == "pass", p.stdout
