"""LAB04's probes of the started prod stack: the hit counter (HTTP, Redis, a restart), web_prod's health check,
the app's process, then, while the stack is torn down, the prod image itself (what the app's Python
imports, the venvs and main.py files it holds, its configuration)."""

from __future__ import annotations

import ast
import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from autograde.runtime import inspection
from autograde.runtime.evidence import inspect_image

if TYPE_CHECKING:
    from autograde.runtime.facts import AppProcess, CounterFacts
    from autograde.runtime.session import Session


def probe(session: Session, pool: ThreadPoolExecutor, files: list[str], port: int) -> None:
    """Record LAB04's facts into `session.facts`.

    The image's files and configuration, and what its Python imports, are read as soon as the image exists,
    beside `up` and the probes (the interpreter is checked against the one the running app uses, and probed
    again when they differ); the stack is torn down once the last probe answered, while the report is
    written (`session.cleanup` waits for it).
    """
    facts, engine, phases = session.facts, session.engine, session.phases
    # one look inside the image as soon as it exists, beside `up` and the probes: what its Python imports (the
    # interpreter its command names), its tests, venvs, main.py files and configuration
    early = pool.submit(inspection.inspect, engine, phases, session.prod_tag, None, session.caps())
    probed = session.stack.up_and_probe(files, port)
    facts.up, facts.counter, facts.health, facts.app = probed.up, probed.counter, probed.health, probed.app
    if not probed.up.ok and not probed.up.infrastructure:
        probed.up.infrastructure = session.machine.judge_message(probed.up.output_tail)
    session.teardown_stack(background=True)
    facts.lean, facts.image, lost = early.result()
    if facts.image.error and not lost:  # that interpreter cannot run: the image's files read with its PATH's python
        facts.image = inspect_image(engine.client, session.prod_tag, **session.probe_limits())
    running = probed.interpreter
    retry = facts.lean.error.startswith("exit status 137")  # killed beside a busy stack: once more
    if running is not None and not lost:
        if facts.lean.exe and facts.lean.exe == running[0] and not retry:
            facts.lean.python, facts.lean.found_by = running  # the same interpreter the running app uses
        else:
            facts.lean, lost = inspection.lean(engine, phases, session.prod_tag, running, session.caps())
    elif retry and not lost:
        facts.lean, lost = inspection.lean(engine, phases, session.prod_tag, None, session.caps())
    if facts.lean.flask_by == "find" and facts.lean.flask_ok and not facts.lean.error and not lost:
        # Flask's module was found; whether it imports, the running app has shown or an import in the image shows
        if app_imported_flask(session.root / "app" / "main.py", facts.lean.exe, probed.app, facts.counter):
            facts.lean.flask_by = "app"
        else:
            same = (facts.lean.python, facts.lean.found_by)
            facts.lean, lost = inspection.lean(engine, phases, session.prod_tag, same, session.caps(), True)
    facts.engine_lost = facts.engine_lost or lost
    session.machine.judge_message(facts.lean.error)


def app_imported_flask(main_py: Path, exe: str, app: AppProcess | None, counter: CounterFacts | None) -> bool:
    """Whether the running app has shown that Flask imports with `exe`: its process ran with that interpreter the
    lab's own main.py (same bytes as `main_py`, which imports Flask at module level before it serves), and the app
    answered over HTTP (any status: a 500 of an app that cannot reach Redis is Flask's answer too)."""
    if app is None or app.error or not exe or app.interpreter != exe or not app.script_sha256:
        return False
    if counter is None or counter.first is None or counter.first.status is None:
        return False
    try:
        source = main_py.read_bytes()
        tree = ast.parse(source)
    except (OSError, SyntaxError, ValueError):
        return False
    if hashlib.sha256(source).hexdigest() != app.script_sha256:
        return False
    return any(
        (isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == "flask")
        or (isinstance(node, ast.Import) and any(alias.name.split(".")[0] == "flask" for alias in node.names))
        for node in tree.body
    )
