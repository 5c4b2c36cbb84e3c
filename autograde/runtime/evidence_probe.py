"""Run inside the prod image (`python -c <this file>`): the virtual environments it holds and their packages.

Prints one JSON line: {"venvs": [{"path": ..., "packages": [...]}, ...], "mains": [{"path": ..., "sha256": ...}]}.
A venv is a directory with a pyvenv.cfg; its packages are the *.dist-info directories of its
lib/python*/site-packages. `mains` are the files named main.py outside the venvs and the interpreter's
own library, with the SHA-256 of their bytes.
Standard library only; reads, never writes.
"""

import glob
import hashlib
import json
import os

SKIP = {"/proc", "/sys", "/dev", "/usr/share", "/usr/include", "/var/cache", "/var/lib/apt", "/var/lib/dpkg"}
PYTHON_HOMES = ("/usr/local/lib/python", "/usr/lib/python")  # the interpreter's own files: its main.py are not the app


def packages(venv: str) -> list[str]:
    names = set()
    for info in glob.glob(os.path.join(venv, "lib*", "python*", "site-packages", "*.dist-info")):
        names.add(os.path.basename(info)[: -len(".dist-info")].split("-")[0])
    return sorted(names)


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def main() -> None:
    venvs: list[dict[str, object]] = []
    mains: list[dict[str, str]] = []
    for top, dirs, files in os.walk("/"):
        if "pyvenv.cfg" in files:
            venvs.append({"path": top, "packages": packages(top)})
            dirs[:] = []  # nothing of interest inside a venv
            continue
        if "main.py" in files and len(mains) < 10 and not top.startswith(PYTHON_HOMES):
            try:
                mains.append({"path": os.path.join(top, "main.py"), "sha256": sha256(os.path.join(top, "main.py"))})
            except OSError:
                pass
        dirs[:] = [d for d in dirs if os.path.join(top, d) not in SKIP and d not in ("site-packages", "__pycache__")]
        if len(venvs) >= 10:
            break
    print(json.dumps({"venvs": venvs, "mains": mains}))


if __name__ == "__main__":
    main()
