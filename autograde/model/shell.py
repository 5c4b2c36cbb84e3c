"""Just enough shell to follow what a RUN line does: variables, simple commands, cd, activate."""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator, Mapping

_VAR = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-+])(?P<word>[^}]*))?\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)
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


def undefined(text: str, env: Mapping[str, str]) -> list[str]:
    """Names `text` refers to that `env` lacks (or has empty) and that have no default (`${X:-d}`)."""
    names = []
    for m in _VAR.finditer(text):
        name = m.group("braced") or m.group("bare")
        if m.group("op") in (":-", "-", ":+", "+"):
            continue
        if not env.get(name) and name not in names:
            names.append(name)
    return names


def unquote(word: str) -> str:
    try:
        parts = shlex.split(word)
    except ValueError:
        return word
    return " ".join(parts) if parts else ""


def _lines_as_commands(script: str) -> str:
    """A multi-line script (a here-document) with each line ended by `;`, as the shell reads it:
    `\\` at a line's end continues it, `#` starts a comment, `&&`/`||`/`|` at a line's end carry on."""
    script = re.sub(r"\\\r?\n", " ", script)
    out = []
    for line in script.splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        text = re.sub(r"\s#.*$", "", text) if "'" not in text and '"' not in text else text
        out.append(text if text.endswith(("&&", "||", "|", ";", "{", "then", "do", "else")) else text + " ;")
    return " ".join(out)


def command_chain(script: str) -> list[tuple[list[str], str | None]]:
    """Simple commands (argv lists) of a shell script, each with the operator that follows it."""
    if "\n" in script.strip():
        script = _lines_as_commands(script).rstrip(" ;")
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
    errexit = any(
        argv[:1] == ["set"] and any(a.startswith("-") and "e" in a for a in argv[1:]) for argv, _ in chain[:index]
    )
    for _argv, op in chain[index:]:
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


SHELLS = frozenset({"sh", "bash", "dash", "ash"})
_WRAPPERS = frozenset({"exec", "env", "tini", "dumb-init", "--"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def app_command(words: list[str]) -> list[str]:
    """The command that really runs the app, looking through `sh -c '...; exec python main.py'`, `exec`, `env`,
    tini/dumb-init and variable assignments. For `sh -c`, the first simple command that starts Python or
    names main.py; otherwise the words without their wrappers."""
    i = 0
    while i < len(words) and (
        posixpath.basename(words[i]) in _WRAPPERS
        or _ASSIGNMENT.match(words[i])
        or (i > 0 and words[i].startswith("-") and posixpath.basename(words[i - 1]) in _WRAPPERS)
    ):
        i += 1
    words = words[i:]
    if len(words) >= 3 and posixpath.basename(words[0]) in SHELLS and words[1] == "-c":
        commands = [app_command(argv) for argv in simple_commands(words[2])]
        for argv in commands:
            if argv and (
                re.match(r"^python[0-9.]*$", posixpath.basename(argv[0])) or any(w.endswith("main.py") for w in argv)
            ):
                return argv
        return commands[-1] if commands else words
    return words
