"""Inspection of the built prod image: run the lean probe in it with the app's own interpreter."""

from __future__ import annotations

import importlib.resources
import json
import time

from autograde.runtime.engine import PROJECT_LABEL, SERVICE_LABEL, Engine, Phases, engine_gone
from autograde.runtime.facts import LeanFacts
from autograde.runtime.interpreter import from_command
from autograde.runtime.override import Caps

# The image probe's container is labelled as a service of its own: it would otherwise inherit the prod
# image's label `com.docker.compose.service=web_prod` (Compose labels the images it builds) and be
# taken for web_prod by the probes and the teardown.
PROBE_SERVICE = "autograde-probe"
LEAN_SCRIPT = (importlib.resources.files("autograde.runtime") / "lean_probe.py").read_text(encoding="utf-8")


def lean(
    engine: Engine, phases: Phases, image_ref: str, interpreter: tuple[str, str] | None, caps: Caps
) -> tuple[LeanFacts, str]:
    """Run LEAN_SCRIPT in the prod image with the interpreter the app runs with.

    That is the running app's own process when it could be seen; otherwise the image's command
    (exec or shell form); otherwise `python` on the image's PATH. Returns the facts and, if the
    engine went away meanwhile, what was seen.
    """
    start = time.monotonic()
    phases.phase("inspect", "start")
    python, found_by = interpreter or ("python", "")
    try:
        image = engine.client.images.get(image_ref)
        config = image.attrs.get("Config") or {}
        if interpreter is None:
            python, found_by = from_command(config.get("Entrypoint") or [], config.get("Cmd") or [])
        env = [e for e in config.get("Env") or [] if e.startswith("PATH=")]
        container = engine.client.containers.create(
            image_ref,
            entrypoint=[python],
            command=["-c", LEAN_SCRIPT],
            network_disabled=True,
            mem_limit=caps.memory,
            memswap_limit=caps.memory,
            pids_limit=caps.pids,
            nano_cpus=int(caps.cpus * 1e9),
            environment=env,
            labels={PROJECT_LABEL: engine.project, SERVICE_LABEL: PROBE_SERVICE},
            working_dir="/",
        )
        try:
            container.start()
            result = container.wait(timeout=60)
            out = container.logs(stdout=True, stderr=False).decode("utf-8", "replace").strip()
            err = container.logs(stdout=False, stderr=True).decode("utf-8", "replace").strip()
        finally:
            container.remove(force=True, v=True)
        if result.get("StatusCode") != 0 or not out:
            said = (err or out or "no output")[-300:]
            return LeanFacts(
                python, False, False, error=f"exit status {result.get('StatusCode')}: {said}", found_by=found_by
            ), ""
        data = json.loads(out.splitlines()[-1])
        return LeanFacts(
            python,
            bool(data.get("flask")),
            bool(data.get("pytest")),
            list(data.get("tests") or []),
            found_by=found_by,
            exe=str(data.get("exe") or "")[:400],
        ), ""
    except Exception as e:
        lost = f"{type(e).__name__}: {str(e)[:200]}" if engine_gone(e) else ""
        return LeanFacts(python, False, False, error=f"{type(e).__name__}: {str(e)[:200]}", found_by=found_by), lost
    finally:
        phases.time("inspect", time.monotonic() - start)
