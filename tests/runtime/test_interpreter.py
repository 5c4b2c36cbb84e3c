"""Which Python the prod app runs with, from its process list or the image's command."""

from __future__ import annotations

import pytest

from autograde.model.shell import app_command
from autograde.runtime.interpreter import from_command, from_processes


@pytest.mark.parametrize(
    "lines, expected",
    [
        (["python main.py"], "python"),
        (["/bin/sh -c /venv/bin/python main.py", "/venv/bin/python main.py"], "/venv/bin/python"),
        (["/bin/sh -c /venv/bin/python main.py"], "/venv/bin/python"),  # dash exec'd nothing yet
        (["/sbin/tini -- python3 -u main.py", "python3 -u main.py"], "python3"),
        (["/opt/venv/bin/python3 /opt/venv/bin/gunicorn -b 0.0.0.0:5000 main:app"], "/opt/venv/bin/python3"),
        (["gunicorn: master [main:app]"], None),
    ],
)
def test_from_processes(lines, expected):
    assert from_processes(lines) == expected


@pytest.mark.parametrize(
    "entrypoint, cmd, expected",
    [
        ([], ["python", "main.py"], "python"),
        ([], ["/bin/sh", "-c", "/venv/bin/python main.py"], "/venv/bin/python"),
        (["python"], ["main.py"], "python"),
        ([], ["sh", "-c", "sleep 2; exec /opt/v/bin/python3.13 main.py"], "/opt/v/bin/python3.13"),
        ([], ["flask", "run"], "python"),
    ],
)
def test_from_command(entrypoint, cmd, expected):
    assert from_command(entrypoint, cmd)[0] == expected


def test_app_command_unwraps():
    assert app_command(["sh", "-c", "cd /srv && exec python -u main.py"]) == ["python", "-u", "main.py"]
    assert app_command(["dumb-init", "env", "A=1", "python", "main.py"]) == ["python", "main.py"]
