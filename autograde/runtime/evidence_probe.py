"""Run inside the prod image (`python -c <this file>`): the virtual environments it holds and their packages.

Prints one JSON line: {"venvs": [{"path": ..., "packages": [...]}, ...]}. A venv is a directory with
a pyvenv.cfg; its packages are the *.dist-info directories of its lib/python*/site-packages.
Standard library only; reads, never writes.
"""

import glob
import json
import os

SKIP = {"/proc", "/sys", "/dev", "/usr/share", "/usr/include", "/var/cache", "/var/lib/apt", "/var/lib/dpkg"}


def packages(venv: str) -> list[str]:
    names = set()
    for info in glob.glob(os.path.join(venv, "lib*", "python*", "site-packages", "*.dist-info")):
        names.add(os.path.basename(info)[: -len(".dist-info")].split("-")[0])
    return sorted(names)


def main() -> None:
    venvs: list[dict[str, object]] = []
    for top, dirs, files in os.walk("/"):
        if "pyvenv.cfg" in files:
            venvs.append({"path": top, "packages": packages(top)})
            dirs[:] = []  # nothing of interest inside a venv
            continue
        dirs[:] = [d for d in dirs if os.path.join(top, d) not in SKIP and d not in ("site-packages", "__pycache__")]
        if len(venvs) >= 10:
            break
    print(json.dumps({"venvs": venvs}))


if __name__ == "__main__":
    main()
