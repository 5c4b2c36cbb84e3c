"""Builds of one run: an image built by `docker compose build`, a prebuilt shared dev image, and the
pull of the stack's registry images while the builds run."""

from __future__ import annotations

import re
import time
from pathlib import Path

from autograde.model import Submission
from autograde.model.compose import DEV_FILE, PROD_FILE, ComposeFile
from autograde.runtime import health
from autograde.runtime.cgroups import StepGuard, human
from autograde.runtime.diagnose import Steps, parse_build_output
from autograde.runtime.engine import Engine, Phases
from autograde.runtime.facts import BuildFacts
from autograde.runtime.override import Caps, dev_override, prod_override


def prod_files(
    sub: Submission, tmp: Path, project: str, prod_tag: str, port: int, caps: Caps
) -> tuple[list[str], list[str]]:
    """The prod compose files (the student's and the grader's override written to `tmp`), and the
    tags of the student's other buildable services."""
    assert sub.prod is not None
    root = sub.root.resolve()
    text, other_tags = prod_override(
        sub.prod,
        sub.build,
        root,
        prod_tag=prod_tag,
        other_tag=f"{project}-svc{{index}}:graded",
        port=port,
        caps=caps,
    )
    path = tmp / "prod-override.yml"
    path.write_text(text)
    return [str(root / PROD_FILE), str(path)], other_tags


def dev_files(root: Path, tmp: Path, dev_tag: str, caps: Caps) -> list[str]:
    path = tmp / "dev-override.yml"
    path.write_text(dev_override(dev_tag=dev_tag, caps=caps))
    return [str(root / DEV_FILE), str(path)]


_HEADER = re.compile(r"^#(\d+) \[[^\]]*\] (?P<step>.+)$")
_FINISHED = re.compile(r"^#(\d+) (?:DONE|CACHED|ERROR|CANCELED)\b")


class _Running:
    """The step running now, from BuildKit's plain output: the last one named and not finished."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.finished: set[str] = set()

    def feed(self, line: str) -> None:
        m = _HEADER.match(line)
        if m:
            self.names[m.group(1)] = m.group("step").strip().removesuffix(" [...]")
            return
        m = _FINISHED.match(line)
        if m:
            self.finished.add(m.group(1))

    def step(self) -> str | None:
        running = [name for num, name in self.names.items() if num not in self.finished]
        return running[-1] if running else None


def _unquote(step: str | None) -> str | None:
    """A step as BuildKit's progress output names it, with its Go-style quoting undone (\" is ")."""
    return step.replace('\\"', '"') if step else step


def _command(step: str | None) -> str:
    """The command of a `RUN` step as BuildKit names it, as the step guard knows it."""
    step = _unquote(step) or ""
    return " ".join(step.removeprefix("RUN ").split()) if step.startswith("RUN ") else ""


def build(
    engine: Engine,
    phases: Phases,
    files: list[str],
    services: list[str],
    tag: str,
    timing: str,
    timeout: float,
    guard: StepGuard | None = None,
) -> BuildFacts:
    """Build `services` of `files` (all when empty) and find the image tagged `tag`.

    With a `guard`, the build's RUN steps are capped while it runs and none of them outlives it.
    """
    phases.phase(timing, "start")
    steps = Steps()
    running = _Running()

    def seen(line: str) -> None:
        steps.feed(line)
        running.feed(line)
        if guard is not None:
            guard.feed(line)
        phases.phase(timing, "line:" + line)  # display only

    started = time.time()
    if guard is not None:
        with guard.running():
            ran = engine.compose(files, "build", *services, timeout=timeout, on_line=seen)
    else:
        ran = engine.compose(files, "build", *services, timeout=timeout, on_line=seen)
    health.record_build(started, time.time())
    phases.time(timing, ran.seconds)
    report = guard.report if guard is not None else None
    if ran.returncode != 0 or ran.timed_out:
        out = parse_build_output(ran.tail)
        hung = _unquote(running.step()) if ran.timed_out or ran.returncode is None else None
        notes = [*report.stray] if report else []
        if hung and report and hung.startswith("RUN "):
            command = " ".join(hung.removeprefix("RUN ").split())
            peak = report.peaks.get(command, 0)
            if peak:
                cap = f" and hit its cap of {guard.caps.pids}" if guard and command in report.capped else ""
                notes.insert(0, f"the step had {peak} process{'es' if peak != 1 else ''} running{cap}")
        return BuildFacts(
            False,
            ran.seconds,
            timed_out=ran.timed_out,
            error=out.error,
            failed_step=_unquote(out.step),
            output_tail=ran.tail,
            exit_code=out.exit_code,
            step_log=out.step_log,
            infrastructure="" if ran.timed_out else out.infrastructure,
            done_steps=steps.done,
            running_step=hung,
            oom_limit=human(guard.caps.memory_bytes) if guard and guard.report.oom and out.exit_code == 137 else "",
            still_running=notes,
            pids_limit=guard.caps.pids if guard and _command(out.step) in guard.report.capped else 0,
        )
    try:
        image = engine.client.images.get(tag)
    except Exception as e:
        return BuildFacts(
            False, ran.seconds, error=f"the build reported success but {tag} is missing ({e})", output_tail=ran.tail
        )
    return BuildFacts(
        True,
        ran.seconds,
        image.id,
        tag,
        int(image.attrs.get("Size") or 0),
        output_tail=ran.tail,
        still_running=list(report.stray) if report else [],
    )


def prebuilt(engine: Engine, ref: str) -> BuildFacts:
    """The dev image a class batch built once from these same dev files (never removed by cleanup)."""
    try:
        image = engine.client.images.get(ref)
    except Exception as e:
        return BuildFacts(False, 0.0, error=f"the shared dev image {ref} is missing ({e})")
    return BuildFacts(True, 0.0, image.id, ref, int(image.attrs.get("Size") or 0))


def pull_missing(engine: Engine, phases: Phases, prod: ComposeFile, files: list[str], timeout: float) -> None:
    """Pull the stack's registry images while the builds run, so `up` does not wait for them."""
    for service in prod.services.values():
        image = prod.image(service)
        if image and service.name != "web_prod":
            try:
                engine.client.images.get(image)
            except Exception:
                phases.phase("pull", "start")
                engine.compose(
                    files, "pull", "--ignore-buildable", "--ignore-pull-failures", "--quiet", timeout=timeout
                )
                phases.phase("pull", "end")
                return
