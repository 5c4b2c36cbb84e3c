"""What the grader refuses to run, and which host port it publishes web_prod on: policy, no Docker calls
(the ports the engine already publishes are handed in)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from autograde.model import Submission
from autograde.model.compose import DEV_FILE, PROD_FILE
from autograde.runtime.safety import scan


@dataclass(frozen=True)
class Refusals:
    prod: str | None  # why the prod stack is not built or started at all (the runtime checks are skipped)
    dev: str | None  # why the dev image is not built (only images.size_ratio needs it)
    compose_refused: bool = False  # `prod` is Docker Compose's own refusal: `up` fails as the student runs it


def refusals(sub: Submission, root: Path) -> Refusals:
    if sub.prod_problem is not None:
        return Refusals(f"{PROD_FILE} cannot be used: {sub.prod_problem.message}", None)
    assert sub.prod is not None
    if sub.prod.refused is not None:
        return Refusals(sub.prod.refused.message, None, compose_refused=True)
    if sub.dockerfile_problem is not None:
        return Refusals(f"Dockerfile.prod cannot be built: {sub.dockerfile_problem.message}", None)
    missing = [
        s
        for s in ("web_prod", sub.prod.redis_service() or "redis_prod")
        if not sub.prod.services.get(s) or not sub.prod.services[s].data
    ]
    if missing:
        return Refusals(f"{PROD_FILE} does not define {' and '.join(missing)} yet, so there is nothing to start", None)
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
    if sub.dev is None:
        return f"{DEV_FILE} cannot be used: {sub.dev_problem.message if sub.dev_problem else ''}"
    if sub.dev.refused is not None:
        return sub.dev.refused.message
    found = scan(sub.dev, root)
    if found:
        return "refused to build the dev image: " + "; ".join(map(str, found[:3]))
    if "web_dev" not in sub.dev.services:
        return f"{DEV_FILE} has no web_dev service"
    return None


DEFAULT_HOST_PORT = 5005  # the port the lab publishes; the grader's own mapping prefers it


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
    never needs the lab's port 5005 for itself: it probes its own mapping, so the student's own
    stack (or anything else) holding 5005 changes nothing in the grade. `engine_ports` are the TCP
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
        return HostPort(None, error="no free host port was found for web_prod", hint="Grade again.")
    if wanted is None:
        return HostPort(port)
    return HostPort(
        port,
        note=f"host port {wanted} is in use ({by}), so the grader published web_prod on port {port} for its "
        "own requests; this changes nothing in the grade",
    )
