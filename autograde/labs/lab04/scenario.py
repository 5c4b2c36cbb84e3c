"""LAB04's probes of the started prod stack: the hit counter (HTTP, Redis, a restart), web_prod's health check,
the app's process, then, while the stack is torn down, the prod image itself (what the app's Python
imports, the venvs and main.py files it holds, its configuration)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from autograde.runtime import inspection
from autograde.runtime.evidence import inspect_image

if TYPE_CHECKING:
    from autograde.runtime.session import Session


def probe(session: Session, pool: ThreadPoolExecutor, files: list[str], port: int) -> None:
    """Record LAB04's facts into `session.facts`.

    The image is inspected with the running app's interpreter once probing is over: a probe container
    started while web_prod restarts was seen killed (exit 137) under parallel grades.
    """
    facts, engine, phases = session.facts, session.engine, session.phases
    probed = session.stack.up_and_probe(files, port)
    facts.up, facts.counter, facts.health, facts.app = probed.up, probed.counter, probed.health, probed.app
    if not probed.up.ok and not probed.up.infrastructure:
        probed.up.infrastructure = session.machine.judge_message(probed.up.output_tail)
    lean = pool.submit(inspection.lean, engine, phases, session.prod_tag, probed.interpreter, session.caps())
    teardown = pool.submit(session.teardown_stack)
    facts.lean, lost = lean.result()
    facts.engine_lost = facts.engine_lost or lost
    session.machine.judge_message(facts.lean.error)
    facts.image = inspect_image(engine.client, session.prod_tag, **session.probe_limits())
    teardown.result()
