"""Just enough shell to follow what a RUN line does: variables, simple commands, cd, activate."""
from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator, Mapping

_VAR = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-+])(?P<word>[^}]*))?\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")
_SEPARATORS = {"&&", "||", ";", "|", "&", ";;", "(", ")", "\n"}


def expand(text: str, env: Mapping[str, str]) -> str:
    """Expand $VAR, ${VAR}, ${VAR:-word}, ${VAR-word}, ${VAR:+word} the way Docker does."""

    def sub(m: re.Match[str]) -> str:
        name = m.group("braced") or m.group("bare")
        value = env.get(name)
        op = m.group("op")
        if op in (":-", "-"):
            if value is None or (op == ":-" and value == ""):
                return expand(m.group("word"), env)
            return value
        if op in (":+", "+"):
            if value is None or (op == ":+" and value == ""):
                return ""
            return expand(m.group("word"), env)
        return value if value is not None else ""

    return _VAR.sub(sub, text)


def unquote(word: str) -> str:
    try:
        parts = shlex.split(word)
    except ValueError:
        return word
    return " ".join(parts) if parts else ""


def simple_commands(script: str) -> Iterator[list[str]]:
    """Split a shell script into simple commands (argv lists), ignoring control operators."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    lexer.commenters = ""
    current: list[str] = []
    try:
        for token in lexer:
            if token in _SEPARATORS or set(token) <= set(";&|()"):
                if current:
                    yield current
                current = []
            else:
                current.append(token)
    except ValueError:  # unbalanced quotes: use what was read
        pass
    if current:
        yield current


def resolve(path: str, cwd: str) -> str:
    return posixpath.normpath(posixpath.join(cwd, path)) if path else cwd


def is_under(path: str, parent: str) -> bool:
    path, parent = posixpath.normpath(path), posixpath.normpath(parent)
    return path == parent or path.startswith(parent.rstrip("/") + "/")
