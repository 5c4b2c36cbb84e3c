from __future__ import annotations

import pytest

from autograde.model.shell import command_chain, expand, failure_stops_script, simple_commands


@pytest.mark.parametrize(
    "script, stops",
    [
        ("pip install -r r.txt && python -m pytest tests/", True),
        ("python -m pytest tests/ && echo done", True),
        ("python -m pytest tests/ || true", False),
        ("python -m pytest tests/; echo done", False),
        ("set -e; python -m pytest tests/; echo done", True),
        ("set -eux; python -m pytest tests/ || echo failed", False),
        ("python -m pytest tests/ | tee log.txt", False),
        ("cd app && python -m pytest && echo ok || echo no", False),
    ],
)
def test_whether_a_failing_command_fails_the_run_step(script, stops):
    chain = command_chain(script)
    index = next(i for i, (argv, _) in enumerate(chain) if "pytest" in argv)
    assert failure_stops_script(chain, index) is stops


def test_commands_and_operators():
    assert command_chain("a 'b c' && d;e|f") == [(["a", "b c"], "&&"), (["d"], ";"), (["e"], "|"), (["f"], None)]
    assert list(simple_commands("echo 'unbalanced")) in ([["echo"]], [])  # never raises


@pytest.mark.parametrize(
    "text, env, out",
    [
        ("$A/bin", {"A": "/opt/venv"}, "/opt/venv/bin"),
        ("${A}/bin:$PATH", {"A": "/v", "PATH": "/usr/bin"}, "/v/bin:/usr/bin"),
        ("${MISSING:-3.13}-slim", {}, "3.13-slim"),
        ("${SET:-x}", {"SET": "y"}, "y"),
        ("${EMPTY:-d}|${EMPTY-d}", {"EMPTY": ""}, "d|"),
        ("${SET:+alt}", {"SET": "1"}, "alt"),
    ],
)
def test_expand_like_docker(text, env, out):
    assert expand(text, env) == out
