"""What the grader refuses to run, and which host port it publishes web_prod on: policy, no Docker calls
(the ports the engine already publishes are handed in)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from autograde import labs
from autograde.model import Submission
from autograde.runtime.safety import scan


@dataclass(frozen=True)
class Refusals:
    prod: str | None  # why the prod stack is not built or started at all (the runtime checks are skipped)
    dev: str | None  # why the dev image is not built (only images.size_ratio needs it)
    compose_refused: bool = False  # `prod` is Docker Compose's own refusal: `up` fails as the student runs it


def refusals(sub: Submission, root: Path) -> Refusals:
    scenario = labs.current().scenario
    stack = scenario.stack_file
    if sub.prod_problem is not None:
        return Refusals(f"{stack} cannot be used: {sub.prod_problem.message}", None)
    assert sub.prod is not None
    if sub.dockerfile_problem is not None:
        return Refusals(f"{scenario.dockerfile} cannot be built: {sub.dockerfile_problem.message}", None)
    missing = [
        s
        for s in (scenario.web, sub.prod.redis_service() or scenario.redis)
        if not sub.prod.services.get(s) or not sub.prod.services[s].data
    ]
    if missing:
        return Refusals(f"{stack} does not define {' and '.join(missing)} yet, so there is nothing to start", None)
    if sub.prod.refused is not None:  # complete as far as the grader sees, but Compose will not run it
        return Refusals(sub.prod.refused.message, None, compose_refused=True)
    found = scan(sub.prod, root)
    if found:
        return Refusals(
            "refused to run: "
            + "; ".join(map(str, found[:3]))
            + " (the grader does not start privileged or host-reaching containers)",
            None,
        )
    return Refusals(None, _dev_refusal(sub, root))


def _dev_refusal(sub: Submission, root: Path) -> str | None:
    """Why the image the lab compares with (LAB04's dev image) cannot be built; None when it can, or the lab
    compares with none."""
    scenario = labs.current().scenario
    if scenario.compare_file is None:
        return None
    name = scenario.compare_file
    if sub.dev is None:
        return f"{name} cannot be used: {sub.dev_problem.message if sub.dev_problem else ''}"
    if sub.dev.refused is not None:
        return sub.dev.refused.message
    found = scan(sub.dev, root)
    if found:
        what = labs.current().hint("compared_image", f"the {scenario.compare_service} image")
        return f"refused to build {what}: " + "; ".join(map(str, found[:3]))
    if scenario.compare_service not in sub.dev.services:
        return f"{name} has no {scenario.compare_service} service"
    return None


def default_host_port() -> int:
    """The port the lab publishes the app on; the grader's own mapping prefers it."""
    return labs.current().scenario.host_port


@dataclass(frozen=True)
class HostPort:
    port: int | None  # None: no port could be used (see error)
    note: str = ""  # why the port is not the one asked for, to be said to the user
    error: str = ""
    hint: str = ""


def free_locally(port: int) -> bool:
    """Whether `port` can be bound on 127.0.0.1, where the grader publishes web_prod (0: any)."""
    with socket.socket() as s:
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def any_free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def choose_host_port(
    wanted: int | None,
    *,
    strict: bool,
    engine_ports: Mapping[int, str],
    free: Callable[[int], bool] = free_locally,
    pick: Callable[[], int] = any_free_port,
) -> HostPort:
    """The host port for web_prod during grading.

    wanted None: any free port. With `strict` (a port the user asked for by number) that port or an
    error; otherwise `wanted` if it is free, else any free port, and a note saying so. The grader
    never needs the lab's port (LAB04: 5005) for itself: it probes its own mapping, so the student's own
    stack (or anything else) holding it changes nothing in the grade. `engine_ports` are the TCP
    ports containers of the engine already publish, with a container that publishes each.
    """
    if wanted is not None:
        holder = engine_ports.get(wanted)
        if holder is None and free(wanted):
            return HostPort(wanted)
        by = f"the container {holder} publishes it" if holder else "another program listens on it"
        if strict:
            return HostPort(
                None,
                error=f"host port {wanted} is already in use on this machine ({by}); this is not a problem with "
                "your files",
                hint=f"Stop whatever uses {wanted} (`docker ps`, an earlier lab stack?), or grade with "
                "`--host-port auto` (or without `--host-port`) so that the grader picks a free port.",
            )
    for _ in range(50):
        port = pick()
        if port not in engine_ports:
            break
    else:
        return HostPort(None, error=f"no free host port was found for {_web()}", hint="Grade again.")
    if wanted is None:
        return HostPort(port)
    return HostPort(
        port,
        note=f"host port {wanted} is in use ({by}), so the grader published {_web()} on port {port} for its "
        "own requests; this changes nothing in the grade",
    )


def _web() -> str:
    return labs.current().scenario.web


def __getattr__(name: str) -> int:
    """`DEFAULT_HOST_PORT`: the lab pack's port, read when asked (the pack is chosen after import)."""
    if name == "DEFAULT_HOST_PORT":
        return default_host_port()
    raise AttributeError(name)
