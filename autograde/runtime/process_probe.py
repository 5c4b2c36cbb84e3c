"""Run inside the running web_prod container (`docker exec ... python -c <this file>`): the app's process.

Prints one JSON line about the Python process that serves the app, read from /proc: its command
line, working directory, the interpreter its argv[0] names on its own PATH (a venv's `bin/python`
stays that path: /proc/PID/exe would show the base interpreter the venv links to), the venv that
interpreter belongs to, and the script it runs with the SHA-256 of its bytes. Standard library only;
reads, never writes.
"""

from __future__ import annotations  # the annotations stay unevaluated on any Python 3 (3.8 too)

import hashlib
import json
import os
import sys

TYPE_CHECKING = False  # typing's own import would cost this probe more than the rest of its imports
if TYPE_CHECKING:
    from typing import Any

PYTHON_OPTIONS_WITH_VALUE = {"-W", "-X", "-Q", "--check-hash-based-pycs"}


def is_python(word: str) -> bool:
    name = os.path.basename(word)
    return (name.startswith("python") and name[6:].replace(".", "").isdigit()) or name == "python"


def read(pid: str) -> dict[str, Any] | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [w.decode("utf-8", "replace") for w in f.read().split(b"\0")[:-1]]
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return None
    env = {}
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            for item in f.read().split(b"\0"):
                key, eq, value = item.decode("utf-8", "replace").partition("=")
                if eq:
                    env[key] = value
    except OSError:
        pass
    return {"pid": int(pid), "argv": argv, "cwd": cwd, "env": env}


def on_path(word: str, cwd: str, path: str) -> str:
    if "/" in word:
        return os.path.normpath(os.path.join(cwd, word))
    for d in path.split(":"):
        candidate = os.path.join(d or ".", word)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return os.path.normpath(os.path.join(cwd, candidate))
    return ""


def venv_of(interpreter: str) -> str:
    if not interpreter:
        return ""
    home = os.path.dirname(os.path.dirname(interpreter))
    return home if os.path.isfile(os.path.join(home, "pyvenv.cfg")) else ""


def script_of(argv: list[str], cwd: str) -> str:
    """The file `python [options] FILE` or `python -m MODULE` runs ("" if neither)."""
    i = 1
    while i < len(argv):
        word = argv[i]
        if word == "-m" and i + 1 < len(argv):
            module = argv[i + 1].replace(".", "/")
            for base in (cwd, *sys.path):
                for candidate in (os.path.join(base, module + ".py"), os.path.join(base, module, "__main__.py")):
                    if base and os.path.isfile(candidate):
                        return os.path.normpath(candidate)
            return ""
        if word == "-c":
            return ""
        if word in PYTHON_OPTIONS_WITH_VALUE:
            i += 2
            continue
        if word.startswith("-"):
            i += 1
            continue
        return os.path.normpath(os.path.join(cwd, word))
    return ""


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 16), b""):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()


def main() -> None:
    me = str(os.getpid())
    found = []
    for pid in sorted((p for p in os.listdir("/proc") if p.isdigit() and p != me), key=int):
        proc = read(pid)
        if proc and proc["argv"] and is_python(proc["argv"][0]) and "-c" not in proc["argv"][1:2]:
            found.append(proc)
    if not found:
        print(json.dumps({"error": "no Python process runs in the container"}))
        return
    # the app: a process running main.py, else the container's first process, else the first Python one
    app = next((p for p in found if any(w.endswith("main.py") for w in p["argv"][1:])), None)
    app = app or next((p for p in found if p["pid"] == 1), found[0])
    interpreter = on_path(app["argv"][0], app["cwd"], app["env"].get("PATH", os.environ.get("PATH", "")))
    script = script_of(app["argv"], app["cwd"])
    print(
        json.dumps(
            {
                "pid": app["pid"],
                "argv": app["argv"][:20],
                "cwd": app["cwd"],
                "interpreter": interpreter,
                "venv": venv_of(interpreter),
                "script": script,
                "sha256": sha256(script) if script else "",
            }
        )
    )


if __name__ == "__main__":
    main()
