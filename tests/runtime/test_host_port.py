"""Which host port the grader publishes web_prod on: 5005 when it is free, else a free one, said."""

from __future__ import annotations

import argparse
import socket

import pytest

from autograde.commands.grade import add_arguments, host_port_options
from autograde.runtime.policy import DEFAULT_HOST_PORT, choose_host_port, free_locally


def test_5005_when_free():
    c = choose_host_port(5005, strict=False, engine_ports={}, free=lambda p: True, pick=lambda: 40001)
    assert (c.port, c.note, c.error) == (5005, "", "")


def test_a_free_port_and_a_note_when_a_container_publishes_5005():
    c = choose_host_port(
        5005, strict=False, engine_ports={5005: "lab04-prod-web_prod-1"}, free=lambda p: True, pick=lambda: 40001
    )
    assert c.port == 40001 and not c.error
    assert "host port 5005 is in use (the container lab04-prod-web_prod-1 publishes it)" in c.note
    assert "port 40001" in c.note and "changes nothing in the grade" in c.note


def test_a_free_port_when_another_program_listens_on_5005():
    c = choose_host_port(5005, strict=False, engine_ports={}, free=lambda p: p != 5005, pick=lambda: 40002)
    assert c.port == 40002 and "another program listens on it" in c.note


def test_the_pick_skips_ports_the_engine_publishes():
    picks = iter([5006, 5007, 40003])
    c = choose_host_port(
        None, strict=False, engine_ports={5006: "a", 5007: "b"}, free=lambda p: True, pick=lambda: next(picks)
    )
    assert (c.port, c.note) == (40003, "")


def test_a_port_asked_for_by_number_is_that_port_or_an_error():
    c = choose_host_port(5005, strict=True, engine_ports={5005: "lab04-prod-web_prod-1"}, free=lambda p: True)
    assert c.port is None
    assert "host port 5005 is already in use" in c.error and "lab04-prod-web_prod-1" in c.error
    assert "not a problem with your files" in c.error
    assert "`--host-port auto`" in c.hint and "without `--host-port`" in c.hint


def test_free_locally_sees_a_listening_socket():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert not free_locally(port)
        c = choose_host_port(port, strict=False, engine_ports={})
        assert c.port not in (None, port) and c.note


@pytest.mark.parametrize(
    ("argv", "port", "strict"),
    [([], DEFAULT_HOST_PORT, False), (["--host-port", "auto"], None, False), (["--host-port", "5011"], 5011, True)],
)
def test_command_line(argv, port, strict):
    """No --host-port: 5005 preferred; `auto`: any free port; a number: exactly that one."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(argv)
    assert host_port_options(args.host_port) == {"host_port": port, "host_port_strict": strict}
