"""The engine goes away mid-run: every unfinished verdict is an `error` (exit 2), never a lost point,
and what the cut-off run left on the engine is removed by the next grade on this machine.

The engine is the real one. The grader reaches it through a unix-socket relay that the test owns,
so "the engine went away" is the relay closing every connection at once, exactly what a client sees
when dockerd dies, without stopping the engine everybody else on this machine uses.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from support import leftovers, make_checkout, solution_files

pytestmark = pytest.mark.docker
ENGINE = "/var/run/docker.sock"
DF = solution_files()["Dockerfile.prod"]
RUNTIME = ("runtime.up", "runtime.counter", "images.size_ratio", "images.prod_lean", "dockerfile.builder_tests")


class Relay:
    """A unix socket that forwards byte for byte to the engine's socket, until `cut()`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(str(path))
        self.server.listen(64)
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.open:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(ENGINE)
            with self.lock:
                if not self.open:
                    client.close()
                    upstream.close()
                    return
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        with self.lock:
            self.open = False
            for s in self.conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
        self.server.close()
        self.path.unlink(missing_ok=True)


def _start_grade(checkout: Path, report: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autograde",
            "grade",
            str(checkout),
            "--json",
            str(report),
            "--host-port",
            "auto",
            "--build-timeout",
            "300",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _own_project(env: dict[str, str]) -> str | None:
    """The project of the grade started with `env`: its run lock is the only one in that lock dir."""
    locks = sorted(Path(env["AUTOGRADE_LOCK_DIR"]).glob("autograde-*.lock"))
    return locks[0].stem if locks else None


def _running(client, project: str, service: str) -> bool:
    flt = {"label": [f"com.docker.compose.project={project}", f"com.docker.compose.service={service}"]}
    return any(c.status == "running" for c in client.containers.list(filters=flt))


def _wait_for_stack(proc: subprocess.Popen[str], env: dict[str, str], client) -> str:
    """The project of the grade started with `env`, once its web_prod container runs."""
    deadline = time.monotonic() + 240
    project = None
    while time.monotonic() < deadline and proc.poll() is None:
        project = _own_project(env)
        if project and _running(client, project, "web_prod"):
            return project
        time.sleep(0.2)
    raise AssertionError(f"the stack never started (project {project})")


@pytest.fixture
def relay(tmp_path):
    r = Relay(tmp_path / "engine.sock")
    yield r
    if r.open:
        r.cut()


@pytest.fixture
def env(tmp_path, relay, docker_engine):
    locks = tmp_path / "locks"
    yield {**os.environ, "DOCKER_HOST": f"unix://{relay.path}", "AUTOGRADE_LOCK_DIR": str(locks)}
    # a failed assertion must not leave a cut-off run's stack running: these locks are this test's alone
    for lock in locks.glob("autograde-*.lock"):
        label = {"label": f"com.docker.compose.project={lock.stem}"}
        for c in docker_engine.containers.list(all=True, filters=label):
            c.remove(force=True, v=True)
        for n in docker_engine.networks.list(filters=label):
            n.remove()
        for i in docker_engine.images.list(filters=label):
            docker_engine.images.remove(i.id, force=True)


def _graded_after_cut(proc: subprocess.Popen[str], report: Path) -> tuple[int, dict, str]:
    out, _ = proc.communicate(timeout=300)
    assert "Traceback" not in out, out
    return proc.returncode, json.loads(report.read_text()), out


def _next_grade_removes(tmp_path: Path, env: dict[str, str], project: str) -> None:
    """A grade through the real socket on the same machine removes the abandoned run's remains, and says so."""
    assert leftovers(project), "the cut-off run left its stack on the engine (or this test proves nothing)"
    checkout = make_checkout(tmp_path / "next")
    report = tmp_path / "next.json"
    real = {**env}
    real.pop("DOCKER_HOST")
    done = subprocess.run(
        [sys.executable, "-m", "autograde", "grade", str(checkout), "--json", str(report), "--host-port", "auto"],
        capture_output=True,
        text=True,
        env=real,
        timeout=300,
    )
    assert "Traceback" not in done.stdout + done.stderr
    assert f"{project}:" in done.stderr and "removed what an abandoned grading run left" in done.stderr, done.stderr
    data = json.loads(report.read_text())
    removed = data["grader"].get("removed_leftovers", [])
    assert any(line.startswith(f"{project}:") and "container" in line for line in removed), removed
    assert data["score"] == data["max_score"], done.stdout
    assert leftovers(project) == []


def test_engine_lost_during_the_build_is_an_error(tmp_path, relay, env, docker_engine):
    slow = DF.replace("COPY app/ .", "COPY app/ .\nRUN sleep 30")
    checkout = make_checkout(tmp_path / "c", files={"Dockerfile.prod": slow})
    report = tmp_path / "r.json"
    proc = _start_grade(checkout, report, env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and _own_project(env) is None:
        time.sleep(0.2)
    time.sleep(12)  # the builds are under way: the cached steps take seconds, the sleep 30 holds it open
    assert proc.poll() is None, proc.communicate()[0]
    relay.cut()
    code, data, out = _graded_after_cut(proc, report)
    checks = {c["id"]: c for c in data["checks"]}
    assert code == 2, out
    for check_id in ("runtime.up", "runtime.counter", "images.size_ratio", "images.prod_lean"):
        assert checks[check_id]["status"] == "error", (check_id, checks[check_id]["message"])
    assert "engine" in checks["runtime.up"]["message"].lower(), checks["runtime.up"]["message"]
    assert not any(c["status"] == "fail" and c["id"] in RUNTIME for c in data["checks"]), out


def test_engine_lost_while_probing_is_an_error_and_leftovers_go_next_time(tmp_path, relay, env, docker_engine):
    # the app sleeps before it listens, so the stack is still being probed when the engine goes away
    df = DF.replace('CMD ["python", "main.py"]', 'CMD ["sh", "-c", "sleep 8; exec python main.py"]')
    checkout = make_checkout(tmp_path / "c", files={"Dockerfile.prod": df})
    report = tmp_path / "r.json"
    proc = _start_grade(checkout, report, env)
    project = _wait_for_stack(proc, env, docker_engine)
    time.sleep(1)
    relay.cut()
    code, data, out = _graded_after_cut(proc, report)
    checks = {c["id"]: c for c in data["checks"]}
    assert code == 2, out
    assert checks["runtime.counter"]["status"] == "error", checks["runtime.counter"]["message"]
    assert not any(c["status"] == "fail" and c["id"] in RUNTIME for c in data["checks"]), out
    _next_grade_removes(tmp_path, env, project)


def test_a_live_run_is_never_taken_for_abandoned(tmp_path, docker_engine):
    """Two grades at once on one engine: the second must leave the first's stack alone."""
    locks = tmp_path / "locks"
    env = {**os.environ, "AUTOGRADE_LOCK_DIR": str(locks)}
    df = DF.replace('CMD ["python", "main.py"]', 'CMD ["sh", "-c", "sleep 6; exec python main.py"]')
    first = _start_grade(make_checkout(tmp_path / "a", files={"Dockerfile.prod": df}), tmp_path / "a.json", env)
    _wait_for_stack(first, env, docker_engine)
    # a whole grade (it connects, so it looks for leftovers) while the first one's stack runs
    second = subprocess.run(
        [sys.executable, "-m", "autograde", "grade", str(make_checkout(tmp_path / "b")), "--host-port", "auto"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert second.returncode == 0, second.stdout + second.stderr
    assert "removed what an abandoned" not in second.stderr, second.stderr
    out, _ = first.communicate(timeout=300)
    data = json.loads((tmp_path / "a.json").read_text())
    assert data["score"] == data["max_score"], out
