"""Run inside the prod image, with the Python the app runs with (`python -c <this file>`): what it holds.

Prints one JSON line: the interpreter, whether Flask imports, whether pytest is importable, up to five
folders that look like the app's tests, and what one walk of the file system finds beside them: the
virtual environments (a folder with a pyvenv.cfg, and the distributions in its site-packages) and the
files named main.py (with the SHA-256 of their bytes). Standard library only; reads, never writes.

With `--find` (`python -c <this file> --find`) Flask is only looked for (`importlib.util.find_spec`), not
imported: importing it compiles a good part of the standard library (the official images ship it without
bytecode), most of this probe's cost.
"""

from __future__ import annotations  # the annotations stay unevaluated on any Python 3 (3.8 too)

import hashlib
import importlib.util
import json
import os
import sys

SKIP = {"/proc", "/sys", "/dev", "/usr/share", "/usr/include", "/var/cache", "/var/lib/apt", "/var/lib/dpkg"}
NOT_TESTS = ("/usr/lib", "/lib", "/usr/local/lib", "/var/lib")  # test files of installed software, not the app's
PYTHON_HOMES = ("/usr/local/lib/python", "/usr/lib/python")  # the interpreter's own library: no venv, no app


def packages(venv: str) -> list[str]:
    names = set()
    for lib in _listdir(venv, "lib"):
        for python in _listdir(os.path.join(venv, lib), "python"):
            site = os.path.join(venv, lib, python, "site-packages")
            for info in _listdir(site, ""):
                if info.endswith(".dist-info") and not info.startswith("."):
                    names.add(info[: -len(".dist-info")].split("-")[0])
    return sorted(names)


def _listdir(path: str, prefix: str) -> list[str]:
    """The names in `path` starting with `prefix` (what `glob` would match; glob's own import costs more here)."""
    try:
        return sorted(n for n in os.listdir(path) if n.startswith(prefix))
    except OSError:
        return []


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def main() -> None:
    r: dict[str, object] = {"exe": sys.executable}
    try:
        if "--find" in sys.argv[1:]:
            r["flask"] = importlib.util.find_spec("flask") is not None
        else:
            import flask  # noqa: F401

            r["flask"] = True
    except Exception as e:
        r["flask"], r["flask_error"] = False, f"{type(e).__name__}: {e}"
    r["pytest"] = importlib.util.find_spec("pytest") is not None
    tests: list[str] = []
    venvs: list[dict[str, object]] = []
    mains: list[dict[str, str]] = []
    for top, dirs, files in os.walk("/"):
        if "pyvenv.cfg" in files:
            if len(venvs) < 10:
                venvs.append({"path": top, "packages": packages(top)})
            dirs[:] = []  # nothing of interest inside a venv
            continue
        if "main.py" in files and len(mains) < 10:
            try:
                mains.append({"path": os.path.join(top, "main.py"), "sha256": sha256(os.path.join(top, "main.py"))})
            except OSError:
                pass
        in_app = os.path.basename(top) == "tests" and not top.startswith(NOT_TESTS)
        if in_app and any(f.startswith("test_") and f.endswith(".py") for f in files):
            tests.append(top)
        dirs[:] = [
            d
            for d in dirs
            if os.path.join(top, d) not in SKIP
            and d not in ("site-packages", "__pycache__")
            and not os.path.join(top, d).startswith(PYTHON_HOMES)
        ]
    r["tests"] = tests[:5]
    r["venvs"] = venvs
    r["mains"] = mains
    print(json.dumps(r))


if __name__ == "__main__":
    main()
