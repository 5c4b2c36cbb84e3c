"""Builds of one run: an image built by `docker compose build`, a prebuilt shared dev image, and the
pull of the stack's registry images while the builds run."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograde import labs
from autograde.model import Submission
from autograde.model.compose import ComposeFile
from autograde.model.files import FileProblem, read_text
from autograde.runtime import engine_age, health
from autograde.runtime.cgroups import StepGuard, human
from autograde.runtime.diagnose import Steps, parse_build_output
from autograde.runtime.engine import Engine, Phases
from autograde.runtime.evidence import BuildLog
from autograde.runtime.facts import BuildFacts
from autograde.runtime.override import Caps, dev_override, merge_refusal, prod_override


@dataclass
class Prepared:
    """The compose files of one stack, or the grader's (error, hint) when they cannot be used."""

    files: list[str] | None
    other_tags: list[str] = field(default_factory=list)
    error: tuple[str, str] | None = None
    name: str = ""  # the student's compose file
    resolved: dict[str, Any] | None = None  # the student's file as Compose resolves it (None: Compose refuses it)

    def merge_refused(self, engine: Engine) -> tuple[str, str] | None:
        """The grader's error when Compose refuses the student's file merged with the grader's override, but
        accepts it alone. Asked only once a build failed before its first step (Compose checks the files
        first), so that a good file costs no extra Compose run before its build."""
        if self.files is None:
            return None
        return _merge_refused(engine, self.files, self.name, self.resolved)


def prepare(
    engine: Engine,
    sub: Submission,
    tmp: Path,
    project: str,
    tags: tuple[str, str],
    port: int,
    caps: Caps,
    with_dev: bool,
) -> tuple[Prepared, Prepared | None]:
    """The prod and (`with_dev`) dev compose files with the grader's overrides, (prod tag, dev tag) in `tags`.

    Both ask Compose to resolve the student's file first: they are prepared at once.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="autograde-dev-files") as pool:
        dev = pool.submit(dev_files, engine, sub, tmp, tags[1], caps) if with_dev else None
        prod = prod_files(engine, sub, tmp, project, tags[0], port, caps)
        return prod, dev.result() if dev is not None else None


def prod_files(
    engine: Engine, sub: Submission, tmp: Path, project: str, prod_tag: str, port: int, caps: Caps
) -> Prepared:
    """The prod compose files (the student's and the grader's override written to `tmp`) and the tags of the
    student's other buildable services; or the grader's error when Compose is too old for the student's
    file. (Whether Compose refuses the two merged is asked only when the build fails: `merge_refused`.)"""
    assert sub.prod is not None
    root = sub.root.resolve()
    stack = labs.current().scenario.stack_file
    student = [str(root / stack)]
    if sub.prod.by_compose:  # the model is Compose's own answer already
        resolved: dict[str, Any] | None = sub.prod.data
    else:
        resolved, refused = _resolved(engine, tmp, student, "prod")
        if resolved is None and (too_old := engine_age.compose_too_old(refused, engine.compose_version, stack)):
            return Prepared(None, error=(too_old, "Nothing to fix in your files: grade with a newer Docker Compose."))
    text, other_tags = prod_override(
        sub.prod,
        sub.build,
        root,
        prod_tag=prod_tag,
        other_tag=f"{project}-svc{{index}}:graded",
        port=port,
        caps=caps,
        resolved=resolved,
    )
    path = tmp / "prod-override.yml"
    path.write_text(text)
    return Prepared([*student, str(path)], other_tags, name=stack, resolved=resolved)


def dev_files(engine: Engine, sub: Submission, tmp: Path, dev_tag: str, caps: Caps) -> Prepared:
    """The compose files of the image the lab compares with (LAB04's dev image), or the grader's error when its
    override does not merge with them."""
    root = sub.root.resolve()
    compared = labs.current().scenario.compare_file or ""
    student = [str(root / compared)]
    if sub.dev is not None and sub.dev.by_compose:
        resolved: dict[str, Any] | None = sub.dev.data
    else:
        resolved, _ = _resolved(engine, tmp, student, "dev")
    path = tmp / "dev-override.yml"
    path.write_text(dev_override(dev_tag=dev_tag, caps=caps, resolved=resolved))
    return Prepared([*student, str(path)], name=compared, resolved=resolved)


def _resolved(engine: Engine, tmp: Path, files: list[str], name: str) -> tuple[dict[str, Any] | None, str]:
    """The student's compose file as Compose itself resolves it (`config --format json`), or None, and what
    Compose said when it refused it."""
    out = tmp / f"{name}-resolved.json"
    ran = engine.compose(files, "config", "--format", "json", "--output", str(out), timeout=60)
    refused = ran.tail if ran.returncode != 0 else ""
    try:
        data = json.loads(out.read_text(encoding="utf-8")) if ran.returncode == 0 else None
    except (OSError, ValueError):
        data = None
    return (data if isinstance(data, dict) else None), refused


def _merge_refused(
    engine: Engine, files: list[str], name: str, resolved: dict[str, Any] | None
) -> tuple[str, str] | None:
    """The grader's error when Compose refuses the student's file merged with the override, but not alone.

    A student's file Compose refuses on its own (`resolved` is None) is the student's: the build says so.
    """
    if resolved is None:
        return None
    ran = engine.compose(files, "config", "--quiet", timeout=60)
    if ran.returncode == 0:
        return None
    return merge_refusal(name, ran.tail)


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
    log = BuildLog()
    skipped: list[str] = []  # heredoc steps the classic builder ran without their bodies

    def seen(line: str) -> None:
        steps.feed(line)
        running.feed(line)
        log.feed(line)
        if engine_age.classic_heredoc(line):
            skipped.append(line)
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
    text = _dockerfile_text(engine.root, timing)
    # built or not, the image is not what the file describes (for Dockerfile.prod, only if it has a heredoc:
    # a classic builder shows a step's own output unprefixed, so a RUN could print such a line)
    credible = timing != "build_prod" or bool(text and engine_age.heredoc_lines(text))
    if skipped and credible:
        said = engine_age.skipped_heredoc(skipped[0], engine.name)
        return BuildFacts(False, ran.seconds, error=said, output_tail=ran.tail, infrastructure=said)
    if ran.returncode != 0 or ran.timed_out:
        out = parse_build_output(ran.tail)
        too_old = "" if ran.timed_out else engine_age.too_old(ran.tail, text, engine.name)
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
            infrastructure="" if ran.timed_out else out.infrastructure or too_old,
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
        evidence=log.evidence,
        still_running=list(report.stray) if report else [],
    )


def _dockerfile_text(root: Path, timing: str) -> str | None:
    """The lab's Dockerfile's text for the stack's build (None for the compared image's build, or when it cannot
    be read)."""
    if timing != "build_prod":
        return None
    try:
        return read_text(root, labs.current().scenario.dockerfile, what="the lab's Dockerfile")
    except FileProblem:
        return None


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
        if image and service.name != labs.current().scenario.web:
            try:
                engine.client.images.get(image)
            except Exception:
                phases.phase("pull", "start")
                engine.compose(
                    files, "pull", "--ignore-buildable", "--ignore-pull-failures", "--quiet", timeout=timeout
                )
                phases.phase("pull", "end")
                return
