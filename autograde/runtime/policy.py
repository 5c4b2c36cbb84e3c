"""What the grader refuses to run: pure policy over the parsed submission, no Docker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograde.model import Submission
from autograde.model.compose import DEV_FILE, PROD_FILE
from autograde.runtime.safety import scan


@dataclass(frozen=True)
class Refusals:
    prod: str | None  # why the prod stack is not built or started at all (the runtime checks are skipped)
    dev: str | None  # why the dev image is not built (only images.size_ratio needs it)


def refusals(sub: Submission, root: Path) -> Refusals:
    if sub.prod_problem is not None:
        return Refusals(f"{PROD_FILE} cannot be used: {sub.prod_problem.message}", None)
    if sub.dockerfile_problem is not None:
        return Refusals(f"Dockerfile.prod cannot be built: {sub.dockerfile_problem.message}", None)
    assert sub.prod is not None
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
    found = scan(sub.dev, root)
    if found:
        return "refused to build the dev image: " + "; ".join(map(str, found[:3]))
    if "web_dev" not in sub.dev.services:
        return f"{DEV_FILE} has no web_dev service"
    return None
