"""Inspection of the built prod image: run the lean probe in it with the app's own interpreter.

One container, one walk of its file system: what that Python imports, the app's tests left in the image,
and the evidence the checks judge outcomes by (the venvs and their packages, the files named main.py, the
image's configuration)."""

from __future__ import annotations

import importlib.resources
import json
import time

from autograde.runtime.engine import PROJECT_LABEL, SERVICE_LABEL, Engine, Phases, engine_gone
from autograde.runtime.evidence import ImageEvidence, image_config, parse_probe
from autograde.runtime.facts import LeanFacts
from autograde.runtime.interpreter import from_command
from autograde.runtime.override import Caps

# The image probe's container is labelled as a service of its own: it would otherwise inherit the prod
# image's label `com.docker.compose.service=web_prod` (Compose labels the images it builds) and be
# taken for web_prod by the probes and the teardown.
PROBE_SERVICE = "autograde-probe"
LEAN_SCRIPT = (importlib.resources.files("autograde.runtime") / "lean_probe.py").read_text(encoding="utf-8")


def lean(
    engine: Engine,
    phases: Phases,
    image_ref: str,
    interpreter: tuple[str, str] | None,
    caps: Caps,
    import_flask: bool = False,
) -> tuple[LeanFacts, str]:
    """What the app's Python imports (see `inspect`), without the image's evidence."""
    found, _, lost = inspect(engine, phases, image_ref, interpreter, caps, import_flask)
    return found, lost


def inspect(
    engine: Engine,
    phases: Phases,
    image_ref: str,
    interpreter: tuple[str, str] | None,
    caps: Caps,
    import_flask: bool = False,
) -> tuple[LeanFacts, ImageEvidence, str]:
    """Run LEAN_SCRIPT in the prod image with the interpreter the app runs with.

    That is the running app's own process when it could be seen; otherwise the image's command
    (exec or shell form); otherwise `python` on the image's PATH. Flask is imported with
    `import_flask`, else only looked for (`LeanFacts.flask_by`). Returns the facts and, if the
    engine went away meanwhile, what was seen.
    """
    start = time.monotonic()
    phases.phase("inspect", "start")
    python, found_by = interpreter or ("python", "")
    seen: ImageEvidence = ImageEvidence(error="the image was not read")
    try:
        image = engine.client.images.get(image_ref)
        config = image.attrs.get("Config") or {}
        seen = ImageEvidence(error="the image was not read", config=image_config(image.attrs))
        if interpreter is None:
            python, found_by = from_command(config.get("Entrypoint") or [], config.get("Cmd") or [])
        env = [e for e in config.get("Env") or [] if e.startswith("PATH=")]
        container = engine.client.containers.create(
            image_ref,
            entrypoint=[python],
            command=["-c", LEAN_SCRIPT, *([] if import_flask else ["--find"])],
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
            # the image is the student's: a bounded tail only (the JSON line is the last one)
            out = container.logs(stdout=True, stderr=False, tail=5).decode("utf-8", "replace").strip()[-400_000:]
            err = container.logs(stdout=False, stderr=True, tail=5).decode("utf-8", "replace").strip()[-2000:]
        finally:
            container.remove(force=True, v=True)
        if result.get("StatusCode") != 0 or not out:
            said = (err or out or "no output")[-300:]
            seen.error = f"the probe exited with status {result.get('StatusCode')}: {said[-200:]}"
            return (
                LeanFacts(
                    python, False, False, error=f"exit status {result.get('StatusCode')}: {said}", found_by=found_by
                ),
                seen,
                "",
            )
        line = out.splitlines()[-1]
        data = json.loads(line)
        evidence = parse_probe(line)
        evidence.config = seen.config
        return (
            LeanFacts(
                python,
                bool(data.get("flask")),
                bool(data.get("pytest")),
                list(data.get("tests") or []),
                found_by=found_by,
                exe=str(data.get("exe") or "")[:400],
                flask_error=str(data.get("flask_error") or "")[:300],
                flask_by="import" if import_flask else "find",
            ),
            evidence,
            "",
        )
    except Exception as e:
        lost = f"{type(e).__name__}: {str(e)[:200]}" if engine_gone(e) else ""
        seen.error = f"{type(e).__name__}: {str(e)[:200]}"
        return LeanFacts(python, False, False, error=seen.error, found_by=found_by), seen, lost
    finally:
        phases.time("inspect", time.monotonic() - start)
