"""Which Python the prod app runs with: read from its process, or from the image's command. Pure."""
from __future__ import annotations

import posixpath
import re
import shlex

_PYTHON = re.compile(r"^python[0-9.]*$")
_SHELLS = frozenset({"sh", "bash", "dash", "ash"})
_WRAPPERS = frozenset({"exec", "env", "tini", "dumb-init", "--"})


def _python_word(words: list[str]) -> str | None:
    """The interpreter a command line starts, looking through `sh -c`, `exec`, `env`, tini and assignments."""
    i = 0
    while i < len(words):
        word = words[i]
        name = posixpath.basename(word)
        if _PYTHON.match(name):
            return word
        if name in _SHELLS and i + 2 < len(words) and words[i + 1] == "-c":
            try:
                return _python_word(shlex.split(words[i + 2]))
            except ValueError:
                return None
        if name in _WRAPPERS or "=" in word and not word.startswith("-") or word.startswith("-") and i > 0:
            i += 1
            continue
        return None
    return None


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
