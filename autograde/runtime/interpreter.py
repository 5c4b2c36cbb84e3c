"""Which Python the prod app runs with: read from its process, or from the image's command. Pure."""

from __future__ import annotations

import posixpath
import re
import shlex

from autograde.model.shell import app_command

_PYTHON = re.compile(r"^python[0-9.]*$")


def _python_word(words: list[str]) -> str | None:
    """The interpreter a command line starts, looking through `sh -c`, `exec`, `env`, tini and assignments."""
    argv = app_command(words)
    return argv[0] if argv and _PYTHON.match(posixpath.basename(argv[0])) else None


def from_processes(command_lines: list[str]) -> str | None:
    """argv[0] of the first Python process among a container's processes (as `ps -o args` shows them)."""
    for line in command_lines:
        words = line.split()
        if words and _PYTHON.match(posixpath.basename(words[0])):
            return words[0]
    for line in command_lines:  # a wrapper whose child is not listed (yet)
        try:
            found = _python_word(shlex.split(line))
        except ValueError:
            continue
        if found:
            return found
    return None


def from_command(entrypoint: list[str], cmd: list[str]) -> tuple[str, str]:
    """The interpreter the image's ENTRYPOINT + CMD would start, else `python` on the image's PATH."""
    found = _python_word(list(entrypoint) + list(cmd))
    if found:
        return found, "the image's command"
    return "python", "the image's PATH (its command does not start Python directly)"
