"""LAB04's probes of the started prod stack: the hit counter (HTTP, Redis, a restart), web_prod's health check,
the app's process, then, while the stack is torn down, the prod image itself (what the app's Python
imports, the venvs and main.py files it holds, its configuration)."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from autograde.runtime import inspection
from autograde.runtime.evidence import ImageEvidence, inspect_image
from autograde.runtime.facts import LeanFacts

if TYPE_CHECKING:
    from autograde.runtime.session import Session


def probe(session: Session, pool: ThreadPoolExecutor, files: list[str], port: int) -> None:
    """Record LAB04's facts into `session.facts`.

    The image's files and configuration are read as soon as it exists, and what the app's own interpreter
    imports as soon as that interpreter is known (the running process), both beside `up` and the probes;
    the stack is torn down once the last probe answered, while the report is written (`session.cleanup`
    waits for it).
    """
    facts, engine, phases = session.facts, session.engine, session.phases

    def read_image() -> ImageEvidence:
        started = time.monotonic()
        phases.phase("evidence", "start")
        try:
            return inspect_image(engine.client, session.prod_tag, **session.probe_limits())
        finally:
            phases.time("evidence", time.monotonic() - started)

    evidence = pool.submit(read_image)
    lean: list[Future[tuple[LeanFacts, str]]] = []

    def inspect_with(interpreter: tuple[str, str] | None) -> None:
        lean.append(pool.submit(inspection.lean, engine, phases, session.prod_tag, interpreter, session.caps()))

    probed = session.stack.up_and_probe(files, port, on_running=inspect_with)
    facts.up, facts.counter, facts.health, facts.app = probed.up, probed.counter, probed.health, probed.app
    if not probed.up.ok and not probed.up.infrastructure:
        probed.up.infrastructure = session.machine.judge_message(probed.up.output_tail)
    session.teardown_stack(background=True)
    if not lean:  # the stack did not come up: the image's command or PATH names the interpreter
        inspect_with(probed.interpreter)
    facts.lean, lost = lean[0].result()
    if facts.lean.error.startswith("exit status 137") and not lost:
        # killed beside a busy stack on a loaded machine: once more, the stack going away
        facts.lean, lost = inspection.lean(engine, phases, session.prod_tag, probed.interpreter, session.caps())
    facts.engine_lost = facts.engine_lost or lost
    session.machine.judge_message(facts.lean.error)
    facts.image = evidence.result()
