"""The app's own unit tests (app/tests) pass, and they catch a broken app.

They run in a throw-away venv holding app/requirements-dev.txt, created once per session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import REPO

MAIN = "main.py"
# A change to app/main.py that breaks it -> the text replaced, and what replaces it.
BREAKAGES = {
    "counter-never-counts": ('client.incr("hits")', "1"),
    "wrong-content-type": (
        'viewed {count} times.\\n", mimetype="text/plain"',
        'viewed {count} times.\\n", mimetype="text/html"',
    ),
    "500-instead-of-503": ("status=503", "status=500"),
    "no-retries": ("RETRIES = 5", "RETRIES = 1"),
}


@pytest.fixture(scope="session")
def app_python(tmp_path_factory) -> Path:
    """A Python interpreter that has the app's development requirements."""
    venv = tmp_path_factory.mktemp("app-venv")
    made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot create a venv for the app's tests: {made.stderr.strip()[-500:]}")
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-r", str(REPO / "app" / "requirements-dev.txt")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if installed.returncode != 0:
        pytest.skip(
            f"cannot install app/requirements-dev.txt (package index unreachable?): {installed.stderr.strip()[-500:]}"
        )
    return python


def run_app_tests(python: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "app/tests"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_app_unit_tests_pass(app_python):
    result = run_app_tests(app_python, REPO)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert " passed" in output and "failed" not in output, output


@pytest.mark.slow
@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_app_unit_tests_catch_a_broken_app(app_python, tmp_path, breakage):
    shutil.copytree(REPO / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    main = tmp_path / "app" / MAIN
    old, new = BREAKAGES[breakage]
    source = main.read_text(encoding="utf-8")
    assert old in source, f"app/main.py changed: {old!r} is no longer there; update BREAKAGES"
    main.write_text(source.replace(old, new), encoding="utf-8")

    result = run_app_tests(app_python, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, f"the app's tests did not notice '{breakage}':\n{output}"
    assert " failed" in output, output


@pytest.mark.slow
def test_unreachable_redis_is_tried_exactly_retries_times(app_python, tmp_path):
    """The app's own retries are the only ones: redis-py's default retries would multiply them, and a
    request that cannot reach Redis would take tens of seconds to answer 503 instead of a few."""
    script = (
        "import socket, main\n"
        "from redis.connection import Connection\n"
        "main.BACKOFF_SECONDS = 0\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()  # nothing listens\n"
        "import os; os.environ['REDIS_HOST'] = '127.0.0.1'; os.environ['REDIS_PORT'] = str(port)\n"
        "calls = []\n"
        "real = Connection._connect\n"
        "def counting(self, *a, **k):\n"
        "    calls.append(1)\n"
        "    return real(self, *a, **k)\n"
        "Connection._connect = counting\n"
        "status = main.app.test_client().get('/').status_code\n"
        "print(status, len(calls), main.RETRIES)\n"
    )
    result = subprocess.run(
        [str(app_python), "-c", script], cwd=REPO / "app", capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    status, calls, retries = result.stdout.split()
    assert status == "503" and calls == retries, result.stdout
