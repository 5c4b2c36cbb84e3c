"""Run corpus cases the way a student runs them, to confirm what their expect.yml claims.

    python tests/corpus/run_as_student.py [CASE ...]      (default: every ok-* case)

For each case: a checkout of the lab with the case's two files, then
`docker compose -f docker-compose.prod.yml up --build -d`, three GETs of /, Redis' `GET hits`,
Flask/pytest imports in the image, and `down`. Not a test: it prints one line per case.

It shares the engine politely: its own project name (-p), and an extra -f override that only
publishes web_prod on a free 127.0.0.1 port (5005 may be taken), does not publish Redis, and
gives the built image a unique tag, which is removed at the end. Base images are never touched.
"""
from __future__ import annotations

import socket
import traceback
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import yaml  # noqa: E402
from support import compose, down, first_int, make_checkout, unique_project, wait_ok  # noqa: E402

sys.path.insert(0, str(HERE))
from expectations import write_case  # noqa: E402

OVERRIDE = """services:
  web_prod:
    image: {image}
    ports: !override ["127.0.0.1:{port}:5000"]
"""
NO_PORTS = """  {service}:
    ports: !reset []
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_case(name: str, work: Path) -> str:
    case = HERE / name
    root = write_case(name, make_checkout(work / name))
    project = unique_project("corpusrun")
    image = f"{project}-web-prod:student"
    port = free_port()
    services = yaml.safe_load((case / "docker-compose.prod.yml").read_text())["services"]
    others = [name for name in services if name != "web_prod"]
    redis = next((n for n in others if "redis" in str(services[n].get("image", ""))), "redis_prod")
    (root / "override.yml").write_text(OVERRIDE.format(image=image, port=port)
                                       + "".join(NO_PORTS.format(service=n) for n in others))
    files = ["-f", "docker-compose.prod.yml", "-f", "override.yml"]

    def dc(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", "compose", "-p", project, *files, *args], cwd=root,
                              capture_output=True, text=True, timeout=timeout)

    t0 = time.monotonic()
    try:
        up = dc("up", "--build", "-d", "--wait-timeout", "60")
        if up.returncode != 0:
            return f"{name}: up FAILED: {(up.stdout + up.stderr).strip().splitlines()[-3:]}"
        counts = []
        for _ in range(3):
            status, body = wait_ok(f"http://127.0.0.1:{port}/", timeout=60)
            if status != 200:
                logs = dc("logs", "--tail", "8", "web_prod").stdout.strip()
                return f"{name}: GET / answered {status}: {body.strip()[:120]}\n{logs}"
            counts.append(first_int(body))
        hits = dc("exec", "-T", redis, "redis-cli", "GET", "hits").stdout.strip()
        # the interpreter the running app uses: argv[0] of the process running main.py (PID 1 when
        # none does), looked up on the container's PATH. A shell-form CMD keeps /bin/sh as PID 1, and
        # /proc/PID/exe of a venv's python is the base interpreter, which lacks the venv's packages.
        probe = ('app=1; for d in /proc/[0-9]*; do set -- $(tr "\\0" " " < $d/cmdline 2>/dev/null); '
                 'case "$1" in */sh|sh|"") continue;; esac; case "$*" in *main.py*) app=${d#/proc/};; esac; done; '
                 'set -- $(tr "\\0" " " </proc/$app/cmdline); exe=$(command -v "$1"); echo "$exe"; "$exe" -c "import %s"')
        flask_run = dc("exec", "-T", "web_prod", "sh", "-c", probe % "flask")
        flask = flask_run.returncode
        pytest_ = dc("exec", "-T", "web_prod", "sh", "-c", probe % "pytest").returncode
        interpreter = flask_run.stdout.strip().splitlines()[0] if flask_run.stdout.strip() else "?"
        size = subprocess.run(["docker", "image", "inspect", "-f", "{{.Size}}", image],
                              capture_output=True, text=True).stdout.strip()
        ok = counts == list(range(counts[0], counts[0] + 3)) and hits == str(counts[-1]) and flask == 0 and pytest_ != 0
        return (f"{name}: {'OK' if ok else 'NOT OK'} counts={counts} redis={hits} flask_import={flask == 0} "
                f"pytest_import={pytest_ == 0} interpreter={interpreter} size={int(size) // 10**6 if size else '?'}MB "
                f"({time.monotonic() - t0:.0f} s)")
    finally:
        dc("down", "-v", "--remove-orphans", "-t", "1", timeout=120)
        subprocess.run(["docker", "rmi", "-f", image], capture_output=True)
        down(project, root, "docker-compose.prod.yml")


def main(argv: list[str]) -> int:
    names = argv or sorted(p.name for p in HERE.iterdir() if p.is_dir() and p.name.startswith("ok-"))
    with tempfile.TemporaryDirectory(prefix="corpus-run-") as tmp:
        for name in names:
            try:
                print(run_case(name, Path(tmp)), flush=True)
            except Exception as e:  # one case's trouble must not stop the others
                print(f"{name}: {type(e).__name__}: {e}", flush=True)
                traceback.print_exc(limit=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
