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


def command_chain(script: str) -> list[tuple[list[str], str | None]]:
    """Simple commands (argv lists) of a shell script, each with the operator that follows it."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    lexer.commenters = ""
    chain: list[tuple[list[str], str | None]] = []
    current: list[str] = []
    try:
        for token in lexer:
            if token in _SEPARATORS or set(token) <= set(";&|()"):
                if current:
                    chain.append((current, token))
                current = []
            else:
                current.append(token)
    except ValueError:  # unbalanced quotes: use what was read
        pass
    if current:
        chain.append((current, None))
    return chain


def simple_commands(script: str) -> Iterator[list[str]]:
    for argv, _ in command_chain(script):
        yield argv


def failure_stops_script(chain: list[tuple[list[str], str | None]], index: int) -> bool:
    """Whether a failure of command `index` makes the whole script (so the RUN step) fail."""
    errexit = any(argv[:1] == ["set"] and any(a.startswith("-") and "e" in a for a in argv[1:])
                  for argv, _ in chain[:index])
    for argv, op in chain[index:]:
        if op is None:
            return True
        if op in ("||", "|", "&"):
            return False
        if op == ";" and not errexit:
            return False
    return True


def resolve(path: str, cwd: str) -> str:
    return posixpath.normpath(posixpath.join(cwd, path)) if path else cwd


def is_under(path: str, parent: str) -> bool:
    path, parent = posixpath.normpath(path), posixpath.normpath(parent)
    return path == parent or path.startswith(parent.rstrip("/") + "/")
