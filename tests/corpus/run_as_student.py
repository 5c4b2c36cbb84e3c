"""Run corpus cases the way a student runs them, to confirm what their expect.yml claims.

    python tests/corpus/run_as_student.py [--no-target] [CASE ...]   (default: every ok-* case)

For each case: a checkout of the lab with the case's files (any file it adds: an included
compose file, a `.env`, an entrypoint script, with its executable bit), then
`docker compose -f docker-compose.prod.yml up --build -d` in that checkout, three GETs of /,
Redis' `GET hits`, Flask/pytest imports in the image, and `down`. Not a test: it prints one line
per case.

The student's files are read as Compose reads them: the services are those
`docker compose -f docker-compose.prod.yml config` lists (after `include:`, `extends`, `.env`
interpolation, and without services whose profile is not enabled, which `up` neither pulls nor
starts). It shares the engine politely: its own project name (-p), and an extra -f override that
only publishes web_prod on a free 127.0.0.1 port (5005 may be taken), does not publish the other
services, and gives the built image a unique tag, which is removed at the end. Base images are
never touched.

--no-target also drops web_prod's `build.target` (the override resets it), to show what the
Dockerfile's last stage does where the case targets another one.
"""
from __future__ import annotations

import json
import socket
import traceback
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
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
NO_TARGET = """    build:
      target: !reset null
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def resolved_services(root: Path) -> dict:
    """The services `up` starts, as Compose resolves the student's file alone (no override, no profile)."""
    config = subprocess.run(["docker", "compose", "-f", "docker-compose.prod.yml", "config", "--format", "json"],
                            cwd=root, capture_output=True, text=True, timeout=60)
    if config.returncode != 0:
        raise RuntimeError(f"docker compose config refuses the file: {config.stderr.strip()}")
    return json.loads(config.stdout)["services"]


def run_case(name: str, work: Path, no_target: bool = False) -> str:
    root = write_case(name, make_checkout(work / name))
    project = unique_project("corpusrun")
    image = f"{project}-web-prod:student"
    port = free_port()
    services = resolved_services(root)
    others = [n for n in services if n != "web_prod"]
    redis_host = (services.get("web_prod", {}).get("environment") or {}).get("REDIS_HOST")
    redis = next((n for n in others if "redis" in str(services[n].get("image", "")) and n == redis_host),
                 next((n for n in others if "redis" in str(services[n].get("image", ""))), "redis_prod"))
    (root / "override.yml").write_text(OVERRIDE.format(image=image, port=port) + (NO_TARGET if no_target else "")
                                       + "".join(NO_PORTS.format(service=n) for n in others))
    files = ["-f", "docker-compose.prod.yml", "-f", "override.yml"]
    label = f"{name} (without build.target)" if no_target else name

    def dc(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", "compose", "-p", project, *files, *args], cwd=root,
                              capture_output=True, text=True, timeout=timeout)

    t0 = time.monotonic()
    try:
        up = dc("up", "--build", "-d", "--wait-timeout", "60")
        if up.returncode != 0:
            return f"{label}: up FAILED: {(up.stdout + up.stderr).strip().splitlines()[-3:]}"
        started = dc("ps", "--services").stdout.split()
        counts = []
        for _ in range(3):
            try:
                status, body = wait_ok(f"http://127.0.0.1:{port}/", timeout=60)
            except TimeoutError as e:
                status, body = 0, str(e)
            if status != 200:
                logs = dc("logs", "--tail", "8", "web_prod").stdout.strip()
                state = dc("ps", "-a", "--format", "{{.Service}} {{.State}} {{.Status}}").stdout.strip()
                command = subprocess.run(["docker", "image", "inspect", "-f", "{{json .Config.Entrypoint}} "
                                          "{{json .Config.Cmd}} {{.Config.WorkingDir}}", image],
                                         capture_output=True, text=True).stdout.strip()
                answer = f"GET / answered {status}" if status else "nothing answered"
                return (f"{label}: NOT OK {answer}: {body.strip()[:160]}\n"
                        f"  services running after up: {started}; now: {state!r}\n"
                        f"  image entrypoint, cmd, workdir: {command}\n  web_prod's last log lines: {logs!r}")
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
        pid1 = dc("exec", "-T", "web_prod", "sh", "-c", 'tr "\\0" " " </proc/1/cmdline').stdout.strip()
        return (f"{label}: {'OK' if ok else 'NOT OK'} counts={counts} redis={hits} (in {redis}) "
                f"flask_import={flask == 0} pytest_import={pytest_ == 0} interpreter={interpreter} "
                f"pid1={pid1!r} services={sorted(started)} size={int(size) // 10**6 if size else '?'}MB "
                f"({time.monotonic() - t0:.0f} s)")
    finally:
        dc("down", "-v", "--remove-orphans", "-t", "1", timeout=120)
        subprocess.run(["docker", "rmi", "-f", image], capture_output=True)
        down(project, root, "docker-compose.prod.yml")


def main(argv: list[str]) -> int:
    no_target = "--no-target" in argv
    argv = [a for a in argv if a != "--no-target"]
    unknown = [a for a in argv if not (HERE / a / "docker-compose.prod.yml").is_file()]
    if unknown:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        print(f"not a case of {HERE}: {', '.join(unknown)}", file=sys.stderr)
        return 2
    names = argv or sorted(p.name for p in HERE.iterdir() if p.is_dir() and p.name.startswith("ok-"))
    with tempfile.TemporaryDirectory(prefix="corpus-run-") as tmp:
        for name in names:
            try:
                print(run_case(name, Path(tmp), no_target), flush=True)
            except Exception as e:  # one case's trouble must not stop the others
                print(f"{name}: {type(e).__name__}: {e}", flush=True)
                traceback.print_exc(limit=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
